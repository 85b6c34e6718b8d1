#include "metrics/drill_metrics.h"

#include <prometheus/labels.h>
#include <prometheus/text_serializer.h>

#include <array>
#include <chrono>
#include <limits>
#include <map>

namespace backupdrill {
namespace {

using prometheus::Labels;
using prometheus::MetricType;

// Every family, in the order the exposition has always had (prometheus-cpp's
// registry renders its counters first, then its gauges, each in the order
// they were registered).
enum Family : size_t {
  kRuns,
  kFailures,
  kSkipped,
  kLastRun,
  kLastSuccess,
  kLastRunSuccess,
  kRunning,
  kQueued,
  kPhaseSeconds,
  kRto,
  kRtoTarget,
  kRtoOk,
  kRpo,
  kRpoTarget,
  kRpoOk,
  kBackupSize,
  kRecoveryPoint,
  kRestoreErrors,
  kCheckSuccess,
  kCheckSeconds,
  kCheckRows,
  kBuildInfo,
  kPluginInfo,
  kInterval,
  kNextRun,
  kStartTime,
  kReloadOk,
  kReloadTime,
  kFamilyCount
};

struct FamilyInfo {
  const char* name;
  const char* help;
  MetricType type;
};

constexpr std::array<FamilyInfo, kFamilyCount> kFamilies{{
    {"backupdrill_runs_total", "Finished runs of the drill since the exporter started.",
     MetricType::Counter},
    {"backupdrill_failures_total", "Failed runs of the drill, by the phase that failed.",
     MetricType::Counter},
    {"backupdrill_skipped_runs_total",
     "Runs not started: the drill or its target was busy, or another replica holds the "
     "target's lock.",
     MetricType::Counter},
    {"backupdrill_last_run_timestamp_seconds",
     "Unix time the last finished run of the drill ended (0: never ran).", MetricType::Gauge},
    {"backupdrill_last_success_timestamp_seconds",
     "Unix time the last successful run of the drill ended (0: never).", MetricType::Gauge},
    {"backupdrill_last_run_success", "1 if the last finished run of the drill passed, else 0.",
     MetricType::Gauge},
    {"backupdrill_running", "1 while a run of the drill is in progress.", MetricType::Gauge},
    {"backupdrill_queued",
     "1 while a run of the drill waits for a free slot ([exporter] max_concurrent_drills).",
     MetricType::Gauge},
    {"backupdrill_phase_duration_seconds", "Duration of each phase of the last finished run.",
     MetricType::Gauge},
    {"backupdrill_rto_seconds", "Last run: restore start until the checks passed.",
     MetricType::Gauge},
    {"backupdrill_rto_target_seconds", "The drill's recovery time objective.", MetricType::Gauge},
    {"backupdrill_rto_compliant",
     "1 if the last run restored and validated within the RTO target (NaN: not measured).",
     MetricType::Gauge},
    {"backupdrill_rpo_seconds",
     "Last run: the age of the restored data (fresh dump: run end minus its snapshot; existing "
     "archive: drill start minus its creation time).",
     MetricType::Gauge},
    {"backupdrill_rpo_target_seconds", "The drill's recovery point objective.", MetricType::Gauge},
    {"backupdrill_rpo_compliant",
     "1 if the last run's data loss window was within the RPO target (NaN: not measured).",
     MetricType::Gauge},
    {"backupdrill_backup_size_bytes", "Size of the last run's backup.", MetricType::Gauge},
    {"backupdrill_recovery_point_timestamp_seconds",
     "Unix time the last run's restored data represents: a fresh dump's snapshot, an existing "
     "archive's creation time (0: never ran).",
     MetricType::Gauge},
    {"backupdrill_restore_errors", "Errors pg_restore reported in the last run.",
     MetricType::Gauge},
    {"backupdrill_check_success", "1 if the check passed (or was skipped) in the last run.",
     MetricType::Gauge},
    {"backupdrill_check_duration_seconds", "How long the check took in the last run.",
     MetricType::Gauge},
    {"backupdrill_check_rows",
     "table_counts: rows of a table on the source (at the backup's snapshot) and on the "
     "restored target.",
     MetricType::Gauge},
    {"backupdrill_exporter_build_info", "Version and revision of the exporter; always 1.",
     MetricType::Gauge},
    {"backupdrill_plugin_info", "Check plugins loaded, with their versions; always 1.",
     MetricType::Gauge},
    {"backupdrill_schedule_interval_seconds",
     "Longest gap between two scheduled runs of the drill (0: no schedule).", MetricType::Gauge},
    {"backupdrill_next_run_timestamp_seconds",
     "Unix time of the drill's next scheduled run (0: none).", MetricType::Gauge},
    {"backupdrill_exporter_start_time_seconds", "Unix time the exporter started.",
     MetricType::Gauge},
    {"backupdrill_config_last_reload_successful",
     "1 if the last configuration reload (SIGHUP) succeeded; 0 while the exporter runs an "
     "older configuration.",
     MetricType::Gauge},
    {"backupdrill_config_last_reload_success_timestamp_seconds",
     "Unix time the running configuration was loaded.", MetricType::Gauge},
}};

const std::vector<std::string>& duration_phases() {
  static const std::vector<std::string> p{kPhaseBackup,  kPhaseVerify, kPhaseRestore,
                                          kPhaseRecover, kPhaseChecks, kPhaseTotal};
  return p;
}

const std::vector<std::string>& skip_reasons() {
  static const std::vector<std::string> r{kSkipBusy, kSkipLocked, kSkipQueue};
  return r;
}

// Millisecond precision, as the summary JSON stores it: a restart reloads
// exactly the value scraped before it.
double end_seconds(SystemTime t) {
  return unix_seconds(std::chrono::floor<std::chrono::milliseconds>(t));
}

double flag(bool b) { return b ? 1 : 0; }

// The samples of every family, keyed by their labels (a later value for the
// same labels replaces the earlier one).
class Samples {
 public:
  void set(Family f, Labels labels, double value) { values_[f][std::move(labels)] = value; }

  std::vector<prometheus::MetricFamily> families() const {
    std::vector<prometheus::MetricFamily> out;
    for (size_t f = 0; f < kFamilyCount; ++f) {
      if (values_[f].empty()) continue;
      prometheus::MetricFamily family;
      family.name = kFamilies[f].name;
      family.help = kFamilies[f].help;
      family.type = kFamilies[f].type;
      for (const auto& [labels, value] : values_[f]) {
        prometheus::ClientMetric m;
        for (const auto& [name, text] : labels) m.label.push_back({name, text});
        if (family.type == MetricType::Counter) {
          m.counter.value = value;
        } else {
          m.gauge.value = value;
        }
        family.metric.push_back(std::move(m));
      }
      out.push_back(std::move(family));
    }
    return out;
  }

 private:
  std::array<std::map<Labels, double>, kFamilyCount> values_;
};

void add_drill(Samples& out, const DrillMetricsState& s) {
  const std::string& d = s.drill;
  const DrillHistory& h = s.history;
  const RunRecord* r = h.last ? &*h.last : nullptr;
  const Labels l{{"drill", d}};

  out.set(kRuns, l, static_cast<double>(h.runs));
  for (const auto& phase : failure_phases()) {
    auto it = h.failures.find(phase);
    out.set(kFailures, {{"drill", d}, {"phase", phase}},
            it == h.failures.end() ? 0 : static_cast<double>(it->second));
  }
  for (const auto& reason : skip_reasons())
    out.set(kSkipped, {{"drill", d}, {"reason", reason}}, 0);
  for (const auto& [reason, n] : h.skipped) {
    out.set(kSkipped, {{"drill", d}, {"reason", reason}}, static_cast<double>(n));
  }

  out.set(kLastRun, l, r ? end_seconds(r->finished) : 0);
  out.set(kLastSuccess, l, h.last_success ? end_seconds(*h.last_success) : 0);
  out.set(kLastRunSuccess, l, flag(r && r->success));
  out.set(kRunning, l, flag(s.running));
  out.set(kQueued, l, flag(s.queued));
  for (const auto& phase : duration_phases()) {
    out.set(kPhaseSeconds, {{"drill", d}, {"phase", phase}}, r ? r->phase_seconds(phase) : 0);
  }
  // What the last run did not measure is NaN, never a figure it did not see;
  // before a first run every figure is 0.
  constexpr double kNotMeasured = std::numeric_limits<double>::quiet_NaN();
  out.set(kRto, l, r ? r->rto_seconds.value_or(kNotMeasured) : 0);
  out.set(kRtoTarget, l, s.rto_target_seconds);
  // Compliance of a figure not measured is unknown (NaN): its alert stays
  // silent, and BackupDrillFailed alone pages for the failed run.
  auto compliance = [&](const std::optional<double>& measured, bool compliant) {
    return measured ? flag(compliant) : kNotMeasured;
  };
  out.set(kRtoOk, l, r ? compliance(r->rto_seconds, r->rto_compliant) : 0);
  out.set(kRpo, l, r ? r->rpo_seconds.value_or(kNotMeasured) : 0);
  out.set(kRpoTarget, l, s.rpo_target_seconds);
  out.set(kRpoOk, l, r ? compliance(r->rpo_seconds, r->rpo_compliant) : 0);
  out.set(kBackupSize, l, r ? static_cast<double>(r->backup_size) : 0);
  out.set(kRecoveryPoint, l, r && r->snapshot_time ? end_seconds(*r->snapshot_time) : 0);
  out.set(kRestoreErrors, l, r ? r->restore_errors : 0);

  // Configured checks: 0 until a run reports them.
  for (const auto& check : s.checks) {
    Labels cl{{"check", check}, {"drill", d}};
    out.set(kCheckSuccess, cl, 0);
    out.set(kCheckSeconds, cl, 0);
  }
  if (r) {
    for (const auto& c : r->checks) {
      Labels cl{{"check", c.name}, {"drill", d}};
      for (const auto& check : s.checks) {
        if (check != c.name) continue;
        out.set(kCheckSuccess, cl, flag(c.success));
        out.set(kCheckSeconds, cl, c.seconds);
      }
      // Row counts of every check of the last run, configured or not.
      for (const auto& row : c.rows) {
        for (const auto& [side, value] :
             {std::pair{"source", row.source}, std::pair{"target", row.target}}) {
          if (!value) continue;
          out.set(kCheckRows,
                  {{"check", c.name}, {"drill", d}, {"side", side}, {"table", row.table}},
                  static_cast<double>(*value));
        }
      }
    }
  }

  out.set(kInterval, l, s.schedule_interval_seconds);
  out.set(kNextRun, l, s.next_run ? unix_seconds(*s.next_run) : 0);
}

}  // namespace

std::vector<prometheus::MetricFamily> drill_metric_families(
    const std::vector<DrillMetricsState>& drills, const ExporterFacts* exporter,
    bool last_reload_ok, SystemTime last_reload) {
  Samples out;
  for (const auto& s : drills) add_drill(out, s);
  if (exporter) {
    out.set(kBuildInfo, {{"version", exporter->version}, {"revision", exporter->revision}}, 1);
    for (const auto& [name, version] : exporter->plugins) {
      out.set(kPluginInfo, {{"plugin", name}, {"version", version}}, 1);
    }
    out.set(kStartTime, {}, unix_seconds(exporter->started));
    out.set(kReloadOk, {}, flag(last_reload_ok));
    out.set(kReloadTime, {}, unix_seconds(last_reload));
  }
  return out.families();
}

DrillMetrics::DrillMetrics(StateSource drills, ExporterFacts facts)
    : drills_(std::move(drills)), facts_(std::move(facts)), last_reload_(facts_.started) {}

void DrillMetrics::record_reload(bool success, SystemTime at) {
  std::lock_guard lock(mutex_);
  last_reload_ok_ = success;
  if (success) last_reload_ = at;
}

std::vector<prometheus::MetricFamily> DrillMetrics::Collect() const {
  bool ok = false;
  SystemTime at;
  {
    std::lock_guard lock(mutex_);
    ok = last_reload_ok_;
    at = last_reload_;
  }
  return drill_metric_families(drills_(), &facts_, ok, at);
}

std::string DrillMetrics::render() const {
  std::vector<DrillMetricsState> drills = drills_();
  bool ok = false;
  SystemTime at;
  {
    std::lock_guard lock(mutex_);
    ok = last_reload_ok_;
    at = last_reload_;
    if (rendered_ && rendered_->last_reload_ok == ok && rendered_->last_reload == at &&
        rendered_->drills == drills) {
      return rendered_->text;
    }
  }
  std::string text =
      prometheus::TextSerializer().Serialize(drill_metric_families(drills, &facts_, ok, at));
  std::lock_guard lock(mutex_);
  rendered_ = Rendered{std::move(drills), ok, at, text};
  return text;
}

}  // namespace backupdrill
