#pragma once
// The verify phase: before anything is restored, re-read the backup against
// backup_<ts>.sha256 and have pg_restore read the whole archive, so a
// corrupted or truncated dump stops the drill here.
#include <filesystem>

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

// An archive verified by other means (an existing file against its sidecar):
// pg_restore decodes it whole and lists it; returns its TOC entries. Throws
// std::runtime_error saying what it cannot read.
int read_whole_archive(const PgSession& session, const std::filesystem::path& dump);

}  // namespace backupdrill
