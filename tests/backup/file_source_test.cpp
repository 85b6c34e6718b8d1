// source = "file": the newest archive by header time (not name, not mtime),
// what is recorded about it, the sidecar checksum in its three modes, and
// that the user's backups are never modified.
#include "backup/file_source.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <map>

#include "archive_support.h"
#include "backup/source_error.h"
#include "crypto/sha256.h"
#include "support.h"

namespace backupdrill::backup {
namespace {
namespace fs = std::filesystem;
using backupdrill::testing::fresh_dir;
using backupdrill::testing::make_archive;
using backupdrill::testing::set_archive_time;
using backupdrill::testing::shell;
using backupdrill::testing::write_file;

class FileSourceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ::setenv("TZ", "UTC", 1);
    ::tzset();
  }
};

void set_mtime(const fs::path& p, long seconds) {
  struct timespec times[2] = {{seconds, 0}, {seconds, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), times, 0), 0);
}

// What "never modified" is checked against: every file under a folder with
// its SHA-256 and its mtime to the nanosecond, and the folder's listing.
std::map<std::string, std::string> fingerprint(const fs::path& folder) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(folder)) {
    struct stat st {};
    ::lstat(e.path().c_str(), &st);
    std::string what = std::to_string(st.st_mtim.tv_sec) + "." +
                       std::to_string(st.st_mtim.tv_nsec) + " " + std::to_string(st.st_mode);
    if (e.is_regular_file()) what += " " + sha256_file(e.path());
    out[e.path().string()] = what;
  }
  return out;
}

// Three archives of one database: the newest (by header) is the directory
// dump whose name sorts first and whose mtime is the oldest.
struct ThreeArchives {
  fs::path dir;
  ThreeArchives() : dir(fresh_dir("file_source_three")) {
    make_archive("demo_template", "directory", dir / "app_1.dump");
    make_archive("demo_template", "custom", dir / "app_2.dump");
    make_archive("demo_template", "custom", dir / "app_3.dump");
    set_archive_time(dir / "app_1.dump", "2026-11-22 03:00:00");
    set_archive_time(dir / "app_2.dump", "2026-11-20 03:00:00");
    set_archive_time(dir / "app_3.dump", "2026-11-21 03:00:00");
    set_mtime(dir / "app_1.dump", 1000000000);
    set_mtime(dir / "app_2.dump", 1700000000);
    set_mtime(dir / "app_3.dump", 1800000000);
    write_file(dir / "README.txt", "nightly dumps\n");
  }
};

BackupConfig file_config(const fs::path& path, BackupConfig::Checksum checksum) {
  BackupConfig c;
  c.source = BackupConfig::Source::file;
  c.path = path.string();
  c.checksum = checksum;
  return c;
}

TEST_F(FileSourceTest, ChoosesTheNewestByHeaderNotByNameOrMtime) {
  ThreeArchives a;
  auto chosen = find_newest_file_archive((a.dir / "app_*.dump").string());
  EXPECT_EQ(chosen.path, a.dir / "app_1.dump");
  EXPECT_EQ(chosen.header.format, ArchiveHeader::Format::directory);
  EXPECT_EQ(iso8601_utc(chosen.header.created_at), "2026-11-22T03:00:00.000Z");
  EXPECT_NE(chosen.reason.find("the newest of 3 archives"), std::string::npos) << chosen.reason;
  EXPECT_NE(chosen.reason.find("2026-11-22 03:00:00"), std::string::npos) << chosen.reason;
  EXPECT_NE(chosen.reason.find("next newest app_3.dump, created 2026-11-21 03:00:00"),
            std::string::npos)
      << chosen.reason;

  // Make a custom-format one the newest: the choice follows the header.
  set_archive_time(a.dir / "app_2.dump", "2026-11-23 03:00:00");
  chosen = find_newest_file_archive((a.dir / "*.dump").string());
  EXPECT_EQ(chosen.path, a.dir / "app_2.dump");
}

TEST_F(FileSourceTest, NonArchivesArePassedOverAndNamed) {
  ThreeArchives a;
  write_file(a.dir / "app_0.dump", "");  // a dump that a full disk cut to nothing
  auto chosen = find_newest_file_archive((a.dir / "*").string());
  EXPECT_EQ(chosen.path, a.dir / "app_1.dump");
  EXPECT_NE(chosen.reason.find((a.dir / "app_0.dump").string() + ": the file is empty"),
            std::string::npos)
      << chosen.reason;
  EXPECT_NE(chosen.reason.find("README.txt: not a pg_dump archive"), std::string::npos);
  EXPECT_EQ(chosen.candidates.size(), 5u);
}

TEST_F(FileSourceTest, RecordsSizeAndSha256OfWhatWasChosen) {
  ThreeArchives a;
  set_archive_time(a.dir / "app_3.dump", "2026-11-29 03:00:00");
  auto chosen =
      select_file_archive(file_config(a.dir / "*.dump", BackupConfig::Checksum::automatic));
  EXPECT_EQ(chosen.path, a.dir / "app_3.dump");
  EXPECT_EQ(chosen.size_bytes, fs::file_size(a.dir / "app_3.dump"));
  EXPECT_EQ(chosen.sha256, sha256_file(a.dir / "app_3.dump"));
  EXPECT_EQ(chosen.checksum, ChecksumOutcome::absent);

  // A directory dump: its toc.dat's digest and the size of all its files.
  set_archive_time(a.dir / "app_1.dump", "2026-11-30 03:00:00");
  chosen = select_file_archive(file_config(a.dir / "*.dump", BackupConfig::Checksum::automatic));
  EXPECT_EQ(chosen.sha256, sha256_file(a.dir / "app_1.dump" / "toc.dat"));
  unsigned long long total = 0;
  int files = 0;
  for (const auto& e : fs::directory_iterator(a.dir / "app_1.dump")) {
    total += fs::file_size(e.path());
    ++files;
  }
  EXPECT_EQ(chosen.size_bytes, total);
  EXPECT_EQ(chosen.files_hashed, files);
}

std::string verify_error(const BackupConfig& config) {
  try {
    select_file_archive(config);
  } catch (const BackupVerifyError& e) {
    return e.what();
  }
  return "(verified)";
}

TEST_F(FileSourceTest, SidecarOfACustomFileIsVerifiedAndATamperedArchiveFails) {
  fs::path dir = fresh_dir("file_source_sidecar");
  make_archive("demo_template", "custom", dir / "app.dump");
  shell("cd '" + dir.string() + "' && sha256sum app.dump > app.dump.sha256");
  auto chosen = select_file_archive(file_config(dir / "*.dump", BackupConfig::Checksum::required));
  EXPECT_EQ(chosen.checksum, ChecksumOutcome::verified);
  EXPECT_EQ(chosen.sidecar, dir / "app.dump.sha256");

  // One byte changed well after the header: the header still reads, the
  // checksum does not match, verify fails (in every mode but none).
  shell("printf 'X' | dd of='" + (dir / "app.dump").string() +
        "' bs=1 seek=2000 conv=notrunc status=none");
  for (auto mode : {BackupConfig::Checksum::automatic, BackupConfig::Checksum::required}) {
    std::string error = verify_error(file_config(dir / "app.dump", mode));
    EXPECT_NE(error.find("SHA-256 mismatch"), std::string::npos) << error;
    EXPECT_NE(error.find("not restored"), std::string::npos) << error;
  }
  EXPECT_EQ(verify_error(file_config(dir / "app.dump", BackupConfig::Checksum::none)),
            "(verified)");
}

TEST_F(FileSourceTest, RequiredWithoutSidecarRefusesAndAutoRecordsItsAbsence) {
  fs::path dir = fresh_dir("file_source_required");
  make_archive("demo_template", "custom", dir / "app.dump");
  std::string error = verify_error(file_config(dir / "app.dump", BackupConfig::Checksum::required));
  EXPECT_NE(error.find("checksum = \"required\""), std::string::npos) << error;
  EXPECT_NE(error.find((dir / "app.dump.sha256").string()), std::string::npos) << error;
  auto chosen =
      select_file_archive(file_config(dir / "app.dump", BackupConfig::Checksum::automatic));
  EXPECT_EQ(chosen.checksum, ChecksumOutcome::absent);
  chosen = select_file_archive(file_config(dir / "app.dump", BackupConfig::Checksum::none));
  EXPECT_EQ(chosen.checksum, ChecksumOutcome::not_checked);
}

TEST_F(FileSourceTest, ASidecarWithoutALineForTheArchiveFails) {
  fs::path dir = fresh_dir("file_source_wrong_sidecar");
  make_archive("demo_template", "custom", dir / "app.dump");
  write_file(dir / "app.dump.sha256", std::string(64, 'a') + "  other.dump\n");
  std::string error =
      verify_error(file_config(dir / "app.dump", BackupConfig::Checksum::automatic));
  EXPECT_NE(error.find("has no line for app.dump"), std::string::npos) << error;
  // The bad line is described by its number, never quoted (issue 22).
  write_file(dir / "app.dump.sha256", "not a checksum\n");
  error = verify_error(file_config(dir / "app.dump", BackupConfig::Checksum::automatic));
  EXPECT_NE(error.find("app.dump.sha256: line 1 is not in sha256sum format"), std::string::npos)
      << error;
  EXPECT_EQ(error.find("not a checksum"), std::string::npos) << error;
}

// The drill's own artifacts (backup_<ts>.dump with backup_<ts>.sha256) can be
// drilled as a file source: the <stem>.sha256 form is found.
TEST_F(FileSourceTest, TheDrillsOwnStemSidecarIsFound) {
  fs::path dir = fresh_dir("file_source_stem");
  make_archive("demo_template", "custom", dir / "backup_20261129T040000Z.dump");
  shell("cd '" + dir.string() +
        "' && sha256sum backup_20261129T040000Z.dump > backup_20261129T040000Z.sha256");
  auto chosen =
      select_file_archive(file_config(dir / "backup_*.dump", BackupConfig::Checksum::required));
  EXPECT_EQ(chosen.checksum, ChecksumOutcome::verified);
  EXPECT_EQ(chosen.sidecar, dir / "backup_20261129T040000Z.sha256");
}

TEST_F(FileSourceTest, DirectoryDumpSidecarCoversEveryFile) {
  fs::path dir = fresh_dir("file_source_dir_sidecar");
  make_archive("demo_template", "directory", dir / "app.dir");
  shell("cd '" + dir.string() + "' && sha256sum app.dir/* > app.dir.sha256");
  auto config = file_config(dir / "app.dir", BackupConfig::Checksum::required);
  auto chosen = select_file_archive(config);
  EXPECT_EQ(chosen.checksum, ChecksumOutcome::verified);
  EXPECT_GT(chosen.files_hashed, 3);

  // A trailing slash names the same dump and the same sidecar.
  config.path = (dir / "app.dir").string() + "/";
  EXPECT_EQ(select_file_archive(config).checksum, ChecksumOutcome::verified);
  config.path = (dir / "app.dir").string();

  write_file(dir / "app.dir" / "9999.dat.gz", "added later");
  EXPECT_NE(verify_error(config).find("app.dir/9999.dat.gz is not listed"), std::string::npos);
  fs::remove(dir / "app.dir" / "9999.dat.gz");

  fs::path data;
  for (const auto& e : fs::directory_iterator(dir / "app.dir")) {
    if (e.path().filename() != "toc.dat") data = e.path();
  }
  std::string saved = backupdrill::testing::read_file(data);
  shell("printf 'X' >> '" + data.string() + "'");
  EXPECT_NE(verify_error(config).find("SHA-256 mismatch"), std::string::npos);
  fs::remove(data);
  EXPECT_NE(verify_error(config).find("but missing from the dump"), std::string::npos);
  write_file(data, saved);
  EXPECT_EQ(select_file_archive(config).checksum, ChecksumOutcome::verified);
}

TEST_F(FileSourceTest, NothingTheSourceReadsIsModified) {
  ThreeArchives a;
  shell("cd '" + a.dir.string() +
        "' && sha256sum app_2.dump > app_2.dump.sha256 && sha256sum app_1.dump/* > "
        "app_1.dump.sha256");
  auto before = fingerprint(a.dir);
  for (auto mode : {BackupConfig::Checksum::automatic, BackupConfig::Checksum::required}) {
    auto chosen = select_file_archive(file_config(a.dir / "*.dump", mode));
    EXPECT_EQ(chosen.checksum, ChecksumOutcome::verified);
  }
  EXPECT_THROW(
      select_file_archive(file_config(a.dir / "app_3.dump", BackupConfig::Checksum::required)),
      BackupVerifyError);
  EXPECT_EQ(fingerprint(a.dir), before);
}

std::string source_error(const std::string& path) {
  try {
    find_newest_file_archive(path);
  } catch (const BackupSourceError& e) {
    return e.what();
  }
  return "(found)";
}

TEST_F(FileSourceTest, NoBackupFoundSaysWhy) {
  fs::path dir = fresh_dir("file_source_none");
  EXPECT_NE(source_error((dir / "*.dump").string()).find("no backup found: path"),
            std::string::npos);
  EXPECT_NE(source_error((dir / "x.dump").string())
                .find("no backup found: " + (dir / "x.dump").string() + " does not exist"),
            std::string::npos);
  write_file(dir / "a.dump", "garbage");
  std::string error = source_error((dir / "*.dump").string());
  EXPECT_NE(error.find("none is a readable pg_dump archive"), std::string::npos) << error;
  EXPECT_NE(error.find("a.dump: not a pg_dump archive"), std::string::npos) << error;
  error = source_error(dir.string());
  EXPECT_NE(error.find("not a directory-format dump"), std::string::npos) << error;
  EXPECT_NE(error.find(dir.string() + "/*.dump"), std::string::npos) << error;
}

}  // namespace
}  // namespace backupdrill::backup
