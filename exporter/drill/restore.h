#pragma once
// The restore phase: (re)create the target database, mark it as a drill
// target, run pg_restore with its whole output in restore_<ts>.log, and count
// the errors it reports.
#include <filesystem>
#include <string>
#include <vector>

#include "config/config.h"
#include "drill/guard.h"
#include "drill/pg_session.h"

namespace backupdrill {

struct RestoreResult {
  int errors = 0;
  bool dropped_partial = false;    // recreate mode rolled a failed restore back
  std::vector<std::string> notes;  // profile supabase: what was left out on purpose, and why
};

// Throws std::runtime_error when the restore fails; result.errors is filled
// in either way (pass it by reference so a failure still reports the count).
void run_restore(const PgSession& session, const DrillConfig& drill, const GuardReport& guard,
                 const std::filesystem::path& dump, const std::filesystem::path& log,
                 const std::string& run_id, RestoreResult& result);

// The failed archive entries of a restore log: the distinct entries pg_restore
// names ("from TOC entry N; ...") before their errors, the same figure
// whatever the number of jobs; without such lines, the "pg_restore: error:"
// lines (a connection that failed).
int count_restore_errors(const std::filesystem::path& log);

// Drops the target database (recreate mode's roll-back of a partial restore).
void drop_target(const PgSession& session, const GuardReport& guard);

}  // namespace backupdrill
