#pragma once
// Every run that starts leaves a record. A run's drill_summary_<ts>.json is
// written when it starts (result "running") and again at each phase, so a
// run that the exporter does not live to finish (kill -9, a crash, a power
// cut) is still on disk; the next start finds it and records it as failed,
// phase "interrupted".
#include <filesystem>
#include <string>

#include "artifacts/artifact_files.h"
#include "model/run_record.h"

namespace backupdrill {

class RunJournal {
 public:
  // Creates the drill's folder (0700), names the run (run_id, or the start
  // time moved on past any run of that second) and writes its in-progress
  // summary. Throws std::runtime_error when the folder cannot be created.
  RunJournal(const std::filesystem::path& folder, RunRecord& record, const std::string& run_id);

  const RunArtifactNames& names() const { return names_; }
  // Rewrites the in-progress summary with the phase under way (best effort:
  // a full disk must not fail the phase here; the phase itself will say so).
  void phase_started(const std::string& phase);
  // The run did not happen after all (another replica holds the target):
  // removes its in-progress summary.
  void discard();

 private:
  void write_in_progress();

  std::filesystem::path folder_;
  RunRecord& record_;
  RunArtifactNames names_;
  bool warned_ = false;
};

// Finds the runs in a drill's folder that were left "running" by a process
// that is gone, and rewrites each as failed in phase "interrupted" (JSON and
// Markdown summaries). A partial dump of a run interrupted in its backup
// phase is removed, as a failed backup's is. Returns the run ids finalised.
std::vector<std::string> finalize_interrupted_runs(const std::filesystem::path& folder);

}  // namespace backupdrill
