#pragma once
// pgBackRest as a physical source (physical_source.h): the drill's stanza
// and --config, the chosen set (empty: the newest) and recovery target.
#include <memory>

#include "config/config.h"
#include "physical/pgbackrest_info.h"
#include "physical/pgbackrest_restore.h"
#include "physical/physical_source.h"

namespace backupdrill::physical {

class PgBackRestSource : public PhysicalSource {
 public:
  // Throws std::runtime_error when pgbackrest is not installed.
  PgBackRestSource(const BackupConfig& backup, const OsUser& user);
  const char* name() const override { return "pgbackrest"; }
  BackupFacts describe(Deadline deadline) override;
  void restore(const std::filesystem::path& data_dir, const std::filesystem::path& tablespace_dir,
               const std::filesystem::path& log_file, Deadline deadline, std::stop_token cancel,
               WatchedChild* progress) override;
  std::string archive_range(Deadline deadline) override;

 private:
  PgBackRest pgbackrest_;
  std::string set_;
  RecoveryTarget target_;
  std::optional<PhysicalBackup> backup_;
};

}  // namespace backupdrill::physical
