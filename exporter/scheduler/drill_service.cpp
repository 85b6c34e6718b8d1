#include "scheduler/drill_service.h"

#include <algorithm>
#include <chrono>

#include "artifacts/run_history.h"
#include "config/resolved_drill.h"
#include "config/schema.h"
#include "drill/physical_drill.h"
#include "drill/run_journal.h"
#include "log/log.h"
#include "util/secrets.h"

namespace backupdrill {

DrillService::DrillService(Config config)
    : config_(std::make_shared<const Config>(std::move(config))) {
  std::lock_guard lock(mutex_);
  for (const auto& d : config_->drills) set_cron(d.name, d.schedule);
}

// Sets a drill's cron and its next run; arming is the scheduler's.
void DrillService::set_cron(const std::string& name, const std::string& expression) {
  Slot& slot = slots_[name];
  slot.cron.reset();
  slot.next_run.reset();
  if (!expression.empty()) slot.cron = schedule::CronExpression::parse(expression);
  if (slot.cron) {
    auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    if (auto next = slot.cron->next_after(now)) slot.next_run = *next;
  }
}

std::shared_ptr<const Config> DrillService::config() const {
  std::lock_guard lock(mutex_);
  return config_;
}

DrillService::~DrillService() { stop(); }

std::string DrillService::target_key(const DrillConfig& drill) {
  // Resolved once with the configuration (config/resolved_drill.h).
  try {
    // (The exporter's settings do not enter the key: called under mutex_.)
    return resolved(drill, ExporterConfig{})->target_key;
  } catch (const std::exception&) {
    return drill.target_url;  // the run itself will report the bad URL
  }
}

void DrillService::restore_state() {
  std::shared_ptr<const Config> config;
  {
    std::lock_guard lock(mutex_);
    config = config_;
  }
  for (const auto& d : config->drills) restore_drill(*config, d);
}

void DrillService::restore_drill(const Config& config, const DrillConfig& d) {
  const auto folder = config.exporter.artifact_dir / d.name;
  // A run the last exporter did not live to finish is a failed run, and the
  // throwaway data directory it left is removed now, not at its next run.
  finalize_interrupted_runs(folder);
  remove_leftover_run_dirs(d);
  // The true last run: the newest finished one, whatever its result (one
  // still running belongs to another live exporter).
  std::optional<RunRecord> newest;
  std::optional<RunRecord> newest_success;
  for (auto& r : load_runs(folder, 1000)) {
    if (r.in_progress) continue;
    if (!newest) newest = r;
    if (r.success) {
      newest_success = std::move(r);
      break;
    }
  }
  if (!newest) return;
  std::lock_guard lock(mutex_);
  Slot& slot = slots_[d.name];
  // Keep the last success time even when the newest run failed.
  if (!newest->success && newest_success)
    slot.history.record_run(*newest_success, /*restored=*/true);
  slot.history.record_run(*newest, /*restored=*/true);
  slot.last_stamp = newest->run_id;
  log::info("restored the last run from its summary",
            {{"drill", d.name},
             {"run", newest->run_id},
             {"result", newest->success ? "passed" : "failed"}});
}

void DrillService::start_scheduler() {
  work_.emplace(io_.get_executor());
  {
    std::lock_guard lock(mutex_);
    scheduler_started_ = true;
  }
  rearm_all();
  scheduler_thread_ = std::thread([this] { io_.run(); });
}

void DrillService::rearm_all() {
  std::vector<std::string> names;
  {
    std::lock_guard lock(mutex_);
    for (auto& [name, slot] : slots_) {
      if (slot.timer) slot.timer->cancel();
      ++slot.armed;
      if (slot.cron) names.push_back(name);
    }
  }
  for (const auto& name : names) arm(name);
}

void DrillService::arm(const std::string& name) {
  std::lock_guard lock(mutex_);
  Slot& slot = slots_[name];
  if (!slot.cron) return;  // unscheduled or removed by a reload
  auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  slot.next_run = slot.cron->next_after(now);
  if (!slot.next_run) return;
  if (!slot.timer) slot.timer = std::make_unique<boost::asio::system_timer>(io_);
  const uint64_t armed = ++slot.armed;
  slot.timer->expires_at(*slot.next_run);
  slot.timer->async_wait([this, name, armed](const boost::system::error_code& ec) {
    if (ec) return;  // cancelled: shutdown or reload
    {
      // A reload re-armed (or unscheduled) this drill after the timer had
      // already fired: the new schedule decides.
      std::lock_guard lock(mutex_);
      if (slots_[name].armed != armed) return;
    }
    auto result = trigger(name, "schedule");
    if (result.status == TriggerStatus::busy) {
      log::warn("scheduled run skipped", {{"drill", name}, {"reason", result.reason}});
    }
    arm(name);
  });
}

DrillService::ReloadSummary DrillService::reload(Config next_config) {
  auto next = std::make_shared<const Config>(std::move(next_config));
  ReloadSummary summary;
  std::vector<const DrillConfig*> added;
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return summary;
    for (const auto& d : next->drills) {
      const DrillConfig* old = config_->find_drill(d.name);
      if (!old) {
        summary.added.push_back(d.name);
        added.push_back(&d);
      } else if (config::same_drill(*old, d)) {
        summary.unchanged.push_back(d.name);
      } else {
        summary.changed.push_back(d.name);
      }
    }
    for (const auto& d : config_->drills) {
      if (!next->find_drill(d.name)) summary.removed.push_back(d.name);
    }
    // An added drill starts as at start-up: no counts of an earlier life.
    for (const auto* d : added) slots_[d->name].history = {};
    for (const auto& name : summary.removed) set_cron(name, "");
    for (const auto& d : next->drills) set_cron(d.name, d.schedule);
    config_ = next;
    // A removed drill's waiting run leaves the queue now and frees its
    // target; a raised max_concurrent_drills starts waiting runs now, not
    // when a running one ends.
    std::erase_if(queue_, [&](const Queued& q) {
      if (next->find_drill(q.drill)) return false;
      release_waiting(q.drill);
      log::info("queued run dropped: its drill was removed by the reload",
                {{"drill", q.drill}, {"run", q.run_id}});
      return true;
    });
    start_queued();
  }
  for (const auto* d : added) restore_drill(*next, *d);
  bool started = false;
  {
    std::lock_guard lock(mutex_);
    started = scheduler_started_ && work_.has_value();
  }
  // Timers belong to the scheduler thread.
  if (started) boost::asio::post(io_, [this] { rearm_all(); });
  return summary;
}

DrillService::TriggerResult DrillService::trigger(const std::string& name, const std::string& how) {
  std::lock_guard lock(mutex_);
  const DrillConfig* drill = config_->find_drill(name);
  if (!drill) return {TriggerStatus::unknown, "", "no drill named \"" + name + "\""};
  if (stopped_) return {TriggerStatus::busy, "", "the exporter is shutting down"};
  Slot& slot = slots_[name];
  if (slot.queued && how == "schedule") {
    // Its next scheduled time has come while a scheduled run still waits:
    // that run is skipped (reason queue) and this one takes its place in the
    // queue, so the drill does not lose this run too and the queue keeps its
    // order.
    auto waiting = std::find_if(queue_.begin(), queue_.end(),
                                [&](const Queued& q) { return q.drill == name; });
    if (waiting != queue_.end() && waiting->start_before) {
      slot.history.record_skip(kSkipQueue);
      log::warn("queued run skipped: its drill's next scheduled run is due",
                {{"drill", name}, {"run", waiting->run_id}, {"reason", "queue"}});
      const auto now =
          std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
      waiting->run_id = next_stamp(slot, now);
      waiting->start_before = slot.cron ? slot.cron->next_after(now) : std::nullopt;
      log::info("drill queued", {{"drill", name}, {"run", waiting->run_id}, {"trigger", how}});
      return {TriggerStatus::accepted, waiting->run_id, ""};
    }
  }
  if (slot.running || slot.queued) {
    // A drill never waits behind itself.
    slot.history.record_skip(kSkipBusy);
    return {TriggerStatus::busy, slot.current_run,
            "drill \"" + name + "\" is already " + (slot.running ? "running" : "queued") +
                " (run " + slot.current_run + ")"};
  }
  std::string key = target_key(*drill);
  if (auto it = busy_targets_.find(key); it != busy_targets_.end()) {
    slot.history.record_skip(kSkipBusy);
    return {TriggerStatus::busy, "",
            "its target is being restored by drill \"" + it->second + "\""};
  }
  auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  std::string stamp = next_stamp(slot, now);
  busy_targets_[key] = name;  // a queued run holds its target too
  if (running_count_ < config_->exporter.max_concurrent_drills) {
    start_run(name, stamp, how);
    log::info("drill triggered", {{"drill", name}, {"run", stamp}, {"trigger", how}});
  } else {
    Queued q{name, stamp, how, std::nullopt};
    // A scheduled run that could only start after the drill's next scheduled
    // time is pointless: that run will do it.
    if (how == "schedule" && slot.cron) q.start_before = slot.cron->next_after(now);
    queue_.push_back(std::move(q));
    slot.queued = true;
    log::info("drill queued",
              {{"drill", name},
               {"run", stamp},
               {"trigger", how},
               {"running", std::to_string(running_count_)},
               {"max_concurrent_drills", std::to_string(config_->exporter.max_concurrent_drills)}});
  }
  return {TriggerStatus::accepted, stamp, ""};
}

// mutex_ held: a run that leaves the queue without starting gives up its run
// id and its target.
void DrillService::release_waiting(const std::string& drill) {
  if (auto slot = slots_.find(drill); slot != slots_.end()) {
    slot->second.queued = false;
    slot->second.current_run.clear();
  }
  std::erase_if(busy_targets_, [&](const auto& kv) { return kv.second == drill; });
}

// mutex_ held. A stamp later than the drill's last one, so two runs never
// share artifact names; it becomes the slot's current run.
std::string DrillService::next_stamp(Slot& slot, SystemTime now) {
  std::string stamp = compact_utc(now);
  if (!slot.last_stamp.empty() && stamp <= slot.last_stamp) {
    SystemTime last;
    parse_compact_utc(slot.last_stamp, last);
    stamp = compact_utc(last + std::chrono::seconds(1));
  }
  slot.current_run = stamp;
  slot.last_stamp = stamp;
  return stamp;
}

// mutex_ held.
void DrillService::start_run(const std::string& name, const std::string& stamp,
                             const std::string& how) {
  std::shared_ptr<const Config> config = config_;
  const DrillConfig* drill = config->find_drill(name);
  Slot& slot = slots_[name];
  slot.running = true;
  ++running_count_;
  reap_finished_workers();
  auto done = std::make_shared<std::atomic<bool>>(false);
  // The jthread's own stop token is the run's cancellation: stop() requests
  // it, and every child process and plugin call of the run watches it.
  workers_.push_back({std::jthread([this, config, drill, stamp, how, done,
                                    watch = slot.restore_watch](std::stop_token stop) {
                        run_worker(config, *drill, stamp, how, watch, stop);
                        done->store(true);
                      }),
                      done});
}

// mutex_ held: starts queued runs, in the order they fired, while slots are free.
void DrillService::start_queued() {
  while (!stopped_ && running_count_ < config_->exporter.max_concurrent_drills && !queue_.empty()) {
    Queued q = std::move(queue_.front());
    queue_.pop_front();
    // (A reload takes a removed drill's run out of the queue.)
    if (q.start_before && std::chrono::system_clock::now() >= *q.start_before) {
      slots_[q.drill].history.record_skip(kSkipQueue);
      log::warn("queued run skipped: its drill's next scheduled run is due",
                {{"drill", q.drill}, {"run", q.run_id}, {"reason", "queue"}});
      release_waiting(q.drill);
      continue;
    }
    slots_[q.drill].queued = false;
    start_run(q.drill, q.run_id, q.how);
    log::info("drill started from the queue", {{"drill", q.drill}, {"run", q.run_id}});
  }
}

void DrillService::run_worker(std::shared_ptr<const Config> config, const DrillConfig& drill,
                              std::string run_id, std::string how,
                              std::shared_ptr<WatchedChild> restore_watch, std::stop_token stop) {
  RunOptions options;
  options.trigger = how;
  options.cancel = stop;
  options.run_id = run_id;
  options.restore_watch = std::move(restore_watch);
  DrillRun run;
  try {
    run = run_drill(*config, drill, options);
  } catch (const std::exception& e) {
    run.status = DrillStatus::failed;
    run.record.drill = drill.name;
    run.record.error = scrub(e.what());
    log::error("drill crashed", {{"drill", drill.name}, {"error", run.record.error}});
  }
  if (run.status == DrillStatus::skipped) {
    log::warn("drill skipped", {{"drill", drill.name}, {"reason", run.refusal}});
  } else if (run.status == DrillStatus::refused) {
    log::error(run.refusal, {{"drill", drill.name}});
    run.record.failed_phase = kPhaseGuard;
    run.record.finished = std::chrono::system_clock::now();
    if (run.record.started == SystemTime{}) run.record.started = run.record.finished;
  } else if (run.status == DrillStatus::passed) {
    auto deleted =
        apply_retention(config->exporter.artifact_dir / drill.name, config->exporter.keep_runs);
    if (!deleted.empty()) {
      log::info("old artifacts deleted",
                {{"drill", drill.name}, {"runs", std::to_string(deleted.size())}});
    }
  }
  std::lock_guard lock(mutex_);
  // A reload during the run may have removed the drill: its slot still
  // records the run, but only configured drills are listed and exported.
  Slot& slot = slots_[drill.name];
  if (run.status == DrillStatus::skipped) {
    slot.history.record_skip(kSkipLocked);
  } else {
    slot.history.record_run(run.record);
  }
  slot.running = false;
  --running_count_;
  slot.current_run.clear();
  busy_targets_.erase(target_key(drill));
  start_queued();
  idle_.notify_all();
}

void DrillService::reap_finished_workers() {
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (it->done->load()) {
      it->thread.join();
      it = workers_.erase(it);
    } else {
      ++it;
    }
  }
}

void DrillService::wait_idle() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [this] {
    for (const auto& [name, slot] : slots_) {
      if (slot.running || slot.queued) return false;
    }
    return true;
  });
}

void DrillService::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopped_ && workers_.empty()) return;
    stopped_ = true;
    // Queued runs never start: nothing of them was written.
    for (const auto& q : queue_) {
      slots_[q.drill].queued = false;
      slots_[q.drill].current_run.clear();
    }
    queue_.clear();
  }
  {
    std::lock_guard lock(mutex_);
    for (auto& w : workers_) w.thread.request_stop();
  }
  if (work_) {
    boost::asio::post(io_, [this] {
      std::lock_guard lock(mutex_);
      for (auto& [name, slot] : slots_) {
        if (slot.timer) slot.timer->cancel();
      }
    });
    work_.reset();
  }
  if (scheduler_thread_.joinable()) scheduler_thread_.join();
  std::list<Worker> workers;
  {
    std::lock_guard lock(mutex_);
    workers.swap(workers_);
  }
  for (auto& w : workers) w.thread.join();
}

std::vector<DrillService::DrillState> DrillService::states() const {
  std::vector<DrillState> out;
  std::lock_guard lock(mutex_);
  for (const auto& d : config_->drills) {
    const Slot& slot = slots_.at(d.name);
    out.push_back({std::shared_ptr<const DrillConfig>(config_, &d), slot.next_run, slot.running,
                   slot.queued, slot.current_run, slot.history.last});
  }
  return out;
}

std::optional<DrillService::DrillState> DrillService::state(const std::string& drill) const {
  for (auto& s : states()) {
    if (s.config->name == drill) return s;
  }
  return std::nullopt;
}

std::vector<DrillMetricsState> DrillService::metrics_state() const {
  std::vector<DrillMetricsState> out;
  std::lock_guard lock(mutex_);
  for (const auto& d : config_->drills) {
    const Slot& slot = slots_.at(d.name);
    DrillMetricsState s = DrillMetricsState::configured(d);
    if (slot.cron) {
      s.schedule_interval_seconds = static_cast<double>(slot.cron->longest_interval().count());
    }
    s.next_run = slot.next_run;
    s.running = slot.running;
    s.queued = slot.queued;
    s.history = slot.history;
    out.push_back(std::move(s));
  }
  return out;
}

std::optional<unsigned long long> DrillService::restore_bytes_done(const std::string& drill) const {
  std::shared_ptr<WatchedChild> watch;
  {
    std::lock_guard lock(mutex_);
    auto it = slots_.find(drill);
    if (it == slots_.end() || !it->second.running) return std::nullopt;
    watch = it->second.restore_watch;
  }
  return watch->bytes_done();  // reads /proc: not under the lock
}

std::vector<RunRecord> DrillService::runs(const std::string& drill, size_t limit) const {
  std::filesystem::path dir;
  {
    std::lock_guard lock(mutex_);
    dir = config_->exporter.artifact_dir / drill;
  }
  return load_runs(dir, limit);
}

}  // namespace backupdrill
