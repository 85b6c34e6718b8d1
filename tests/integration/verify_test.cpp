// The verify phase on a real pg_dump archive: a file that changed after its
// checksum was recorded is refused before anything is restored.
#include "backup/verify.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "backup/archive_stream_decoder.h"
#include "backup/pg_dump_source.h"
#include "crypto/sha256.h"
#include "process/child_process.h"
#include "support.h"

namespace backupdrill::testing {
namespace {

// `run` must throw std::runtime_error naming each of `expected`; `passed`
// says what it means when it does not throw.
void expect_fails_naming(const std::function<void()>& run, const std::vector<std::string>& expected,
                         const std::string& passed) {
  try {
    run();
    ADD_FAILURE() << passed;
  } catch (const std::runtime_error& e) {
    for (const auto& part : expected) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
  }
}

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
  expect_fails_naming([&] { verify(); }, {"SHA-256 mismatch", "not restored"},
                      "a truncated dump passed verify");
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
  expect_fails_naming([&] { verify(); }, {"cannot read the whole archive"},
                      "a file that is not a dump passed verify");
}

TEST_F(VerifyPhase, ChecksumFileCannotPointOutsideTheFolder) {
  write_file(dir_ / "backup_X.sha256", sha256_file(dump_) + "  ../../etc/passwd\n");
  EXPECT_THROW(verify(), std::runtime_error);
}

// A fresh dump is decoded by pg_restore while it is written (issue 16), so the
// verify phase no longer decodes it again: it must still refuse a file that
// changed on disk between the backup and the verify phase.
class StreamedVerify : public ::testing::Test {
 protected:
  void SetUp() override {
    const Cluster& a = cluster("a");
    dir_ = fresh_dir(std::string("verify_streamed_") +
                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    session_.drill = "verify";
    session_.source.conninfo = pg::ConnInfo::parse(a.socket_conninfo("demo_template"));
    session_.pg_dump = pg::probe_tool(a.bin_dir + "/pg_dump");
    session_.pg_restore = pg::probe_tool(a.bin_dir + "/pg_restore");
    archive_ = source_.produce(session_, BackupRequest{dir_, RunArtifactNames{"X"}, {}});
  }

  ArchiveVerification verify() { return source_.verify(session_, dir_, archive_); }

  BackupConfig config_;
  PgDumpSource source_{config_};
  std::filesystem::path dir_;
  PgSession session_;
  BackupArchive archive_;
};

TEST_F(StreamedVerify, FreshDumpIsDecodedWhileWrittenAndPasses) {
  EXPECT_TRUE(archive_.decoded_in_stream);
  EXPECT_FALSE(archive_.decode_failure) << *archive_.decode_failure;
  EXPECT_EQ(archive_.sha256, sha256_file(archive_.dump));
  auto result = verify();
  EXPECT_GT(result.toc_entries, 50);
  EXPECT_EQ(result.files_checked, 1);
  // The decoder's messages file is gone: only the run's artifacts remain.
  for (const auto& e : std::filesystem::directory_iterator(dir_)) {
    EXPECT_EQ(e.path().filename().string().find(".decode"), std::string::npos) << e.path();
  }
}

TEST_F(StreamedVerify, ArchiveTruncatedAfterTheBackupFailsInVerify) {
  std::filesystem::resize_file(archive_.dump, std::filesystem::file_size(archive_.dump) / 2);
  expect_fails_naming([&] { verify(); }, {"SHA-256 mismatch"},
                      "a dump truncated after the backup passed verify");
}

TEST_F(StreamedVerify, ByteFlippedAfterTheBackupFailsInVerify) {
  std::string bytes = read_file(archive_.dump);
  bytes[bytes.size() / 2] ^= 0x5a;
  write_file(archive_.dump, bytes, 0600);
  expect_fails_naming([&] { verify(); }, {"not restored"},
                      "a dump changed after the backup passed verify");
}

// Archive and checksum file both replaced (by another valid dump): the
// checksum file agrees, but these are not the bytes that were decoded.
TEST_F(StreamedVerify, ArchiveAndChecksumReplacedAfterTheBackupFailInVerify) {
  std::string bytes = read_file(archive_.dump);
  bytes += std::string(16, '\0');  // other bytes, with a checksum file made to agree
  write_file(archive_.dump, bytes, 0600);
  write_file(archive_.checksum, sha256_file(archive_.dump) + "  backup_X.dump\n", 0600);
  expect_fails_naming([&] { verify(); }, {"decoded while the backup was written"},
                      "a replaced dump passed verify");
}

// The decoder itself: bytes that are not a whole archive are reported, and
// the verify phase fails on that report even though the file matches its
// checksum (a dump pg_dump wrote broken).
TEST_F(StreamedVerify, ArchiveTheDecoderCouldNotReadFailsInVerify) {
  std::string bytes = read_file(archive_.dump);
  ArchiveStreamDecoder decoder(session_, dir_ / ".decode.tmp");
  decoder.feed(bytes.data(), bytes.size() / 2);
  auto failure = decoder.finish(Deadline::max(), {});
  ASSERT_TRUE(failure.has_value()) << "half an archive decoded";
  EXPECT_NE(failure->find("pg_restore"), std::string::npos) << *failure;

  archive_.decode_failure = failure;
  expect_fails_naming([&] { verify(); }, {"cannot read the whole archive"},
                      "an archive its decoder could not read passed verify");
}

}  // namespace
}  // namespace backupdrill::testing
