#pragma once
// Serve mode's engine: the cron schedule (Boost.Asio timers on a thread of
// their own), drill runs on worker threads (never on an HTTP thread), the
// busy rules (a drill never runs twice at once; two drills sharing a target
// never overlap), and the state the HTTP API and metrics show.
//
// Thread safety: every public method may be called from any thread.
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <condition_variable>
#include <boost/asio/system_timer.hpp>
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
#include "drill/run_record.h"
#include "drill/runner.h"
#include "metrics/drill_metrics.h"
#include "schedule/cron.h"

namespace backupdrill {

class DrillService {
 public:
  DrillService(Config config, DrillMetrics& metrics);
  ~DrillService();
  DrillService(const DrillService&) = delete;
  DrillService& operator=(const DrillService&) = delete;

  // Reloads each drill's newest drill_summary_<ts>.json into the metrics, so
  // a restart does not look like a week without a successful drill.
  void restore_state();
  void start_scheduler();
  // Cancels running drills (their children are stopped) and waits for them.
  void stop();

  enum class TriggerStatus { accepted, busy, unknown };
  struct TriggerResult {
    TriggerStatus status = TriggerStatus::unknown;
    std::string run_id;
    std::string reason;
  };
  // how: "api" or "schedule".
  TriggerResult trigger(const std::string& drill, const std::string& how);

  struct DrillState {
    const DrillConfig* config = nullptr;
    std::optional<SystemTime> next_run;
    bool running = false;
    std::string current_run;
    std::optional<RunRecord> last;
  };
  std::vector<DrillState> states() const;
  std::optional<DrillState> state(const std::string& drill) const;
  std::vector<RunRecord> runs(const std::string& drill, size_t limit) const;

  const Config& config() const { return config_; }

  // Waits until no run is in progress (tests, --once-like shutdowns).
  void wait_idle();

 private:
  struct Slot {
    std::optional<schedule::CronExpression> cron;
    std::unique_ptr<boost::asio::system_timer> timer;
    std::optional<SystemTime> next_run;
    bool running = false;
    std::string current_run;
    std::string last_stamp;
    std::optional<RunRecord> last;
  };
  struct Worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };

  void arm(const std::string& drill);
  void run_worker(const DrillConfig& drill, std::string run_id, std::string how);
  void reap_finished_workers();
  static std::string target_key(const DrillConfig& drill);

  Config config_;
  DrillMetrics& metrics_;
  mutable std::mutex mutex_;
  std::condition_variable idle_;
  std::map<std::string, Slot> slots_;
  std::map<std::string, std::string> busy_targets_;  // target key -> drill
  std::list<Worker> workers_;
  std::atomic<bool> cancel_{false};
  bool stopped_ = false;

  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::thread scheduler_thread_;
};

}  // namespace backupdrill
