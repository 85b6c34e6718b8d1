// The bundled checks as plugins, run by the real exporter against the
// PostgreSQL of the pg_clusters fixture (cluster a): table_counts parity (exact snapshot under
// writes, a deleted row, a changed value behind an unchanged count),
// api_health against a local HTTPS server, the plain C example built out of
// tree, and the runbook drill end to end.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <thread>

#include "https_server.h"
#include "pg_support.h"
#include "process/child_process.h"

namespace bd = backupdrill;
using bd::testing::contains;
using bd::testing::pg;
using bd::testing::run_exporter;
using bd::testing::Scratch;
using bd::testing::sql_exec;
using bd::testing::sql_value;
using namespace std::chrono_literals;

namespace {

nlohmann::json summary(const Scratch& s) {
  auto text = s.artifact("drill_summary_", ".json");
  return text.empty() ? nlohmann::json::object() : nlohmann::json::parse(text);
}

const nlohmann::json& check_of(const nlohmann::json& sum, const std::string& name) {
  for (const auto& c : sum["checks"]) {
    if (c["name"] == name) return c;
  }
  static const nlohmann::json none = nlohmann::json::object();
  return none;
}

}  // namespace

// The source keeps changing during the whole drill; the counts are taken in
// the backup's exported snapshot, so they still equal the restored target.
TEST(TableCounts, ExactSnapshotWhileTheSourceKeepsChanging) {
  Scratch s("writer");
  auto cfg = s.config(s.plugin_dir({"table_counts"}),
                      "[[drill.check]]\nplugin = \"table_counts\"\nname = \"counts\"\n"
                      "tables = [\"public.tasks\", \"public.profiles\"]\ncompare_source = true\n"
                      "fingerprint = true\n");
  std::atomic<bool> stop{false};
  std::atomic<long> inserted{0};
  std::thread writer([&] {
    pqxx::connection conn(pg().url(s.source()));
    while (!stop) {
      pqxx::work tx(conn);
      tx.exec(
          "insert into public.tasks (user_id, title) "
          "select id, 'written during the drill' from public.profiles limit 5");
      tx.commit();
      inserted += 5;
    }
  });
  while (inserted < 50) std::this_thread::sleep_for(10ms);
  auto run = run_exporter({"--config.file=" + cfg.string(), "--once"});
  long at_end_of_drill = inserted;
  std::this_thread::sleep_for(200ms);
  stop = true;
  writer.join();
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_GT(inserted.load(), at_end_of_drill - 1);

  auto validation = s.artifact("validation_");
  auto pos = validation.find("tasks|");
  ASSERT_NE(pos, std::string::npos) << validation;
  long counted = std::stol(validation.substr(pos + 6));
  long now = std::stol(sql_value(s.source(), "select count(*) from public.tasks"));
  EXPECT_GT(counted, 5000) << "the writer was running before the backup";
  EXPECT_GT(now, counted) << "the writer kept writing after the snapshot";
  EXPECT_EQ(std::stol(sql_value(s.target(), "select count(*) from public.tasks")), counted);

  auto rows = check_of(summary(s), "counts")["rows"];
  ASSERT_EQ(rows.size(), 2u) << rows;
  for (const auto& r : rows) {
    EXPECT_EQ(r["source"], r["target"]) << r;
    EXPECT_EQ(r["source_fingerprint"], r["target_fingerprint"]) << r;
  }
}

// A row deleted on the target after the restore: the check fails naming the
// table with both counts.
TEST(TableCounts, DeletedRowOnTheTargetFailsWithBothCounts) {
  Scratch s("deleted");
  auto cfg = s.config(
      s.plugin_dir({"table_counts"}, {"tamper"}),
      "[[drill.check]]\nplugin = \"tamper\"\nname = \"tamper\"\n"
      "sql = \"delete from public.profiles where id in (select id from public.profiles limit 1)\"\n"
      "[[drill.check]]\nplugin = \"table_counts\"\nname = \"counts\"\n"
      "tables = [\"public.profiles\", \"public.tasks\"]\ncompare_source = true\n");
  auto run = run_exporter({"--config.file=" + cfg.string(), "--once"});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_TRUE(contains(run.output, "profiles: source has 2000 rows, target has 1999"))
      << run.output;
  auto check = check_of(summary(s), "counts");
  EXPECT_EQ(check["result"], "failed");
  EXPECT_TRUE(contains(check["message"], "profiles: source has 2000 rows, target has 1999"))
      << check;
  EXPECT_TRUE(contains(s.artifact("validation_"), "profiles|1999\n"));
}

// An updated value keeps the count: only the fingerprint sees it.
TEST(TableCounts, FingerprintCatchesAnUpdatedValueWithUnchangedCount) {
  Scratch s("updated");
  auto cfg =
      s.config(s.plugin_dir({"table_counts"}, {"tamper"}),
               "[[drill.check]]\nplugin = \"tamper\"\nname = \"tamper\"\n"
               "sql = \"update public.profiles set full_name = full_name || 'x' where id in "
               "(select id from public.profiles limit 1)\"\n"
               "[[drill.check]]\nplugin = \"table_counts\"\nname = \"plain\"\n"
               "tables = [\"public.profiles\"]\ncompare_source = true\n"
               "[[drill.check]]\nplugin = \"table_counts\"\nname = \"fingerprinted\"\n"
               "tables = [\"public.profiles\"]\ncompare_source = true\nfingerprint = true\n");
  auto run = run_exporter({"--config.file=" + cfg.string(), "--once"});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  auto sum = summary(s);
  EXPECT_EQ(check_of(sum, "plain")["result"], "passed") << "counts alone cannot see it";
  auto fp = check_of(sum, "fingerprinted");
  EXPECT_EQ(fp["result"], "failed");
  EXPECT_TRUE(contains(fp["message"],
                       "profiles: same row count (2000) but the content "
                       "fingerprint differs"))
      << fp;
}

// The plain C example, compiled out of tree with only a C compiler and the
// SDK header, loads and writes its line to the validation file.
TEST(ExamplePlugin, BuildsOutOfTreeWithACCompilerAndReports) {
  Scratch s("example");
  auto dir = s.dir() / "out_of_tree";
  std::filesystem::create_directories(dir);
  bd::ChildSpec cc;
  cc.program = bd::find_in_path("cc").value_or("/usr/bin/cc");
  cc.args = {"-std=c11",
             "-Wall",
             "-Wextra",
             "-Werror",
             "-shared",
             "-fPIC",
             "-fvisibility=hidden",
             "-I" + std::string(BD_SOURCE_DIR) + "/plugins/include",
             std::string(BD_SOURCE_DIR) + "/plugins/example/example.c",
             "-o",
             (dir / "example.so").string()};
  auto built = bd::run_capture(cc, std::chrono::steady_clock::now() + 60s);
  ASSERT_TRUE(built.status.ok()) << built.out;
  auto cfg = s.config(dir, "[[drill.check]]\nplugin = \"example\"\nname = \"hello\"\n");
  auto run = run_exporter({"--config.file=" + cfg.string(), "--once"});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(s.artifact("validation_"), "hello|ok\n");
}

class ApiHealth : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // A folder per process: ctest runs these tests in parallel processes, and
    // each generates its own key and certificate.
    server_ =
        new bd::testing::HttpsServer(std::filesystem::path(BD_PLUGINS_PG).parent_path() /
                                     "plugins_test_work" / ("tls-" + std::to_string(::getpid())));
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static std::string check(const std::string& name, const std::string& path,
                           const std::string& extra) {
    return "[[drill.check]]\nplugin = \"api_health\"\nname = \"" + name + "\"\nurl = \"" +
           server_->url(path) + "\"\n" + extra;
  }
  static bd::testing::HttpsServer* server_;
};
bd::testing::HttpsServer* ApiHealth::server_ = nullptr;

// Verification is on by default: the self-signed certificate is refused;
// with ca_file it passes, and the bearer token is sent but never shown.
TEST_F(ApiHealth, VerifiesCertificatesTrustsCaFileAndSendsTheToken) {
  Scratch s("api_tls");
  const std::string token = "tok-9f8e7d6c5b4a";
  const std::string ca = "ca_file = \"" + server_->cert_file().string() + "\"\n";
  auto cfg =
      s.config(s.plugin_dir({"api_health"}),
               check("verified", "/health", "") +
                   check("trusted", "/health",
                         ca + "bearer_token = \"" + token + "\"\nexpect_body_contains = \"ok\"\n"));
  auto run = run_exporter({"--config.file=" + cfg.string(), "--once"});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  auto sum = summary(s);
  auto verified = check_of(sum, "verified");
  EXPECT_EQ(verified["result"], "failed");
  EXPECT_TRUE(contains(verified["message"], "TLS handshake failed")) << verified;
  EXPECT_EQ(check_of(sum, "trusted")["result"], "passed") << check_of(sum, "trusted");
  EXPECT_EQ(server_->last_authorization(), "Bearer " + token);

  auto smoke = s.artifact("smoke_");
  EXPECT_TRUE(contains(smoke, "FAIL GET " + server_->url("/health") + " -> TLS handshake failed"))
      << smoke;
  EXPECT_TRUE(contains(smoke, "PASS GET " + server_->url("/health") + " -> 200")) << smoke;
  EXPECT_FALSE(contains(run.output, token));
  for (const auto& e : std::filesystem::directory_iterator(s.artifacts() / "d")) {
    std::ifstream in(e.path());
    std::string text((std::istreambuf_iterator<char>(in)), {});
    EXPECT_FALSE(contains(text, token)) << e.path();
  }
}

// A 500 and a wrong body are FAIL lines in smoke_<ts>.txt and fail the drill.
TEST_F(ApiHealth, ServerErrorAndWrongBodyFailTheDrill) {
  Scratch s("api_fail");
  const std::string ca = "ca_file = \"" + server_->cert_file().string() + "\"\n";
  auto cfg =
      s.config(s.plugin_dir({"api_health"}),
               check("error", "/error", ca) +
                   check("body", "/degraded", ca + "expect_body_contains = \"status: ok\"\n"));
  auto run = run_exporter({"--config.file=" + cfg.string(), "--once"});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  auto smoke = s.artifact("smoke_");
  EXPECT_TRUE(contains(smoke, "FAIL GET " + server_->url("/error") + " -> 500")) << smoke;
  EXPECT_TRUE(contains(smoke, "FAIL GET " + server_->url("/degraded") + " -> 200")) << smoke;
  EXPECT_TRUE(contains(smoke, "(body does not contain \"status: ok\")")) << smoke;
  auto sum = summary(s);
  EXPECT_EQ(sum["failed_phase"], "checks");
  EXPECT_EQ(check_of(sum, "error")["result"], "failed");
  EXPECT_EQ(check_of(sum, "body")["result"], "failed");
}

// The demo's setup: password-less URLs, PGPASSWORD in the environment. The
// checks connect (the password reaches each worker over the pipe), and
// pg_dump/pg_restore still get it after the checks' source phase.
TEST(Secrets, PasswordFromTheEnvironmentServesToolsAndWorkers) {
  Scratch s("secrets");
  auto url = [&](const std::string& db) {
    return "postgresql://" + pg().user + "@" + pg().host + ":" + pg().port + "/" + db;
  };
  auto cfg = s.dir() / "config.toml";
  {
    std::ofstream out(cfg);
    out << "[exporter]\nartifact_dir = \"" << s.artifacts().string() << "\"\nplugin_dir = \""
        << s.plugin_dir({"table_counts"}, {"envprobe"}).string()
        << "\"\n[[drill]]\nname = \"d\"\nsource_url = \"" << url(s.source())
        << "\"\ntarget_url = \"" << url(s.target())
        << "\"\n[[drill.check]]\nplugin = \"envprobe\"\n[[drill.check]]\nplugin = "
           "\"table_counts\"\ntables = [\"profiles\"]\ncompare_source = true\n";
  }
  auto run =
      run_exporter({"--config.file=" + cfg.string(), "--once"}, {{"PGPASSWORD", pg().password}});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(s.artifact("validation_"),
            "password_received|yes\npassword_in_argv|no\npassword_in_environ|no\n"
            "pgpassword_env|absent\nprofiles|2000\n");
}

// The runbook drill (no config file) finds the bundled plugins next to the
// binary and writes the runbook's validation lines; a progress of 150 fails.
TEST(Runbook, DefaultPluginDirAndTheRunbooksChecks) {
  Scratch s("runbook");
  std::map<std::string, std::optional<std::string>> env{{"SOURCE_DB_URL", pg().url(s.source())},
                                                        {"TARGET_DB_URL", pg().url(s.target())},
                                                        {"BACKUP_DIR", s.artifacts().string()}};
  auto run = run_exporter({"--once"}, env);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  auto find_validation = [&] {
    std::filesystem::path newest;
    for (const auto& e : std::filesystem::directory_iterator(s.artifacts() / "default")) {
      if (e.path().filename().string().rfind("validation_", 0) == 0 && e.path() > newest) {
        newest = e.path();
      }
    }
    std::ifstream in(newest);
    return std::string((std::istreambuf_iterator<char>(in)), {});
  };
  EXPECT_EQ(find_validation(),
            "profiles|2000\ntasks|5000\ndocuments|3000\nnotifications|4000\nlms_courses|20\n"
            "lms_subsections|200\ninvalid_progress|0\n");

  sql_exec(s.source(),
           "update public.lms_subsection_progress set progress_percent = 150 "
           "where id = (select min(id) from public.lms_subsection_progress)");
  std::this_thread::sleep_for(1100ms);  // a new artifact stamp
  run = run_exporter({"--once"}, env);
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_TRUE(contains(find_validation(), "invalid_progress|1\n"));
}

// freshness (issue 13): a fresh source passes with its lag reported; a
// source whose newest row is three days old at backup time fails with the
// lag in the message.
TEST(Freshness, FreshDataPassesWithItsLag) {
  Scratch s("fresh");
  sql_exec(s.source(), "update public.tasks set created_at = now() - interval '2 hours'");
  auto cfg = s.config(s.plugin_dir({"freshness"}),
                      "[[drill.check]]\nplugin = \"freshness\"\nname = \"tasks_fresh\"\n"
                      "table = \"public.tasks\"\ncolumn = \"created_at\"\nmax_lag = \"26h\"\n");
  auto run = run_exporter({"--config.file=" + cfg.string(), "--once"});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  auto check = check_of(summary(s), "tasks_fresh");
  EXPECT_EQ(check["result"], "passed") << check;
  EXPECT_TRUE(contains(check["message"], "within max_lag 26h")) << check;
  auto validation = s.artifact("validation_");
  auto pos = validation.find("tasks_fresh|");
  ASSERT_NE(pos, std::string::npos) << validation;
  long lag = std::stol(validation.substr(pos + 12));
  EXPECT_GE(lag, 7200);
  EXPECT_LT(lag, 7200 + 300);
}

TEST(Freshness, StaleDataFailsWithTheLag) {
  Scratch s("stale");
  sql_exec(s.source(), "update public.tasks set created_at = now() - interval '3 days'");
  auto cfg = s.config(s.plugin_dir({"freshness"}),
                      "[[drill.check]]\nplugin = \"freshness\"\nname = \"tasks_fresh\"\n"
                      "table = \"tasks\"\ncolumn = \"created_at\"\nmax_lag = \"26h\"\n");
  auto run = run_exporter({"--config.file=" + cfg.string(), "--once"});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  auto check = check_of(summary(s), "tasks_fresh");
  EXPECT_EQ(check["result"], "failed") << check;
  std::string message = check["message"];
  EXPECT_TRUE(contains(message, "newest tasks.created_at is ")) << message;
  EXPECT_TRUE(contains(message, "72h0")) << message;
  EXPECT_TRUE(contains(message, "over max_lag 26h: the backup holds stale data")) << message;
}

TEST(Freshness, ConfigErrorsNameTheKey) {
  Scratch s("fresh_config");
  auto cfg = s.config(s.plugin_dir({"freshness"}),
                      "[[drill.check]]\nplugin = \"freshness\"\nname = \"f\"\n"
                      "table = \"tasks\"\ncolumn = \"created_at\"\nmax_lag = \"a day\"\n");
  auto run = run_exporter({"--config.file=" + cfg.string(), "--check-config"});
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_TRUE(contains(run.output, "max_lag")) << run.output;
  EXPECT_TRUE(contains(run.output, "is not a duration; write e.g. max_lag")) << run.output;
}

// table_counts tolerance (issue 13): both counts reported, a difference
// within the tolerance passes, one over it fails.
TEST(TableCounts, ToleranceReportsBothCountsAndPassesWithinIt) {
  Scratch s("tolerance");
  auto cfg =
      s.config(s.plugin_dir({"table_counts"}, {"tamper"}),
               "[[drill.check]]\nplugin = \"tamper\"\nname = \"tamper\"\n"
               "sql = \"delete from public.profiles where id in (select id from public.profiles "
               "limit 10)\"\n"
               "[[drill.check]]\nplugin = \"table_counts\"\nname = \"percent\"\n"
               "tables = [\"public.profiles\", \"public.tasks\"]\ncompare_source = true\n"
               "tolerance = \"1%\"\n"
               "[[drill.check]]\nplugin = \"table_counts\"\nname = \"rows\"\n"
               "tables = [\"public.profiles\"]\ncompare_source = true\ntolerance = \"9 rows\"\n");
  auto run = run_exporter({"--config.file=" + cfg.string(), "--once"});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  auto sum = summary(s);
  auto percent = check_of(sum, "percent");
  EXPECT_EQ(percent["result"], "passed") << percent;
  EXPECT_TRUE(contains(percent["message"], "within 1% of the source at the backup's snapshot"))
      << percent;
  EXPECT_TRUE(contains(percent["message"], "profiles: source has 2000 rows, target has 1990"))
      << percent;
  auto rows = check_of(sum, "rows");
  EXPECT_EQ(rows["result"], "failed") << rows;
  EXPECT_TRUE(contains(rows["message"],
                       "profiles: source has 2000 rows, target has 1990, 10 apart, over the "
                       "tolerance of 9 rows"))
      << rows;
}

TEST(TableCounts, ToleranceIsCheckedAtStart) {
  Scratch s("tolerance_config");
  auto plugins = s.plugin_dir({"table_counts"});
  for (const char* bad : {"tolerance = \"2 %\"", "tolerance = \"lots\"", "tolerance = \"1.5 rows\"",
                          "tolerance = \"101%\""}) {
    auto cfg = s.config(plugins,
                        "[[drill.check]]\nplugin = \"table_counts\"\nname = \"c\"\n"
                        "tables = [\"profiles\"]\ncompare_source = true\n" +
                            std::string(bad) + "\n");
    auto run = run_exporter({"--config.file=" + cfg.string(), "--check-config"});
    EXPECT_EQ(run.exit_code, 2) << bad << run.output;
    EXPECT_TRUE(contains(run.output, "write \\\"2%\\\" or \\\"100 rows\\\"") ||
                contains(run.output, "write \"2%\" or \"100 rows\""))
        << run.output;
  }
  auto cfg = s.config(plugins,
                      "[[drill.check]]\nplugin = \"table_counts\"\nname = \"c\"\n"
                      "tables = [\"profiles\"]\ntolerance = \"2%\"\n");
  auto run = run_exporter({"--config.file=" + cfg.string(), "--check-config"});
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_TRUE(contains(run.output, "only means something with compare_source = true"))
      << run.output;
}
