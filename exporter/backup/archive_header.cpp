#include "backup/archive_header.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <ctime>

#include "util/bounded_text.h"
#include "util/contained_file.h"

namespace backupdrill::backup {
namespace {

// pg_dump's archive versions (pg_backup_archiver.h): 1.10 added the server
// and pg_dump version strings (PostgreSQL 8.0); 1.15 replaced the
// compression level by a compression algorithm byte (PostgreSQL 16).
constexpr int kOldestMinor = 10;
constexpr int kCompressionByteMinor = 15;
constexpr size_t kMaxString = 1024;  // a database name is at most 63 bytes

// The reads of ReadHead() in pg_backup_archiver.c, each bounds-checked.
class HeaderReader {
 public:
  HeaderReader(std::string_view bytes, const std::string& origin)
      : bytes_(bytes), origin_(origin) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw ArchiveHeaderError(origin_ + ": " + what);
  }

  unsigned char byte(const char* what) {
    if (pos_ >= bytes_.size()) {
      fail("the archive header is truncated (it ends after " + std::to_string(bytes_.size()) +
           " bytes, while reading the " + what + "); the file is incomplete or not an archive");
    }
    return static_cast<unsigned char>(bytes_[pos_++]);
  }

  // WriteInt: a sign byte, then int_size bytes, least significant first.
  long long integer(const char* what) {
    unsigned char sign = byte(what);
    if (sign > 1) fail(std::string("damaged archive header: bad sign byte in the ") + what);
    unsigned long long value = 0;
    for (int i = 0; i < int_size; ++i) {
      value |= static_cast<unsigned long long>(byte(what)) << (8 * i);
    }
    if (value > static_cast<unsigned long long>(INT64_MAX)) {
      fail(std::string("damaged archive header: the ") + what + " is out of range");
    }
    long long v = static_cast<long long>(value);
    return sign ? -v : v;
  }

  // WriteStr: a length (-1 for NULL), then that many bytes.
  std::string text(const char* what) {
    long long len = integer(what);
    if (len == -1) return {};
    if (len < 0 || static_cast<unsigned long long>(len) > kMaxString) {
      fail(std::string("damaged archive header: the ") + what + " claims " + std::to_string(len) +
           " bytes");
    }
    if (pos_ + static_cast<size_t>(len) > bytes_.size()) {
      fail(std::string("the archive header is truncated (while reading the ") + what + ")");
    }
    std::string out(bytes_.substr(pos_, static_cast<size_t>(len)));
    pos_ += static_cast<size_t>(len);
    // Shown in summaries and logs: printable UTF-8 only.
    for (char& c : out) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    }
    return utf8_or_replaced(out);
  }

  int int_size = 4;

 private:
  std::string_view bytes_;
  const std::string& origin_;
  size_t pos_ = 0;
};

std::string two_digits(int v) { return (v < 10 ? "0" : "") + std::to_string(v); }

// Why a file that is not an archive is not one, in words a user can act on.
[[noreturn]] void not_an_archive(std::string_view bytes, const std::string& origin) {
  if (bytes.empty()) throw ArchiveHeaderError(origin + ": the file is empty");
  if (bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
      static_cast<unsigned char>(bytes[1]) == 0x8b) {
    throw ArchiveHeaderError(origin +
                             ": a gzip-compressed file, not a pg_dump archive; pg_restore cannot "
                             "read it (pg_dump -Fc compresses inside the archive: store that)");
  }
  std::string_view head = bytes.substr(0, 512);
  if (head.find("PostgreSQL database dump") != std::string_view::npos ||
      head.substr(0, 3) == "--\n" || head.substr(0, 3) == "-- ") {
    throw ArchiveHeaderError(origin +
                             ": a plain SQL dump; only custom (-Fc), directory (-Fd) and tar "
                             "(-Ft) archives can be drilled");
  }
  throw ArchiveHeaderError(origin + ": not a pg_dump archive (no PGDMP signature)");
}

ArchiveHeader parse_pgdmp(std::string_view bytes, const std::string& origin,
                          ArchiveHeader::Format format) {
  HeaderReader r(bytes, origin);
  ArchiveHeader h;
  h.format = format;
  h.version_major = r.byte("version");
  h.version_minor = r.byte("version");
  h.version_rev = r.byte("version");
  if (h.version_major != 1 || h.version_minor < kOldestMinor) {
    r.fail("archive format version " + h.archive_version() +
           " is not supported (pg_dump of PostgreSQL 8.0 or newer writes 1.10 or later)");
  }
  int int_size = r.byte("integer size");
  if (int_size < 1 || int_size > 8) {
    r.fail("damaged archive header: integer size " + std::to_string(int_size));
  }
  r.int_size = int_size;
  int off_size = r.byte("offset size");
  if (off_size < 1 || off_size > 8) {
    r.fail("damaged archive header: offset size " + std::to_string(off_size));
  }
  int format_byte = r.byte("format");
  // A custom file says 1; toc.dat of directory and tar dumps says 3 (tar).
  bool format_ok = format == ArchiveHeader::Format::custom ? format_byte == 1
                                                           : (format_byte == 3 || format_byte == 5);
  if (!format_ok) {
    r.fail("damaged archive header: format " + std::to_string(format_byte) + " in a " +
           h.format_name() + " archive");
  }
  if (h.version_minor >= kCompressionByteMinor) {
    r.byte("compression");
  } else {
    r.integer("compression");
  }
  struct tm t {};
  t.tm_sec = static_cast<int>(r.integer("creation time"));
  t.tm_min = static_cast<int>(r.integer("creation time"));
  t.tm_hour = static_cast<int>(r.integer("creation time"));
  t.tm_mday = static_cast<int>(r.integer("creation time"));
  t.tm_mon = static_cast<int>(r.integer("creation time"));
  t.tm_year = static_cast<int>(r.integer("creation time"));
  t.tm_isdst = static_cast<int>(r.integer("creation time"));
  bool sane = t.tm_sec >= 0 && t.tm_sec <= 60 && t.tm_min >= 0 && t.tm_min <= 59 &&
              t.tm_hour >= 0 && t.tm_hour <= 23 && t.tm_mday >= 1 && t.tm_mday <= 31 &&
              t.tm_mon >= 0 && t.tm_mon <= 11 && t.tm_year >= 70 && t.tm_year <= 1100 &&
              t.tm_isdst >= -1 && t.tm_isdst <= 1;
  if (!sane) r.fail("damaged archive header: the creation time is not a valid date");
  h.created_local = std::to_string(t.tm_year + 1900) + "-" + two_digits(t.tm_mon + 1) + "-" +
                    two_digits(t.tm_mday) + " " + two_digits(t.tm_hour) + ":" +
                    two_digits(t.tm_min) + ":" + two_digits(t.tm_sec);
  struct tm local = t;
  time_t when = mktime(&local);
  if (when == static_cast<time_t>(-1)) {
    r.fail("the creation time " + h.created_local + " does not exist in this time zone");
  }
  h.created_at = std::chrono::system_clock::from_time_t(when);
  h.database = r.text("database name");
  h.server_version = r.text("server version");
  h.pg_dump_version = r.text("pg_dump version");
  return h;
}

bool is_tar_header(std::string_view bytes) {
  return bytes.size() >= 512 && bytes.substr(257, 5) == "ustar";
}

}  // namespace

std::string ArchiveHeader::format_name() const {
  switch (format) {
    case Format::custom:
      return "custom";
    case Format::directory:
      return "directory";
    case Format::tar:
      return "tar";
  }
  return "custom";
}

std::string ArchiveHeader::archive_version() const {
  return std::to_string(version_major) + "." + std::to_string(version_minor) + "-" +
         std::to_string(version_rev);
}

ArchiveHeader parse_archive_header(std::string_view bytes, const std::string& origin,
                                   ArchiveHeader::Format container) {
  bytes = bytes.substr(0, kArchiveHeaderMaxBytes);
  if (container != ArchiveHeader::Format::directory && is_tar_header(bytes)) {
    // A tar dump starts with the toc.dat member: a 512-byte tar header whose
    // name field (NUL-padded) is "toc.dat", then the archive header.
    std::string_view name = bytes.substr(0, 100);
    name = name.substr(0, name.find('\0'));
    if (name != "toc.dat") {
      throw ArchiveHeaderError(origin +
                               ": a tar file whose first member is not toc.dat, so "
                               "not a pg_dump -Ft archive");
    }
    bytes = bytes.substr(512);
    container = ArchiveHeader::Format::tar;
  }
  if (bytes.substr(0, 5) != "PGDMP") {
    if (container == ArchiveHeader::Format::custom) not_an_archive(bytes, origin);
    throw ArchiveHeaderError(origin + ": not a pg_dump archive (no PGDMP signature)");
  }
  return parse_pgdmp(bytes.substr(5), origin, container);
}

ArchiveHeader read_archive_header(const ContainedFolder& folder,
                                  const std::filesystem::path& path) {
  std::error_code ec;
  auto container = ArchiveHeader::Format::custom;
  std::filesystem::path file = path;
  if (std::filesystem::is_directory(path, ec)) {
    folder.open(path, /*directory=*/true);  // the dump's folder itself stays inside too
    file = path / "toc.dat";
    container = ArchiveHeader::Format::directory;
    if (!std::filesystem::exists(file, ec)) {
      throw ArchiveHeaderError(path.string() +
                               ": a folder without toc.dat, so not a directory-format dump");
    }
  }
  std::string bytes(kArchiveHeaderMaxBytes, '\0');
  size_t got = 0;
  try {
    UniqueFd fd = folder.open(file);
    while (got < bytes.size()) {
      ssize_t n = ::read(fd.get(), bytes.data() + got, bytes.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw std::runtime_error(file.string() + ": cannot read: " + std::strerror(errno));
      if (n == 0) break;
      got += static_cast<size_t>(n);
    }
  } catch (const std::runtime_error& e) {
    throw ArchiveHeaderError(e.what());
  }
  bytes.resize(got);
  return parse_archive_header(bytes, file.string(), container);
}

}  // namespace backupdrill::backup
