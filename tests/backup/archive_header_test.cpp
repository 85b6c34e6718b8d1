// The archive header reader against real pg_dump archives (compared with
// what pg_restore --list says about them), and against truncated, damaged
// and foreign files, which must give a clear error and never crash.
#include "backup/archive_header.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <random>

#include "archive_support.h"
#include "support.h"

namespace backupdrill::backup {
namespace {
namespace fs = std::filesystem;
using backupdrill::testing::fresh_dir;
using backupdrill::testing::list_field;
using backupdrill::testing::make_archive;
using backupdrill::testing::pg_restore_list;
using backupdrill::testing::read_file;
using backupdrill::testing::write_file;

// The header of a file read as the file source reads it: inside its folder.
ArchiveHeader header_of(const fs::path& path) {
  return read_archive_header(ContainedFolder(storage_folder_of(path.string())), path);
}

class ArchiveHeaderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // The archives are made in UTC; read them in UTC too (see created_at).
    ::setenv("TZ", "UTC", 1);
    ::tzset();
  }
};

// Every field the reader returns equals pg_restore --list's, and the time is
// the dump's: between just before and just after pg_dump ran.
void expect_matches_pg_restore(const fs::path& archive, ArchiveHeader::Format format,
                               SystemTime before, SystemTime after) {
  ArchiveHeader h = header_of(archive);
  std::string listing = pg_restore_list(archive);
  EXPECT_EQ(h.format, format);
  EXPECT_EQ(h.created_local + " UTC", list_field(listing, "Archive created at"));
  EXPECT_EQ(h.database, list_field(listing, "dbname:"));
  EXPECT_EQ(h.server_version, list_field(listing, "Dumped from database version:"));
  EXPECT_EQ(h.pg_dump_version, list_field(listing, "Dumped by pg_dump version:"));
  EXPECT_EQ(h.archive_version(), list_field(listing, "Dump Version:"));
  EXPECT_GE(h.created_at, std::chrono::time_point_cast<std::chrono::seconds>(before));
  EXPECT_LE(h.created_at, after);
}

TEST_F(ArchiveHeaderTest, CustomFormatMatchesPgRestoreList) {
  fs::path dir = fresh_dir("header_custom");
  auto before = std::chrono::system_clock::now();
  make_archive("demo_template", "custom", dir / "a.dump");
  auto after = std::chrono::system_clock::now();
  expect_matches_pg_restore(dir / "a.dump", ArchiveHeader::Format::custom, before, after);
  EXPECT_EQ(header_of(dir / "a.dump").database, "demo_template");
}

TEST_F(ArchiveHeaderTest, DirectoryFormatMatchesPgRestoreList) {
  fs::path dir = fresh_dir("header_directory");
  auto before = std::chrono::system_clock::now();
  make_archive("demo_template", "directory", dir / "a.dir");
  auto after = std::chrono::system_clock::now();
  expect_matches_pg_restore(dir / "a.dir", ArchiveHeader::Format::directory, before, after);
}

TEST_F(ArchiveHeaderTest, TarFormatMatchesPgRestoreList) {
  fs::path dir = fresh_dir("header_tar");
  auto before = std::chrono::system_clock::now();
  make_archive("demo_template", "tar", dir / "a.tar");
  auto after = std::chrono::system_clock::now();
  expect_matches_pg_restore(dir / "a.tar", ArchiveHeader::Format::tar, before, after);
}

TEST_F(ArchiveHeaderTest, RewrittenTimeIsReadBackAndPgRestoreAgrees) {
  fs::path dir = fresh_dir("header_rewritten");
  make_archive("demo_template", "custom", dir / "a.dump");
  backupdrill::testing::set_archive_time(dir / "a.dump", "2026-01-02 03:04:05");
  ArchiveHeader h = header_of(dir / "a.dump");
  EXPECT_EQ(h.created_local, "2026-01-02 03:04:05");
  EXPECT_EQ(iso8601_utc(h.created_at), "2026-01-02T03:04:05.000Z");
  EXPECT_EQ(list_field(pg_restore_list(dir / "a.dump"), "Archive created at"),
            "2026-01-02 03:04:05 UTC");
}

// Every prefix of a real header shorter than the header is refused with an
// error naming the origin; the whole header parses.
TEST_F(ArchiveHeaderTest, EveryTruncationIsAClearError) {
  fs::path dir = fresh_dir("header_truncated");
  make_archive("demo_template", "custom", dir / "a.dump");
  std::string bytes = read_file(dir / "a.dump").substr(0, kArchiveHeaderMaxBytes);
  size_t complete = 0;
  for (size_t n = 0; n <= bytes.size(); ++n) {
    try {
      parse_archive_header(std::string_view(bytes).substr(0, n), "x.dump");
      complete = n;
      break;
    } catch (const ArchiveHeaderError& e) {
      EXPECT_EQ(std::string(e.what()).rfind("x.dump: ", 0), 0u) << e.what();
    }
  }
  ASSERT_GT(complete, 100u);  // three strings and ten integers
  EXPECT_LT(complete, 400u);
  write_file(dir / "cut.dump", bytes.substr(0, complete - 3));
  try {
    header_of(dir / "cut.dump");
    FAIL() << "a truncated header was accepted";
  } catch (const ArchiveHeaderError& e) {
    EXPECT_NE(std::string(e.what()).find((dir / "cut.dump").string()), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
  }
}

// Random damage after the signature: an ArchiveHeaderError or a parse, never
// a crash, a hang or another exception (run under ASan by the fuzz build).
TEST_F(ArchiveHeaderTest, RandomDamageNeverCrashes) {
  fs::path dir = fresh_dir("header_damage");
  make_archive("demo_template", "custom", dir / "a.dump");
  std::string real = read_file(dir / "a.dump").substr(0, 400);
  std::mt19937 rng(1234);
  int refused = 0;
  for (int i = 0; i < 5000; ++i) {
    std::string bytes = real;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) {
      bytes[5 + rng() % (bytes.size() - 5)] = static_cast<char>(rng() & 0xff);
    }
    if (i % 2 == 1) bytes.resize(rng() % bytes.size());
    try {
      parse_archive_header(bytes, "fuzz");
    } catch (const ArchiveHeaderError&) {
      ++refused;
    }
  }
  EXPECT_GT(refused, 1000);
}

std::string error_of(const std::string& bytes) {
  try {
    parse_archive_header(bytes, "f");
  } catch (const ArchiveHeaderError& e) {
    return e.what();
  }
  return "(parsed)";
}

std::string error_of_path(const fs::path& path) {
  try {
    header_of(path);
  } catch (const ArchiveHeaderError& e) {
    return e.what();
  }
  return "(parsed)";
}

TEST_F(ArchiveHeaderTest, ForeignFilesSayWhatTheyAre) {
  EXPECT_EQ(error_of(""), "f: the file is empty");
  EXPECT_NE(error_of("\x1f\x8b\x08\x00rest").find("gzip-compressed"), std::string::npos);
  EXPECT_NE(error_of("--\n-- PostgreSQL database dump\n--\n").find("plain SQL dump"),
            std::string::npos);
  EXPECT_NE(error_of("hello world").find("no PGDMP signature"), std::string::npos);
  EXPECT_NE(error_of(std::string("PGDMP\x02\x00\x00", 8)).find("version 2.0-0 is not supported"),
            std::string::npos);
  EXPECT_NE(error_of(std::string("PGDMP\x01\x0e\x00\x04\x08\x01\x02", 12)).find("sign byte"),
            std::string::npos);
  EXPECT_NE(error_of(std::string("PGDMP\x01\x0e\x00\x63\x08\x01", 11)).find("integer size 99"),
            std::string::npos);

  fs::path dir = fresh_dir("header_foreign");
  fs::create_directories(dir / "folder");
  EXPECT_NE(error_of_path(dir / "folder").find("without toc.dat"), std::string::npos);
  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);
  EXPECT_NE(error_of_path(dir / "fifo").find("not a regular file"), std::string::npos);
  EXPECT_NE(error_of_path(dir / "missing").find("missing"), std::string::npos);
}

// A header written like pg_dump writes it (WriteHead), for layouts the
// installed pg_dump does not produce.
std::string write_int(long long v) {
  std::string out(1, v < 0 ? '\1' : '\0');
  unsigned long long u = static_cast<unsigned long long>(v < 0 ? -v : v);
  for (int i = 0; i < 4; ++i) out += static_cast<char>((u >> (8 * i)) & 0xff);
  return out;
}
std::string write_str(const std::string& s) {
  return write_int(static_cast<long long>(s.size())) + s;
}

std::string synthetic(int minor, long long name_length = -2) {
  std::string h = "PGDMP";
  h += '\1';
  h += static_cast<char>(minor);
  h += '\0';
  h += std::string("\x04\x08\x01", 3);
  if (minor >= 15) {
    h += '\1';  // gzip
  } else {
    h += write_int(-1);
  }
  for (long long v : {7, 8, 9, 10, 5, 126, 0}) h += write_int(v);  // 2026-06-10 09:08:07
  h += name_length == -2 ? write_str("app") : write_int(name_length);
  h += write_str("16.4");
  h += write_str("16.4");
  return h;
}

TEST_F(ArchiveHeaderTest, ReadsThePostgres16LayoutWithACompressionByte) {
  ArchiveHeader h = parse_archive_header(synthetic(15), "f");
  EXPECT_EQ(h.archive_version(), "1.15-0");
  EXPECT_EQ(h.created_local, "2026-06-10 09:08:07");
  EXPECT_EQ(h.database, "app");
  EXPECT_EQ(h.server_version, "16.4");
  EXPECT_EQ(parse_archive_header(synthetic(14), "f").created_local, "2026-06-10 09:08:07");
}

TEST_F(ArchiveHeaderTest, HugeOrNegativeStringLengthsAreRefused) {
  EXPECT_NE(error_of(synthetic(14, 1LL << 30)).find("claims"), std::string::npos);
  EXPECT_NE(error_of(synthetic(14, -7)).find("claims -7 bytes"), std::string::npos);
  EXPECT_NE(error_of(synthetic(14, 500)).find("truncated"), std::string::npos);
}

TEST_F(ArchiveHeaderTest, ImpossibleDatesAreRefused) {
  std::string h = synthetic(14);
  h[16 + 5 * 4 + 1] = 13;  // month 13 (tm_mon is the fifth integer)
  EXPECT_NE(error_of(h).find("not a valid date"), std::string::npos);
}

}  // namespace
}  // namespace backupdrill::backup
