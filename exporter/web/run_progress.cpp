#include "web/run_progress.h"

#include <algorithm>

#include "artifacts/artifact_files.h"
#include "web/html_page.h"

namespace backupdrill {

std::optional<BytesProgress> bytes_progress(const DrillsView& service,
                                            const std::filesystem::path& folder,
                                            const RunRecord& current) {
  if (current.current_phase == kPhaseBackup) {
    // The dump as far as it is written: one stat (a folder's files for a
    // parallel dump).
    std::error_code ec;
    const auto dump = folder / RunArtifactNames{current.run_id}.dump();
    if (!std::filesystem::exists(dump, ec)) return std::nullopt;
    return BytesProgress{kPhaseBackup, size_on_disk(dump), std::nullopt};
  }
  if (current.current_phase == kPhaseRestore) {
    auto done = service.restore_bytes_done(current.drill);
    if (!done) return std::nullopt;
    BytesProgress p{kPhaseRestore, *done, std::nullopt};
    if (current.backup_size > 0) {
      // pg_restore's reads of the server's answers, the libraries and a
      // Supabase restore's several passes may add up to more than the
      // archive; pgbackrest's log lines to more than the data directory.
      p.total = current.backup_size;
      p.done = std::min(p.done, current.backup_size);
    }
    return p;
  }
  return std::nullopt;
}

std::string describe_progress(const BytesProgress& p) {
  if (p.phase == kPhaseRestore) {
    return "restored " + human_bytes(p.done) + (p.total ? " of " + human_bytes(*p.total) : "");
  }
  return human_bytes(p.done) + " written";
}

}  // namespace backupdrill
