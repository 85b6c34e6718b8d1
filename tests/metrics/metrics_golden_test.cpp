// /metrics as a view of state, without PostgreSQL: canned run records are
// rendered and compared with a committed golden file, so any change to a
// name, HELP text, type, label or value shows up as a diff.
//
// To accept an intended change: BACKUPDRILL_UPDATE_GOLDEN=1 ./metrics_golden_test
// rewrites the file; review and commit the diff.
#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "canned_runs.h"
#include "metrics/drill_metrics.h"

namespace backupdrill::testing {
namespace {

// The state the canned runs leave in serve mode: nightly's last success was
// reloaded from its summary, then this process ran it (failed in restore),
// refused a second trigger while it runs again; weekly crashed once, then
// passed, was skipped twice for another replica's lock and now waits in the
// queue; fresh never ran.
std::vector<DrillMetricsState> canned_state() {
  const Config config = canned_config();
  std::vector<DrillMetricsState> drills;
  for (const auto& d : config.drills) drills.push_back(DrillMetricsState::configured(d));
  DrillMetricsState& nightly = drills[0];
  nightly.history.record_run(nightly_success(), /*restored=*/true);
  nightly.history.record_run(nightly_failure());
  nightly.history.record_skip(kSkipBusy);
  nightly.running = true;
  nightly.schedule_interval_seconds = 86400;
  nightly.next_run = canned_at(2 * 86400);
  DrillMetricsState& weekly = drills[1];
  weekly.history.record_run(weekly_crash());
  weekly.history.record_run(weekly_success());
  weekly.history.record_skip(kSkipLocked);
  weekly.history.record_skip(kSkipLocked);
  weekly.queued = true;
  weekly.schedule_interval_seconds = 604800;
  weekly.next_run = canned_at(5 * 86400);
  return drills;
}

ExporterFacts canned_facts() {
  return {"0.1.0", "9ef482eb5e3c", canned_plugins(), canned_at(-3600)};
}

std::string golden_path() { return std::string(METRICS_GOLDEN_DIR) + "/metrics.prom"; }

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(MetricsGolden, CannedStateRendersTheCommittedExposition) {
  DrillMetrics metrics([] { return canned_state(); }, canned_facts());
  const std::string text = metrics.render();
  if (std::getenv("BACKUPDRILL_UPDATE_GOLDEN")) {
    std::ofstream(golden_path(), std::ios::binary) << text;
    GTEST_SKIP() << "rewrote " << golden_path();
  }
  const std::string golden = read_file(golden_path());
  ASSERT_FALSE(golden.empty()) << "missing golden file " << golden_path();
  EXPECT_EQ(text, golden) << "the /metrics text changed; if that is intended, rerun with "
                             "BACKUPDRILL_UPDATE_GOLDEN=1 and commit "
                          << golden_path();
}

TEST(MetricsGolden, RenderingIsTheSameForTheSameState) {
  DrillMetrics metrics([] { return canned_state(); }, canned_facts());
  EXPECT_EQ(metrics.render(), metrics.render());
}

// The view follows its source: a drill a reload removed has no series left,
// one it added has all of them at 0, with nothing to add or remove by hand.
TEST(MetricsView, ADrillGoneFromTheStateLeavesNoSeries) {
  std::vector<DrillMetricsState> state = canned_state();
  DrillMetrics metrics([&state] { return state; }, canned_facts());
  ASSERT_NE(metrics.render().find("drill=\"weekly\""), std::string::npos);
  state.erase(state.begin() + 1);
  const std::string after = metrics.render();
  EXPECT_EQ(after.find("drill=\"weekly\""), std::string::npos) << after;
  EXPECT_NE(after.find("backupdrill_runs_total{drill=\"nightly\"} 1"), std::string::npos);

  DrillConfig added;
  added.name = "added";
  state.push_back(DrillMetricsState::configured(added));
  const std::string again = metrics.render();
  EXPECT_NE(again.find("backupdrill_last_run_timestamp_seconds{drill=\"added\"} 0"),
            std::string::npos);
  EXPECT_NE(again.find("backupdrill_failures_total{drill=\"added\",phase=\"guard\"} 0"),
            std::string::npos);
}

// The configured checks decide which check_success series exist: a check a
// reload removed disappears even though the last run reported it.
TEST(MetricsView, CheckSeriesFollowTheConfiguredChecks) {
  std::vector<DrillMetricsState> state = canned_state();
  DrillMetrics metrics([&state] { return state; }, canned_facts());
  const std::string api = "backupdrill_check_success{check=\"api\",drill=\"nightly\"}";
  ASSERT_NE(metrics.render().find(api), std::string::npos);
  state[0].checks = {"row_counts"};
  EXPECT_EQ(metrics.render().find(api), std::string::npos);
}

TEST(MetricsView, AFailedReloadShowsZeroAndKeepsTheLastGoodTime) {
  DrillMetrics metrics([] { return canned_state(); }, canned_facts());
  metrics.record_reload(true, canned_at(100));
  metrics.record_reload(false, canned_at(200));
  const std::string text = metrics.render();
  EXPECT_NE(text.find("backupdrill_config_last_reload_successful 0\n"), std::string::npos);
  EXPECT_NE(text.find("backupdrill_config_last_reload_success_timestamp_seconds 1795078500\n"),
            std::string::npos)
      << text;
}

// A scrape of an unchanged state is served from the last rendering (issue
// 16): every change, however small, must still show in the very next scrape.
TEST(MetricsView, EveryChangeOfStateShowsInTheNextScrape) {
  std::vector<DrillMetricsState> state = canned_state();
  DrillMetrics metrics([&state] { return state; }, canned_facts());
  const std::string first = metrics.render();
  EXPECT_EQ(metrics.render(), first);
  ASSERT_NE(first.find("backupdrill_running{drill=\"nightly\"} 1\n"), std::string::npos);

  state[0].running = false;
  EXPECT_NE(metrics.render().find("backupdrill_running{drill=\"nightly\"} 0\n"), std::string::npos);
  state[1].queued = false;
  EXPECT_NE(metrics.render().find("backupdrill_queued{drill=\"weekly\"} 0\n"), std::string::npos);
  state[0].history.record_run(nightly_success());
  EXPECT_NE(metrics.render().find("backupdrill_runs_total{drill=\"nightly\"} 2\n"),
            std::string::npos);
  const std::string before = metrics.render();
  state[0].history.last->checks.at(0).seconds += 1;  // deep inside the last run
  EXPECT_NE(metrics.render(), before);
  metrics.record_reload(false, canned_at(300));
  EXPECT_NE(metrics.render().find("backupdrill_config_last_reload_successful 0\n"),
            std::string::npos);
}

// What --once pushes for one drill: only that drill's families, none of the
// exporter's own (they would collide across the drills' push groups).
TEST(MetricsView, PerDrillFamiliesAloneCarryOnlyThatDrill) {
  auto families = drill_metric_families({canned_state()[1]});
  const std::string text = prometheus::TextSerializer().Serialize(families);
  EXPECT_EQ(text.find("build_info"), std::string::npos);
  EXPECT_EQ(text.find("start_time"), std::string::npos);
  EXPECT_EQ(text.find("nightly"), std::string::npos);
  EXPECT_NE(text.find("backupdrill_last_run_success{drill=\"weekly\"} 1"), std::string::npos);
}

TEST(DrillHistory, ARestoredRunSetsTheLastResultButNoCounter) {
  DrillHistory h;
  h.record_run(nightly_failure(), /*restored=*/true);
  EXPECT_EQ(h.runs, 0u);
  EXPECT_TRUE(h.failures.empty());
  ASSERT_TRUE(h.last);
  EXPECT_FALSE(h.last_success);
}

TEST(DrillHistory, ACrashCountsAsARunButAsNoPhasesFailure) {
  DrillHistory h;
  h.record_run(weekly_crash());
  EXPECT_EQ(h.runs, 1u);
  EXPECT_TRUE(h.failures.empty());
  h.record_run(nightly_failure());
  EXPECT_EQ(h.runs, 2u);
  EXPECT_EQ(h.failures.at(kPhaseRestore), 1u);
}

TEST(DrillHistory, AFailureKeepsTheLastSuccessTime) {
  DrillHistory h;
  h.record_run(nightly_success());
  h.record_run(nightly_failure());
  ASSERT_TRUE(h.last_success);
  EXPECT_EQ(*h.last_success, nightly_success().finished);
  EXPECT_EQ(h.last->run_id, nightly_failure().run_id);
}

}  // namespace
}  // namespace backupdrill::testing
