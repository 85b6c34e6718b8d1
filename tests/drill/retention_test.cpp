#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "artifacts/run_history.h"
#include "drill/run_journal.h"
#include "model/run_record_json.h"
#include "util/process_identity.h"

namespace backupdrill {
namespace {

class Retention : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("bd_retention_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void add_run(const std::string& stamp, bool success) {
    for (const std::string prefix : {"backup_", "restore_", "validation_"}) {
      std::ofstream(dir_ / (prefix + stamp + (prefix == "backup_" ? ".dump" : ".txt"))) << "x";
    }
    RunRecord r;
    r.drill = "d";
    r.run_id = stamp;
    r.success = success;
    std::ofstream(dir_ / ("drill_summary_" + stamp + ".json")) << to_json(r).dump();
  }

  std::filesystem::path dir_;
};

TEST_F(Retention, KeepsTheNewestRunsAndTheNewestSuccess) {
  add_run("20261101T040000Z", true);  // newest success: kept although old
  add_run("20261102T040000Z", false);
  add_run("20261103T040000Z", false);
  add_run("20261104T040000Z", false);
  std::ofstream(dir_ / "unrelated.txt") << "kept";
  auto deleted = apply_retention(dir_, 2);
  EXPECT_EQ(deleted, std::vector<std::string>{"20261102T040000Z"});
  auto stamps = run_stamps(dir_);
  EXPECT_EQ(stamps,
            (std::vector<std::string>{"20261104T040000Z", "20261103T040000Z", "20261101T040000Z"}));
  EXPECT_TRUE(std::filesystem::exists(dir_ / "unrelated.txt"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "backup_20261102T040000Z.dump"));
  auto runs = load_runs(dir_, 10);
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs.front().run_id, "20261104T040000Z");
  EXPECT_TRUE(load_newest_run(dir_).has_value());
}

TEST_F(Retention, UnreadableSummaryIsSkipped) {
  add_run("20261101T040000Z", true);
  std::ofstream(dir_ / "drill_summary_20261105T040000Z.json") << "{ not json";
  auto runs = load_runs(dir_, 10);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].run_id, "20261101T040000Z");
}

// A pid that certainly names no live process: a child that has exited and
// been reaped.
pid_t dead_pid() {
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return pid;
}

TEST(ProcessIdentity, TellsALiveProcessFromAGoneOrReusedOne) {
  const std::string me = process_identity(::getpid());
  ASSERT_FALSE(me.empty());
  EXPECT_TRUE(process_alive(::getpid(), me));
  EXPECT_FALSE(process_alive(::getpid(), me + "0"));  // same pid, another process
  EXPECT_FALSE(process_alive(dead_pid(), ""));
}

TEST_F(Retention, InterruptedRunsAreRecordedAsFailedOnlyWhenTheirProcessIsGone) {
  auto in_progress = [&](const std::string& stamp, pid_t pid, const std::string& phase) {
    RunRecord r;
    r.drill = "d";
    r.run_id = stamp;
    r.in_progress = true;
    r.current_phase = phase;
    r.exporter_pid = pid;
    r.exporter_identity = process_identity(pid);
    std::ofstream(dir_ / ("drill_summary_" + stamp + ".json")) << to_json(r).dump();
  };
  in_progress("20261101T040000Z", dead_pid(), "backup");
  std::ofstream(dir_ / "backup_20261101T040000Z.dump") << "cut sho";
  std::ofstream(dir_ / "backup_20261101T040000Z.log") << "pg_dump: dumping contents";
  in_progress("20261102T040000Z", ::getpid(), "restore");  // alive: left alone

  auto done = finalize_interrupted_runs(dir_);
  EXPECT_EQ(done, std::vector<std::string>{"20261101T040000Z"});
  auto runs = load_runs(dir_, 10);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_TRUE(runs[0].in_progress);
  EXPECT_FALSE(runs[1].in_progress);
  EXPECT_FALSE(runs[1].success);
  EXPECT_EQ(runs[1].failed_phase, "interrupted");
  EXPECT_NE(runs[1].error.find("during the backup phase"), std::string::npos) << runs[1].error;
  EXPECT_FALSE(runs[1].rto_seconds.has_value());
  EXPECT_FALSE(std::filesystem::exists(dir_ / "backup_20261101T040000Z.dump"));
  EXPECT_TRUE(std::filesystem::exists(dir_ / "backup_20261101T040000Z.log"));
  EXPECT_TRUE(std::filesystem::exists(dir_ / "drill_summary_20261101T040000Z.md"));
  EXPECT_TRUE(finalize_interrupted_runs(dir_).empty()) << "recorded once";
}

}  // namespace
}  // namespace backupdrill
