// The verify phase on a real pg_dump archive: a file that changed after its
// checksum was recorded is refused before anything is restored.
#include "backup/verify.h"

#include <gtest/gtest.h>

#include "crypto/sha256.h"
#include "process/child_process.h"
#include "support.h"

namespace backupdrill::testing {
namespace {

class VerifyPhase : public ::testing::Test {
 protected:
  void SetUp() override {
    const Cluster& a = cluster("a");
    // One folder per test: ctest runs them in parallel.
    dir_ = fresh_dir(std::string("verify_") +
                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    dump_ = dir_ / "backup_X.dump";
    ChildSpec spec;
    spec.program = a.bin_dir + "/pg_dump";
    spec.args = {"--format=custom", "--file=" + dump_.string(),
                 "--dbname=" + a.socket_conninfo("demo_template")};
    auto run = run_capture(spec);
    ASSERT_TRUE(run.status.ok()) << run.out;
    write_file(dir_ / "backup_X.sha256", sha256_file(dump_) + "  backup_X.dump\n");
    session_.pg_restore = pg::probe_tool(a.bin_dir + "/pg_restore");
  }

  VerifyResult verify() { return run_verify(session_, dir_, dir_ / "backup_X.sha256", dump_); }

  std::filesystem::path dir_, dump_;
  PgSession session_;
};

TEST_F(VerifyPhase, IntactArchivePasses) {
  auto result = verify();
  EXPECT_GT(result.toc_entries, 50);
  EXPECT_EQ(result.files_checked, 1);
}

TEST_F(VerifyPhase, TruncatedArchiveFailsOnTheChecksum) {
  std::filesystem::resize_file(dump_, std::filesystem::file_size(dump_) / 2);
  try {
    verify();
    FAIL() << "a truncated dump passed verify";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("SHA-256 mismatch"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("not restored"), std::string::npos) << e.what();
  }
}

TEST_F(VerifyPhase, FlippedByteFailsOnTheChecksum) {
  std::string bytes = read_file(dump_);
  bytes[bytes.size() / 2] ^= 0x5a;
  write_file(dump_, bytes, 0600);
  EXPECT_THROW(verify(), std::runtime_error);
}

TEST_F(VerifyPhase, ArchiveThatIsNotADumpFailsInPgRestore) {
  write_file(dump_, std::string(4096, 'x'), 0600);
  write_file(dir_ / "backup_X.sha256", sha256_file(dump_) + "  backup_X.dump\n");
  try {
    verify();
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot read the whole archive"), std::string::npos)
        << e.what();
  }
}

TEST_F(VerifyPhase, ChecksumFileCannotPointOutsideTheFolder) {
  write_file(dir_ / "backup_X.sha256", sha256_file(dump_) + "  ../../etc/passwd\n");
  EXPECT_THROW(verify(), std::runtime_error);
}

}  // namespace
}  // namespace backupdrill::testing
