#include "artifacts/artifact_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace backupdrill {

void ensure_private_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  // Folders this creates are 0700 all the way down, not just the last one.
  std::filesystem::path partial;
  for (const auto& part : dir) {
    partial /= part;
    if (!std::filesystem::exists(partial, ec)) {
      if (::mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST) {
        ec = std::error_code(errno, std::generic_category());
        break;
      }
    }
  }
  if (ec || !std::filesystem::is_directory(dir)) {
    throw std::runtime_error("cannot create artifact folder " + dir.string() + ": " +
                             (ec ? ec.message() : "not a directory") +
                             " (check [exporter] artifact_dir and its permissions)");
  }
  if (::chmod(dir.c_str(), 0700) != 0) {
    throw std::runtime_error("cannot set mode 0700 on " + dir.string() + ": " +
                             std::strerror(errno));
  }
}

int create_private_file(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    throw std::runtime_error("cannot create " + path.string() + ": " + std::strerror(errno));
  }
  ::fchmod(fd, 0600);  // an existing file keeps its old mode otherwise
  return fd;
}

void write_private_file(const std::filesystem::path& path, std::string_view content) {
  auto tmp = path;
  tmp += ".tmp";
  int fd = create_private_file(tmp);
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      throw std::runtime_error("cannot write " + tmp.string() + ": " + std::strerror(e));
    }
    done += static_cast<size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  std::filesystem::rename(tmp, path);
}

unsigned long long size_on_disk(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    unsigned long long total = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(path, ec)) {
      if (entry.is_regular_file(ec)) total += entry.file_size(ec);
    }
    return total;
  }
  auto size = std::filesystem::file_size(path, ec);
  return ec ? 0 : size;
}

}  // namespace backupdrill
