#include "pg/passfile.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace backupdrill::pg {

std::string pgpass_escape(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == ':' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

PrivateDir::PrivateDir(const std::string& prefix) {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/" + prefix + "-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    throw std::runtime_error("cannot create a private working folder " + tmpl + ": " +
                             std::strerror(errno) + " (check TMPDIR)");
  }
  path_ = tmpl;  // mkdtemp creates it 0700
}

PrivateDir::~PrivateDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::optional<std::filesystem::path> PrivateDir::write_passfile(
    const std::string& name, const std::optional<std::string>& password) {
  if (!password) return std::nullopt;
  auto file = path_ / (name + ".pgpass");
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    throw std::runtime_error("cannot write " + file.string() + ": " + std::strerror(errno));
  }
  std::string line = "*:*:*:*:" + pgpass_escape(*password) + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ::close(fd);
  if (!ok) throw std::runtime_error("cannot write " + file.string());
  return file;
}

}  // namespace backupdrill::pg
