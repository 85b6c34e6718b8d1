#pragma once
// source = "file" and source = "s3": the backups a team already has. The
// newest archive (by the creation time in its header) is drilled; its
// creation time is the recovery point. Finding and fetching it is the backup
// phase; its sidecar checksum and pg_restore reading it whole are the verify
// phase, so a tampered archive fails there and nothing is restored.
#include <optional>

#include "backup/backup_source.h"
#include "backup/file_source.h"
#include "backup/s3_source.h"

namespace backupdrill {

class FileArchiveSource : public BackupSource {
 public:
  explicit FileArchiveSource(const BackupConfig& config) : config_(config) {}
  const char* name() const override { return "file"; }
  void find_tools(const DrillConfig& drill, const GuardReport& guard, PgSession& session) override;
  BackupArchive produce(const PgSession& session, const BackupRequest& request) override;
  ArchiveVerification verify(const PgSession& session, const std::filesystem::path& folder,
                             const BackupArchive& archive) override;

 private:
  const BackupConfig& config_;
  std::optional<backup::ChosenFileArchive> chosen_;
};

// The chosen object is downloaded into the run's folder as backup_<ts>.dump
// (with backup_<ts>.sha256), so it is the run's own artifact, kept and
// removed with the run like a fresh dump.
class S3ArchiveSource : public BackupSource {
 public:
  explicit S3ArchiveSource(const BackupConfig& config) : config_(config) {}
  const char* name() const override { return "s3"; }
  void find_tools(const DrillConfig& drill, const GuardReport& guard, PgSession& session) override;
  BackupArchive produce(const PgSession& session, const BackupRequest& request) override;
  ArchiveVerification verify(const PgSession& session, const std::filesystem::path& folder,
                             const BackupArchive& archive) override;

 private:
  const BackupConfig& config_;
  std::optional<std::string> verify_failure_;  // the download did not match its sidecar
};

}  // namespace backupdrill
