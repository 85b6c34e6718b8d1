#pragma once
// The phases of a drill, in the order they run. Their names are the contract's
// `phase` label values; runner, journal, metrics, summaries and API use
// these, never their own lists.
#include <array>
#include <string_view>

namespace backupdrill {

// recover: physical sources only (pgBackRest): WAL replayed to the target
// and the throwaway server promoted, after the restore of its files.
enum class Phase { guard, backup, verify, restore, recover, checks, report };

inline constexpr std::array<Phase, 7> kAllPhases = {Phase::guard,   Phase::backup,  Phase::verify,
                                                    Phase::restore, Phase::recover, Phase::checks,
                                                    Phase::report};

constexpr const char* phase_name(Phase phase) {
  switch (phase) {
    case Phase::guard:
      return "guard";
    case Phase::backup:
      return "backup";
    case Phase::verify:
      return "verify";
    case Phase::restore:
      return "restore";
    case Phase::recover:
      return "recover";
    case Phase::checks:
      return "checks";
    case Phase::report:
      return "report";
  }
  return "unknown";
}

// Contract phase names (metric label values).
inline constexpr const char* kPhaseGuard = phase_name(Phase::guard);
inline constexpr const char* kPhaseBackup = phase_name(Phase::backup);
inline constexpr const char* kPhaseVerify = phase_name(Phase::verify);
inline constexpr const char* kPhaseRestore = phase_name(Phase::restore);
inline constexpr const char* kPhaseRecover = phase_name(Phase::recover);
inline constexpr const char* kPhaseChecks = phase_name(Phase::checks);
inline constexpr const char* kPhaseReport = phase_name(Phase::report);
// Not a phase: the whole run, for duration series.
inline constexpr const char* kPhaseTotal = "total";
// Not a phase that runs: the failed_phase of a run the exporter did not live
// to finish (killed, crashed, power lost), found at the next start.
inline constexpr const char* kPhaseInterrupted = "interrupted";

}  // namespace backupdrill
