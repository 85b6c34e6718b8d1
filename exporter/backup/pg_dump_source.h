#pragma once
// source = "pg_dump" (the default, the runbook's): a fresh dump of
// source_url in a snapshot this process holds, so the checks read the
// source in the very state the archive holds.
#include "backup/backup_source.h"

namespace backupdrill {

class PgDumpSource : public BackupSource {
 public:
  explicit PgDumpSource(const BackupConfig& config) : config_(config) {}
  const char* name() const override { return "pg_dump"; }
  void find_tools(const DrillConfig& drill, const GuardReport& guard, PgSession& session) override;
  BackupArchive produce(const PgSession& session, const BackupRequest& request) override;
  ArchiveVerification verify(const PgSession& session, const std::filesystem::path& folder,
                             const BackupArchive& archive) override;

 private:
  const BackupConfig& config_;
};

}  // namespace backupdrill
