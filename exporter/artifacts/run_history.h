#pragma once
// The runs of a drill as its artifact folder records them: one set of files
// per stamp, the drill_summary_<ts>.json of a finished run describing it.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/run_record.h"

namespace backupdrill {

// Every stamp that has at least one artifact, newest first.
std::vector<std::string> run_stamps(const std::filesystem::path& folder);

// The summaries that parse, newest first (at most `limit`). Unreadable ones
// are skipped: a half-written run must not hide the others.
std::vector<RunRecord> load_runs(const std::filesystem::path& folder, size_t limit);

std::optional<RunRecord> load_newest_run(const std::filesystem::path& folder);

// The summary of one run (its drill_summary_<stamp>.json; running or
// finished), or nullopt when there is none or it does not parse. `stamp`
// must be a run stamp (is_run_stamp): it becomes part of a file name.
std::optional<RunRecord> load_run(const std::filesystem::path& folder, const std::string& stamp);

// One drill_summary_<ts>.json, opened without following a link (a regular
// file only) and read up to kMaxSummaryBytes; nullopt when it is missing,
// refused or does not parse, with `why` (when given) saying which, never
// quoting the file's bytes.
std::optional<RunRecord> read_run_summary(const std::filesystem::path& file,
                                          std::string* why = nullptr);
constexpr size_t kMaxSummaryBytes = 64u << 20;

// YYYYMMDDTHHMMSSZ, checked character by character (it comes from URLs).
bool is_run_stamp(std::string_view text);

// Deletes the artifact sets beyond the newest `keep`, never the newest
// successful run's. Returns the stamps deleted.
std::vector<std::string> apply_retention(const std::filesystem::path& folder, int keep);

}  // namespace backupdrill
