#pragma once
// Serve mode's engine (scheduler/): the cron schedule (Boost.Asio timers on a thread of
// their own), drill runs on worker threads (never on an HTTP thread), the
// busy rules (a drill never runs twice at once; two drills sharing a target
// never overlap), and the state the HTTP API and metrics show.
//
// Thread safety: every public method may be called from any thread.
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/system_timer.hpp>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "config/config.h"
#include "drill/runner.h"
#include "metrics/drill_state.h"
#include "model/run_record.h"
#include "process/io_progress.h"
#include "schedule/cron.h"
#include "scheduler/drills_view.h"

namespace backupdrill {

class DrillService final : public DrillsView {
 public:
  // The view's types, by their old names too.
  using DrillState = backupdrill::DrillState;
  using TriggerStatus = backupdrill::TriggerStatus;
  using TriggerResult = backupdrill::TriggerResult;

  explicit DrillService(Config config);
  ~DrillService() override;
  DrillService(const DrillService&) = delete;
  DrillService& operator=(const DrillService&) = delete;

  // Reloads each drill's newest drill_summary_<ts>.json as its last run, so
  // a restart does not look like a week without a successful drill.
  void restore_state();
  void start_scheduler();
  // Cancels running drills (their children are stopped) and waits for them.
  void stop();

  // DrillsView (scheduler/drills_view.h).
  TriggerResult trigger(const std::string& drill, const std::string& how) override;
  std::vector<DrillState> states() const override;
  std::optional<DrillState> state(const std::string& drill) const override;
  std::vector<RunRecord> runs(const std::string& drill, size_t limit) const override;
  std::optional<unsigned long long> restore_bytes_done(const std::string& drill) const override;
  // What /metrics shows: every configured drill, now (DrillMetrics' source).
  std::vector<DrillMetricsState> metrics_state() const;

  // The configuration in effect, as a snapshot: a reload makes a new one,
  // and the old one lives as long as someone (an HTTP handler, a running
  // drill, a DrillState) still holds it.
  std::shared_ptr<const Config> config() const override;

  // SIGHUP: makes `next` (already loaded and validated) the configuration of
  // new runs. Running drills finish with the configuration they started
  // with; added drills start with fresh counters and their last run reloaded
  // from their summaries; removed drills stop being scheduled, listed and
  // exported; every schedule is re-armed. Nothing else restarts.
  struct ReloadSummary {
    std::vector<std::string> added, removed, changed, unchanged;
  };
  ReloadSummary reload(Config next);

  // Waits until no run is in progress (tests, --once-like shutdowns).
  void wait_idle();

 private:
  struct Slot {
    std::optional<schedule::CronExpression> cron;
    uint64_t armed = 0;  // bumped by each arm(): a stale timer callback sees the change
    std::unique_ptr<boost::asio::system_timer> timer;
    std::optional<SystemTime> next_run;
    bool running = false;
    bool queued = false;
    std::string current_run;
    std::string last_stamp;
    DrillHistory history;  // the last run, the last success, the counters
    // The run's pg_restore while it restores (read by restore_bytes_done()).
    std::shared_ptr<WatchedChild> restore_watch = std::make_shared<WatchedChild>();
  };
  struct Worker {
    std::jthread thread;  // its stop token cancels the run
    std::shared_ptr<std::atomic<bool>> done;
  };

  void arm(const std::string& drill);
  void rearm_all();  // on the scheduler thread
  void restore_drill(const Config& config, const DrillConfig& d);
  void set_cron(const std::string& drill, const std::string& expression);  // mutex_ held
  void run_worker(std::shared_ptr<const Config> config, const DrillConfig& drill,
                  std::string run_id, std::string how, std::shared_ptr<WatchedChild> restore_watch,
                  std::stop_token stop);
  void reap_finished_workers();
  std::string next_stamp(Slot& slot, SystemTime now);
  void release_waiting(const std::string& drill);
  void start_run(const std::string& drill, const std::string& stamp, const std::string& how);
  void start_queued();
  static std::string target_key(const DrillConfig& drill);

  std::shared_ptr<const Config> config_;  // guarded by mutex_
  mutable std::mutex mutex_;
  std::condition_variable idle_;
  std::map<std::string, Slot> slots_;
  std::map<std::string, std::string> busy_targets_;  // target key -> drill
  // Runs waiting for a free slot, in the order they fired.
  struct Queued {
    std::string drill;
    std::string run_id;
    std::string how;
    std::optional<SystemTime> start_before;  // scheduled runs: the drill's next scheduled time
  };
  std::deque<Queued> queue_;
  int running_count_ = 0;
  std::list<Worker> workers_;
  bool stopped_ = false;

  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::thread scheduler_thread_;
  bool scheduler_started_ = false;
};

}  // namespace backupdrill
