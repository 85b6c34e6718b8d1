#pragma once
// The seam for physical backup sources. A physical drill is: find the tools
// and the backup's facts (guard), restore the backup's files into a fresh
// data directory with a recovery configuration (restore), start a throwaway
// server on it that replays WAL to the target and promotes (recover), then
// the usual checks. Only the first two steps depend on the tool:
//
//  - pgBackRest (today): `pgbackrest info --output=json` gives the facts;
//    `pgbackrest restore --pg1-path=... --type/--target` writes the files,
//    recovery.signal and a restore_command of `pgbackrest archive-get`.
//  - Barman (next): `barman show-backup --format=json` for the facts;
//    `barman recover --get-wal` (or `--remote-ssh-command`) into the
//    directory with `--target-time`/`--target-immediate`, which writes
//    recovery.signal and a barman-wal-restore restore_command.
//  - WAL-G (next): `wal-g backup-list --json --detail` for the facts;
//    `wal-g backup-fetch <dir> <name>`, then the drill writes recovery.signal
//    and restore_command = 'wal-g wal-fetch "%f" "%p"' with the target.
//
// A new source implements this interface (in physical/, beside the pgBackRest
// files) and gets one line in drill/physical_drill.cpp's factory; the throwaway
// server, the recovery wait, the run directory and its cleanup are shared.
#include <filesystem>
#include <stop_token>
#include <string>
#include <vector>

#include "process/child_process.h"
#include "process/io_progress.h"
#include "util/time_format.h"

namespace backupdrill::physical {

// What the guard and the summary know of the backup being drilled.
struct BackupFacts {
  std::string label;
  unsigned long long size = 0;  // the restored data directory's size
  int pg_major = 0;
  std::string wal_start, wal_stop;       // the backup's own WAL
  std::string archive_min, archive_max;  // the archive that recovery can replay
  SystemTime stopped{};
  std::string tool_version;
  std::filesystem::path repository;       // never written to; work_dir may not be inside it
  std::filesystem::path source_data_dir;  // the backed-up cluster, when known
};

class PhysicalSource {
 public:
  virtual ~PhysicalSource() = default;
  virtual const char* name() const = 0;
  // Guard: the tool found and the chosen backup's facts read.
  virtual BackupFacts describe(Deadline deadline) = 0;
  // Restore: the backup's files into data_dir (fresh), tablespaces under
  // tablespace_dir, with the recovery configuration for the drill's target;
  // output in log_file. Throws std::runtime_error quoting the tool.
  // `progress` (may be null) is told the tool's process group and the
  // counter that measures it while it runs (the landing page, the API).
  virtual void restore(const std::filesystem::path& data_dir,
                       const std::filesystem::path& tablespace_dir,
                       const std::filesystem::path& log_file, Deadline deadline,
                       std::stop_token cancel, WatchedChild* progress) = 0;
  // After the drill: the archive range now, to prove nothing was pushed.
  virtual std::string archive_range(Deadline deadline) = 0;
};

}  // namespace backupdrill::physical
