#pragma once
// What the metrics show of one drill, as plain data: the service (serve
// mode) or the --once loop keeps a DrillHistory per drill and hands a
// DrillMetricsState snapshot to the renderer at scrape or push time. Nothing
// here is a metric object, so there is nothing to add, update or remove when
// a reload changes the drills.
//
// Thread safety: plain values; the owner synchronises.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "model/run_record.h"
#include "util/time_format.h"

namespace backupdrill {

// The phases whose failures are counted, in order.
const std::vector<std::string>& failure_phases();

// Skip reasons of backupdrill_skipped_runs_total: the drill or its target was
// busy, another replica holds the target's lock, a queued run came too late.
inline constexpr const char* kSkipBusy = "busy";
inline constexpr const char* kSkipLocked = "locked";
inline constexpr const char* kSkipQueue = "queue";

// What the finished runs of one drill left behind.
struct DrillHistory {
  std::optional<RunRecord> last;           // the last finished run
  std::optional<SystemTime> last_success;  // when the last successful run ended
  // Counters: runs of this process only (a reloaded summary is not a run).
  std::uint64_t runs = 0;
  std::map<std::string, std::uint64_t> failures;  // by failure_phases() entry
  std::map<std::string, std::uint64_t> skipped;   // by skip reason

  // A finished run. restored: reloaded from its summary at start or reload,
  // so it sets the last results but moves no counter.
  void record_run(const RunRecord& record, bool restored = false);
  void record_skip(const std::string& reason) { ++skipped[reason]; }
  bool operator==(const DrillHistory&) const = default;
};

// One drill at one moment: its configuration's part, the scheduler's and the
// runs'.
struct DrillMetricsState {
  std::string drill;
  double rto_target_seconds = 0;
  double rpo_target_seconds = 0;
  std::vector<std::string> checks;       // configured check names
  double schedule_interval_seconds = 0;  // longest gap between scheduled runs; 0: none
  std::optional<SystemTime> next_run;
  bool running = false;
  bool queued = false;  // waiting for a free slot (max_concurrent_drills)
  DrillHistory history;

  // The configuration's part; the rest as before any run.
  static DrillMetricsState configured(const DrillConfig& drill);
  bool operator==(const DrillMetricsState&) const = default;
};

}  // namespace backupdrill
