#pragma once
// What the web (web/) may know of the engine: a read-only view of the
// drills, their runs and a running restore's progress, and the one action a
// page or the API may take, a trigger. web/ includes this header only, never
// the scheduler's implementation, so the pages and routes can be changed and
// tested against a fake view without starting a drill.
//
// Thread safety: implementations must allow every method from any thread.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "model/run_record.h"
#include "util/time_format.h"

namespace backupdrill {

// One drill as the engine sees it now.
struct DrillState {
  // Shares ownership of the configuration it belongs to: it stays valid
  // after a reload replaced that configuration.
  std::shared_ptr<const DrillConfig> config;
  std::optional<SystemTime> next_run;
  bool running = false;
  bool queued = false;      // waiting for a free slot (max_concurrent_drills)
  std::string current_run;  // the run running or queued
  std::optional<RunRecord> last;
};

enum class TriggerStatus { accepted, busy, unknown };

struct TriggerResult {
  TriggerStatus status = TriggerStatus::unknown;
  std::string run_id;
  std::string reason;
};

class DrillsView {
 public:
  virtual ~DrillsView() = default;

  // The configuration in effect, as a snapshot (a reload makes a new one).
  virtual std::shared_ptr<const Config> config() const = 0;
  virtual std::vector<DrillState> states() const = 0;
  virtual std::optional<DrillState> state(const std::string& drill) const = 0;
  // The drill's runs as its artifact folder records them, newest first.
  virtual std::vector<RunRecord> runs(const std::string& drill, size_t limit) const = 0;
  // While the drill's restore phase runs pg_restore: the bytes it has read
  // so far (see process/io_progress.h); nullopt at any other time.
  virtual std::optional<unsigned long long> restore_bytes_done(const std::string& drill) const = 0;
  // Starts (or queues) a run now; how: "api" or "schedule".
  virtual TriggerResult trigger(const std::string& drill, const std::string& how) = 0;
};

}  // namespace backupdrill
