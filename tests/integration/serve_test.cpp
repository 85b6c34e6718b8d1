// End-to-end serve mode: the real exporter process, real PostgreSQL, HTTP
// through curl, promtool on a live scrape.
#include <gtest/gtest.h>

#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "exporter_process.h"
#include "process/child_process.h"
#include "support.h"
#include "web/html_page.h"

namespace backupdrill::testing {
namespace {

const Cluster& A() { return cluster("a"); }
const std::string kToken = "test-admin-token-7c1f";

// A pg_dump that waits first, so a drill stays "running" long enough to
// observe (409, two replicas racing).
std::filesystem::path slow_tools(const std::filesystem::path& dir, int seconds) {
  return tool_wrappers(
      A(), dir, {{"pg_dump", "sleep " + std::to_string(seconds) + "\nexec \"$REAL\" \"$@\""}});
}

std::string drill_toml(const std::string& name, const std::string& source_db,
                       const std::string& target_db, const std::string& bin,
                       const std::string& check_query, const std::string& extra = "") {
  return "[[drill]]\nname = \"" + name + "\"\n" + extra + "source_url = \"" + A().url(source_db) +
         "\"\ntarget_url = \"" + A().url(target_db) + "\"\npg_bin_dir = \"" + bin +
         "\"\n[[drill.check]]\nplugin = \"sql_assert\"\nname = \"assert\"\nquery = \"" +
         check_query +
         "\"\nexpect = 0\n[[drill.check]]\nplugin = \"table_counts\"\n"
         "name = \"counts\"\ntables = [\"profiles\", \"auth.users\"]\ncompare_source = true\n";
}

// [exporter] with artifacts under dir and the admin token from ${TOKEN}.
std::string exporter_toml(const std::filesystem::path& dir) {
  return "[exporter]\nartifact_dir = \"" + (dir / "artifacts").string() +
         "\"\nadmin_token = \"${TOKEN}\"\n";
}

HttpAnswer post_run(const ServingExporter& e, const std::string& drill,
                    const std::optional<std::string>& token) {
  std::vector<std::string> args{"-X", "POST"};
  if (token) {
    args.push_back("-H");
    args.push_back("Authorization: Bearer " + *token);
  }
  return http_call(e.base_url() + "/api/v1/drills/" + drill + "/run", args);
}

void wait_idle(const ServingExporter& e, const std::string& drill) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (std::chrono::steady_clock::now() < deadline) {
    if (e.metric("backupdrill_running{drill=\"" + drill + "\"}") == 0.0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  FAIL() << "drill " << drill << " still running after 90 s";
}

TEST(ServeMode, TriggerScrapeFailRestart) {
  ScratchDb source(A(), "srv_src", true);
  auto dir = fresh_dir("serve");
  auto bin = slow_tools(dir, 2);
  auto config = dir / "serve.toml";
  write_file(config,
             exporter_toml(dir) +
                 drill_toml("svc", source.name(), "srv_tgt", bin.string(), "select 0") +
                 drill_toml("svc-fail", source.name(), "srv_tgt_fail", bin.string(), "select 1"));
  std::map<std::string, std::optional<std::string>> env{{"TOKEN", kToken}};
  std::optional<ServingExporter> exporter;
  exporter.emplace(config, std::vector<std::string>{}, env, dir / "exporter1.log");
  const auto& e = *exporter;

  EXPECT_EQ(http_call(e.base_url() + "/-/healthy").status, 200);
  EXPECT_EQ(http_call(e.base_url() + "/-/ready").status, 200);
  auto page = http_call(e.base_url() + "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("svc-fail"), std::string::npos);
  EXPECT_NE(page.body.find("never ran"), std::string::npos);

  // Every series exists from start-up, at 0.
  EXPECT_EQ(e.metric("backupdrill_last_success_timestamp_seconds{drill=\"svc\"}"), 0.0);
  EXPECT_EQ(e.metric("backupdrill_runs_total{drill=\"svc\"}"), 0.0);
  EXPECT_EQ(e.metric("backupdrill_failures_total{drill=\"svc\",phase=\"checks\"}"), 0.0);
  EXPECT_EQ(e.metric("backupdrill_check_success{check=\"assert\",drill=\"svc\"}"), 0.0);
  EXPECT_EQ(e.metric("backupdrill_rto_target_seconds{drill=\"svc\"}"), 7200.0);

  // No token, a wrong token: 401 and nothing starts.
  EXPECT_EQ(post_run(e, "svc", std::nullopt).status, 401);
  EXPECT_EQ(post_run(e, "svc", std::string("wrong-token")).status, 401);
  EXPECT_EQ(post_run(e, "svc", kToken + "x").status, 401);
  EXPECT_EQ(e.metric("backupdrill_running{drill=\"svc\"}"), 0.0);
  EXPECT_EQ(post_run(e, "nope", kToken).status, 404);
  EXPECT_EQ(http_call(e.base_url() + "/api/v1/drills/svc/run").status, 405);
  EXPECT_EQ(http_call(e.base_url() + "/no/such/path").status, 404);

  auto accepted = post_run(e, "svc", kToken);
  ASSERT_EQ(accepted.status, 202) << accepted.body;
  auto run_id = nlohmann::json::parse(accepted.body)["run_id"].get<std::string>();
  EXPECT_EQ(run_id.size(), 16u);
  auto busy = post_run(e, "svc", kToken);
  EXPECT_EQ(busy.status, 409) << busy.body;
  EXPECT_EQ(e.metric("backupdrill_running{drill=\"svc\"}"), 1.0);

  // /metrics answers while the drill runs.
  auto during = http_call(e.base_url() + "/metrics");
  EXPECT_EQ(during.status, 200);

  auto success = e.wait_metric("backupdrill_last_success_timestamp_seconds{drill=\"svc\"}", 1, 90);
  ASSERT_TRUE(success && *success > 0) << e.log();
  EXPECT_EQ(e.metric("backupdrill_last_run_success{drill=\"svc\"}"), 1.0);
  EXPECT_EQ(e.metric("backupdrill_runs_total{drill=\"svc\"}"), 1.0);
  EXPECT_EQ(e.metric("backupdrill_check_rows{check=\"counts\",drill=\"svc\",side=\"source\","
                     "table=\"profiles\"}"),
            2000.0);
  EXPECT_GT(*e.metric("backupdrill_backup_size_bytes{drill=\"svc\"}"), 100000.0);
  EXPECT_GT(*e.metric("backupdrill_phase_duration_seconds{drill=\"svc\",phase=\"backup\"}"), 1.9);

  // promtool check metrics on the live scrape.
  auto scrape = http_call(e.base_url() + "/metrics");
  write_file(dir / "scrape.txt", scrape.body);
  ChildSpec promtool;
  promtool.program = *find_in_path("promtool");
  promtool.args = {"check", "metrics"};
  promtool.in = ChildSpec::Stream::file;
  promtool.in_file = dir / "scrape.txt";
  auto lint = run_capture(promtool);
  EXPECT_TRUE(lint.status.ok()) << lint.out;
  EXPECT_EQ(lint.out, "") << lint.out;

  // The API knows the run and its artifacts.
  auto runs = nlohmann::json::parse(http_call(e.base_url() + "/api/v1/drills/svc/runs").body);
  ASSERT_EQ(runs["runs"].size(), 1u);
  EXPECT_EQ(runs["runs"][0]["run_id"], run_id);
  EXPECT_EQ(runs["runs"][0]["result"], "passed");
  auto artifacts = runs["runs"][0]["artifacts"].dump();
  EXPECT_NE(artifacts.find("backup_" + run_id + ".dump"), std::string::npos) << artifacts;
  auto drills = nlohmann::json::parse(http_call(e.base_url() + "/api/v1/drills").body);
  EXPECT_EQ(drills["drills"][0]["name"], "svc");
  EXPECT_EQ(drills["drills"][0]["last_run"]["result"], "passed");

  // A failing drill: counted by phase, the exporter goes on and the next
  // drill runs normally.
  ASSERT_EQ(post_run(e, "svc-fail", kToken).status, 202);
  auto failures =
      e.wait_metric("backupdrill_failures_total{drill=\"svc-fail\",phase=\"checks\"}", 1, 90);
  EXPECT_EQ(failures, 1.0) << e.log();
  wait_idle(e, "svc-fail");
  EXPECT_EQ(e.metric("backupdrill_last_run_success{drill=\"svc-fail\"}"), 0.0);
  EXPECT_EQ(e.metric("backupdrill_check_success{check=\"assert\",drill=\"svc-fail\"}"), 0.0);
  EXPECT_EQ(e.metric("backupdrill_failures_total{drill=\"svc-fail\",phase=\"restore\"}"), 0.0);
  ASSERT_EQ(post_run(e, "svc", kToken).status, 202);
  EXPECT_EQ(e.wait_metric("backupdrill_runs_total{drill=\"svc\"}", 2, 90), 2.0);
  wait_idle(e, "svc");
  EXPECT_EQ(e.metric("backupdrill_last_run_success{drill=\"svc\"}"), 1.0);
  const double last_success =
      *e.metric("backupdrill_last_success_timestamp_seconds{drill=\"svc\"}");
  const double fail_run = *e.metric("backupdrill_last_run_timestamp_seconds{drill=\"svc-fail\"}");

  // Killed like a crash, started again: the last-run gauges come back from
  // the artifacts.
  exporter->kill_hard();
  exporter.reset();
  ServingExporter again(config, {}, env, dir / "exporter2.log");
  EXPECT_DOUBLE_EQ(*again.metric("backupdrill_last_success_timestamp_seconds{drill=\"svc\"}"),
                   last_success);
  EXPECT_EQ(again.metric("backupdrill_last_run_success{drill=\"svc\"}"), 1.0);
  EXPECT_DOUBLE_EQ(*again.metric("backupdrill_last_run_timestamp_seconds{drill=\"svc-fail\"}"),
                   fail_run);
  EXPECT_EQ(again.metric("backupdrill_last_run_success{drill=\"svc-fail\"}"), 0.0);
  EXPECT_EQ(again.metric("backupdrill_runs_total{drill=\"svc\"}"), 0.0) << "a counter restarts";
  EXPECT_EQ(again.stop(), 0);
  drop_database(A(), "srv_tgt");
  drop_database(A(), "srv_tgt_fail");
}

TEST(ServeMode, TwoReplicasOneTargetRestoreOnce) {
  ScratchDb source(A(), "rep_src", true);
  auto dir = fresh_dir("replicas");
  auto bin = slow_tools(dir, 3);
  auto config = dir / "replicas.toml";
  write_file(config, exporter_toml(dir) +
                         drill_toml("ha", source.name(), "rep_tgt", bin.string(), "select 0"));
  std::map<std::string, std::optional<std::string>> env{{"TOKEN", kToken}};
  ServingExporter one(config, {}, env, dir / "one.log");
  ServingExporter two(config, {}, env, dir / "two.log");
  auto first = std::async(std::launch::async, [&] { return post_run(one, "ha", kToken); });
  auto second = std::async(std::launch::async, [&] { return post_run(two, "ha", kToken); });
  EXPECT_EQ(first.get().status, 202);
  EXPECT_EQ(second.get().status, 202);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  wait_idle(one, "ha");
  wait_idle(two, "ha");
  double runs = *one.metric("backupdrill_runs_total{drill=\"ha\"}") +
                *two.metric("backupdrill_runs_total{drill=\"ha\"}");
  double skipped = *one.metric("backupdrill_skipped_runs_total{drill=\"ha\",reason=\"locked\"}") +
                   *two.metric("backupdrill_skipped_runs_total{drill=\"ha\",reason=\"locked\"}");
  EXPECT_EQ(runs, 1.0) << one.log() << two.log();
  EXPECT_EQ(skipped, 1.0);
  size_t restore_logs = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir / "artifacts" / "ha")) {
    restore_logs += entry.path().filename().string().rfind("restore_", 0) == 0;
  }
  EXPECT_EQ(restore_logs, 1u) << "exactly one replica restored";
  std::string logs = one.log() + two.log();
  EXPECT_NE(logs.find("is locked by"), std::string::npos) << logs;
  drop_database(A(), "rep_tgt");
}

// Two drills that share a target never overlap; a cron schedule fires on its
// own (Asio timer) and its run is recorded with trigger "schedule".
TEST(ServeMode, SharedTargetIsBusyAndScheduleFires) {
  ScratchDb source(A(), "sched_src", true);
  auto dir = fresh_dir("shared");
  auto bin = slow_tools(dir, 3);
  auto config = dir / "shared.toml";
  write_file(config,
             exporter_toml(dir) +
                 drill_toml("first", source.name(), "sched_tgt", bin.string(), "select 0") +
                 drill_toml("second", source.name(), "sched_tgt", bin.string(), "select 0") +
                 drill_toml("every-minute", source.name(), "sched_tgt_cron", A().bin_dir,
                            "select 0", "schedule = \"* * * * *\"\n"));
  ServingExporter e(config, {}, {{"TOKEN", kToken}}, dir / "shared.log");
  EXPECT_EQ(e.metric("backupdrill_schedule_interval_seconds{drill=\"every-minute\"}"), 60.0);
  EXPECT_EQ(e.metric("backupdrill_schedule_interval_seconds{drill=\"first\"}"), 0.0);
  auto next = e.metric("backupdrill_next_run_timestamp_seconds{drill=\"every-minute\"}");
  ASSERT_TRUE(next);
  EXPECT_EQ(static_cast<long long>(*next) % 60, 0);

  ASSERT_EQ(post_run(e, "first", kToken).status, 202);
  auto busy = post_run(e, "second", kToken);
  EXPECT_EQ(busy.status, 409);
  EXPECT_EQ(nlohmann::json::parse(busy.body)["error"],
            "its target is being restored by drill \"first\"")
      << busy.body;
  EXPECT_EQ(e.metric("backupdrill_skipped_runs_total{drill=\"second\",reason=\"busy\"}"), 1.0);
  wait_idle(e, "first");
  EXPECT_EQ(e.metric("backupdrill_last_run_success{drill=\"first\"}"), 1.0) << e.log();

  // The next minute boundary fires the scheduled drill (bounded wait).
  auto runs = e.wait_metric("backupdrill_runs_total{drill=\"every-minute\"}", 1, 75);
  ASSERT_EQ(runs, 1.0) << e.log();
  wait_idle(e, "every-minute");
  auto list =
      nlohmann::json::parse(http_call(e.base_url() + "/api/v1/drills/every-minute/runs").body);
  ASSERT_FALSE(list["runs"].empty());
  EXPECT_EQ(list["runs"][0]["trigger"], "schedule");
  EXPECT_EQ(list["runs"][0]["result"], "passed");
  EXPECT_EQ(e.stop(), 0);
  drop_database(A(), "sched_tgt");
  drop_database(A(), "sched_tgt_cron");
}

// Issue 15: during the restore, the API and the landing page show how much
// of the archive pg_restore has read, out of the archive's size. The
// pg_restore here reads a quarter of the archive (its last argument), then
// waits for the test before it restores for real.
TEST(ServeMode, RestoreShowsHowMuchOfTheArchiveIsRead) {
  ScratchDb source(A(), "prog_src", true);
  auto dir = fresh_dir("restore_progress");
  const auto go = dir / "go";
  auto bin =
      tool_wrappers(A(), dir,
                    {{"pg_restore",
                      "case \"$*\" in *--dbname*)\n"
                      "  for a; do archive=\"$a\"; done\n"
                      "  head -c $(( $(stat -c %s \"$archive\") / 4 )) \"$archive\" >/dev/null\n"
                      "  n=0; while [ ! -e '" +
                          go.string() +
                          "' ] && [ $n -lt 900 ]; do sleep 0.1; n=$((n+1)); done;;\n"
                          "esac\nexec \"$REAL\" \"$@\""}});
  auto config = dir / "progress.toml";
  write_file(config, exporter_toml(dir) +
                         drill_toml("prog", source.name(), "prog_tgt", bin.string(), "select 0"));
  ServingExporter e(config, {}, {{"TOKEN", kToken}}, dir / "exporter.log");
  auto accepted = post_run(e, "prog", kToken);
  ASSERT_EQ(accepted.status, 202) << accepted.body;

  // Bounded wait for the restore phase with pg_restore having read its
  // quarter (the phase starts before the wrapper's `head` is done).
  nlohmann::json progress;
  std::uintmax_t size = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (std::chrono::steady_clock::now() < deadline) {
    auto drills = nlohmann::json::parse(http_call(e.base_url() + "/api/v1/drills").body);
    progress = drills["drills"][0]["progress"];
    if (progress.is_object() && progress["phase"] == "restore") {
      if (size == 0) {
        size =
            std::filesystem::file_size(only_file(dir / "artifacts" / "prog", "backup_", ".dump"));
      }
      if (progress["bytes_done"].is_number() &&
          progress["bytes_done"].get<unsigned long long>() >= size / 4) {
        break;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(progress.is_object() && progress["phase"] == "restore") << progress << e.log();
  // The wrapper has read its quarter and waits: the figure stands still.
  ASSERT_TRUE(progress["bytes_total"].is_number()) << progress;
  EXPECT_EQ(progress["bytes_total"].get<unsigned long long>(), size);
  const auto done = progress["bytes_done"].get<unsigned long long>();
  EXPECT_GE(done, size / 4) << progress;
  EXPECT_LT(done, size / 2) << progress
                            << " (only the shell's and the loader's small reads "
                               "come on top of the quarter)";
  auto page = http_call(e.base_url() + "/");
  EXPECT_NE(page.body.find("restore</a>, for "), std::string::npos) << page.body;
  EXPECT_NE(page.body.find(", restored "), std::string::npos) << page.body;
  EXPECT_NE(page.body.find(" of " + human_bytes(size) + "</div>"), std::string::npos) << page.body;

  write_file(go, "");
  wait_idle(e, "prog");
  EXPECT_EQ(e.metric("backupdrill_last_run_success{drill=\"prog\"}"), 1.0) << e.log();
  auto drills = nlohmann::json::parse(http_call(e.base_url() + "/api/v1/drills").body);
  EXPECT_TRUE(drills["drills"][0]["progress"].is_null()) << drills;
  EXPECT_EQ(e.stop(), 0);
  drop_database(A(), "prog_tgt");
}

// TLS and basic auth from --web.config.file (exporter-toolkit's format) on the
// real exporter: an HTTPS scrape with the right password works, without it
// 401, plain HTTP to the TLS port fails cleanly and the exporter goes on.
TEST(ServeMode, TlsAndBasicAuth) {
  auto dir = fresh_dir("tls");
  const std::string testdata = std::string(BACKUPDRILL_SOURCE_DIR) + "/tests/http/testdata";
  auto web = dir / "web.yml";
  // alice / "correct horse battery staple", made with htpasswd -nbBC 10.
  write_file(web, "tls_server_config:\n  cert_file: " + testdata +
                      "/server.crt\n  key_file: " + testdata +
                      "/server.key\nbasic_auth_users:\n  alice: "
                      "$2y$10$A09EB5g/H0mAGYAfP/Hd5OlLgIZpmjd0.dsoqa3zDwDOwbS/ZzLJ.\n");
  auto config = dir / "tls.toml";
  write_file(config, "[exporter]\nartifact_dir = \"" + (dir / "artifacts").string() +
                         "\"\n[[drill]]\nname = \"tls\"\nsource_url = \"host=127.0.0.1 "
                         "dbname=a\"\ntarget_url = \"host=127.0.0.1 dbname=b\"\n");
  ServingExporter e(config, {"--web.config.file=" + web.string()}, {}, dir / "tls.log");
  const std::string https = "https://127.0.0.1:" + std::to_string(e.port());
  const std::vector<std::string> ca{"--cacert", testdata + "/server.crt"};
  auto with = [&](std::vector<std::string> extra) {
    extra.insert(extra.begin(), ca.begin(), ca.end());
    return extra;
  };
  auto ok = http_call(https + "/metrics", with({"-u", "alice:correct horse battery staple"}));
  EXPECT_EQ(ok.status, 200) << e.log();
  EXPECT_NE(ok.body.find("backupdrill_last_run_success{drill=\"tls\"} 0"), std::string::npos);
  EXPECT_EQ(http_call(https + "/metrics", with({})).status, 401);
  EXPECT_EQ(http_call(https + "/metrics", with({"-u", "alice:wrong"})).status, 401);
  EXPECT_EQ(http_call(https + "/metrics", {"-u", "alice:correct horse battery staple"}).status, 0)
      << "the self-signed certificate must not be trusted without --cacert";
  auto plain = http_call("http://127.0.0.1:" + std::to_string(e.port()) + "/metrics");
  EXPECT_EQ(plain.status, 0) << "plain HTTP to the TLS port must not get an HTTP answer";
  EXPECT_EQ(
      http_call(https + "/-/healthy", with({"-u", "alice:correct horse battery staple"})).status,
      200)
      << "still serving after the plain-HTTP attempt";
  EXPECT_EQ(e.stop(), 0);
}

}  // namespace
}  // namespace backupdrill::testing
