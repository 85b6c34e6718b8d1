#include "backup/existing_archive_sources.h"

#include "artifacts/artifact_files.h"
#include "backup/source_error.h"
#include "backup/verify.h"
#include "crypto/sha256.h"
#include "log/log.h"
#include "util/contained_file.h"

namespace backupdrill {
namespace {

// No pg_dump runs; pg_restore is found by the target server's version (the
// guard's). An archive newer than it is refused in verify by pg_restore.
void no_dump_tool(PgSession& session) { session.pg_dump = {}; }

std::string header_facts(const backup::ArchiveHeader& header) {
  return "created " + header.created_local + " (" + iso8601_utc(header.created_at) +
         " read in this exporter's time zone), database \"" + header.database + "\", " +
         header.format_name() + " format, PostgreSQL " + header.server_version;
}

}  // namespace

void FileArchiveSource::find_tools(const DrillConfig&, const GuardReport&, PgSession& session) {
  no_dump_tool(session);
}

BackupArchive FileArchiveSource::produce(const PgSession&, const BackupRequest&) {
  chosen_ = backup::find_newest_file_archive(config_.path);
  BackupArchive archive;
  archive.dump = chosen_->path;
  archive.size = chosen_->size_bytes;
  archive.format = chosen_->header.format_name();
  archive.recovery_point = chosen_->header.created_at;
  archive.description = "backup source file: " + chosen_->path.string() + ", " +
                        header_facts(chosen_->header) + "; " + chosen_->reason;
  return archive;
}

ArchiveVerification FileArchiveSource::verify(const PgSession& session,
                                              const std::filesystem::path&,
                                              const BackupArchive& archive) {
  // The sidecar check hashes the archive (read-only); pg_restore then reads
  // it whole. Nothing is ever written next to the archive.
  backup::verify_file_archive(*chosen_, config_.checksum);
  log::info("archive checksum", {{"file", chosen_->path.string()},
                                 {"sha256", chosen_->sha256},
                                 {"checksum", backup::to_string(chosen_->checksum)}});
  // pg_restore opens the path itself: the archive must still resolve inside
  // the backup folder, as it did when it was hashed a moment ago.
  if (!ContainedFolder(chosen_->folder).contains(archive.dump)) {
    throw backup::BackupVerifyError(archive.dump.string() +
                                    " is refused: it now resolves outside " +
                                    chosen_->folder.string() + " (replaced by a link?)");
  }
  ArchiveVerification result;
  result.files_checked = chosen_->files_hashed;
  result.toc_entries = read_whole_archive(session, archive.dump);
  return result;
}

void S3ArchiveSource::find_tools(const DrillConfig&, const GuardReport&, PgSession& session) {
  no_dump_tool(session);
}

BackupArchive S3ArchiveSource::produce(const PgSession& session, const BackupRequest& request) {
  backup::S3Options options;
  options.cancel = session.cancel;
  auto chosen = backup::find_newest_s3_archive(config_, options);
  BackupArchive archive;
  archive.format = chosen.header.format_name();
  archive.recovery_point = chosen.header.created_at;
  archive.description = "backup source s3: " + chosen.url + " (" +
                        std::to_string(chosen.size_bytes) + " bytes, ETag " + chosen.etag + "), " +
                        header_facts(chosen.header) + "; " + chosen.reason;
  // Downloaded into a folder of the run's own, then renamed to the run's
  // dump name: an interrupted download never looks like an archive.
  const auto staging = request.folder / (".download_" + request.names.stamp);
  std::filesystem::create_directories(staging);
  struct Cleanup {
    std::filesystem::path p;
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(p, ec);
    }
  } cleanup{staging};
  try {
    backup::download_s3_archive(chosen, config_, staging, options);
  } catch (const backup::BackupVerifyError& e) {
    // Fetched, but not what its sidecar says: the verify phase's failure.
    verify_failure_ = e.what();
    archive.dump = request.folder / request.names.dump();
    archive.description += "; the download did not match its checksum";
    return archive;
  }
  archive.dump = request.folder / request.names.dump();
  std::filesystem::rename(chosen.local_path, archive.dump);
  archive.checksum = request.folder / request.names.checksum();
  // The run's own checksum file, as for a fresh dump: verify re-reads it.
  write_private_file(archive.checksum, chosen.sha256 + "  " + request.names.dump() + "\n");
  archive.sha256 = chosen.sha256;
  archive.size = chosen.size_bytes;
  archive.description += "; object checksum: " + backup::to_string(chosen.checksum);
  return archive;
}

ArchiveVerification S3ArchiveSource::verify(const PgSession& session,
                                            const std::filesystem::path& folder,
                                            const BackupArchive& archive) {
  if (verify_failure_) throw std::runtime_error(*verify_failure_);
  // The same check as a fresh dump's: the file against backup_<ts>.sha256,
  // decoded whole by pg_restore.
  if (archive.format == "custom") {
    VerifyResult result = run_verify(session, folder, archive.checksum, archive.dump);
    return {result.toc_entries, result.files_checked};
  }
  ArchiveVerification result;
  result.files_checked = 1;
  if (sha256_file(archive.dump) != archive.sha256) {
    throw std::runtime_error(archive.dump.filename().string() +
                             " changed since it was downloaded (SHA-256 differs)");
  }
  result.toc_entries = read_whole_archive(session, archive.dump);
  return result;
}

}  // namespace backupdrill
