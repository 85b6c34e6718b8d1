#pragma once
// Where a drill's archive comes from. The runner asks its BackupSource to
// produce (or find) the archive in the backup phase and to prove it readable
// in the verify phase; what the archive's data represents (its recovery
// point) comes back with it. "A fresh pg_dump of source_url" is one source;
// an existing file, a bucket object and a physical repository are others.
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "artifacts/artifact_files.h"
#include "config/config.h"
#include "model/guard_report.h"
#include "pg/session.h"
#include "util/time_format.h"

namespace backupdrill {

// Called on another thread with the exported snapshot id while a fresh dump
// runs (the checks' source phase); the snapshot stays valid until it returns.
using SnapshotWork = std::function<void(const std::string& snapshot_id)>;

struct BackupRequest {
  std::filesystem::path folder;  // the drill's artifact folder
  RunArtifactNames names;        // the run's artifact names
  SnapshotWork during_snapshot;  // sources without a live snapshot never call it
};

struct BackupArchive {
  std::filesystem::path dump;      // the archive pg_restore reads
  std::filesystem::path checksum;  // sha256sum-format file the verify phase checks
  std::string sha256;              // of the dump file; for a directory, of its toc.dat
  unsigned long long size = 0;
  std::string format;  // custom | directory
  // The moment the archive's data represents (pg_dump's snapshot): RPO and
  // freshness are measured from it. Empty when the source cannot know.
  std::optional<SystemTime> recovery_point;
  std::string description;  // which archive and why, for the summary's notes
  // A fresh custom-format dump that pg_restore decoded whole while it was
  // written: the verify phase confirms the file on disk is those very bytes
  // (sha256 above) and reports decode_failure, instead of decoding it again.
  bool decoded_in_stream = false;
  std::optional<std::string> decode_failure;
};

struct ArchiveVerification {
  int toc_entries = 0;
  int files_checked = 0;
};

class BackupSource {
 public:
  virtual ~BackupSource() = default;
  virtual const char* name() const = 0;

  // Guard: find the tools this source runs (pg_dump by the source server's
  // major version), check its settings against them. Throws
  // std::runtime_error naming the tool and pg_bin_dir.
  virtual void find_tools(const DrillConfig& drill, const GuardReport& guard,
                          PgSession& session) = 0;

  // Backup phase. Throws std::runtime_error with what failed and what to do.
  virtual BackupArchive produce(const PgSession& session, const BackupRequest& request) = 0;

  // Verify phase: the archive against its checksum, read whole by
  // pg_restore, before anything is restored. Throws std::runtime_error.
  virtual ArchiveVerification verify(const PgSession& session, const std::filesystem::path& folder,
                                     const BackupArchive& archive) = 0;
};

// The source a drill's [drill.backup] names.
std::unique_ptr<BackupSource> make_backup_source(const DrillConfig& drill);

}  // namespace backupdrill
