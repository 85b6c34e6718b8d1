#pragma once
// The checks of one drill run, one worker process each: created before the
// backup (so a bad config or plugin refuses the drill before anything is
// touched), called in the backup's snapshot during the backup, and run after
// the restore. State a plugin keeps between the two calls (e.g. source
// counts) lives in its worker.
//
// Thread safety: source_phase() drives the workers from one thread each;
// otherwise a DrillChecks is used by one thread.
#include <atomic>
#include <memory>
#include <optional>
#include <stop_token>
#include <vector>

#include "config/config.h"
#include "model/run_record.h"
#include "pg/conninfo.h"
#include "plugin_host/check_worker.h"

namespace backupdrill {

using plugin_host::CallResult;
using plugin_host::CheckWorker;
using plugin_host::WorkerOptions;

class DrillChecks {
 public:
  // Starts and creates every check of `drill` from plugin_dir. Throws
  // ConfigError "<origin>: check "<name>" (plugin <file>): <why>".
  DrillChecks(const std::filesystem::path& plugin_dir, const DrillConfig& drill,
              std::stop_token cancel = {}, WorkerOptions options = {});
  ~DrillChecks();

  // Every check's source phase at once, in the backup's exported snapshot;
  // returns when all of them returned (or were killed at their deadline).
  void source_phase(const pg::ConnInfo& source, const std::string& snapshot_id,
                    Deadline drill_deadline);

  // Runs every check against the restored target, in config order, and
  // returns their outcomes (a check whose source phase failed is not run).
  std::vector<CheckOutcome> run(const pg::ConnInfo& source, const pg::ConnInfo& target,
                                Deadline drill_deadline);

  size_t size() const { return slots_.size(); }

  // What every later call tells the plugins about the archive: where it came
  // from and the moment its data represents (freshness, table_counts).
  void set_backup_facts(const std::string& source_kind, std::optional<SystemTime> recovery_point) {
    backup_source_ = source_kind;
    recovery_point_ms_ = recovery_point ? std::chrono::duration_cast<std::chrono::milliseconds>(
                                              recovery_point->time_since_epoch())
                                              .count()
                                        : 0;
  }

 private:
  struct Slot {
    const CheckConfig* config;
    std::unique_ptr<CheckWorker> worker;
    CheckOutcome outcome;
    bool source_failed = false;
    double seconds = 0;
  };
  std::string describe(const Slot& slot) const;
  void apply(Slot& slot, const CallResult& result, const char* phase_text);

  const DrillConfig& drill_;
  std::stop_token cancel_;
  std::vector<Slot> slots_;
  std::string backup_source_;
  long long recovery_point_ms_ = 0;
};

// Creates (and destroys) every check of every drill, as a run would, with one
// worker per plugin. Throws ConfigError like DrillChecks.
void validate_check_configs(const std::filesystem::path& plugin_dir,
                            const std::vector<DrillConfig>& drills);

// The TOML text handed to a plugin's create(): the check's whole table.
std::string check_config_toml(const CheckConfig& check);

}  // namespace backupdrill
