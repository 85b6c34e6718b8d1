#pragma once
// Opening files that someone else may have written: backup storage (a
// `source = "file"` folder) and the drill's own run folders.
//
// Backup storage is untrusted input. Whoever can write into a backup folder
// can plant a symbolic link there (app.dump.sha256 -> /etc/shadow); a drill
// that followed it would read, hash, and perhaps quote a file the exporter's
// user may read but the planter may not. So a storage file is opened through
// a ContainedFolder: links are followed only while the file they lead to
// stays inside the folder (latest.dump -> 2026-12-07.dump is fine), anything
// that resolves outside is refused before a byte of it is read. The check is
// made on the descriptor actually opened (its /proc/self/fd link), so a link
// swapped in between a check and the open cannot slip through.
//
// Files of the exporter's own run folders are opened with
// open_own_regular_file(): no link at all, regular files only, as the files
// route serves them.
//
// Thread safety: ContainedFolder is immutable after construction; the
// functions are reentrant.
#include <cstddef>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace backupdrill {

// A descriptor closed when it goes out of scope.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = other.release();
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset();

 private:
  int fd_ = -1;
};

// A file was not opened because of what it is (a link out of its folder, not
// a regular file), not because of an I/O error. The text names the file and
// the folder and never quotes its contents.
struct RefusedFileError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class ContainedFolder {
 public:
  // `root` is the folder the configuration names; it is resolved once (a
  // configured folder may itself be a link, e.g. onto a mount). Throws
  // RefusedFileError when it cannot be resolved.
  explicit ContainedFolder(const std::filesystem::path& root);

  // Opens `path` (absolute, or relative to the working directory) read-only
  // and non-blocking (a FIFO cannot hang the drill), following links only
  // while the file opened lies inside the folder. `directory` opens a folder
  // (a directory-format dump) instead of a regular file. Throws
  // RefusedFileError for a link out of the folder or a file of another type,
  // std::runtime_error for an I/O error.
  UniqueFd open(const std::filesystem::path& path, bool directory = false) const;

  // Whether `path` resolves (links followed) to somewhere inside the folder.
  // For a check just before a child process opens the path itself.
  bool contains(const std::filesystem::path& path) const;

  const std::filesystem::path& root() const { return root_; }

 private:
  bool inside(const std::filesystem::path& real) const;
  std::filesystem::path root_;  // resolved, no trailing slash
};

// The folder a configured storage path belongs to: the path's folder before
// any glob character ("/srv/b/app_*.dump" -> "/srv/b"), else the path's
// parent ("/srv/b/app.dump" and the directory dump "/srv/b/app.dir/" ->
// "/srv/b").
std::filesystem::path storage_folder_of(const std::string& configured_path);

// Opens a file of one of the exporter's own folders: no symbolic link (not
// even as the last component), nothing but a regular file. Returns an empty
// UniqueFd when the file is missing or refused.
UniqueFd open_own_regular_file(const std::filesystem::path& path);

// Reads an open descriptor to its end, at most max_bytes (throws
// std::runtime_error naming `what` when it is longer).
std::string read_all(int fd, size_t max_bytes, const std::string& what);

}  // namespace backupdrill
