#include "metrics/drill_state.h"

#include <algorithm>
#include <chrono>

namespace backupdrill {

const std::vector<std::string>& failure_phases() {
  static const std::vector<std::string> p{kPhaseGuard,   kPhaseBackup, kPhaseVerify, kPhaseRestore,
                                          kPhaseRecover, kPhaseChecks, kPhaseReport};
  return p;
}

void DrillHistory::record_run(const RunRecord& record, bool restored) {
  last = record;
  if (record.success) last_success = record.finished;
  if (restored) return;
  ++runs;
  // A failure outside the counted phases (a crash, an interrupted run) is a
  // run but no phase's failure.
  const auto& phases = failure_phases();
  if (!record.success &&
      std::find(phases.begin(), phases.end(), record.failed_phase) != phases.end()) {
    ++failures[record.failed_phase];
  }
}

DrillMetricsState DrillMetricsState::configured(const DrillConfig& drill) {
  DrillMetricsState s;
  s.drill = drill.name;
  s.rto_target_seconds = std::chrono::duration<double>(drill.rto_target).count();
  s.rpo_target_seconds = std::chrono::duration<double>(drill.rpo_target).count();
  for (const auto& c : drill.checks) s.checks.push_back(c.name);
  return s;
}

}  // namespace backupdrill
