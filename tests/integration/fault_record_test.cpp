// Issue 10, defects 1, 7 and 8 against the real binary and real PostgreSQL:
// the guard never drops a database holding anything a user created, every
// run that starts leaves a record (guard failures, a full disk, a kill -9),
// and the state reloaded at start is the true last run.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>

#include "exporter_process.h"
#include "support.h"
#include "util/time_format.h"

namespace backupdrill::testing {
namespace {

const Cluster& A() { return cluster("a"); }
const std::string kToken = "fault-record-token-4d2a";

// The summaries in a drill's folder, newest first.
std::vector<nlohmann::json> summaries(const std::filesystem::path& folder) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(folder, ec)) {
    const std::string name = e.path().filename().string();
    if (name.starts_with("drill_summary_") && name.ends_with(".json")) files.push_back(e.path());
  }
  std::sort(files.rbegin(), files.rend());
  std::vector<nlohmann::json> out;
  for (const auto& f : files) out.push_back(nlohmann::json::parse(read_file(f)));
  return out;
}

bool has_file_like(const std::filesystem::path& folder, const std::string& prefix,
                   const std::string& suffix) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(folder, ec)) {
    const std::string name = e.path().filename().string();
    if (name.starts_with(prefix) && name.ends_with(suffix)) return true;
  }
  return false;
}

std::string drill_toml(const std::string& name, const std::string& source_url,
                       const std::string& target_db, const std::string& extra = "") {
  return "[[drill]]\nname = \"" + name + "\"\nsource_url = \"" + source_url +
         "\"\ntarget_url = \"" + A().url(target_db) + "\"\n" + extra +
         "[[drill.check]]\nplugin = \"sql_assert\"\nname = \"assert\"\n"
         "query = \"select 0\"\nexpect = 0\n";
}

HttpAnswer post_run(const ServingExporter& e, const std::string& drill) {
  return http_call(e.base_url() + "/api/v1/drills/" + drill + "/run",
                   {"-X", "POST", "-H", "Authorization: Bearer " + kToken});
}

void wait_idle(const ServingExporter& e, const std::string& drill) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  while (std::chrono::steady_clock::now() < deadline) {
    if (e.metric("backupdrill_running{drill=\"" + drill + "\"}") == 0.0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  FAIL() << "drill " << drill << " still running after 120 s";
}

nlohmann::json api_runs(const ServingExporter& e, const std::string& drill) {
  auto answer = http_call(e.base_url() + "/api/v1/drills/" + drill + "/runs");
  EXPECT_EQ(answer.status, 200) << answer.body;
  auto j = nlohmann::json::parse(answer.body, nullptr, false);
  if (j.is_object() && j.contains("runs")) return j["runs"];
  return j;
}

// Defect 1: "empty" means nothing a user created. Each database below holds
// one kind of object that the old pg_class/pg_namespace/pg_proc count missed;
// the guard must refuse it and leave it as it was.
TEST(FaultRecord, GuardNeverDropsATargetHoldingUserObjects) {
  ScratchDb source(A(), "fr_guard_src", true);
  const std::string victim = "fr_guard_victim";
  struct Case {
    std::string kind;    // as the refusal names it
    std::string create;  // run in the victim database
    std::string still_there;
  };
  const std::vector<Case> cases{
      {"large objects", "select lo_from_bytea(0, 'precious')",
       "select count(*) = 1 from pg_largeobject_metadata"},
      {"types", "create domain email as text check (value like '%@%')",
       "select to_regtype('email') is not null"},
      {"publications", "create publication everything for all tables",
       "select count(*) = 1 from pg_publication"},
      {"text search configurations", "create text search configuration mine (copy = simple)",
       "select count(*) = 1 from pg_ts_config where cfgname = 'mine'"},
      {"changed privileges on built-in objects", "revoke usage on schema public from public",
       "select not has_schema_privilege('public', 'public', 'usage')"},
      {"database settings", "alter database " + victim + " set work_mem = '7MB'",
       "select count(*) = 1 from pg_db_role_setting s join pg_database d on d.oid = "
       "s.setdatabase where d.datname = current_database()"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.kind);
    ScratchDb target(A(), victim, false);
    sql_exec(A(), victim, c.create);
    auto dir = fresh_dir("fr_guard");
    auto run = run_exporter({"--once"}, runbook_env(source.name(), victim, dir));
    EXPECT_EQ(run.exit_code, 2) << run.output;
    EXPECT_NE(run.output.find("is not empty"), std::string::npos) << run.output;
    EXPECT_NE(run.output.find(c.kind), std::string::npos) << run.output;
    EXPECT_EQ(sql(A(), victim, c.still_there), "t");
    // The refusal is a run with a record: its summary says why.
    auto runs = summaries(dir / "default");
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(runs[0]["failed_phase"], "guard");
    EXPECT_FALSE(has_file_like(dir / "default", "backup_", ".dump"));
  }
  // A database just created is empty: the drill restores into it.
  {
    ScratchDb target(A(), victim, false);
    auto dir = fresh_dir("fr_guard_empty");
    auto run = run_exporter({"--once"}, runbook_env(source.name(), victim, dir));
    EXPECT_EQ(run.exit_code, 0) << run.output;
  }
}

// Defect 8: a wrong password fails in the guard, leaves a summary without
// made-up RTO/RPO figures, and a restart reports it as the last run.
TEST(FaultRecord, WrongPasswordIsARecordedFailureThatSurvivesRestart) {
  ScratchDb source(A(), "fr_pw_src", true);
  const std::string target = "fr_pw_tgt";
  drop_database(A(), target);
  auto dir = fresh_dir("fr_pw");
  auto config = dir / "drill.toml";
  write_file(config, "[exporter]\nartifact_dir = \"" + (dir / "artifacts").string() +
                         "\"\nadmin_token = \"${TOKEN}\"\n" + drill_toml("pw", "${SRC}", target));
  const std::string good = A().url(source.name());
  const std::string wrong = "postgresql://" + A().user + ":wrong-Pass-77e1@" + A().host + ":" +
                            A().port + "/" + source.name();
  auto run = run_exporter({"--config.file=" + config.string(), "--once"},
                          {{"SRC", good}, {"TOKEN", kToken}});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  run = run_exporter({"--config.file=" + config.string(), "--once"},
                     {{"SRC", wrong}, {"TOKEN", kToken}});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("cannot connect to the source"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("wrong-Pass-77e1"), std::string::npos) << run.output;

  const auto folder = dir / "artifacts" / "pw";
  auto runs = summaries(folder);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0]["result"], "failed");
  EXPECT_EQ(runs[0]["failed_phase"], "guard");
  EXPECT_NE(runs[0]["error"].get<std::string>().find("cannot connect to the source"),
            std::string::npos);
  EXPECT_TRUE(runs[0]["rto"]["seconds"].is_null()) << runs[0]["rto"];
  EXPECT_TRUE(runs[0]["rpo"]["seconds"].is_null()) << runs[0]["rpo"];
  EXPECT_EQ(runs[0]["rto"]["compliant"], false);
  const std::string md =
      read_file(folder / ("drill_summary_" + runs[0]["run_id"].get<std::string>() + ".md"));
  EXPECT_NE(md.find("not measured"), std::string::npos) << md;
  EXPECT_EQ(md.find("| 0.00s |"), std::string::npos) << md;
  EXPECT_EQ(runs[1]["result"], "passed");

  ServingExporter e(config, {}, {{"SRC", wrong}, {"TOKEN", kToken}}, dir / "serve.log");
  EXPECT_EQ(e.metric("backupdrill_last_run_success{drill=\"pw\"}"), 0.0);
  EXPECT_GT(e.metric("backupdrill_last_success_timestamp_seconds{drill=\"pw\"}").value_or(0), 0);
  // Not measured: neither met nor breached, so the RTO alert stays silent.
  auto rto_ok = e.metric("backupdrill_rto_compliant{drill=\"pw\"}");
  ASSERT_TRUE(rto_ok.has_value());
  EXPECT_TRUE(std::isnan(*rto_ok)) << *rto_ok;
  auto rpo_ok = e.metric("backupdrill_rpo_compliant{drill=\"pw\"}");
  ASSERT_TRUE(rpo_ok.has_value());
  EXPECT_TRUE(std::isnan(*rpo_ok)) << *rpo_ok;
  auto api = api_runs(e, "pw");
  ASSERT_GE(api.size(), 2u) << api;
  EXPECT_EQ(api[0]["result"], "failed");
  EXPECT_EQ(api[0]["failed_phase"], "guard");
  EXPECT_TRUE(api[0]["rto"]["seconds"].is_null()) << api[0];
  auto page = http_call(e.base_url() + "/");
  EXPECT_NE(page.body.find("FAILED in guard"), std::string::npos) << page.body;
  EXPECT_NE(page.body.find("not measured"), std::string::npos) << page.body;
  EXPECT_EQ(page.body.find("wrong-Pass-77e1"), std::string::npos);
}

// ~45 MB of text (about 60 MB in pg_database_size), for dumps without
// compression that outgrow a small disk.
void add_big_table(const std::string& db) {
  sql_exec(A(), db,
           "create table big as select g as id, md5(g::text) || md5((g + 1)::text) || "
           "md5((g + 2)::text) as payload from generate_series(1, 400000) g");
}

// Mounts a small tmpfs for the artifacts (root only); unmounted at the end.
class SmallDisk {
 public:
  SmallDisk(const std::filesystem::path& dir, const std::string& size) : dir_(dir) {
    std::filesystem::create_directories(dir_);
    mounted_ = std::system(("mount -t tmpfs -o size=" + size + ",mode=0700 tmpfs '" +
                            dir_.string() + "' 2>/dev/null")
                               .c_str()) == 0;
  }
  ~SmallDisk() {
    if (mounted_) std::system(("umount -l '" + dir_.string() + "'").c_str());
  }
  bool mounted() const { return mounted_; }
  bool resize(const std::string& size) {
    return std::system(("mount -o remount,size=" + size + " '" + dir_.string() + "'").c_str()) == 0;
  }

 private:
  std::filesystem::path dir_;
  bool mounted_ = false;
};

// Defect 7: the backup fills the artifact disk (something else writes to it
// while pg_dump runs, so the free-space estimate at the guard could not see
// it coming). The failure is the backup's, the partial dump goes, the run is
// listed with its error, and the next run passes once there is room again.
TEST(FaultRecord, FullDiskFailsTheBackupAndTheNextRunPasses) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a small filesystem needs root";
  auto dir = fresh_dir("fr_full");
  const auto small = dir / "small";
  SmallDisk disk(small, "100m");
  if (!disk.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here";
  ScratchDb source(A(), "fr_full_src", false);
  add_big_table(source.name());
  const std::string target = "fr_full_tgt";
  drop_database(A(), target);
  const auto filler = small / "filler";
  auto bin = tool_wrappers(A(), dir,
                           {{"pg_dump", "[ \"$1\" = --version ] || head -c 80M /dev/zero > '" +
                                            filler.string() + "'\nexec \"$REAL\" \"$@\""}});
  auto config = dir / "drill.toml";
  write_file(config, "[exporter]\nartifact_dir = \"" + small.string() +
                         "\"\nadmin_token = \"${TOKEN}\"\n" +
                         drill_toml("full", A().url(source.name()), target,
                                    "pg_bin_dir = \"" + bin.string() +
                                        "\"\n[drill.backup]\ncompression = \"none\"\n"));
  ServingExporter e(config, {}, {{"TOKEN", kToken}}, dir / "serve.log");
  ASSERT_EQ(post_run(e, "full").status, 202);
  wait_idle(e, "full");
  EXPECT_EQ(e.metric("backupdrill_failures_total{drill=\"full\",phase=\"backup\"}"), 1.0)
      << e.log();
  EXPECT_EQ(e.metric("backupdrill_failures_total{drill=\"full\",phase=\"report\"}"), 0.0);
  EXPECT_EQ(e.metric("backupdrill_last_run_success{drill=\"full\"}"), 0.0);
  const auto folder = small / "full";
  EXPECT_FALSE(has_file_like(folder, "backup_", ".dump")) << "the partial dump must go";
  EXPECT_TRUE(has_file_like(folder, "backup_", ".log")) << "the backup's log stays";
  auto runs = api_runs(e, "full");
  ASSERT_EQ(runs.size(), 1u) << runs;
  EXPECT_EQ(runs[0]["failed_phase"], "backup");
  EXPECT_NE(runs[0]["error"].get<std::string>().find("No space left on device"), std::string::npos)
      << runs[0]["error"];
  EXPECT_TRUE(runs[0]["rto"]["seconds"].is_null());
  EXPECT_FALSE(database_exists(A(), target));
  auto page = http_call(e.base_url() + "/");
  EXPECT_NE(page.body.find("FAILED in backup"), std::string::npos) << page.body;

  // Space is back: the wrapper's filler would take it again, so the drill
  // uses the real pg_dump now.
  std::filesystem::remove(filler);
  std::filesystem::remove_all(bin);
  bin = tool_wrappers(A(), dir, {});
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  ASSERT_EQ(post_run(e, "full").status, 202);
  wait_idle(e, "full");
  EXPECT_EQ(e.metric("backupdrill_last_run_success{drill=\"full\"}"), 1.0) << e.log();
  EXPECT_EQ(api_runs(e, "full").size(), 2u);
  drop_database(A(), target);
}

// Issue 16: free space first. The artifact disk cannot hold the backup: the
// drill fails in the guard, naming both figures, before any byte is written.
TEST(FaultRecord, TooLittleFreeSpaceFailsInTheGuardBeforeAnyByteIsWritten) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a small filesystem needs root";
  auto dir = fresh_dir("fr_space");
  const auto small = dir / "small";
  SmallDisk disk(small, "20m");
  if (!disk.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here";
  ScratchDb source(A(), "fr_space_src", false);
  add_big_table(source.name());
  const std::string target = "fr_space_tgt";
  drop_database(A(), target);
  auto config = dir / "drill.toml";
  write_file(config, "[exporter]\nartifact_dir = \"" + small.string() + "\"\n" +
                         drill_toml("space", A().url(source.name()), target,
                                    "[drill.backup]\ncompression = \"none\"\n"));
  auto run = run_exporter({"--config.file=" + config.string(), "--once"});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("not enough free space for the backup"), std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("MiB are free"), std::string::npos) << run.output;
  const auto folder = small / "space";
  EXPECT_FALSE(has_file_like(folder, "backup_", "")) << "no byte of a backup may be written";
  auto runs = summaries(folder);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0]["failed_phase"], "guard");
  EXPECT_FALSE(database_exists(A(), target));
}

// Issue 16: max_concurrent_drills. Five drills fired at once with room for
// two never run more than two at a time (their summaries' times say so),
// the others wait (backupdrill_queued) and all finish.
TEST(FaultRecord, QueueBoundsConcurrentDrills) {
  ScratchDb source(A(), "fr_queue_src", true);
  auto dir = fresh_dir("fr_queue");
  auto bin = tool_wrappers(
      A(), dir, {{"pg_dump", "[ \"$1\" = --version ] || sleep 2\nexec \"$REAL\" \"$@\""}});
  std::string toml = "[exporter]\nartifact_dir = \"" + (dir / "artifacts").string() +
                     "\"\nadmin_token = \"${TOKEN}\"\nmax_concurrent_drills = 2\n";
  for (int i = 1; i <= 5; ++i) {
    drop_database(A(), "fr_queue_tgt" + std::to_string(i));
    toml +=
        drill_toml("q" + std::to_string(i), A().url(source.name()),
                   "fr_queue_tgt" + std::to_string(i), "pg_bin_dir = \"" + bin.string() + "\"\n");
  }
  auto config = dir / "drill.toml";
  write_file(config, toml);
  ServingExporter e(config, {}, {{"TOKEN", kToken}}, dir / "serve.log");
  for (int i = 1; i <= 5; ++i) ASSERT_EQ(post_run(e, "q" + std::to_string(i)).status, 202);
  // Right after the triggers at least three wait.
  auto scrape = http_call(e.base_url() + "/metrics").body;
  int queued = 0;
  for (int i = 1; i <= 5; ++i) {
    queued += metric_in(scrape, "backupdrill_queued{drill=\"q" + std::to_string(i) + "\"}") == 1.0;
  }
  EXPECT_GE(queued, 3) << scrape;
  auto drills = nlohmann::json::parse(http_call(e.base_url() + "/api/v1/drills").body);
  int queued_in_api = 0;
  for (const auto& d : drills["drills"]) queued_in_api += d.value("queued", false);
  EXPECT_GE(queued_in_api, 1) << drills;
  // A queued drill is not triggered twice.
  EXPECT_EQ(post_run(e, "q5").status, 409);
  for (int i = 1; i <= 5; ++i) wait_idle(e, "q" + std::to_string(i));

  std::vector<std::pair<SystemTime, SystemTime>> spans;
  for (int i = 1; i <= 5; ++i) {
    auto runs = summaries(dir / "artifacts" / ("q" + std::to_string(i)));
    ASSERT_EQ(runs.size(), 1u) << "q" << i;
    EXPECT_EQ(runs[0]["result"], "passed") << runs[0]["error"];
    SystemTime start, end;
    ASSERT_TRUE(parse_iso8601_utc(runs[0]["started_at"].get<std::string>(), start));
    ASSERT_TRUE(parse_iso8601_utc(runs[0]["finished_at"].get<std::string>(), end));
    spans.emplace_back(start, end);
  }
  int most = 0;
  for (const auto& [start, end] : spans) {
    int at_once = 0;  // runs going at the moment this one started
    for (const auto& [s2, e2] : spans) at_once += s2 <= start && start < e2;
    most = std::max(most, at_once);
  }
  EXPECT_LE(most, 2);
  EXPECT_EQ(most, 2) << "two slots: two runs overlap";
  for (int i = 1; i <= 5; ++i) drop_database(A(), "fr_queue_tgt" + std::to_string(i));
}

// Defect 8: a run cut short by kill -9 is recorded at the next start as
// failed in phase "interrupted"; last_run_success says 0.
TEST(FaultRecord, RunKilledMidBackupIsRecordedAsInterrupted) {
  ScratchDb source(A(), "fr_int_src", true);
  const std::string target = "fr_int_tgt";
  drop_database(A(), target);
  auto dir = fresh_dir("fr_int");
  // Slow only for the dump itself: the guard asks for --version first.
  auto bin = tool_wrappers(
      A(), dir, {{"pg_dump", "[ \"$1\" = --version ] || sleep 30\nexec \"$REAL\" \"$@\""}});
  auto config = dir / "drill.toml";
  write_file(config, "[exporter]\nartifact_dir = \"" + (dir / "artifacts").string() +
                         "\"\nadmin_token = \"${TOKEN}\"\n" +
                         drill_toml("int", A().url(source.name()), target,
                                    "pg_bin_dir = \"" + bin.string() + "\"\n"));
  const auto folder = dir / "artifacts" / "int";
  {
    ServingExporter e(config, {}, {{"TOKEN", kToken}}, dir / "serve1.log");
    ASSERT_EQ(post_run(e, "int").status, 202);
    // Until the run's own summary says it is in its backup phase.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    bool in_backup = false;
    while (!in_backup && std::chrono::steady_clock::now() < deadline) {
      auto runs = summaries(folder);
      in_backup = !runs.empty() && runs[0].value("result", "") == "running" &&
                  runs[0].value("current_phase", "") == "backup";
      if (!in_backup) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_TRUE(in_backup) << e.log();
    auto listed = api_runs(e, "int");
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0]["result"], "running");
    e.kill_hard();
  }
  ServingExporter e(config, {}, {{"TOKEN", kToken}}, dir / "serve2.log");
  EXPECT_EQ(e.metric("backupdrill_last_run_success{drill=\"int\"}"), 0.0) << e.log();
  EXPECT_GT(e.metric("backupdrill_last_run_timestamp_seconds{drill=\"int\"}").value_or(0), 0);
  auto runs = api_runs(e, "int");
  ASSERT_EQ(runs.size(), 1u) << runs;
  EXPECT_EQ(runs[0]["result"], "failed");
  EXPECT_EQ(runs[0]["failed_phase"], "interrupted");
  EXPECT_NE(runs[0]["error"].get<std::string>().find("backup phase"), std::string::npos)
      << runs[0]["error"];
  EXPECT_TRUE(runs[0]["rto"]["seconds"].is_null());
  EXPECT_FALSE(has_file_like(folder, "backup_", ".dump"));
  auto md = read_file(folder / ("drill_summary_" + runs[0]["run_id"].get<std::string>() + ".md"));
  EXPECT_NE(md.find("interrupted"), std::string::npos) << md;
}

}  // namespace
}  // namespace backupdrill::testing
