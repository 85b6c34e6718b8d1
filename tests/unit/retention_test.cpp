#include <gtest/gtest.h>

#include <fstream>

#include "artifacts/run_history.h"

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

}  // namespace
}  // namespace backupdrill
