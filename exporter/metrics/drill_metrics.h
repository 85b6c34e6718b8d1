#pragma once
// The metrics contract (docs/design.md, Metrics) as a view of state: a
// prometheus::Collectable that renders the drills' state (DrillMetricsState,
// asked of its owner at every scrape) and a few facts about the exporter.
// There are no metric objects to keep in sync: a drill a reload removed is
// simply not in the next snapshot, so no series can go stale. Every series
// exists for every configured drill (0 before a first run), so "never ran"
// is visible and alerts never see gaps.
//
// Thread safety: Collect() and render() may run on any number of threads at
// once and concurrently with record_reload(); the state source must be
// thread-safe itself (DrillService's is: a copy under its lock, never held
// while a drill runs, so a scrape never waits for a drill).
#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "metrics/drill_state.h"
#include "model/run_record.h"
#include "util/time_format.h"

namespace backupdrill {

// The exporter's own series: backupdrill_exporter_build_info,
// backupdrill_plugin_info and backupdrill_exporter_start_time_seconds.
struct ExporterFacts {
  std::string version;
  std::string revision;
  std::vector<std::pair<std::string, std::string>> plugins;  // name, version
  SystemTime started = std::chrono::system_clock::now();
};

// The per-drill families of `drills` in exposition order, each series once;
// with `exporter`, the exporter's own families too. Families without a
// series are left out (as prometheus-cpp's registry does). Series are sorted
// by their labels, so the text is the same for the same state.
std::vector<prometheus::MetricFamily> drill_metric_families(
    const std::vector<DrillMetricsState>& drills, const ExporterFacts* exporter = nullptr,
    bool last_reload_ok = true, SystemTime last_reload = {});

class DrillMetrics : public prometheus::Collectable {
 public:
  using StateSource = std::function<std::vector<DrillMetricsState>()>;

  // The configuration counts as loaded at `facts.started`.
  DrillMetrics(StateSource drills, ExporterFacts facts);

  // backupdrill_config_last_reload_successful and its timestamp.
  void record_reload(bool success, SystemTime at = std::chrono::system_clock::now());

  std::vector<prometheus::MetricFamily> Collect() const override;
  // The Prometheus text exposition format (version 0.0.4).
  std::string render() const;

  static constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  StateSource drills_;
  ExporterFacts facts_;
  mutable std::mutex mutex_;  // guards the two reload fields and the cache
  bool last_reload_ok_ = true;
  SystemTime last_reload_;
  // The last exposition and the state it shows: a scrape of an unchanged
  // state (nearly every scrape: drills run rarely) costs a snapshot and a
  // comparison, not a rendering (issue 16: /metrics with 100 drills).
  struct Rendered {
    std::vector<DrillMetricsState> drills;
    bool last_reload_ok = true;
    SystemTime last_reload;
    std::string text;
  };
  mutable std::optional<Rendered> rendered_;
};

}  // namespace backupdrill
