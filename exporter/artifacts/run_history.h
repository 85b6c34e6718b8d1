#pragma once
// The runs of a drill as its artifact folder records them: one set of files
// per stamp, the drill_summary_<ts>.json of a finished run describing it.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "model/run_record.h"

namespace backupdrill {

// Every stamp that has at least one artifact, newest first.
std::vector<std::string> run_stamps(const std::filesystem::path& folder);

// The summaries that parse, newest first (at most `limit`). Unreadable ones
// are skipped: a half-written run must not hide the others.
std::vector<RunRecord> load_runs(const std::filesystem::path& folder, size_t limit);

std::optional<RunRecord> load_newest_run(const std::filesystem::path& folder);

// Deletes the artifact sets beyond the newest `keep`, never the newest
// successful run's. Returns the stamps deleted.
std::vector<std::string> apply_retention(const std::filesystem::path& folder, int keep);

}  // namespace backupdrill
