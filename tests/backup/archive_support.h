#pragma once
// Real pg_dump archives for the backup-source tests: made with cluster "a"
// of the integration clusters (the pg_clusters ctest fixture), in UTC.
#include <filesystem>
#include <string>

namespace backupdrill::testing {

// pg_dump --format=<format> (custom | directory | tar) of db on cluster a.
void make_archive(const std::string& db, const std::string& format,
                  const std::filesystem::path& out);

// pg_restore --list's whole output for an archive (TZ=UTC).
std::string pg_restore_list(const std::filesystem::path& archive);

// Rewrites the creation time in a real archive's header in place (the file,
// or toc.dat of a directory dump; tar is not supported), so tests get
// archives of any age without waiting. `utc` is "YYYY-MM-DD HH:MM:SS".
void set_archive_time(const std::filesystem::path& archive, const std::string& utc);

// The value after "; <label>" in pg_restore --list's header ("dbname: x").
std::string list_field(const std::string& listing, const std::string& label);

// Runs a shell command line; throws with its output when it fails.
std::string shell(const std::string& command_line);

}  // namespace backupdrill::testing
