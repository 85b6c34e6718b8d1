// Issue 13: drills of the backups a team already has. The real binary drills
// the newest of three archives in a folder (by header time, not name or
// mtime), never changes them, fails in verify on a tampered archive with
// nothing restored, and measures RPO from the archive's creation time.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "crypto/sha256.h"
#include "exporter_process.h"
#include "process/child_process.h"
#include "support.h"
#include "util/time_format.h"

namespace backupdrill::testing {
namespace {

const Cluster& A() { return cluster("a"); }

void pg_dump(const std::string& db, const std::vector<std::string>& args) {
  ChildSpec spec;
  spec.program = A().bin_dir + "/pg_dump";
  spec.args = args;
  spec.args.push_back(A().socket_conninfo(db));
  auto run = run_capture(spec);
  ASSERT_TRUE(run.status.ok()) << run.out;
}

struct FileState {
  std::string sha256;
  std::filesystem::file_time_type mtime;
};

std::map<std::string, FileState> snapshot_of(const std::filesystem::path& dir) {
  std::map<std::string, FileState> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    files[e.path().string()] = {sha256_file(e.path()), e.last_write_time()};
  }
  return files;
}

nlohmann::json last_summary(const std::filesystem::path& folder) {
  std::filesystem::path newest;
  for (const auto& e : std::filesystem::directory_iterator(folder)) {
    const auto name = e.path().filename().string();
    if (name.rfind("drill_summary_", 0) == 0 && e.path().extension() == ".json" &&
        (newest.empty() || name > newest.filename().string())) {
      newest = e.path();
    }
  }
  return nlohmann::json::parse(read_file(newest));
}

std::string config_for(const std::filesystem::path& dir, const std::string& path,
                       const std::string& target, const std::string& checksum,
                       const std::string& rpo) {
  return "[exporter]\nartifact_dir = \"" + (dir / "artifacts").string() +
         "\"\n[[drill]]\nname = \"nightly\"\ntarget_url = \"" + A().url(target) +
         "\"\nrpo_target = \"" + rpo + "\"\n[drill.backup]\nsource = \"file\"\npath = \"" + path +
         "\"\nchecksum = \"" + checksum +
         "\"\n[[drill.check]]\nplugin = \"sql_assert\"\nname = \"newest\"\nquery = \"select "
         "count(*) from public.generation\"\nexpect = 3\n";
}

class ExistingBackup : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(fresh_dir("existing_backup"));
    backups_ = new std::filesystem::path(*dir_ / "backups");
    std::filesystem::create_directories(*backups_);
    ScratchDb db(A(), "existing_src", false);
    sql_exec(A(), db.name(), "create table public.generation (n int primary key)");
    // Three nightly dumps, one second apart (the header's resolution): the
    // newest is named to sort first, is a custom file with the oldest mtime;
    // the middle one is a directory dump.
    sql_exec(A(), db.name(), "insert into public.generation values (1)");
    pg_dump(db.name(), {"-Fc", "-f", (*backups_ / "c-monday.dump").string()});
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    sql_exec(A(), db.name(), "insert into public.generation values (2)");
    pg_dump(db.name(), {"-Fd", "-f", (*backups_ / "b-tuesday.dump").string()});
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    sql_exec(A(), db.name(), "insert into public.generation values (3)");
    pg_dump(db.name(), {"-Fc", "-f", (*backups_ / "a-wednesday.dump").string()});
    std::filesystem::last_write_time(
        *backups_ / "a-wednesday.dump",
        std::filesystem::file_time_type::clock::now() - std::chrono::hours(72));
  }
  static std::filesystem::path* dir_;
  static std::filesystem::path* backups_;
};
std::filesystem::path* ExistingBackup::dir_ = nullptr;
std::filesystem::path* ExistingBackup::backups_ = nullptr;

TEST_F(ExistingBackup, NewestByHeaderTimeIsDrilledAndNothingIsChanged) {
  const std::string target = "existing_tgt";
  drop_database(A(), target);
  auto before = snapshot_of(*backups_);
  auto dir = fresh_dir("existing_backup_ok");
  write_file(dir / "c.toml",
             config_for(dir, (*backups_ / "*.dump").string(), target, "auto", "24h"));
  auto run = run_exporter({"--config.file=" + (dir / "c.toml").string(), "--once"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(sql(A(), target, "select max(n) from public.generation"), "3");

  auto summary = last_summary(dir / "artifacts" / "nightly");
  EXPECT_EQ(summary["backup"]["source"], "file");
  std::string notes = summary["notes"].dump();
  EXPECT_NE(notes.find("a-wednesday.dump"), std::string::npos) << notes;
  ASSERT_TRUE(summary["snapshot_time"].is_string());
  // RPO is measured from the archive's creation time: seconds, not the
  // drill's own duration.
  ASSERT_TRUE(summary["rpo"]["seconds"].is_number());
  EXPECT_TRUE(summary["rpo"]["compliant"].get<bool>());
  EXPECT_EQ(summary["restore"]["errors"], 0);
  // The archives are read, never written: same bytes, same mtimes, no files added.
  auto after = snapshot_of(*backups_);
  ASSERT_EQ(after.size(), before.size());
  for (const auto& [path, state] : before) {
    EXPECT_EQ(after[path].sha256, state.sha256) << path;
    EXPECT_TRUE(after[path].mtime == state.mtime) << path;
  }
  // The log names it too.
  EXPECT_NE(run.output.find("a-wednesday.dump"), std::string::npos) << run.output;

  // Serve mode reloads the run: the API names the archive and the recovery
  // point gauge is its header time (the summary's snapshot_time).
  ServingExporter serving(dir / "c.toml", {}, {}, dir / "serve.log");
  auto answer = http_call(serving.base_url() + "/api/v1/drills/nightly/runs");
  ASSERT_EQ(answer.status, 200) << answer.body;
  EXPECT_NE(answer.body.find("a-wednesday.dump"), std::string::npos) << answer.body;
  auto runs = nlohmann::json::parse(answer.body);
  EXPECT_EQ(runs["runs"][0]["backup"]["source"], "file") << answer.body;
  SystemTime created{};
  ASSERT_TRUE(parse_iso8601_utc(summary["snapshot_time"].get<std::string>(), created));
  auto gauge = serving.metric("backupdrill_recovery_point_timestamp_seconds{drill=\"nightly\"}");
  ASSERT_TRUE(gauge.has_value()) << serving.log();
  EXPECT_NEAR(*gauge, unix_seconds(created), 0.001);
}

TEST_F(ExistingBackup, AnArchiveOlderThanTheRpoTargetIsNotCompliant) {
  const std::string target = "existing_tgt_rpo";
  drop_database(A(), target);
  auto dir = fresh_dir("existing_backup_rpo");
  write_file(dir / "c.toml",
             config_for(dir, (*backups_ / "*.dump").string(), target, "auto", "1ms"));
  auto run = run_exporter({"--config.file=" + (dir / "c.toml").string(), "--once"});
  ASSERT_EQ(run.exit_code, 0) << run.output;  // the drill passes; its backup is too old
  auto summary = last_summary(dir / "artifacts" / "nightly");
  EXPECT_FALSE(summary["rpo"]["compliant"].get<bool>());
  EXPECT_GT(summary["rpo"]["seconds"].get<double>(), 0.5);
}

TEST_F(ExistingBackup, TamperedArchiveFailsInVerifyAndNothingIsRestored) {
  const std::string target = "existing_tgt_tampered";
  drop_database(A(), target);
  auto copy = fresh_dir("existing_backup_tampered_files");
  std::filesystem::copy_file(*backups_ / "a-wednesday.dump", copy / "a-wednesday.dump");
  // The sidecar recorded another digest: the archive changed after it was made.
  write_file(copy / "a-wednesday.dump.sha256", std::string(64, '0') + "  a-wednesday.dump\n");
  auto dir = fresh_dir("existing_backup_tampered");
  write_file(dir / "c.toml", config_for(dir, (copy / "*.dump").string(), target, "auto", "24h"));
  auto run = run_exporter({"--config.file=" + (dir / "c.toml").string(), "--once"});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  auto summary = last_summary(dir / "artifacts" / "nightly");
  EXPECT_EQ(summary["failed_phase"], "verify") << summary.dump();
  EXPECT_FALSE(database_exists(A(), target));
}

TEST_F(ExistingBackup, RequiredChecksumWithoutSidecarFailsBeforeRestoring) {
  const std::string target = "existing_tgt_required";
  drop_database(A(), target);
  auto dir = fresh_dir("existing_backup_required");
  write_file(dir / "c.toml",
             config_for(dir, (*backups_ / "a-wednesday.dump").string(), target, "required", "24h"));
  auto run = run_exporter({"--config.file=" + (dir / "c.toml").string(), "--once"});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  auto summary = last_summary(dir / "artifacts" / "nightly");
  EXPECT_EQ(summary["failed_phase"], "verify") << summary.dump();
  EXPECT_NE(summary["error"].get<std::string>().find("sha256"), std::string::npos)
      << summary["error"];
  EXPECT_FALSE(database_exists(A(), target));
}

TEST_F(ExistingBackup, NoArchiveIsAFailedBackupPhase) {
  auto dir = fresh_dir("existing_backup_none");
  write_file(dir / "c.toml", config_for(dir, (dir / "nothing-*.dump").string(), "existing_tgt_none",
                                        "auto", "24h"));
  auto run = run_exporter({"--config.file=" + (dir / "c.toml").string(), "--once"});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  auto summary = last_summary(dir / "artifacts" / "nightly");
  EXPECT_EQ(summary["failed_phase"], "backup") << summary.dump();
  EXPECT_NE(summary["error"].get<std::string>().find("no backup found"), std::string::npos)
      << summary["error"];
}

}  // namespace
}  // namespace backupdrill::testing
