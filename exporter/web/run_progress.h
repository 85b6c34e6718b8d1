#pragma once
// A running drill's progress in bytes, as the landing page and the API show
// it: during the backup, the dump's size on disk so far (pg_dump cannot know
// the total); during the restore, how much of the archive pg_restore has read
// (its own reads, from /proc: it reports no progress itself), out of the
// archive's size, or for a physical source how much pgbackrest restore has
// written, out of the data directory's size.
#include <filesystem>
#include <optional>
#include <string>

#include "model/run_record.h"
#include "scheduler/drills_view.h"

namespace backupdrill {

struct BytesProgress {
  std::string phase;  // kPhaseBackup or kPhaseRestore
  unsigned long long done = 0;
  // The restore: the archive's size (done never passes it); absent for the backup.
  std::optional<unsigned long long> total;
};

// current: the running drill's in-progress summary (from `folder`, its
// artifact folder). nullopt in the other phases, and in the restore before
// its tool starts.
std::optional<BytesProgress> bytes_progress(const DrillsView& service,
                                            const std::filesystem::path& folder,
                                            const RunRecord& current);

// "3.0 MiB written" / "restored 1.2 MiB of 3.0 MiB".
std::string describe_progress(const BytesProgress& progress);

}  // namespace backupdrill
