#pragma once
// What the pgBackRest repository says about the backup a drill restores
// (`pgbackrest info --output=json`): its label, size, PostgreSQL version and
// WAL, and the archive range of its database, read before anything is
// restored (and again after the drill, to prove nothing was pushed).
#include <string>

#include "physical/pgbackrest_command.h"
#include "util/time_format.h"

namespace backupdrill::physical {

struct PhysicalBackup {
  std::string label;
  std::string type;                  // full | diff | incr
  unsigned long long size = 0;       // the restored data directory's size
  unsigned long long repo_size = 0;  // what it takes in the repository
  std::string pg_version;            // "15"
  int pg_major = 0;
  std::string wal_start, wal_stop;       // the backup's own WAL segments
  std::string archive_min, archive_max;  // the archive of its database
  SystemTime stopped{};                  // when the backup finished
  std::string system_id;
};

// Throws std::runtime_error with pgBackRest's error, or naming the set that
// does not exist (and the labels that do). set empty: the newest backup.
PhysicalBackup read_backup_info(const PgBackRest& pgbackrest, const std::string& set,
                                Deadline deadline);

// The stanza's archive range now ("min-max"), for the before/after proof.
std::string archive_range(const PgBackRest& pgbackrest, const PhysicalBackup& backup,
                          Deadline deadline);

}  // namespace backupdrill::physical
