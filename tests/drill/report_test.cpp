#include "drill/report.h"

#include <gtest/gtest.h>

#include <fstream>

#include "drill/restore.h"
#include "model/run_record.h"
#include "model/run_record_json.h"

namespace backupdrill {
namespace {

RunRecord sample() {
  RunRecord r;
  r.drill = "main";
  r.run_id = "20261122T040000Z";
  r.success = false;
  r.failed_phase = "checks";
  r.error = "1 check failed";
  r.started = SystemTime{} + std::chrono::hours(490000);
  r.finished = r.started + std::chrono::seconds(75);
  r.phases.push_back({"backup", r.started, r.started + std::chrono::seconds(10)});
  r.snapshot_time = r.started + std::chrono::seconds(1);
  r.rto_seconds = 50;
  r.rto_target_seconds = 7200;
  CheckOutcome c;
  c.name = "critical_tables";
  c.plugin = "table_counts";
  c.success = true;
  c.lines = {{"profiles", "2000"}, {"tasks", "5000"}};
  c.rows = {{"profiles", 2000, 2000, std::nullopt, std::nullopt}};
  r.checks.push_back(c);
  CheckOutcome s;
  s.name = "invalid_progress";
  s.plugin = "sql_assert";
  s.lines = {{"invalid_progress", "1"}};
  s.message = "value 1 but expected 0";
  r.checks.push_back(s);
  CheckOutcome api;
  api.name = "api";
  api.smoke = {"PASS GET http://x -> 200"};
  api.success = true;
  r.checks.push_back(api);
  return r;
}

TEST(Report, ValidationAndSmokeLines) {
  auto r = sample();
  EXPECT_EQ(render_validation(r), "profiles|2000\ntasks|5000\ninvalid_progress|1\n");
  EXPECT_EQ(render_smoke(r), "PASS GET http://x -> 200\n");
}

TEST(Report, MarkdownNamesTheFailureAndTheObjectives) {
  auto md = render_summary_markdown(sample());
  EXPECT_NE(md.find("FAILED"), std::string::npos);
  EXPECT_NE(md.find("Failed in phase `checks`"), std::string::npos);
  EXPECT_NE(md.find("| invalid_progress | sql_assert | FAIL |"), std::string::npos) << md;
  EXPECT_NE(md.find("RTO (restore start to checks passed) | 50.00s | 2h00m | FAIL"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| critical_tables | profiles | 2000 | 2000 |"), std::string::npos);
}

TEST(RunRecord, JsonRoundTrip) {
  auto r = sample();
  auto back = run_record_from_json(nlohmann::json::parse(to_json(r).dump()));
  EXPECT_EQ(back.drill, r.drill);
  EXPECT_EQ(back.run_id, r.run_id);
  EXPECT_EQ(back.success, r.success);
  EXPECT_EQ(back.failed_phase, "checks");
  EXPECT_EQ(back.started, r.started);
  EXPECT_EQ(back.finished, r.finished);
  ASSERT_EQ(back.checks.size(), 3u);
  EXPECT_EQ(back.checks[1].lines[0].value, "1");
  EXPECT_EQ(back.checks[0].rows[0].source, 2000);
  EXPECT_EQ(back.phase_seconds("backup"), 10.0);
  EXPECT_EQ(back.phase_seconds("total"), 75.0);
}

// A run that failed before the restore (or before a backup existed) never
// shows a figure it did not measure: null in the JSON, "not measured" for
// people, and it stays absent through a reload.
TEST(RunRecord, UnmeasuredObjectivesAreNullNeverZero) {
  RunRecord r = sample();
  r.failed_phase = "guard";
  r.rto_seconds.reset();
  r.rpo_seconds.reset();
  r.snapshot_time.reset();
  auto j = to_json(r);
  EXPECT_TRUE(j["rto"]["seconds"].is_null()) << j["rto"];
  EXPECT_TRUE(j["rpo"]["seconds"].is_null()) << j["rpo"];
  auto md = render_summary_markdown(r);
  EXPECT_NE(md.find("RTO (restore start to checks passed) | not measured | 2h00m | - |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("RPO (run end minus backup snapshot) | not measured |"), std::string::npos)
      << md;
  auto back = run_record_from_json(nlohmann::json::parse(summary_json_text(r)));
  EXPECT_FALSE(back.rto_seconds.has_value());
  EXPECT_FALSE(back.rpo_seconds.has_value());
  r.rpo_seconds = 12.5;
  back = run_record_from_json(nlohmann::json::parse(summary_json_text(r)));
  EXPECT_EQ(back.rpo_seconds, 12.5);
}

TEST(RunRecord, InProgressRunRoundTrips) {
  RunRecord r = sample();
  r.in_progress = true;
  r.current_phase = "backup";
  r.exporter_pid = 4242;
  r.exporter_identity = "boot:123";
  auto j = to_json(r);
  EXPECT_EQ(j["result"], "running");
  auto back = run_record_from_json(nlohmann::json::parse(j.dump()));
  EXPECT_TRUE(back.in_progress);
  EXPECT_FALSE(back.success);
  EXPECT_EQ(back.current_phase, "backup");
  EXPECT_EQ(back.exporter_pid, 4242);
  EXPECT_EQ(back.exporter_identity, "boot:123");
}

// Server errors and plugin messages may carry bytes that are not UTF-8: the
// summary is still written (they are replaced), never an exception.
TEST(RunRecord, SummaryJsonToleratesInvalidUtf8) {
  RunRecord r = sample();
  r.error = std::string("bad bytes \xc0\xae\xff here");
  std::string text;
  ASSERT_NO_THROW(text = summary_json_text(r));
  auto back = run_record_from_json(nlohmann::json::parse(text));
  EXPECT_NE(back.error.find("bad bytes"), std::string::npos);
}

TEST(RestoreLog, CountsErrorLinesAndTheSummary) {
  auto path = std::filesystem::temp_directory_path() / "bd_restore_log_test.log";
  {
    std::ofstream out(path);
    out << "pg_restore: creating TABLE \"public.t\"\n"
           "pg_restore: error: could not execute query: ERROR:  role \"anon\" does not exist\n"
           "pg_restore: error: could not execute query: ERROR:  x\n"
           "pg_restore: warning: errors ignored on restore: 2\n";
  }
  EXPECT_EQ(count_restore_errors(path), 2);
  {
    std::ofstream out(path);
    out << "pg_restore: processing data for table \"public.profiles\"\n";
  }
  EXPECT_EQ(count_restore_errors(path), 0);
  {
    // Two workers' failures, the second's entry line swallowed into the
    // first's "Command was:" SQL by the untangling: both entries count, once.
    std::ofstream out(path);
    out << "pg_restore: from TOC entry 4021; 2606 16600 CONSTRAINT public t t_pkey app\n"
           "pg_restore: error: could not execute query: ERROR:  x\n"
           "Command was: ALTER TABLE ONLY public.t ADD CONSTRAINT t_pkey PRIMARY KEY (id); "
           "from TOC entry 4033; 1259 16610 INDEX public u_idx app\n"
           "pg_restore: from TOC entry 4021; 2606 16600 CONSTRAINT public t t_pkey app\n"
           "pg_restore: error: could not execute query: ERROR:  x again\n";
  }
  EXPECT_EQ(count_restore_errors(path), 2);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace backupdrill
