#include <stdexcept>

#include "backup/existing_archive_sources.h"
#include "backup/pg_dump_source.h"

namespace backupdrill {

std::unique_ptr<BackupSource> make_backup_source(const DrillConfig& drill) {
  switch (drill.backup.source) {
    case BackupConfig::Source::file:
      return std::make_unique<FileArchiveSource>(drill.backup);
    case BackupConfig::Source::s3:
      return std::make_unique<S3ArchiveSource>(drill.backup);
    case BackupConfig::Source::pg_dump:
      break;
    case BackupConfig::Source::pgbackrest:
      // A physical source has no archive: the runner's physical pipeline
      // (drill/physical_drill.h) drills it.
      throw std::logic_error("source = \"pgbackrest\" is not an archive source");
  }
  return std::make_unique<PgDumpSource>(drill.backup);
}

}  // namespace backupdrill
