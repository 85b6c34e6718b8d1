#pragma once
// One drill, phase by phase: guard -> backup -> verify -> restore -> checks
// -> report. A failure stops the phases that depend on it, keeps every
// artifact written so far, and is reported with its phase.
#include <atomic>
#include <memory>
#include <stop_token>
#include <string>

#include "config/config.h"
#include "model/run_record.h"
#include "process/io_progress.h"

namespace backupdrill {

// skipped: another exporter (a replica) holds the target's lock; nothing ran.
enum class DrillStatus { passed, failed, refused, skipped };

struct DrillRun {
  DrillStatus status = DrillStatus::failed;
  RunRecord record;
  std::string refusal;  // why the guard or the setup refused, or why it was skipped
};

struct RunOptions {
  std::string trigger = "manual";  // manual | schedule | api
  std::stop_token cancel = {};
  // The artifact stamp to use (serve mode answers the trigger with it);
  // empty: the start time, moved on if a run of that second exists.
  std::string run_id;
  // Publishes the restore's pg_restore while it runs (see WatchedChild);
  // may be null.
  std::shared_ptr<WatchedChild> restore_watch;
};

// Never throws for a drill's own failures; they are in the result.
DrillRun run_drill(const Config& config, const DrillConfig& drill, const RunOptions& options);

// Instantiates every check of every drill, so a bad check config is refused
// at start (--check-config and before any run). Throws ConfigError.
void validate_checks(const Config& config);

}  // namespace backupdrill
