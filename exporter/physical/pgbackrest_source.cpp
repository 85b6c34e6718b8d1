#include "physical/pgbackrest_source.h"

namespace backupdrill::physical {

PgBackRestSource::PgBackRestSource(const BackupConfig& backup, const OsUser& user)
    : pgbackrest_(find_pgbackrest(backup.pgbackrest_config, backup.stanza, user)),
      set_(backup.backup_set),
      target_(parse_recovery_target(backup.recovery_target)) {}

BackupFacts PgBackRestSource::describe(Deadline deadline) {
  backup_ = read_backup_info(pgbackrest_, set_, deadline);
  BackupFacts facts;
  facts.label = backup_->label;
  facts.size = backup_->size;
  facts.pg_major = backup_->pg_major;
  facts.wal_start = backup_->wal_start;
  facts.wal_stop = backup_->wal_stop;
  facts.archive_min = backup_->archive_min;
  facts.archive_max = backup_->archive_max;
  facts.stopped = backup_->stopped;
  facts.tool_version = pgbackrest_.version(deadline);
  const auto file = pgbackrest_.config_file();
  std::string repo = pgbackrest_option(file, pgbackrest_.stanza, "repo1-path");
  facts.repository = repo.empty() ? "/var/lib/pgbackrest" : repo;
  facts.source_data_dir = pgbackrest_option(file, pgbackrest_.stanza, "pg1-path");
  return facts;
}

void PgBackRestSource::restore(const std::filesystem::path& data_dir,
                               const std::filesystem::path& tablespace_dir,
                               const std::filesystem::path& log_file, Deadline deadline,
                               std::stop_token cancel, WatchedChild* progress) {
  // The set described at the guard, so the restore drills what was checked.
  const std::string set = backup_ ? backup_->label : set_;
  restore_backup(pgbackrest_, data_dir, tablespace_dir, set, target_, log_file, deadline, cancel,
                 progress);
}

std::string PgBackRestSource::archive_range(Deadline deadline) {
  return backup_ ? physical::archive_range(pgbackrest_, *backup_, deadline) : "";
}

}  // namespace backupdrill::physical
