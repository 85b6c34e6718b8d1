#pragma once
// The report phase: the runbook's validation and smoke files, and the drill
// summary for people (Markdown) and machines (JSON).
#include <filesystem>
#include <string>

#include "artifacts/artifact_files.h"
#include "model/run_record.h"

namespace backupdrill {

// "name|value" lines of every check, in check order.
std::string render_validation(const RunRecord& record);
// "PASS ..."/"FAIL ..." lines; empty when no smoke check ran.
std::string render_smoke(const RunRecord& record);
std::string render_summary_markdown(const RunRecord& record);

// Writes validation and smoke (when any) files, then fills record.artifacts
// with every artifact present (sizes and SHA-256).
void write_run_files(const std::filesystem::path& folder, const RunArtifactNames& names,
                     RunRecord& record);
// Writes drill_summary_<ts>.md and .json (the JSON last: its presence marks a
// finished run).
void write_summaries(const std::filesystem::path& folder, const RunArtifactNames& names,
                     const RunRecord& record);

}  // namespace backupdrill
