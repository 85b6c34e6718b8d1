#pragma once
// The restore phase under profile = "supabase", after the target database
// was created or marked: roles first, then the archive replayed through a
// restore plan (restore_plan.h) in one or two pg_restore passes, everything
// appended to restore_<ts>.log.
#include <filesystem>
#include <string>
#include <vector>

#include "config/config.h"
#include "pg/session.h"
#include "supabase/restore_plan.h"

namespace backupdrill::supabase {

struct ProfileRestoreInput {
  TargetKind kind = TargetKind::postgres;
  std::filesystem::path dump;
  std::filesystem::path roles;    // backup_<ts>.roles (may be missing: then no roles step)
  std::filesystem::path list;     // restore_<ts>.list: written, the main pass's entries
  std::filesystem::path extlist;  // restore_<ts>.extlist: written when needed
  std::filesystem::path log;      // restore_<ts>.log: created, then appended to
  bool clean = false;             // restore.mode = "clean"
  int jobs = 1;
};

struct ProfileRestoreOutcome {
  int own_errors = 0;       // failed statements of backupdrill's own steps
  bool tools_ok = true;     // every pg_restore pass exited 0
  std::string tool_status;  // the first failed pass, described
  std::vector<std::string> notes;
};

// Throws std::runtime_error when a step cannot run at all (no connection,
// pg_restore missing); statement failures are counted and logged instead.
ProfileRestoreOutcome restore_with_profile(const PgSession& session,
                                           const ProfileRestoreInput& input);

}  // namespace backupdrill::supabase
