#include "profiles/supabase_profile.h"

#include <pqxx/pqxx>

#include "pg/restore_tool.h"
#include "supabase/restore_flow.h"
#include "supabase/roles_dump.h"
#include "supabase/target_inspect.h"

namespace backupdrill {
// What the restore will meet. has_platform: the database the restore writes
// into (after recreate: a new, empty one) has the Supabase platform.
void resolve_target_kind(const DrillConfig& drill, GuardReport& report, bool has_platform) {
  const bool recreate = drill.restore.mode == RestoreConfig::Mode::recreate;
  if (drill.target_kind == DrillConfig::TargetKind::supabase && !has_platform) {
    throw GuardRefusal(
        recreate ? std::string("target_kind = \"supabase\" needs [drill.restore] mode = "
                               "\"clean\": recreate makes a new database without the platform's "
                               "schemas")
                 : std::string("target_kind = \"supabase\" but the target database has no "
                               "Supabase platform (no auth.users table or no role "
                               "authenticated); set target_kind = \"postgres\" or \"auto\", "
                               "or point target_url at a Supabase project"));
  }
  if (drill.target_kind == DrillConfig::TargetKind::postgres) {
    report.target_kind = "postgres";
    report.target_kind_reason = "target_kind = \"postgres\" (configured)";
  } else if (has_platform) {
    report.target_kind = "supabase";
    report.target_kind_reason =
        drill.target_kind == DrillConfig::TargetKind::supabase
            ? "target_kind = \"supabase\" (configured; the target has the platform)"
            : "target kind supabase (detected: the target has auth.users and the platform roles)";
  } else {
    report.target_kind = "postgres";
    report.target_kind_reason =
        !report.target_exists ? "target kind postgres (detected: the target database is new)"
        : recreate            ? "target kind postgres (restore.mode = \"recreate\": a new database)"
                   : "target kind postgres (detected: no Supabase platform in the target)";
  }
}

// A Supabase project has one database, "postgres": a drill into a temporary
// project restores into it, in clean mode (recreate would drop it).
bool SupabaseProfile::allows_project_database(const DrillConfig& drill) const {
  return drill.restore.mode == RestoreConfig::Mode::clean;
}

void SupabaseProfile::inspect_target(const DrillConfig& drill, const pg::ConnInfo& target_info,
                                     pqxx::connection* target, GuardReport& report,
                                     std::string& found) const {
  const bool recreate = drill.restore.mode == RestoreConfig::Mode::recreate;
  if (target == nullptr) {
    resolve_target_kind(drill, report, false);
    return;
  }
  auto inspection = supabase::inspect_target(*target);
  if (inspection.has_platform) {
    // A fresh Supabase project is not empty in the plain sense: its
    // platform schemas and tables are there. Empty means nothing of a
    // user's: no objects outside the platform schemas, no rows in the
    // platform tables a drill would load.
    report.target_empty = inspection.empty();
    found = inspection.describe();
    if (recreate && !report.target_marked) {
      throw GuardRefusal("target database \"" + target_info.dbname() + "\" on " +
                         target_info.redacted() +
                         " is a Supabase project database (it has auth.users and the platform "
                         "roles); restore.mode = \"recreate\" would drop it together with the "
                         "platform's schemas. Set [drill.restore] mode = \"clean\"");
    }
  }
  resolve_target_kind(drill, report, inspection.has_platform && !recreate);
}

void SupabaseProfile::find_tools(const DrillConfig& drill, int source_major) {
  pg_dumpall_ = pg::find_tool("pg_dumpall", drill.pg_bin_dir, source_major);
}

void SupabaseProfile::after_backup(const PgSession& session, const std::filesystem::path& folder,
                                   const RunArtifactNames& names) {
  if (pg_dumpall_) supabase::dump_roles(session, *pg_dumpall_, folder / names.roles());
}

ArchiveRestoreOutcome SupabaseProfile::restore_archive(const PgSession& session,
                                                       const ArchiveRestoreRequest& request) {
  // Roles first, then the archive through the profile's restore plan.
  supabase::ProfileRestoreInput in;
  in.kind = request.target_kind == "supabase" ? supabase::TargetKind::supabase
                                              : supabase::TargetKind::postgres;
  in.dump = request.dump;
  in.roles = request.folder / request.names.roles();
  in.list = request.folder / request.names.restore_list();
  in.extlist = request.folder / request.names.restore_extlist();
  in.log = request.log;
  in.clean = request.clean;
  in.jobs = request.jobs;
  auto flow = supabase::restore_with_profile(session, in);
  ArchiveRestoreOutcome outcome;
  outcome.notes = std::move(flow.notes);
  outcome.errors = count_restore_errors(request.log) + flow.own_errors;
  outcome.tools_ok = flow.tools_ok;
  outcome.tool_status = flow.tool_status;
  return outcome;
}

std::vector<std::string> SupabaseProfile::artifact_names(const RunArtifactNames& names) const {
  return {names.roles(), names.restore_list(), names.restore_extlist()};
}

}  // namespace backupdrill
