#pragma once
// source = "file": an existing pg_dump archive on disk, chosen and verified
// without ever being modified (opened read-only; nothing is written, moved,
// renamed or touched next to it).
//
// `path` names a custom- or tar-format file, a directory-format dump (a
// folder with toc.dat), or a glob of them ("/srv/backups/app/*.dump"). Of
// the archives it matches, the newest by the creation time in its header is
// drilled, never the newest by name or mtime. Matches that are not archives
// (a sidecar, a README, a truncated file) are listed with the reason they
// were passed over, so a broken newest backup shows in the summary.
//
// The folder is untrusted storage: every file (archive, sidecar, each file
// of a directory dump) is opened inside the configured folder
// (storage_folder_of(path), util/contained_file.h). A symbolic link is
// followed only while it resolves inside that folder; one that leads out is
// refused before a byte is read, and errors describe bad content without
// quoting it.
//
// Thread safety: no shared state; one call per drill.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "backup/archive_header.h"
#include "config/config.h"

namespace backupdrill::backup {

// At most this many matches of a glob are considered (each costs one small
// read): a glob over a huge folder is refused, not slowly walked.
constexpr size_t kMaxFileCandidates = 10000;

struct FileCandidate {
  std::filesystem::path path;
  std::optional<ArchiveHeader> header;
  std::string problem;  // why it was passed over (no header)
};

enum class ChecksumOutcome {
  verified,     // the sidecar lists it and every digest matched
  absent,       // checksum = "auto" and there is no sidecar
  not_checked,  // checksum = "none"
};
std::string to_string(ChecksumOutcome outcome);

struct ChosenFileArchive {
  // The backup folder every file is read inside (storage_folder_of the
  // configured path): a link that resolves out of it is refused.
  std::filesystem::path folder;
  std::filesystem::path path;
  ArchiveHeader header;
  unsigned long long size_bytes = 0;  // the file; a directory dump: all its files
  // The file's SHA-256; for a directory dump, its toc.dat's (as for the
  // drill's own directory dumps), with every file hashed for the sidecar.
  std::string sha256;
  ChecksumOutcome checksum = ChecksumOutcome::not_checked;
  std::filesystem::path sidecar;  // the one used, when verified
  int files_hashed = 0;
  std::string reason;  // why this one: for the summary
  std::vector<FileCandidate> candidates;
};

// Finds the archives `path` names and picks the newest by header time.
// Throws BackupSourceError ("no backup found: ...") when none is usable.
ChosenFileArchive find_newest_file_archive(const std::string& path);

// Hashes the chosen archive (read-only) and checks it against its sidecar as
// `checksum` says. Looks for `<archive>.sha256`, then `<stem>.sha256` (the
// drill's own backup_<ts>.dump + backup_<ts>.sha256) when it has a line for
// the archive. Throws BackupVerifyError on a mismatch, an incomplete
// sidecar, or checksum = required without one.
void verify_file_archive(ChosenFileArchive& chosen, BackupConfig::Checksum checksum);

// Both, as the drill's backup + verify phases use them.
ChosenFileArchive select_file_archive(const BackupConfig& config);

}  // namespace backupdrill::backup
