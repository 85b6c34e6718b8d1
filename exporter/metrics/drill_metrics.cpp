#include "metrics/drill_metrics.h"

#include <prometheus/text_serializer.h>

#include <chrono>
#include <limits>
#include <set>

#include "util/build_info.h"

namespace backupdrill {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;

const std::vector<std::string>& duration_phases() {
  static const std::vector<std::string> p{kPhaseBackup, kPhaseVerify, kPhaseRestore, kPhaseChecks,
                                          kPhaseTotal};
  return p;
}

}  // namespace

const std::vector<std::string>& failure_phases() {
  static const std::vector<std::string> p{kPhaseGuard,   kPhaseBackup, kPhaseVerify,
                                          kPhaseRestore, kPhaseChecks, kPhaseReport};
  return p;
}

DrillMetrics::DrillMetrics(const Config& config,
                           const std::vector<std::pair<std::string, std::string>>& plugins)
    : registry_(std::make_shared<prometheus::Registry>()),
      last_run_(BuildGauge()
                    .Name("backupdrill_last_run_timestamp_seconds")
                    .Help("Unix time the last finished run of the drill ended (0: never ran).")
                    .Register(*registry_)),
      last_success_(BuildGauge()
                        .Name("backupdrill_last_success_timestamp_seconds")
                        .Help("Unix time the last successful run of the drill ended (0: never).")
                        .Register(*registry_)),
      last_run_success_(BuildGauge()
                            .Name("backupdrill_last_run_success")
                            .Help("1 if the last finished run of the drill passed, else 0.")
                            .Register(*registry_)),
      running_(BuildGauge()
                   .Name("backupdrill_running")
                   .Help("1 while a run of the drill is in progress.")
                   .Register(*registry_)),
      queued_(BuildGauge()
                  .Name("backupdrill_queued")
                  .Help("1 while a run of the drill waits for a free slot "
                        "([exporter] max_concurrent_drills).")
                  .Register(*registry_)),
      runs_(BuildCounter()
                .Name("backupdrill_runs_total")
                .Help("Finished runs of the drill since the exporter started.")
                .Register(*registry_)),
      failures_(BuildCounter()
                    .Name("backupdrill_failures_total")
                    .Help("Failed runs of the drill, by the phase that failed.")
                    .Register(*registry_)),
      skipped_(BuildCounter()
                   .Name("backupdrill_skipped_runs_total")
                   .Help("Runs not started: the drill or its target was busy, or another "
                         "replica holds the target's lock.")
                   .Register(*registry_)),
      phase_seconds_(BuildGauge()
                         .Name("backupdrill_phase_duration_seconds")
                         .Help("Duration of each phase of the last finished run.")
                         .Register(*registry_)),
      rto_(BuildGauge()
               .Name("backupdrill_rto_seconds")
               .Help("Last run: restore start until the checks passed.")
               .Register(*registry_)),
      rto_target_(BuildGauge()
                      .Name("backupdrill_rto_target_seconds")
                      .Help("The drill's recovery time objective.")
                      .Register(*registry_)),
      rto_ok_(BuildGauge()
                  .Name("backupdrill_rto_compliant")
                  .Help("1 if the last run restored and validated within the RTO target.")
                  .Register(*registry_)),
      rpo_(BuildGauge()
               .Name("backupdrill_rpo_seconds")
               .Help("Last run: run end minus the backup's snapshot time.")
               .Register(*registry_)),
      rpo_target_(BuildGauge()
                      .Name("backupdrill_rpo_target_seconds")
                      .Help("The drill's recovery point objective.")
                      .Register(*registry_)),
      rpo_ok_(BuildGauge()
                  .Name("backupdrill_rpo_compliant")
                  .Help("1 if the last run's data loss window was within the RPO target.")
                  .Register(*registry_)),
      backup_size_(BuildGauge()
                       .Name("backupdrill_backup_size_bytes")
                       .Help("Size of the last run's backup.")
                       .Register(*registry_)),
      restore_errors_(BuildGauge()
                          .Name("backupdrill_restore_errors")
                          .Help("Errors pg_restore reported in the last run.")
                          .Register(*registry_)),
      check_success_(BuildGauge()
                         .Name("backupdrill_check_success")
                         .Help("1 if the check passed (or was skipped) in the last run.")
                         .Register(*registry_)),
      check_seconds_(BuildGauge()
                         .Name("backupdrill_check_duration_seconds")
                         .Help("How long the check took in the last run.")
                         .Register(*registry_)),
      check_rows_(BuildGauge()
                      .Name("backupdrill_check_rows")
                      .Help("table_counts: rows of a table on the source (at the backup's "
                            "snapshot) and on the restored target.")
                      .Register(*registry_)),
      build_info_(BuildGauge()
                      .Name("backupdrill_exporter_build_info")
                      .Help("Version and revision of the exporter; always 1.")
                      .Register(*registry_)),
      plugin_info_(BuildGauge()
                       .Name("backupdrill_plugin_info")
                       .Help("Check plugins loaded, with their versions; always 1.")
                       .Register(*registry_)),
      interval_(BuildGauge()
                    .Name("backupdrill_schedule_interval_seconds")
                    .Help("Longest gap between two scheduled runs of the drill (0: no schedule).")
                    .Register(*registry_)),
      next_run_(BuildGauge()
                    .Name("backupdrill_next_run_timestamp_seconds")
                    .Help("Unix time of the drill's next scheduled run (0: none).")
                    .Register(*registry_)),
      start_time_(BuildGauge()
                      .Name("backupdrill_exporter_start_time_seconds")
                      .Help("Unix time the exporter started.")
                      .Register(*registry_)),
      config_reload_ok_(BuildGauge()
                            .Name("backupdrill_config_last_reload_successful")
                            .Help("1 if the last configuration reload (SIGHUP) succeeded; 0 "
                                  "while the exporter runs an older configuration.")
                            .Register(*registry_)),
      config_reload_time_(BuildGauge()
                              .Name("backupdrill_config_last_reload_success_timestamp_seconds")
                              .Help("Unix time the running configuration was loaded.")
                              .Register(*registry_)) {
  build_info_.Add({{"version", kVersion}, {"revision", kRevision}}).Set(1);
  for (const auto& [name, version] : plugins) {
    plugin_info_.Add({{"plugin", name}, {"version", version}}).Set(1);
  }
  start_time_.Add({}).Set(unix_seconds(std::chrono::system_clock::now()));
  config_reload_ok_.Add({}).Set(1);
  config_reload_time_.Add({}).Set(unix_seconds(std::chrono::system_clock::now()));
  for (const auto& d : config.drills) add_drill(d);
}

void DrillMetrics::add_drill(const DrillConfig& d) {
  PerDrill& p = drills_[d.name];
  prometheus::Labels l{{"drill", d.name}};
  p.last_run = &last_run_.Add(l);
  p.last_success = &last_success_.Add(l);
  p.last_run_success = &last_run_success_.Add(l);
  p.running = &running_.Add(l);
  p.queued = &queued_.Add(l);
  p.runs = &runs_.Add(l);
  for (const auto& phase : failure_phases()) {
    p.failures[phase] = &failures_.Add({{"drill", d.name}, {"phase", phase}});
  }
  p.skipped.push_back(&skipped_.Add({{"drill", d.name}, {"reason", "busy"}}));
  p.skipped.push_back(&skipped_.Add({{"drill", d.name}, {"reason", "locked"}}));
  p.skipped.push_back(&skipped_.Add({{"drill", d.name}, {"reason", "queue"}}));
  for (const auto& phase : duration_phases()) {
    p.phase_seconds[phase] = &phase_seconds_.Add({{"drill", d.name}, {"phase", phase}});
  }
  p.rto = &rto_.Add(l);
  p.rto_target = &rto_target_.Add(l);
  p.rto_ok = &rto_ok_.Add(l);
  p.rpo = &rpo_.Add(l);
  p.rpo_target = &rpo_target_.Add(l);
  p.rpo_ok = &rpo_ok_.Add(l);
  p.backup_size = &backup_size_.Add(l);
  p.restore_errors = &restore_errors_.Add(l);
  p.interval = &interval_.Add(l);
  p.next_run = &next_run_.Add(l);
  update_drill(p, d);
}

// What a reload may change in an existing drill: its targets and its checks.
void DrillMetrics::update_drill(PerDrill& p, const DrillConfig& d) {
  p.rto_target->Set(std::chrono::duration<double>(d.rto_target).count());
  p.rpo_target->Set(std::chrono::duration<double>(d.rpo_target).count());
  std::set<std::string> wanted;
  for (const auto& c : d.checks) {
    wanted.insert(c.name);
    if (p.check_success.count(c.name)) continue;
    prometheus::Labels cl{{"drill", d.name}, {"check", c.name}};
    p.check_success[c.name] = &check_success_.Add(cl);
    p.check_seconds[c.name] = &check_seconds_.Add(cl);
  }
  for (auto it = p.check_success.begin(); it != p.check_success.end();) {
    if (wanted.count(it->first)) {
      ++it;
      continue;
    }
    check_success_.Remove(it->second);
    check_seconds_.Remove(p.check_seconds.at(it->first));
    p.check_seconds.erase(it->first);
    it = p.check_success.erase(it);
  }
}

void DrillMetrics::remove_drill(const std::string& name) {
  auto it = drills_.find(name);
  if (it == drills_.end()) return;
  PerDrill& p = it->second;
  last_run_.Remove(p.last_run);
  last_success_.Remove(p.last_success);
  last_run_success_.Remove(p.last_run_success);
  running_.Remove(p.running);
  queued_.Remove(p.queued);
  runs_.Remove(p.runs);
  for (auto& [phase, c] : p.failures) failures_.Remove(c);
  for (auto* c : p.skipped) skipped_.Remove(c);
  for (auto& [phase, g] : p.phase_seconds) phase_seconds_.Remove(g);
  rto_.Remove(p.rto);
  rto_target_.Remove(p.rto_target);
  rto_ok_.Remove(p.rto_ok);
  rpo_.Remove(p.rpo);
  rpo_target_.Remove(p.rpo_target);
  rpo_ok_.Remove(p.rpo_ok);
  backup_size_.Remove(p.backup_size);
  restore_errors_.Remove(p.restore_errors);
  interval_.Remove(p.interval);
  next_run_.Remove(p.next_run);
  for (auto& [check, g] : p.check_success) check_success_.Remove(g);
  for (auto& [check, g] : p.check_seconds) check_seconds_.Remove(g);
  for (auto* g : p.check_rows) check_rows_.Remove(g);
  drills_.erase(it);
}

void DrillMetrics::apply_config(const Config& config) {
  std::lock_guard lock(mutex_);
  std::set<std::string> wanted;
  for (const auto& d : config.drills) {
    wanted.insert(d.name);
    if (auto it = drills_.find(d.name); it != drills_.end()) {
      update_drill(it->second, d);
    } else {
      add_drill(d);
    }
  }
  std::vector<std::string> gone;
  for (const auto& [name, p] : drills_) {
    if (!wanted.count(name)) gone.push_back(name);
  }
  for (const auto& name : gone) remove_drill(name);
}

void DrillMetrics::record_reload(bool success) {
  config_reload_ok_.Add({}).Set(success ? 1 : 0);
  if (success) config_reload_time_.Add({}).Set(unix_seconds(std::chrono::system_clock::now()));
}

bool DrillMetrics::has_drill(const std::string& name) const {
  std::lock_guard lock(mutex_);
  return drills_.count(name) > 0;
}

DrillMetrics::PerDrill& DrillMetrics::drill(const std::string& name) {
  auto it = drills_.find(name);
  if (it == drills_.end()) throw std::out_of_range("no metrics for drill " + name);
  return it->second;
}

void DrillMetrics::set_running(const std::string& name, bool running) {
  std::lock_guard lock(mutex_);
  drill(name).running->Set(running ? 1 : 0);
}

void DrillMetrics::set_queued(const std::string& name, bool queued) {
  std::lock_guard lock(mutex_);
  drill(name).queued->Set(queued ? 1 : 0);
}

void DrillMetrics::record_skip(const std::string& name, const std::string& reason) {
  skipped_.Add({{"drill", name}, {"reason", reason}}).Increment();
}

void DrillMetrics::set_schedule(const std::string& name, const DrillSchedule& schedule) {
  std::lock_guard lock(mutex_);
  PerDrill& p = drill(name);
  p.interval->Set(schedule.interval_seconds);
  p.next_run->Set(schedule.next_run ? unix_seconds(*schedule.next_run) : 0);
}

void DrillMetrics::record_run(const RunRecord& r, bool restored) {
  std::lock_guard lock(mutex_);
  PerDrill& p = drill(r.drill);
  // Millisecond precision, as the summary JSON stores it: a restart reloads
  // exactly the value scraped before it.
  const double end = unix_seconds(std::chrono::floor<std::chrono::milliseconds>(r.finished));
  p.last_run->Set(end);
  if (r.success) p.last_success->Set(end);
  p.last_run_success->Set(r.success ? 1 : 0);
  if (!restored) {
    p.runs->Increment();
    if (!r.success) {
      auto it = p.failures.find(r.failed_phase);
      if (it != p.failures.end()) it->second->Increment();
    }
  }
  for (const auto& [phase, gauge] : p.phase_seconds) gauge->Set(r.phase_seconds(phase));
  // What the run did not measure is NaN, never a figure it did not see.
  constexpr double kNotMeasured = std::numeric_limits<double>::quiet_NaN();
  p.rto->Set(r.rto_seconds.value_or(kNotMeasured));
  p.rto_ok->Set(r.rto_compliant ? 1 : 0);
  p.rpo->Set(r.rpo_seconds.value_or(kNotMeasured));
  p.rpo_ok->Set(r.rpo_compliant ? 1 : 0);
  p.backup_size->Set(static_cast<double>(r.backup_size));
  p.restore_errors->Set(r.restore_errors);
  for (auto& [name, gauge] : p.check_success) gauge->Set(0);
  for (auto& [name, gauge] : p.check_seconds) gauge->Set(0);
  for (auto* g : p.check_rows) check_rows_.Remove(g);
  p.check_rows.clear();
  for (const auto& c : r.checks) {
    if (auto it = p.check_success.find(c.name); it != p.check_success.end()) {
      it->second->Set(c.success ? 1 : 0);
    }
    if (auto it = p.check_seconds.find(c.name); it != p.check_seconds.end()) {
      it->second->Set(c.seconds);
    }
    for (const auto& row : c.rows) {
      for (const auto& [side, value] :
           {std::pair{"source", row.source}, std::pair{"target", row.target}}) {
        if (!value) continue;
        auto& g = check_rows_.Add(
            {{"drill", r.drill}, {"check", c.name}, {"table", row.table}, {"side", side}});
        g.Set(static_cast<double>(*value));
        p.check_rows.push_back(&g);
      }
    }
  }
}

std::string DrillMetrics::render() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace backupdrill
