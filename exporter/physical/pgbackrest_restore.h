#pragma once
// `pgbackrest restore` of one backup set into a fresh data directory, with
// the drill's recovery target; the throwaway server (throwaway_server.h)
// then replays the WAL and promotes.
#include <filesystem>
#include <stop_token>
#include <string>
#include <vector>

#include "physical/pgbackrest_command.h"
#include "process/io_progress.h"
#include "util/time_format.h"

namespace backupdrill::physical {

// [drill.backup] recovery_target: the end of the archived WAL, the end of
// the backup itself, or a moment.
struct RecoveryTarget {
  enum class Kind { latest, immediate, time };
  Kind kind = Kind::latest;
  std::string text;   // as configured
  SystemTime time{};  // Kind::time
};

// Throws std::runtime_error on anything but "latest", "immediate" or a time
// with its zone (the config refuses those earlier).
RecoveryTarget parse_recovery_target(const std::string& text);

// The options of the restore: the fresh data directory, the set, the target
// (latest: pgBackRest's default, which replays to the end of the archive;
// immediate and time with --target-action=promote), tablespaces remapped
// under the run's directory (never their production locations) and
// archive_mode off in the restored configuration.
std::vector<std::string> restore_options(const std::filesystem::path& data_dir,
                                         const std::filesystem::path& tablespace_dir,
                                         const std::string& set, const RecoveryTarget& target);

// Runs the restore, its whole output in log_file; `progress` (may be null)
// watches what it writes while it runs. Throws std::runtime_error quoting
// pgBackRest's error line.
void restore_backup(const PgBackRest& pgbackrest, const std::filesystem::path& data_dir,
                    const std::filesystem::path& tablespace_dir, const std::string& set,
                    const RecoveryTarget& target, const std::filesystem::path& log_file,
                    Deadline deadline, std::stop_token cancel, WatchedChild* progress);

}  // namespace backupdrill::physical
