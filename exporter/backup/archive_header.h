#pragma once
// What a pg_dump archive says about itself: when it was made, of which
// database, by which server and pg_dump. Read from the archive's own header
// (the bytes pg_restore --list prints as "Archive created at ..."), so an
// existing backup is chosen by what it is, never by its name or mtime.
//
// Read directly rather than through pg_restore --list: the header is a few
// hundred bytes at a fixed place, reading it needs no client of the right
// major version (an older pg_restore refuses a newer archive outright), and
// the same code reads the first bytes of an S3 object fetched with a Range
// request. Reads are bounded (kArchiveHeaderMaxBytes); a hostile or damaged
// file gives an ArchiveHeaderError naming it, never a crash.
//
// Thread safety: pure functions, except that created_at is computed with
// mktime() in the process's time zone (see ArchiveHeader::created_at).
#include <cstddef>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

#include "util/contained_file.h"
#include "util/time_format.h"

namespace backupdrill::backup {

struct ArchiveHeaderError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The header of any real archive fits in this many bytes (its variable part
// is three short strings); nothing past it is ever read.
constexpr size_t kArchiveHeaderMaxBytes = 8192;

struct ArchiveHeader {
  // custom: a pg_dump -Fc file; directory: a pg_dump -Fd folder (its
  // toc.dat); tar: a pg_dump -Ft file (its first member, toc.dat).
  enum class Format { custom, directory, tar };
  Format format = Format::custom;
  int version_major = 0;  // the archive format's version, "1.14-0"
  int version_minor = 0;
  int version_rev = 0;
  // pg_dump writes its start time as broken-down *local* time of the machine
  // that ran it, with no UTC offset (only a DST flag). created_at reads it in
  // this process's time zone, exactly as pg_restore does for "Archive created
  // at": exact when both run in the same zone (UTC in containers), off by the
  // difference otherwise. created_local is the text as written.
  SystemTime created_at{};
  std::string created_local;   // "2026-11-29 17:00:03"
  std::string database;        // the dumped database's name
  std::string server_version;  // "15.18 (Debian 15.18-0+deb12u1)"
  std::string pg_dump_version;

  std::string format_name() const;      // "custom" | "directory" | "tar"
  std::string archive_version() const;  // "1.14-0"
};

// Parses the header from the first bytes of a custom-format file, of a
// directory dump's toc.dat (format = directory), or of a tar-format file.
// `origin` names the source in errors ("/srv/b/x.dump", "s3://b/k").
ArchiveHeader parse_archive_header(std::string_view bytes, const std::string& origin,
                                   ArchiveHeader::Format container = ArchiveHeader::Format::custom);

// Reads a custom- or tar-format file, or a directory dump (a folder with
// toc.dat), of the backup folder `folder` (a link out of it is refused
// before a byte is read). Throws ArchiveHeaderError naming the path and what
// is wrong, never quoting the file's bytes.
ArchiveHeader read_archive_header(const ContainedFolder& folder, const std::filesystem::path& path);

}  // namespace backupdrill::backup
