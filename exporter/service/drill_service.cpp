#include "service/drill_service.h"

#include <chrono>

#include "artifacts/run_history.h"
#include "log/log.h"
#include "pg/conninfo.h"
#include "util/secrets.h"

namespace backupdrill {

DrillService::DrillService(Config config, DrillMetrics& metrics)
    : config_(std::move(config)), metrics_(metrics) {
  for (const auto& d : config_.drills) {
    Slot& slot = slots_[d.name];
    if (!d.schedule.empty()) slot.cron = schedule::CronExpression::parse(d.schedule);
    DrillSchedule sched;
    if (slot.cron) {
      sched.interval_seconds = static_cast<double>(slot.cron->longest_interval().count());
      auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
      if (auto next = slot.cron->next_after(now)) slot.next_run = *next;
      sched.next_run = slot.next_run;
    }
    metrics_.set_schedule(d.name, sched);
  }
}

DrillService::~DrillService() { stop(); }

std::string DrillService::target_key(const DrillConfig& drill) {
  try {
    auto info = pg::ConnInfo::parse(drill.target_url);
    std::string host = info.get("host").value_or(info.get("hostaddr").value_or("local"));
    if (host == "localhost" || host == "127.0.0.1" || host == "::1") host = "local";
    return host + ":" + info.get("port").value_or("5432") + "/" + info.dbname();
  } catch (const std::exception&) {
    return drill.target_url;  // the run itself will report the bad URL
  }
}

void DrillService::restore_state() {
  for (const auto& d : config_.drills) {
    auto newest = load_newest_run(config_.exporter.artifact_dir / d.name);
    if (!newest) continue;
    // Keep the last success time even when the newest run failed.
    if (!newest->success) {
      for (const auto& r : load_runs(config_.exporter.artifact_dir / d.name, 1000)) {
        if (r.success) {
          metrics_.record_run(r, /*restored=*/true);
          break;
        }
      }
    }
    metrics_.record_run(*newest, /*restored=*/true);
    std::lock_guard lock(mutex_);
    slots_[d.name].last = *newest;
    slots_[d.name].last_stamp = newest->run_id;
    log::info("restored the last run from its summary",
              {{"drill", d.name}, {"run", newest->run_id},
               {"result", newest->success ? "passed" : "failed"}});
  }
}

void DrillService::start_scheduler() {
  work_.emplace(io_.get_executor());
  for (const auto& d : config_.drills) {
    if (slots_[d.name].cron) arm(d.name);
  }
  scheduler_thread_ = std::thread([this] { io_.run(); });
}

void DrillService::arm(const std::string& name) {
  std::lock_guard lock(mutex_);
  Slot& slot = slots_[name];
  auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  slot.next_run = slot.cron->next_after(now);
  metrics_.set_schedule(name, {static_cast<double>(slot.cron->longest_interval().count()),
                               slot.next_run});
  if (!slot.next_run) return;
  if (!slot.timer) slot.timer = std::make_unique<boost::asio::system_timer>(io_);
  slot.timer->expires_at(*slot.next_run);
  slot.timer->async_wait([this, name](const boost::system::error_code& ec) {
    if (ec) return;  // cancelled at shutdown
    auto result = trigger(name, "schedule");
    if (result.status == TriggerStatus::busy) {
      log::warn("scheduled run skipped", {{"drill", name}, {"reason", result.reason}});
    }
    arm(name);
  });
}

DrillService::TriggerResult DrillService::trigger(const std::string& name, const std::string& how) {
  const DrillConfig* drill = config_.find_drill(name);
  if (!drill) return {TriggerStatus::unknown, "", "no drill named \"" + name + "\""};
  std::lock_guard lock(mutex_);
  if (stopped_) return {TriggerStatus::busy, "", "the exporter is shutting down"};
  Slot& slot = slots_[name];
  if (slot.running) {
    metrics_.record_skip(name, "busy");
    return {TriggerStatus::busy, slot.current_run, "drill \"" + name + "\" is already running (run " +
                                                       slot.current_run + ")"};
  }
  std::string key = target_key(*drill);
  if (auto it = busy_targets_.find(key); it != busy_targets_.end()) {
    metrics_.record_skip(name, "busy");
    return {TriggerStatus::busy, "", "its target is being restored by drill \"" + it->second + "\""};
  }
  // A stamp later than the last one, so two runs never share artifact names.
  auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  std::string stamp = compact_utc(now);
  if (!slot.last_stamp.empty() && stamp <= slot.last_stamp) {
    SystemTime last;
    parse_compact_utc(slot.last_stamp, last);
    stamp = compact_utc(last + std::chrono::seconds(1));
  }
  slot.running = true;
  slot.current_run = stamp;
  slot.last_stamp = stamp;
  busy_targets_[key] = name;
  metrics_.set_running(name, true);
  reap_finished_workers();
  auto done = std::make_shared<std::atomic<bool>>(false);
  workers_.push_back({std::thread([this, drill, stamp, how, done] {
                        run_worker(*drill, stamp, how);
                        done->store(true);
                      }),
                      done});
  log::info("drill triggered", {{"drill", name}, {"run", stamp}, {"trigger", how}});
  return {TriggerStatus::accepted, stamp, ""};
}

void DrillService::run_worker(const DrillConfig& drill, std::string run_id, std::string how) {
  RunOptions options;
  options.trigger = how;
  options.cancel = &cancel_;
  options.run_id = run_id;
  DrillRun run;
  try {
    run = run_drill(config_, drill, options);
  } catch (const std::exception& e) {
    run.status = DrillStatus::failed;
    run.record.drill = drill.name;
    run.record.error = scrub(e.what());
    log::error("drill crashed", {{"drill", drill.name}, {"error", run.record.error}});
  }
  if (run.status == DrillStatus::skipped) {
    metrics_.record_skip(drill.name, "locked");
    log::warn("drill skipped", {{"drill", drill.name}, {"reason", run.refusal}});
  } else if (run.status == DrillStatus::refused) {
    log::error(run.refusal, {{"drill", drill.name}});
    run.record.failed_phase = kPhaseGuard;
    run.record.finished = std::chrono::system_clock::now();
    if (run.record.started == SystemTime{}) run.record.started = run.record.finished;
    metrics_.record_run(run.record);
  } else {
    metrics_.record_run(run.record);
    if (run.status == DrillStatus::passed) {
      auto deleted = apply_retention(config_.exporter.artifact_dir / drill.name,
                                     config_.exporter.keep_runs);
      if (!deleted.empty()) {
        log::info("old artifacts deleted", {{"drill", drill.name},
                                            {"runs", std::to_string(deleted.size())}});
      }
    }
  }
  std::lock_guard lock(mutex_);
  Slot& slot = slots_[drill.name];
  slot.running = false;
  slot.current_run.clear();
  if (run.status == DrillStatus::passed || run.status == DrillStatus::failed) slot.last = run.record;
  busy_targets_.erase(target_key(drill));
  metrics_.set_running(drill.name, false);
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
      if (slot.running) return false;
    }
    return true;
  });
}

void DrillService::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopped_ && workers_.empty()) return;
    stopped_ = true;
  }
  cancel_ = true;
  if (work_) {
    boost::asio::post(io_, [this] {
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
  for (const auto& d : config_.drills) {
    const Slot& slot = slots_.at(d.name);
    out.push_back({&d, slot.next_run, slot.running, slot.current_run, slot.last});
  }
  return out;
}

std::optional<DrillService::DrillState> DrillService::state(const std::string& drill) const {
  for (auto& s : states()) {
    if (s.config->name == drill) return s;
  }
  return std::nullopt;
}

std::vector<RunRecord> DrillService::runs(const std::string& drill, size_t limit) const {
  return load_runs(config_.exporter.artifact_dir / drill, limit);
}

}  // namespace backupdrill
