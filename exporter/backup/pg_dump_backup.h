#pragma once
// The backup phase: pg_dump in the snapshot of a transaction this process
// holds open, streamed through SHA-256 into the artifact (custom format), or
// a parallel directory dump hashed file by file.
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "backup/backup_source.h"
#include "config/config.h"
#include "pg/session.h"
#include "util/time_format.h"

namespace backupdrill {

struct BackupPaths {
  std::filesystem::path dump;      // backup_<ts>.dump
  std::filesystem::path checksum;  // backup_<ts>.sha256
  std::filesystem::path log;       // backup_<ts>.log: pg_dump's stderr
  std::string dump_name;           // as written in the checksum file
};

struct BackupResult {
  std::string sha256;  // of the dump file; for a directory, of its toc.dat
  unsigned long long size = 0;
  SystemTime snapshot_time{};
  std::string format;  // custom | directory
  // Custom format: pg_restore decoded the stream as it was written; a failure
  // is the verify phase's to report (the archive was written, but is broken).
  bool decoded_in_stream = false;
  std::optional<std::string> decode_failure;
};

// Throws std::runtime_error with what failed and what to do.
BackupResult run_backup(const PgSession& session, const BackupConfig& config,
                        const BackupPaths& paths, const SnapshotWork& during_snapshot);

// pg_dump's arguments for a compression setting, by pg_dump's major version.
// Throws std::runtime_error when the method needs a newer pg_dump.
std::vector<std::string> compression_args(const std::string& compression, int pg_dump_major);

}  // namespace backupdrill
