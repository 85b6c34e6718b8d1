#pragma once
// The metrics contract of DESIGN.md on a prometheus-cpp registry. Every
// series exists from start-up for every configured drill (0 before a first
// run), so "never ran" is visible and alerts never see gaps.
//
// Thread safety: every method may be called from any thread; render() runs
// concurrently with updates (prometheus-cpp's values are atomic and its
// families lock), so a scrape never waits for a drill.
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/config.h"
#include "model/run_record.h"
#include "util/time_format.h"

namespace backupdrill {

struct DrillSchedule {
  double interval_seconds = 0;  // longest gap between two scheduled runs; 0: none
  std::optional<SystemTime> next_run;
};

class DrillMetrics {
 public:
  DrillMetrics(const Config& config,
               const std::vector<std::pair<std::string, std::string>>& plugins);

  void set_running(const std::string& drill, bool running);
  // backupdrill_queued: 1 while a run waits for a free slot.
  void set_queued(const std::string& drill, bool queued);
  // A finished run: updates every per-drill series. Counters only move for
  // runs of this process (restored=false).
  void record_run(const RunRecord& record, bool restored = false);
  void record_skip(const std::string& drill, const std::string& reason);
  void set_schedule(const std::string& drill, const DrillSchedule& schedule);

  // A reloaded configuration (SIGHUP): series appear for new drills and checks
  // (0, as at start-up), disappear for removed ones, and RTO/RPO targets take
  // their new values; counters and last results of kept drills stay.
  void apply_config(const Config& config);
  // backupdrill_config_last_reload_successful and its timestamp.
  void record_reload(bool success);
  bool has_drill(const std::string& drill) const;

  // The Prometheus text exposition format (version 0.0.4).
  std::string render() const;

  static constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  struct PerDrill {
    prometheus::Gauge* last_run = nullptr;
    prometheus::Gauge* last_success = nullptr;
    prometheus::Gauge* last_run_success = nullptr;
    prometheus::Gauge* running = nullptr;
    prometheus::Gauge* queued = nullptr;
    prometheus::Counter* runs = nullptr;
    std::map<std::string, prometheus::Counter*> failures;  // by phase
    std::map<std::string, prometheus::Gauge*> phase_seconds;
    prometheus::Gauge *rto, *rto_target, *rto_ok, *rpo, *rpo_target, *rpo_ok;
    prometheus::Gauge *backup_size, *restore_errors, *interval, *next_run;
    std::map<std::string, prometheus::Gauge*> check_success;
    std::map<std::string, prometheus::Gauge*> check_seconds;
    std::vector<prometheus::Gauge*> check_rows;  // replaced by each run
    std::vector<prometheus::Counter*> skipped;   // by reason
  };

  PerDrill& drill(const std::string& name);
  // These three expect mutex_ held (or the constructor).
  void add_drill(const DrillConfig& d);
  void update_drill(PerDrill& p, const DrillConfig& d);
  void remove_drill(const std::string& name);

  std::shared_ptr<prometheus::Registry> registry_;
  mutable std::mutex mutex_;  // guards drills_ and the check_rows lists
  std::map<std::string, PerDrill> drills_;

  prometheus::Family<prometheus::Gauge>& last_run_;
  prometheus::Family<prometheus::Gauge>& last_success_;
  prometheus::Family<prometheus::Gauge>& last_run_success_;
  prometheus::Family<prometheus::Gauge>& running_;
  prometheus::Family<prometheus::Gauge>& queued_;
  prometheus::Family<prometheus::Counter>& runs_;
  prometheus::Family<prometheus::Counter>& failures_;
  prometheus::Family<prometheus::Counter>& skipped_;
  prometheus::Family<prometheus::Gauge>& phase_seconds_;
  prometheus::Family<prometheus::Gauge>& rto_;
  prometheus::Family<prometheus::Gauge>& rto_target_;
  prometheus::Family<prometheus::Gauge>& rto_ok_;
  prometheus::Family<prometheus::Gauge>& rpo_;
  prometheus::Family<prometheus::Gauge>& rpo_target_;
  prometheus::Family<prometheus::Gauge>& rpo_ok_;
  prometheus::Family<prometheus::Gauge>& backup_size_;
  prometheus::Family<prometheus::Gauge>& restore_errors_;
  prometheus::Family<prometheus::Gauge>& check_success_;
  prometheus::Family<prometheus::Gauge>& check_seconds_;
  prometheus::Family<prometheus::Gauge>& check_rows_;
  prometheus::Family<prometheus::Gauge>& build_info_;
  prometheus::Family<prometheus::Gauge>& plugin_info_;
  prometheus::Family<prometheus::Gauge>& interval_;
  prometheus::Family<prometheus::Gauge>& next_run_;
  prometheus::Family<prometheus::Gauge>& start_time_;
  prometheus::Family<prometheus::Gauge>& config_reload_ok_;
  prometheus::Family<prometheus::Gauge>& config_reload_time_;
};

// The phases whose failures are counted, in order.
const std::vector<std::string>& failure_phases();

}  // namespace backupdrill
