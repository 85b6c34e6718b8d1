#include "util/contained_file.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

namespace backupdrill {
namespace fs = std::filesystem;
namespace {

std::optional<fs::path> real_path_of(const fs::path& path) {
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf) == nullptr) return std::nullopt;
  return fs::path(buf);
}

// Where the descriptor really points: its /proc/self/fd link, or, where
// /proc is not mounted, the path resolved again and proven to be the same
// file (same device and inode) as the one opened.
std::optional<fs::path> real_path_of_fd(int fd, const fs::path& opened_as) {
  std::string link = "/proc/self/fd/" + std::to_string(fd);
  char buf[PATH_MAX];
  ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
  if (n > 0) return fs::path(std::string(buf, static_cast<size_t>(n)));
  auto real = real_path_of(opened_as);
  struct stat by_fd {
  }, by_path{};
  if (!real || ::fstat(fd, &by_fd) != 0 || ::stat(real->c_str(), &by_path) != 0) {
    return std::nullopt;
  }
  if (by_fd.st_dev != by_path.st_dev || by_fd.st_ino != by_path.st_ino) return std::nullopt;
  return real;
}

}  // namespace

void UniqueFd::reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

ContainedFolder::ContainedFolder(const fs::path& root) {
  auto real = real_path_of(root.empty() ? fs::path(".") : root);
  if (!real) {
    throw RefusedFileError("the backup folder " + root.string() +
                           " cannot be resolved: " + std::strerror(errno));
  }
  root_ = *real;
}

bool ContainedFolder::inside(const fs::path& real) const {
  const std::string& r = root_.native();
  const std::string& p = real.native();
  if (p == r) return true;
  if (r == "/") return !p.empty() && p.front() == '/';
  return p.size() > r.size() && p.compare(0, r.size(), r) == 0 && p[r.size()] == '/';
}

bool ContainedFolder::contains(const fs::path& path) const {
  auto real = real_path_of(path);
  return real && inside(*real);
}

UniqueFd ContainedFolder::open(const fs::path& path, bool directory) const {
  int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (directory ? O_DIRECTORY : 0);
  UniqueFd fd(::open(path.c_str(), flags));
  if (!fd) {
    throw std::runtime_error(path.string() + ": cannot open: " + std::strerror(errno));
  }
  auto real = real_path_of_fd(fd.get(), path);
  if (!real || !inside(*real)) {
    throw RefusedFileError(path.string() + " is refused: it is a link to somewhere outside " +
                           root_.string() +
                           " (links are followed only while they stay inside the backup "
                           "folder); replace the link by the file itself");
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    throw std::runtime_error(path.string() + ": cannot read: " + std::strerror(errno));
  }
  if (!directory && !S_ISREG(st.st_mode)) {
    throw RefusedFileError(path.string() + " is refused: not a regular file");
  }
  return fd;
}

fs::path storage_folder_of(const std::string& configured_path) {
  std::string p = configured_path;
  auto glob = p.find_first_of("*?[");
  if (glob != std::string::npos) {
    auto slash = p.rfind('/', glob);
    if (slash == std::string::npos) return ".";
    return slash == 0 ? fs::path("/") : fs::path(p.substr(0, slash));
  }
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  fs::path parent = fs::path(p).parent_path();
  return parent.empty() ? fs::path(".") : parent;
}

UniqueFd open_own_regular_file(const fs::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd) return fd;
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return UniqueFd();
  return fd;
}

std::string read_all(int fd, size_t max_bytes, const std::string& what) {
  std::string out;
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::runtime_error(what + ": cannot read: " + std::strerror(errno));
    if (n == 0) return out;
    if (out.size() + static_cast<size_t>(n) > max_bytes) {
      throw std::runtime_error(what + ": larger than " + std::to_string(max_bytes) + " bytes");
    }
    out.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace backupdrill
