#include "pg/passfile.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace backupdrill::pg {
namespace {

std::runtime_error failure(const std::string& what) {
  return std::runtime_error(what + ": " + std::strerror(errno) + " (check TMPDIR)");
}

int open_dir(const std::filesystem::path& dir) {
  return ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

// The pid in "<prefix>-<pid>-XXXXXX"; 0 when the name is not of that form.
pid_t pid_in_name(const std::string& name) {
  auto last = name.rfind('-');
  if (last == std::string::npos || last == 0) return 0;
  auto before = name.rfind('-', last - 1);
  if (before == std::string::npos) return 0;
  std::string digits = name.substr(before + 1, last - before - 1);
  if (digits.empty() || digits.size() > 9 ||
      digits.find_first_not_of("0123456789") != std::string::npos) {
    return 0;
  }
  return static_cast<pid_t>(std::stol(digits));
}

// The exporter that made the folder is gone. Its own pid may run again as
// another process (pid reuse, or pid 1 in a restarted container): the free
// lock already says nobody uses the folder, the pid check only protects a
// folder between its creation and its lock; our own pid is safe to take
// because this process sweeps before it creates any folder.
bool owner_is_gone(pid_t pid) {
  if (pid == ::getpid()) return true;
  return ::kill(pid, 0) != 0 && errno == ESRCH;
}

}  // namespace

std::string pgpass_escape(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == ':' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::filesystem::path private_parent_dir() {
  const char* tmp = std::getenv("TMPDIR");
  std::filesystem::path parent = std::filesystem::path(tmp && *tmp ? tmp : "/tmp") /
                                 ("backupdrill-" + std::to_string(::getuid()));
  if (::mkdir(parent.c_str(), 0700) != 0 && errno != EEXIST) {
    throw failure("cannot create the private folder " + parent.string());
  }
  struct stat st {};
  if (::lstat(parent.c_str(), &st) != 0) throw failure("cannot inspect " + parent.string());
  if (!S_ISDIR(st.st_mode)) {
    throw std::runtime_error(parent.string() +
                             " is not a folder (a link or a file?): remove it, or set TMPDIR "
                             "to a folder of this user");
  }
  if (st.st_uid != ::getuid()) {
    throw std::runtime_error(parent.string() + " belongs to uid " + std::to_string(st.st_uid) +
                             ", not to this user (uid " + std::to_string(::getuid()) +
                             "): remove it, or set TMPDIR to a folder of this user");
  }
  if ((st.st_mode & 0077) != 0 && ::chmod(parent.c_str(), 0700) != 0) {
    throw failure("cannot make " + parent.string() + " private (0700)");
  }
  return parent;
}

PrivateDir::PrivateDir(const std::string& prefix) {
  std::string tmpl =
      (private_parent_dir() / (prefix + "-" + std::to_string(::getpid()) + "-XXXXXX")).string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    throw failure("cannot create a private working folder " + tmpl);
  }
  path_ = tmpl;  // mkdtemp creates it 0700
  lock_fd_ = open_dir(path_);
  // Blocking: a sweeping exporter may hold the lock for a moment to look,
  // but leaves the folder of a running process alone.
  if (lock_fd_ < 0 || ::flock(lock_fd_, LOCK_EX) != 0) {
    auto error = failure("cannot lock the private working folder " + tmpl);
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
    if (lock_fd_ >= 0) ::close(lock_fd_);
    throw error;
  }
}

PrivateDir::~PrivateDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
  ::close(lock_fd_);
}

std::optional<std::filesystem::path> PrivateDir::write_passfile(
    const std::string& name, const std::optional<std::string>& password) {
  std::optional<std::string> secret = password;
  if (!secret) {
    // Children do not inherit PGPASSWORD/PGPASSFILE (their environment is an
    // allow-list): give them what libpq gives the exporter's connections.
    if (const char* env = std::getenv("PGPASSWORD"); env && *env) {
      secret = env;
    } else if (const char* file = std::getenv("PGPASSFILE"); file && *file) {
      return std::filesystem::path(file);
    } else {
      return std::nullopt;
    }
  }
  auto file = path_ / (name + ".pgpass");
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    throw std::runtime_error("cannot write " + file.string() + ": " + std::strerror(errno));
  }
  std::string line = "*:*:*:*:" + pgpass_escape(*secret) + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ::close(fd);
  if (!ok) throw std::runtime_error("cannot write " + file.string());
  return file;
}

std::vector<std::filesystem::path> sweep_abandoned_private_dirs() {
  std::vector<std::filesystem::path> removed;
  const auto parent = private_parent_dir();
  std::vector<std::filesystem::path> folders;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(parent, ec)) {
    folders.push_back(entry.path());
  }
  for (const auto& folder : folders) {
    pid_t pid = pid_in_name(folder.filename().string());
    if (pid <= 0) continue;
    int fd = open_dir(folder);
    if (fd < 0) continue;
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0 && owner_is_gone(pid)) {
      std::error_code remove_ec;
      std::filesystem::remove_all(folder, remove_ec);
      if (!remove_ec) removed.push_back(folder);
    }
    ::close(fd);
  }
  return removed;
}

}  // namespace backupdrill::pg
