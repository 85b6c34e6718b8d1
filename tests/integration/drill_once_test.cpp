// End-to-end: the real backupdrill_exporter --once against real PostgreSQL
// servers, in runbook mode and with a config file.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "process/child_process.h"
#include "support.h"

namespace backupdrill::testing {
namespace {

const Cluster& A() { return cluster("a"); }

int mode_of(const std::filesystem::path& p) {
  struct stat st {};
  ::stat(p.c_str(), &st);
  return st.st_mode & 0777;
}

TEST(DrillOnce, RunbookModeRestoresAndValidates) {
  ScratchDb source(A(), "e2e_ok_src", true);
  const std::string target = "e2e_ok_tgt";
  drop_database(A(), target);
  // A BACKUP_DIR that does not exist yet: the exporter creates it 0700.
  auto dir = fresh_dir("runbook_ok") / "backup";
  auto run = run_exporter({"--once"}, runbook_env(source.name(), target, dir));
  ASSERT_EQ(run.exit_code, 0) << run.output;

  auto folder = dir / "default";
  EXPECT_EQ(mode_of(folder), 0700);
  EXPECT_EQ(mode_of(dir), 0700);
  auto dump = only_file(folder, "backup_", ".dump");
  std::smatch m;
  std::string dump_name = dump.filename().string();
  ASSERT_TRUE(std::regex_match(dump_name, m, std::regex(R"(backup_(\d{8}T\d{6}Z)\.dump)")))
      << dump_name;
  const std::string ts = m[1];
  for (const std::string& name :
       std::vector<std::string>{"backup_" + ts + ".dump", "backup_" + ts + ".sha256",
                                "restore_" + ts + ".log", "validation_" + ts + ".txt",
                                "drill_summary_" + ts + ".md", "drill_summary_" + ts + ".json"}) {
    ASSERT_TRUE(std::filesystem::exists(folder / name)) << name;
    EXPECT_EQ(mode_of(folder / name), 0600) << name;
  }
  EXPECT_FALSE(std::filesystem::exists(folder / ("smoke_" + ts + ".txt")))
      << "no smoke file without TARGET_API_URL";

  // sha256sum -c, run from the drill folder as the runbook says.
  ChildSpec sha;
  sha.program = *find_in_path("sha256sum");
  sha.args = {"-c", "backup_" + ts + ".sha256"};
  sha.env["PWD"] = folder.string();
  auto script = folder.parent_path() / "check.sh";
  write_file(script, "cd '" + folder.string() + "' && sha256sum -c backup_" + ts + ".sha256\n");
  ChildSpec sh;
  sh.program = "/bin/sh";
  sh.args = {script.string()};
  auto checked = run_capture(sh);
  EXPECT_TRUE(checked.status.ok()) << checked.out;
  EXPECT_NE(checked.out.find(": OK"), std::string::npos) << checked.out;

  // Validation counts equal the source's, in the runbook's order and format.
  std::string expected;
  for (const std::string& t : std::vector<std::string>{
           "profiles", "tasks", "documents", "notifications", "lms_courses", "lms_subsections"}) {
    expected += t + "|" + sql(A(), source.name(), "select count(*) from public." + t) + "\n";
  }
  expected += "invalid_progress|0\n";
  EXPECT_EQ(read_file(folder / ("validation_" + ts + ".txt")), expected);
  EXPECT_NE(expected.find("profiles|2000"), std::string::npos);

  // The restore log is pg_restore's whole (verbose) output, without errors.
  std::string log = read_file(folder / ("restore_" + ts + ".log"));
  EXPECT_NE(log.find("pg_restore: processing data for table \"public.profiles\""),
            std::string::npos);
  EXPECT_EQ(log.find("error"), std::string::npos) << log;

  // The target really holds the data, and is marked as a drill target.
  EXPECT_EQ(sql(A(), target, "select count(*) from auth.users"), "2000");
  EXPECT_EQ(sql(A(), "postgres",
                "select shobj_description(oid, 'pg_database') like 'backupdrill target%' "
                "from pg_database where datname = '" +
                    target + "'"),
            "t");

  auto summary = nlohmann::json::parse(read_file(folder / ("drill_summary_" + ts + ".json")));
  EXPECT_EQ(summary["result"], "passed");
  EXPECT_EQ(summary["restore"]["errors"], 0);
  EXPECT_TRUE(summary["rto"]["compliant"].get<bool>());
  EXPECT_TRUE(summary["rpo"]["compliant"].get<bool>());
  EXPECT_EQ(summary["rto"]["target_seconds"], 7200.0);
  EXPECT_EQ(summary["rpo"]["target_seconds"], 86400.0);
  std::vector<std::string> phases;
  for (const auto& p : summary["phases"]) phases.push_back(p["phase"]);
  EXPECT_EQ(phases,
            (std::vector<std::string>{"guard", "backup", "verify", "restore", "checks", "report"}));
  EXPECT_EQ(summary["backup"]["sha256"].get<std::string>().size(), 64u);
  std::string md = read_file(folder / ("drill_summary_" + ts + ".md"));
  for (const std::string& needle : std::vector<std::string>{
           "PASSED", "## Timeline", "RTO", "RPO", "critical_tables", "invalid_progress",
           summary["backup"]["sha256"].get<std::string>()}) {
    EXPECT_NE(md.find(needle), std::string::npos) << needle;
  }

  // A second drill into the now-marked target is allowed (recreate).
  auto again = run_exporter({"--once"}, runbook_env(source.name(), target, dir));
  EXPECT_EQ(again.exit_code, 0) << again.output;
  drop_database(A(), target);
}

TEST(DrillOnce, InvalidProgressFailsTheDrill) {
  ScratchDb source(A(), "e2e_bad_src", true);
  sql_exec(A(), source.name(),
           "update public.lms_subsection_progress set progress_percent = 150 where ctid = "
           "(select ctid from public.lms_subsection_progress limit 1)");
  const std::string target = "e2e_bad_tgt";
  drop_database(A(), target);
  auto dir = fresh_dir("runbook_bad");
  auto run = run_exporter({"--once"}, runbook_env(source.name(), target, dir));
  EXPECT_EQ(run.exit_code, 1) << run.output;
  auto folder = dir / "default";
  std::string validation = read_file(only_file(folder, "validation_", ".txt"));
  EXPECT_NE(validation.find("invalid_progress|1\n"), std::string::npos) << validation;
  EXPECT_NE(validation.find("profiles|2000\n"), std::string::npos) << validation;
  auto summary = nlohmann::json::parse(read_file(only_file(folder, "drill_summary_", ".json")));
  EXPECT_EQ(summary["result"], "failed");
  EXPECT_EQ(summary["failed_phase"], "checks");
  EXPECT_NE(summary["error"].get<std::string>().find("invalid_progress"), std::string::npos);
  // The restore was done and checked well within the RTO: that figure was
  // measured and met; the failure pages on its own (BackupDrillFailed).
  EXPECT_TRUE(summary["rto"]["seconds"].is_number()) << summary["rto"];
  EXPECT_TRUE(summary["rto"]["compliant"].get<bool>()) << summary["rto"];
  std::string md = read_file(only_file(folder, "drill_summary_", ".md"));
  EXPECT_NE(md.find("FAILED"), std::string::npos);
  EXPECT_NE(md.find("| invalid_progress | sql_assert | FAIL |"), std::string::npos) << md;
  // A failed drill keeps all its artifacts.
  EXPECT_NO_THROW(only_file(folder, "backup_", ".dump"));
  EXPECT_NO_THROW(only_file(folder, "restore_", ".log"));
  drop_database(A(), target);
}

std::string fingerprint(const std::string& db) {
  return sql(A(), db,
             "select md5(string_agg(t::text, ',' order by t::text)) from "
             "(select * from public.profiles) t") +
         sql(A(), db, "select count(*) from auth.users");
}

TEST(DrillOnce, TargetThatIsTheSourceIsRefused) {
  ScratchDb source(A(), "e2e_same_src", true);
  auto before = fingerprint(source.name());
  auto dir = fresh_dir("same");
  // Literally the same URL: refused by the configuration, before any run.
  auto run = run_exporter({"--once"}, runbook_env(source.name(), source.name(), dir));
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("never restores into its source"), std::string::npos) << run.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "default")) << "a config refusal starts no run";
  // The same database reached another way (unix socket vs TCP): found by the
  // cluster's identity, not the spelling of the URL.
  auto env = runbook_env(source.name(), source.name(), dir);
  env["TARGET_DB_URL"] = A().socket_conninfo(source.name());
  run = run_exporter({"--once"}, env);
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("same cluster and database"), std::string::npos) << run.output;
  EXPECT_EQ(fingerprint(source.name()), before);
  // The guard's refusal is recorded (its summary says why); nothing else is written.
  size_t summaries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir / "default")) {
    const std::string name = e.path().filename().string();
    EXPECT_TRUE(name.starts_with("drill_summary_")) << name << " may not be written";
    ++summaries;
  }
  EXPECT_EQ(summaries, 2u) << "one refused run, with its .json and .md";
}

TEST(DrillOnce, UnmarkedNonEmptyTargetIsRefusedUnlessAdopted) {
  ScratchDb source(A(), "e2e_unmarked_src", true);
  ScratchDb target(A(), "e2e_unmarked_tgt", false);
  sql_exec(A(), target.name(), "create table precious(id int); insert into precious values (42)");
  auto dir = fresh_dir("unmarked");
  auto run = run_exporter({"--once"}, runbook_env(source.name(), target.name(), dir));
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("not empty"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("adopt_target"), std::string::npos) << run.output;
  EXPECT_EQ(sql(A(), target.name(), "select id from precious"), "42");

  auto config = dir / "adopt.toml";
  write_file(config, "[exporter]\nartifact_dir = \"" + dir.string() +
                         "\"\n[[drill]]\nname = \"adopt\"\nsource_url = \"${SRC}\"\n"
                         "target_url = \"${TGT}\"\nadopt_target = true\n"
                         "[[drill.check]]\nplugin = \"table_counts\"\ntables = [\"profiles\"]\n"
                         "compare_source = true\n");
  run = run_exporter({"--config.file=" + config.string(), "--once"},
                     {{"SRC", A().url(source.name())}, {"TGT", A().url(target.name())}});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(sql(A(), target.name(), "select to_regclass('public.precious') is null"), "t");
}

// A pg_dump that succeeds but whose output is cut short: the checksum of what
// was written matches, so only reading the whole archive can catch it.
TEST(DrillOnce, TruncatedDumpFailsInVerifyAndNothingIsRestored) {
  ScratchDb source(A(), "e2e_trunc_src", true);
  const std::string target = "e2e_trunc_tgt";
  drop_database(A(), target);
  auto dir = fresh_dir("truncated");
  auto bin = tool_wrappers(A(), dir, {{"pg_dump", "\"$REAL\" \"$@\" | head -c 300000\nexit 0"}});
  auto env = runbook_env(source.name(), target, dir);
  env["PG_BIN_DIR"] = bin.string();
  auto run = run_exporter({"--once"}, env);
  EXPECT_EQ(run.exit_code, 1) << run.output;
  auto summary =
      nlohmann::json::parse(read_file(only_file(dir / "default", "drill_summary_", ".json")));
  EXPECT_EQ(summary["failed_phase"], "verify") << summary.dump(2);
  EXPECT_NE(summary["error"].get<std::string>().find("cannot read the whole archive"),
            std::string::npos)
      << summary["error"];
  EXPECT_FALSE(database_exists(A(), target)) << "verify failed, so nothing may be restored";
  std::vector<std::string> phases;
  for (const auto& p : summary["phases"]) phases.push_back(p["phase"]);
  EXPECT_EQ(std::count(phases.begin(), phases.end(), "restore"), 0);
}

TEST(DrillOnce, PasswordNeverReachesArgvArtifactsOrLogs) {
  ScratchDb source(A(), "e2e_secret_src", true);
  const std::string target = "e2e_secret_tgt";
  drop_database(A(), target);
  auto dir = fresh_dir("secret");
  auto record = dir / "recorded";
  // Wrappers record their argv, environment and the PGPASSFILE's mode, then
  // run the real tool.
  const std::string recorder =
      "{ echo \"argv: $0 $*\"; env | sed 's/^/env: /';"
      " [ -n \"$PGPASSFILE\" ] && echo \"passfile-mode: $(stat -c %a \"$PGPASSFILE\")\"; }"
      " >> '" +
      record.string() + "'\nexec \"$REAL\" \"$@\"";
  auto bin = tool_wrappers(A(), dir, {{"pg_dump", recorder}, {"pg_restore", recorder}});
  auto config = dir / "secret.toml";
  write_file(config, "[exporter]\nartifact_dir = \"" + (dir / "artifacts").string() +
                         "\"\n[[drill]]\nname = \"secret\"\nsource_url = \"${SRC}\"\n"
                         "target_url = \"${TGT}\"\npg_bin_dir = \"" +
                         bin.string() +
                         "\"\n"
                         "[[drill.check]]\nplugin = \"table_counts\"\ntables = [\"profiles\"]\n"
                         "compare_source = true\n");
  // The source in URL form, the target in keyword/value form.
  auto run = run_exporter({"--config.file=" + config.string(), "--once", "--log.level=debug"},
                          {{"SRC", A().url(source.name())},
                           {"TGT", "host=" + A().host + " port=" + A().port + " user=" + A().user +
                                       " password=" + A().password + " dbname=" + target}});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const std::string& password = A().password;
  ASSERT_GE(password.size(), 16u);
  EXPECT_EQ(run.output.find(password), std::string::npos) << "password in the exporter's log";
  EXPECT_NE(run.output.find(":***@"), std::string::npos) << "URLs are shown redacted";
  std::string recorded = read_file(record);
  EXPECT_NE(recorded.find("argv: "), std::string::npos);
  EXPECT_EQ(recorded.find(password), std::string::npos) << "password in a child's argv or env";
  EXPECT_EQ(recorded.find("env: PGPASSWORD="), std::string::npos);
  EXPECT_NE(recorded.find("passfile-mode: 600"), std::string::npos) << recorded;
  size_t files = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir / "artifacts")) {
    if (!e.is_regular_file()) continue;
    ++files;
    EXPECT_EQ(read_file(e.path()).find(password), std::string::npos) << e.path();
  }
  EXPECT_GE(files, 7u);
  // A failing connection's error message is redacted too.
  run = run_exporter(
      {"--config.file=" + config.string(), "--once"},
      {{"SRC", "postgresql://nobody:" + password + "@127.0.0.1:1/x"}, {"TGT", A().url(target)}});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_EQ(run.output.find(password), std::string::npos) << run.output;
  drop_database(A(), target);
}

TEST(DrillOnce, ParallelDirectoryDumpAndCleanModeRestore) {
  ScratchDb source(A(), "e2e_dir_src", true);
  const std::string target = "e2e_dir_tgt";
  drop_database(A(), target);
  auto dir = fresh_dir("directory");
  auto config = dir / "dir.toml";
  auto write_config = [&](const std::string& mode) {
    write_file(config, "[exporter]\nartifact_dir = \"" + dir.string() +
                           "\"\n[[drill]]\nname = \"dir\"\nsource_url = \"${SRC}\"\n"
                           "target_url = \"${TGT}\"\n[drill.backup]\njobs = 2\n"
                           "compression = \"none\"\n[drill.restore]\nmode = \"" +
                           mode +
                           "\"\njobs = 2\n[[drill.check]]\nplugin = \"table_counts\"\n"
                           "schemas = [\"public\", \"auth\"]\ncompare_source = true\n"
                           "fingerprint = true\n");
  };
  std::map<std::string, std::optional<std::string>> env{{"SRC", A().url(source.name())},
                                                        {"TGT", A().url(target)}};
  write_config("recreate");
  auto run = run_exporter({"--config.file=" + config.string(), "--once"}, env);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  auto folder = dir / "dir";
  auto dump = only_file(folder, "backup_", ".dump");
  EXPECT_TRUE(std::filesystem::is_directory(dump));
  auto sums = read_file(only_file(folder, "backup_", ".sha256"));
  EXPECT_NE(sums.find(dump.filename().string() + "/toc.dat"), std::string::npos) << sums;
  auto script = dir / "check.sh";
  write_file(script, "cd '" + folder.string() + "' && sha256sum -c --quiet " +
                         only_file(folder, "backup_", ".sha256").filename().string() + "\n");
  ChildSpec sh;
  sh.program = "/bin/sh";
  sh.args = {script.string()};
  EXPECT_TRUE(run_capture(sh).status.ok());

  // clean mode into the existing, marked target.
  write_config("clean");
  std::this_thread::sleep_for(std::chrono::seconds(1));
  run = run_exporter({"--config.file=" + config.string(), "--once"}, env);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  drop_database(A(), target);
}

// A plain server lacks the Supabase roles: pg_restore reports errors, the
// drill fails in restore, and the partial target is dropped again.
TEST(DrillOnce, RestoreErrorsFailAndRollBackThePartialTarget) {
  ScratchDb source(A(), "e2e_roles_src", true);
  const std::string target = "e2e_roles_tgt";
  const Cluster& b = cluster("b");
  drop_database(b, target);
  auto dir = fresh_dir("roles");
  std::map<std::string, std::optional<std::string>> env{{"SOURCE_DB_URL", A().url(source.name())},
                                                        {"TARGET_DB_URL", b.url(target)},
                                                        {"BACKUP_DIR", dir.string()}};
  auto run = run_exporter({"--once"}, env);
  EXPECT_EQ(run.exit_code, 1) << run.output;
  auto folder = dir / "default";
  auto summary = nlohmann::json::parse(read_file(only_file(folder, "drill_summary_", ".json")));
  EXPECT_EQ(summary["failed_phase"], "restore");
  EXPECT_GT(summary["restore"]["errors"].get<int>(), 0);
  EXPECT_NE(summary["error"].get<std::string>().find("partial restore was dropped"),
            std::string::npos)
      << summary["error"];
  std::string log = read_file(only_file(folder, "restore_", ".log"));
  EXPECT_NE(log.find("role \"anon\" does not exist"), std::string::npos);
  EXPECT_FALSE(database_exists(b, target));
}

TEST(DrillOnce, UnreachableTargetFailsInGuard) {
  ScratchDb source(A(), "e2e_down_src", true);
  auto dir = fresh_dir("down");
  auto run = run_exporter({"--once"}, {{"SOURCE_DB_URL", A().url(source.name())},
                                       {"TARGET_DB_URL", "postgresql://x:pw-9f8e7d@127.0.0.1:1/t"},
                                       {"BACKUP_DIR", dir.string()}});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("cannot connect to the target server"), std::string::npos)
      << run.output;
  EXPECT_EQ(run.output.find("pw-9f8e7d"), std::string::npos);
}

// A long dump logs its progress at least every 10 s (bytes and rate).
TEST(DrillOnce, LongDumpLogsProgress) {
  ScratchDb source(A(), "e2e_progress_src", true);
  const std::string target = "e2e_progress_tgt";
  drop_database(A(), target);
  auto dir = fresh_dir("progress");
  // Starts writing only after 11 s: the backup phase must say it is alive.
  auto bin = tool_wrappers(A(), dir, {{"pg_dump", "sleep 11\nexec \"$REAL\" \"$@\""}});
  auto env = runbook_env(source.name(), target, dir);
  env["PG_BIN_DIR"] = bin.string();
  auto run = run_exporter({"--once"}, env);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  std::regex progress(
      R"(msg="backup in progress" drill=default phase=backup bytes=\d+ written="[^"]+" rate="[^"]+/s")");
  EXPECT_TRUE(std::regex_search(run.output, progress)) << run.output;
  drop_database(A(), target);
}

}  // namespace
}  // namespace backupdrill::testing
