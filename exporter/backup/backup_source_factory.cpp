#include <stdexcept>

#include "backup/pg_dump_source.h"

namespace backupdrill {

std::unique_ptr<BackupSource> make_backup_source(const DrillConfig& drill) {
  switch (drill.backup.source) {
    case BackupConfig::Source::pg_dump:
      return std::make_unique<PgDumpSource>(drill.backup);
    case BackupConfig::Source::file:
    case BackupConfig::Source::s3:
      break;
  }
  throw std::runtime_error("drill \"" + drill.name + "\" (" + drill.origin +
                           "): this build cannot drill [drill.backup] source = file or s3; "
                           "use source = \"pg_dump\"");
}

}  // namespace backupdrill
