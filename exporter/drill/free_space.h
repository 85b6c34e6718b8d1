#pragma once
// Free space first: before a backup starts, the artifact folder must have
// room for it. The archive's size is estimated from the source database's
// size and the ratio the drill's last backup achieved (or a conservative
// default), so a long dump does not fail at 95% on a full disk.
#include <filesystem>
#include <string>
#include <vector>

#include "model/run_record.h"

namespace backupdrill {

struct SpaceEstimate {
  unsigned long long needed = 0;     // bytes the backup is expected to take
  unsigned long long available = 0;  // bytes free for this process in the folder
  std::string basis;                 // how `needed` was reckoned, for people
  bool enough() const { return available >= needed; }
};

// previous: the drill's earlier runs, newest first (the first finished one
// with a backup and a source size gives the ratio). compression "none" makes
// the default ratio 1, anything else 0.5. Throws std::runtime_error when the
// folder's file system cannot be queried.
SpaceEstimate estimate_backup_space(const std::filesystem::path& folder,
                                    unsigned long long source_size, const std::string& compression,
                                    const std::vector<RunRecord>& previous);

}  // namespace backupdrill
