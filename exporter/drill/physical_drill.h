#pragma once
// One drill of a physical source (pgBackRest), phase by phase, for the
// runner's physical pipeline: guard, restore, recover, (checks against
// target()), then cleanup() after every run, passed or failed. What it
// learns goes into the run's record: the backup's facts and tool versions
// (RunRecord::physical), the recovery point (snapshot_time), notes.
#include <filesystem>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "config/config.h"
#include "model/run_record.h"
#include "pg/conninfo.h"
#include "physical/os_user.h"
#include "physical/pgbackrest_restore.h"
#include "physical/physical_source.h"
#include "physical/run_dir.h"
#include "physical/throwaway_server.h"

namespace backupdrill {

// Removes the run directories under a physical drill's work_dir that a
// crashed or killed run left behind (marked as the exporter's, their process
// gone; nothing unmarked is touched) and returns them; logs each. Called when
// the exporter starts (a weekly drill must not keep gigabytes for a week) and
// again in each run's guard. Nothing for a logical drill; never throws.
std::vector<std::filesystem::path> remove_leftover_run_dirs(const DrillConfig& drill);

class PhysicalDrill {
 public:
  PhysicalDrill(const DrillConfig& drill, RunRecord& rec, std::filesystem::path folder,
                std::string restore_log, std::string server_log, Deadline deadline,
                std::stop_token cancel, std::shared_ptr<WatchedChild> progress);
  ~PhysicalDrill();  // cleans up if cleanup() was not called

  // Guard: the restore user, pgBackRest and the backup's facts, the server
  // binaries of its major version, work_dir's safety and free space, and
  // leftovers of crashed runs removed. Throws GuardRefusal when the drill
  // cannot run as configured, std::runtime_error when the repository fails.
  void guard();
  // Restore: a fresh run directory, pgbackrest restore into it.
  void restore();
  // Recover: the throwaway server started, WAL replayed, promoted; the
  // recovery point recorded.
  void recover();
  // The checks' connection: the throwaway server's socket and database.
  pg::ConnInfo target() const;
  // The server stopped and the run directory removed (or kept, failed and
  // keep_failed); the outcome recorded. Never throws.
  void cleanup(bool failed);
  // Artifact files this drill wrote in the drill folder (for the report).
  std::vector<std::string> artifact_names() const;

 private:
  void fact(const std::string& key, const std::string& value);

  const DrillConfig& drill_;
  RunRecord& rec_;
  std::filesystem::path folder_;
  std::string restore_log_, server_log_;
  Deadline deadline_;
  std::stop_token cancel_;
  std::shared_ptr<WatchedChild> progress_;  // the restore's bytes (may be null)
  physical::OsUser user_;
  physical::RecoveryTarget target_;
  std::unique_ptr<physical::PhysicalSource> source_;
  physical::BackupFacts facts_;
  std::filesystem::path postgres_;
  std::string archive_before_;
  std::optional<physical::RunDir> run_;
  std::optional<physical::ThrowawayServer> server_;
  std::string role_;
  bool cleaned_ = false;
};

}  // namespace backupdrill
