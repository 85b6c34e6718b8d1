#pragma once
// A private working folder for one drill (0700, removed when the drill ends)
// holding PGPASSFILEs, so passwords reach pg_dump/pg_restore without argv or
// environment.
//
// Every such folder lives in one parent per user, $TMPDIR/backupdrill-<uid>/
// (0700, owned by the user; /tmp when TMPDIR is unset), is named
// <prefix>-<pid>-XXXXXX and is flock()ed by the exporter while in use. An
// exporter killed with -9 cannot remove its folders; the next one to start
// does, with sweep_abandoned_private_dirs().
//
// Thread safety: a PrivateDir is owned by one thread; several may be created
// at once.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace backupdrill::pg {

class PrivateDir {
 public:
  // Creates a 0700 folder in the private parent. Throws std::runtime_error
  // saying what to fix (e.g. a parent owned by someone else).
  explicit PrivateDir(const std::string& prefix);
  ~PrivateDir();
  PrivateDir(const PrivateDir&) = delete;
  PrivateDir& operator=(const PrivateDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

  // The PGPASSFILE a child connecting with this password should get: a 0600
  // pgpass file written here, matching any host/port/db/user. Without a
  // password, the one the exporter's own connections fall back to: its
  // PGPASSWORD (written here too), else its PGPASSFILE (as is); nullopt when
  // there is none (libpq then reads ~/.pgpass, as HOME is passed on).
  std::optional<std::filesystem::path> write_passfile(const std::string& name,
                                                      const std::optional<std::string>& password);

 private:
  std::filesystem::path path_;
  int lock_fd_ = -1;  // the folder itself, flock()ed while it is in use
};

// $TMPDIR/backupdrill-<uid>, created 0700 when missing. Throws
// std::runtime_error when it is not a private folder of this user.
std::filesystem::path private_parent_dir();

// Removes the folders of exporters that are gone (their lock is free and
// their pid no longer runs, or is this process's, which sweeps before it
// creates any); returns the folders removed. Call once at start-up.
std::vector<std::filesystem::path> sweep_abandoned_private_dirs();

// Escapes ':' and '\' as the pgpass format requires.
std::string pgpass_escape(const std::string& value);

}  // namespace backupdrill::pg
