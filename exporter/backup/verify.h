#pragma once
// The verify phase: before anything is restored, re-read the backup against
// backup_<ts>.sha256 and have pg_restore read the whole archive, so a
// corrupted or truncated dump stops the drill here. A fresh custom-format
// dump was decoded whole while it was written (ArchiveStreamDecoder): its
// verify re-reads the file only to prove it is the very bytes decoded.
#include <filesystem>
#include <optional>
#include <string>

#include "pg/session.h"

namespace backupdrill {

struct VerifyResult {
  int toc_entries = 0;
  int files_checked = 0;
};

// folder: the drill's artifact folder (the checksum file's paths are relative
// to it). Throws std::runtime_error saying which file failed and how.
VerifyResult run_verify(const PgSession& session, const std::filesystem::path& folder,
                        const std::filesystem::path& checksum_file,
                        const std::filesystem::path& dump);

// What pg_restore found decoding the archive while it was written.
struct StreamDecode {
  std::string sha256;                  // of the bytes it decoded
  std::optional<std::string> failure;  // what it said, when it could not
};

// The verify phase of an archive decoded while it was written (a fresh
// custom-format dump): every file against the checksum file, the archive also
// against the digest of the bytes decoded, then the decode's outcome and the
// table of contents. The same guarantee as run_verify without a second decode:
// a file truncated or changed on disk since fails here. Throws
// std::runtime_error saying which file failed and how.
VerifyResult run_verify_decoded(const PgSession& session, const std::filesystem::path& folder,
                                const std::filesystem::path& checksum_file,
                                const std::filesystem::path& dump, const StreamDecode& decoded);

// An archive verified by other means (an existing file against its sidecar):
// pg_restore decodes it whole and lists it; returns its TOC entries. Throws
// std::runtime_error saying what it cannot read.
int read_whole_archive(const PgSession& session, const std::filesystem::path& dump);

}  // namespace backupdrill
