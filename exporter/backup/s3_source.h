#pragma once
// source = "s3": the newest pg_dump archive under a prefix of an
// S3-compatible bucket, downloaded (streamed through SHA-256) into the
// drill's folder and checked against its sidecar `<key>.sha256`.
//
// Newest means the newest by the creation time in the archive's header, read
// with a Range request for each candidate's first bytes (the objects are not
// downloaded to be compared). To keep that to a few requests in a bucket of
// years of nightly dumps, candidates are visited newest LastModified first
// and the walk stops at an object uploaded more than kHeaderTimeMargin
// before the best creation time found: an archive is uploaded after it is
// made, so an object uploaded earlier than that cannot hold a newer one (the
// margin absorbs clock skew and a dump written in another time zone; see
// ArchiveHeader::created_at). At most kMaxHeaderReads headers are read.
//
// Keys count when the part after the prefix matches `pattern` (fnmatch with
// FNM_PATHNAME: "*.dump" does not reach into sub-folders); `<key>.sha256`
// objects are sidecars, never candidates.
//
// Thread safety: no shared state; one call per drill.
#include <filesystem>
#include <string>
#include <vector>

#include "backup/archive_header.h"
#include "backup/file_source.h"
#include "backup/s3_client.h"
#include "config/config.h"

namespace backupdrill::backup {

constexpr std::chrono::hours kHeaderTimeMargin{26};
constexpr int kMaxHeaderReads = 200;

struct ChosenS3Archive {
  std::string bucket;
  std::string key;
  std::string url;  // s3://bucket/key
  unsigned long long size_bytes = 0;
  std::string etag;
  SystemTime last_modified{};
  ArchiveHeader header;
  std::string reason;  // why this one: for the summary
  int objects_listed = 0;
  int candidates = 0;    // listed objects matching pattern
  int headers_read = 0;  // ranged GETs made to compare creation times
  // After download_s3_archive:
  std::filesystem::path local_path;
  std::string sha256;
  ChecksumOutcome checksum = ChecksumOutcome::not_checked;
  std::string sidecar_key;
  int download_attempts = 0;
};

// Lists the prefix and picks the newest archive by header time.
// Throws BackupSourceError: "no backup found: ..." when none matches or
// none is a readable archive; errors name the endpoint and bucket.
ChosenS3Archive find_newest_s3_archive(const BackupConfig& config, const S3Options& options = {});

// Fetches the sidecar (when checksum is not none), then streams the object
// into dest_dir/<last component of key> and checks it. A mismatch or
// checksum = required without a sidecar throws BackupVerifyError and leaves
// no download behind.
void download_s3_archive(ChosenS3Archive& chosen, const BackupConfig& config,
                         const std::filesystem::path& dest_dir, const S3Options& options = {},
                         const S3Progress& progress = {});

}  // namespace backupdrill::backup
