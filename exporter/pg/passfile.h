#pragma once
// A private working folder for one drill (0700, removed when the drill ends)
// holding PGPASSFILEs, so passwords reach pg_dump/pg_restore without argv.
#include <filesystem>
#include <optional>
#include <string>

namespace backupdrill::pg {

class PrivateDir {
 public:
  // Creates a 0700 folder under $TMPDIR (or /tmp). Throws std::runtime_error.
  explicit PrivateDir(const std::string& prefix);
  ~PrivateDir();
  PrivateDir(const PrivateDir&) = delete;
  PrivateDir& operator=(const PrivateDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

  // Writes a 0600 pgpass file matching any host/port/db/user for this password
  // and returns its path; nullopt when there is no password to pass.
  std::optional<std::filesystem::path> write_passfile(const std::string& name,
                                                      const std::optional<std::string>& password);

 private:
  std::filesystem::path path_;
};

// Escapes ':' and '\' as the pgpass format requires.
std::string pgpass_escape(const std::string& value);

}  // namespace backupdrill::pg
