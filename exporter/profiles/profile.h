#pragma once
// A profile: what one kind of database (plain PostgreSQL, a Supabase project)
// adds to a drill. The runner, the guard and the restore call these hooks at
// fixed points; only make_profile() knows which profiles exist, so a new
// profile is a new file here and one line in the factory.
#include <filesystem>
#include <memory>
#include <pqxx/connection>
#include <string>
#include <vector>

#include "artifacts/artifact_files.h"
#include "config/config.h"
#include "model/guard_report.h"
#include "pg/conninfo.h"
#include "pg/session.h"

namespace backupdrill {

// What the restore phase hands the profile once the target database exists
// (created or marked): the archive goes in, everything is logged to `log`.
struct ArchiveRestoreRequest {
  std::filesystem::path dump;
  std::filesystem::path log;     // restore_<ts>.log
  std::filesystem::path folder;  // the drill's artifact folder
  RunArtifactNames names;        // the run's artifact names
  bool clean = false;            // restore.mode = "clean": drop what the archive holds first
  int jobs = 1;
  std::string target_kind;  // from the guard: "postgres" or "supabase" (empty: plain)
};

struct ArchiveRestoreOutcome {
  int errors = 0;           // failed archive entries plus failed own statements
  bool tools_ok = true;     // every pg_restore pass exited 0
  std::string tool_status;  // the first failed pass, described
  std::vector<std::string> notes;
};

class Profile {
 public:
  virtual ~Profile() = default;
  virtual const char* name() const = 0;

  // Guard, before connecting: may the target be a server's "postgres"
  // database (a Supabase project has only that one)?
  virtual bool allows_project_database(const DrillConfig& drill) const;

  // Guard, after connecting. target: the existing target database, or
  // nullptr when it does not exist yet. `found` describes what the plain
  // rules found in it; a profile may redefine "empty" (report.target_empty
  // and found), set the target kind, or refuse (GuardRefusal).
  virtual void inspect_target(const DrillConfig& drill, const pg::ConnInfo& target_info,
                              pqxx::connection* target, GuardReport& report,
                              std::string& found) const;

  // Guard: find the tools the profile needs beyond pg_dump and pg_restore
  // (throws std::runtime_error naming the tool and pg_bin_dir).
  virtual void find_tools(const DrillConfig& drill, int source_major);

  // Backup phase, after the archive: what else the backup needs (the roles).
  virtual void after_backup(const PgSession& session, const std::filesystem::path& folder,
                            const RunArtifactNames& names);

  // Restore phase: the archive into the prepared target database. Throws
  // std::runtime_error when a step cannot run at all.
  virtual ArchiveRestoreOutcome restore_archive(const PgSession& session,
                                                const ArchiveRestoreRequest& request) = 0;

  // Report: the names of the extra artifacts this profile writes, listed
  // with their checksums in the summary when they exist.
  virtual std::vector<std::string> artifact_names(const RunArtifactNames& names) const;
};

// The profile a drill's config names. The one place that compares profile
// names.
std::unique_ptr<Profile> make_profile(const DrillConfig& drill);

}  // namespace backupdrill
