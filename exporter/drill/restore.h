#pragma once
// The restore phase: (re)create the target database, mark it as a drill
// target, run pg_restore with its whole output in restore_<ts>.log, and count
// the errors it reports.
#include <filesystem>
#include <string>
#include <vector>

#include "config/config.h"
#include "drill/guard.h"
#include "pg/restore_tool.h"
#include "pg/session.h"
#include "profiles/profile.h"

namespace backupdrill {

struct RestoreResult {
  int errors = 0;
  bool dropped_partial = false;    // recreate mode rolled a failed restore back
  std::vector<std::string> notes;  // profile supabase: what was left out on purpose, and why
};

// Throws std::runtime_error when the restore fails; result.errors is filled
// in either way (pass it by reference so a failure still reports the count).
void run_restore(const PgSession& session, const DrillConfig& drill, Profile& profile,
                 const GuardReport& guard, const std::filesystem::path& dump,
                 const std::filesystem::path& log, const std::string& run_id,
                 RestoreResult& result);

// Drops the target database (recreate mode's roll-back of a partial restore).
void drop_target(const PgSession& session, const GuardReport& guard);

}  // namespace backupdrill
