// The exporter's pages for people (issue 15) without a server: the restore
// log excerpt, which run files may be served, and what the run page and the
// landing page say (escaped). The browser test (tests/e2e/browser_test.sh)
// shows them in Chromium against real drills.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "web/landing_page.h"
#include "web/restore_log_excerpt.h"
#include "web/run_files.h"
#include "web/run_page.h"

namespace backupdrill {
namespace {

const std::string kRun = "20261122T040000Z";

std::filesystem::path scratch(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("bd_web_pages_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

void write(const std::filesystem::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

RunRecord failed_run() {
  RunRecord r;
  r.drill = "main";
  r.run_id = kRun;
  r.failed_phase = "restore";
  r.error = "the restore failed on 2 archive entries <b>bold</b>\nsecond line of the error";
  r.started = SystemTime{} + std::chrono::hours(490000);
  r.finished = r.started + std::chrono::seconds(75);
  r.phases.push_back({"guard", r.started, r.started + std::chrono::seconds(1)});
  r.phases.push_back({"restore", r.started + std::chrono::seconds(1), r.finished});
  r.rto_target_seconds = 7200;
  r.rpo_target_seconds = 86400;
  r.restore_errors = 2;
  r.artifacts = {{"backup_" + kRun + ".dump", 1000, "abc"},
                 {"restore_" + kRun + ".log", 10, "def"},
                 {"validation_" + kRun + ".txt", 10, "123"}};
  r.notes = {"note with <script>alert(1)</script>"};
  CheckOutcome c;
  c.name = "counts";
  c.plugin = "table_counts";
  c.success = false;
  c.message = "profiles: 1999 != 2000 & <more>";
  c.rows = {{"public.profiles", 2000, 1999, std::nullopt, std::nullopt}};
  r.checks.push_back(c);
  return r;
}

// pg_restore 15's own words, with --verbose progress lines between entries.
const char* kRestoreLog =
    "pg_restore: creating TABLE \"public.t\"\n"
    "pg_restore: while PROCESSING TOC:\n"
    "pg_restore: from TOC entry 3622; 0 16460 TABLE DATA auth users postgres\n"
    "pg_restore: error: could not execute query: ERROR:  role \"anon\" does not exist\n"
    "Command was: GRANT SELECT ON TABLE auth.users TO anon;\n"
    "pg_restore: creating ACL \"public.x\"\n"
    "pg_restore: error: connection to server lost\n"
    "pg_restore: warning: errors ignored on restore: 2\n";

TEST(RestoreLogExcerpt, ErrorsWithTheirEntriesAndContinuationLines) {
  auto dir = scratch("log");
  write(dir / "r.log", kRestoreLog);
  auto ex = read_restore_log(dir / "r.log");
  ASSERT_TRUE(ex);
  ASSERT_EQ(ex->first_errors.size(), 2u);
  EXPECT_EQ(ex->errors_seen, 2u);
  EXPECT_EQ(ex->first_errors[0].entry, "TOC entry 3622; 0 16460 TABLE DATA auth users postgres");
  EXPECT_EQ(ex->first_errors[0].text,
            "error: could not execute query: ERROR:  role \"anon\" does not exist\n"
            "Command was: GRANT SELECT ON TABLE auth.users TO anon;");
  // A progress line ended the entry: the second error is outside it.
  EXPECT_EQ(ex->first_errors[1].entry, "");
  EXPECT_EQ(ex->first_errors[1].text, "error: connection to server lost");
  EXPECT_EQ(ex->lines, 8u);
  EXPECT_EQ(ex->tail.back(), "pg_restore: warning: errors ignored on restore: 2");
  std::filesystem::remove_all(dir);
}

TEST(RestoreLogExcerpt, FirstTwentyErrorsLastFiftyLinesLongLinesCut) {
  auto dir = scratch("many");
  std::string log;
  for (int i = 0; i < 30; ++i) {
    log += "pg_restore: from TOC entry " + std::to_string(i) + "; 0 1 TABLE t" + std::to_string(i) +
           "\n";
    log += "pg_restore: error: could not execute query: ERROR: e" + std::to_string(i) + "\n";
  }
  log += "pg_restore: " + std::string(100000, 'x') + "\n";
  write(dir / "r.log", log);
  auto ex = read_restore_log(dir / "r.log");
  ASSERT_TRUE(ex);
  EXPECT_EQ(ex->first_errors.size(), 20u);
  EXPECT_EQ(ex->errors_seen, 30u);
  EXPECT_EQ(ex->first_errors[19].entry, "TOC entry 19; 0 1 TABLE t19");
  EXPECT_EQ(ex->tail.size(), 50u);
  EXPECT_EQ(ex->lines, 61u);
  EXPECT_LT(ex->tail.back().size(), 2100u);
  EXPECT_TRUE(ex->tail.back().ends_with("\xe2\x80\xa6"));
  EXPECT_FALSE(read_restore_log(dir / "missing.log"));
  std::filesystem::remove_all(dir);
}

TEST(RunFiles, PlainNamesOnly) {
  EXPECT_TRUE(is_plain_file_name("restore_" + kRun + ".log"));
  for (const std::string& bad : std::vector<std::string>{
           "", ".", "..", "../x", "a/b", "/etc/passwd", ".hidden", "a..b", std::string("a\0b", 3),
           "a b", "a%2Fb", "a\\b", std::string(256, 'a')}) {
    EXPECT_FALSE(is_plain_file_name(bad)) << bad;
  }
}

TEST(RunFiles, TheSummaryListButNeverTheDump) {
  RunRecord r = failed_run();
  r.artifacts.push_back({"../../etc/passwd", 1, ""});  // a tampered summary
  auto files = servable_files(r);
  std::vector<std::string> expected{"restore_" + kRun + ".log", "validation_" + kRun + ".txt",
                                    "drill_summary_" + kRun + ".md",
                                    "drill_summary_" + kRun + ".json"};
  EXPECT_EQ(files, expected);
  r.in_progress = true;  // no Markdown summary while running
  EXPECT_EQ(servable_files(r).size(), 3u);
}

TEST(RunFiles, ReadsListedRegularFilesOnly) {
  auto dir = scratch("files");
  RunRecord r = failed_run();
  write(dir / ("restore_" + kRun + ".log"), "pg_restore: error: x\n");
  write(dir / ("backup_" + kRun + ".dump"), "PGDMP");
  write(dir / "secret.txt", "not listed");
  write(dir / "elsewhere.txt", "outside");
  std::filesystem::create_symlink(dir / "elsewhere.txt", dir / ("validation_" + kRun + ".txt"));
  std::filesystem::create_directory(dir / ("drill_summary_" + kRun + ".md"));
  write(dir / ("drill_summary_" + kRun + ".json"), std::string(200, '{'));

  auto ok = read_run_file(dir, r, "restore_" + kRun + ".log");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "pg_restore: error: x\n");
  EXPECT_EQ(read_run_file(dir, r, "backup_" + kRun + ".dump").status, 404);
  EXPECT_EQ(read_run_file(dir, r, "secret.txt").status, 404);
  EXPECT_EQ(read_run_file(dir, r, "../files/secret.txt").status, 404);
  EXPECT_EQ(read_run_file(dir, r, "validation_" + kRun + ".txt").status, 404);    // a link
  EXPECT_EQ(read_run_file(dir, r, "drill_summary_" + kRun + ".md").status, 404);  // a folder
  EXPECT_EQ(read_run_file(dir, r, "drill_summary_" + kRun + ".json", 100).status, 413);
  EXPECT_EQ(read_run_file(dir, r, "drill_summary_" + kRun + ".json").status, 200);
  std::filesystem::remove_all(dir);
}

TEST(RunPage, SaysWhyItFailedAndEscapesEverything) {
  auto dir = scratch("page");
  write(dir / "r.log", kRestoreLog);
  RunRecord r = failed_run();
  RunPageInput in;
  in.run = &r;
  in.files = servable_files(r);
  in.restore_log_name = "restore_" + kRun + ".log";
  in.restore_log = read_restore_log(dir / "r.log");
  in.now = r.finished;
  const std::string html = render_run_page(in);
  EXPECT_NE(html.find("Failed in phase <code>restore</code>"), std::string::npos);
  EXPECT_NE(html.find("&lt;b&gt;bold&lt;/b&gt;\nsecond line of the error"), std::string::npos);
  EXPECT_EQ(html.find("<b>bold"), std::string::npos);
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_NE(html.find("note with &lt;script&gt;"), std::string::npos);
  EXPECT_NE(html.find("profiles: 1999 != 2000 &amp; &lt;more&gt;"), std::string::npos);
  EXPECT_NE(html.find("<td>2000</td><td>1999</td><td class=\"bad\">differ</td>"),
            std::string::npos);
  EXPECT_NE(html.find("TOC entry 3622; 0 16460 TABLE DATA auth users postgres"), std::string::npos);
  EXPECT_NE(html.find("role &quot;anon&quot; does not exist\nCommand was: GRANT"),
            std::string::npos);
  EXPECT_NE(html.find("restore (failed)"), std::string::npos);
  EXPECT_NE(html.find("href=\"/drills/main/runs/" + kRun + "/files/restore_" + kRun + ".log\""),
            std::string::npos);
  EXPECT_EQ(html.find("/files/backup_" + kRun + ".dump"), std::string::npos);
  EXPECT_NE(html.find("not served over HTTP"), std::string::npos);
  std::filesystem::remove_all(dir);
}

DrillConfig drill_config(const std::string& name) {
  DrillConfig d;
  d.name = name;
  d.schedule = "0 4 * * *";
  return d;
}

TEST(LandingPage, LastResultsHistoryRunningAndGrafana) {
  DrillConfig failing = drill_config("main"), running = drill_config("busy");
  LandingPage page;
  page.now = SystemTime{} + std::chrono::hours(490001);
  page.grafana_url = "https://grafana.example/d/backupdrill?a=1&b=2";

  DrillView f;
  f.state.config = std::shared_ptr<const DrillConfig>(std::shared_ptr<void>(), &failing);
  f.state.last = failed_run();
  for (int i = 0; i < 20; ++i) {
    RunRecord h = failed_run();
    h.run_id = "2026112" + std::to_string(i % 10) + "T04000" + std::to_string(i / 10) + "Z";
    h.success = i % 2 == 0;
    f.history.push_back(h);
  }
  page.drills.push_back(f);

  DrillView b;
  b.state.config = std::shared_ptr<const DrillConfig>(std::shared_ptr<void>(), &running);
  b.state.running = true;
  b.state.current_run = "20261123T040000Z";
  RunRecord previous = failed_run();
  previous.drill = "busy";
  previous.success = true;
  b.state.last = previous;
  RunRecord current;
  current.drill = "busy";
  current.run_id = "20261123T040000Z";
  current.in_progress = true;
  current.current_phase = "backup";
  current.started = page.now - std::chrono::seconds(90);
  b.current = current;
  b.progress = BytesProgress{"backup", 3 * 1024 * 1024, std::nullopt};
  page.drills.push_back(b);

  // A drill in its restore phase: how much of the archive pg_restore has read.
  DrillConfig restoring = drill_config("restoring");
  DrillView rs;
  rs.state.config = std::shared_ptr<const DrillConfig>(std::shared_ptr<void>(), &restoring);
  rs.state.running = true;
  rs.state.current_run = "20261123T050000Z";
  RunRecord restore = current;
  restore.drill = "restoring";
  restore.run_id = "20261123T050000Z";
  restore.current_phase = "restore";
  restore.backup_size = 3 * 1024 * 1024;
  rs.current = restore;
  rs.progress = BytesProgress{"restore", 1536 * 1024, 3 * 1024 * 1024};
  page.drills.push_back(rs);

  const std::string html = render_landing_page(page);
  // The failed run: its phase, the first line of its error, a link to its page.
  EXPECT_NE(html.find("<a class=\"bad\" href=\"/drills/main/runs/" + kRun +
                      "\">FAILED in restore</a>: the restore failed on 2 archive entries "
                      "&lt;b&gt;bold&lt;/b&gt;</td>"),
            std::string::npos)
      << html;
  EXPECT_EQ(html.find("second line of the error"), std::string::npos);
  // 20 marks, each a link with its duration.
  size_t marks = 0;
  for (size_t at = 0; (at = html.find("class=\"mark ", at)) != std::string::npos; ++at) ++marks;
  EXPECT_EQ(marks, 20u);
  EXPECT_NE(html.find("href=\"/drills/main/runs/20261120T040000Z\" title=\"20261120T040000Z: "
                      "passed, 1m15s\">\xe2\x9c\x93 1m15s</a>"),
            std::string::npos);
  // Running: phase, elapsed time, bytes so far, and the previous result.
  EXPECT_NE(html.find("running: <a class=\"run\" href=\"/drills/busy/runs/20261123T040000Z\">"
                      "backup</a>, for 1m30s, 3.0 MiB written</div><div class=\"muted\">"
                      "previous: </div><a class=\"ok\""),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("running: <a class=\"run\" href=\"/drills/restoring/runs/20261123T050000Z\">"
                      "restore</a>, for 1m30s, restored 1.5 MiB of 3.0 MiB</div></td>"),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("<a href=\"https://grafana.example/d/backupdrill?a=1&amp;b=2\">Grafana "
                      "dashboard</a>"),
            std::string::npos);
  EXPECT_NE(html.find("table-layout:fixed"), std::string::npos);
  EXPECT_NE(html.find("overflow-wrap:anywhere"), std::string::npos);

  page.grafana_url = "javascript:alert(1)";  // only web addresses become links
  EXPECT_EQ(render_landing_page(page).find("Grafana"), std::string::npos);
  page.grafana_url = "";
  EXPECT_EQ(render_landing_page(page).find("Grafana"), std::string::npos);
}

}  // namespace
}  // namespace backupdrill
