#include "backup/pg_dump_source.h"

#include "backup/pg_dump_backup.h"
#include "backup/verify.h"

namespace backupdrill {

void PgDumpSource::find_tools(const DrillConfig& drill, const GuardReport& guard,
                              PgSession& session) {
  session.pg_dump = pg::find_tool("pg_dump", drill.pg_bin_dir, guard.source.major());
  // A compression method this pg_dump lacks is refused now, not mid-run.
  compression_args(config_.compression, session.pg_dump.major);
}

BackupArchive PgDumpSource::produce(const PgSession& session, const BackupRequest& request) {
  BackupPaths paths{request.folder / request.names.dump(),
                    request.folder / request.names.checksum(),
                    request.folder / request.names.backup_log(), request.names.dump()};
  BackupResult result = run_backup(session, config_, paths, request.during_snapshot);
  BackupArchive archive;
  archive.dump = paths.dump;
  archive.checksum = paths.checksum;
  archive.sha256 = result.sha256;
  archive.size = result.size;
  archive.format = result.format;
  archive.recovery_point = result.snapshot_time;
  archive.decoded_in_stream = result.decoded_in_stream;
  archive.decode_failure = result.decode_failure;
  return archive;
}

ArchiveVerification PgDumpSource::verify(const PgSession& session,
                                         const std::filesystem::path& folder,
                                         const BackupArchive& archive) {
  VerifyResult result = archive.decoded_in_stream
                            ? run_verify_decoded(session, folder, archive.checksum, archive.dump,
                                                 {archive.sha256, archive.decode_failure})
                            : run_verify(session, folder, archive.checksum, archive.dump);
  return {result.toc_entries, result.files_checked};
}

}  // namespace backupdrill
