#pragma once
// profile = "supabase": a Supabase project's database. Its platform (auth,
// storage, realtime, vault, cron, ...) is the platform's own on a Supabase
// target, the roles live in the cluster, and "empty" means no user data.
#include <optional>

#include "pg/tools.h"
#include "profiles/profile.h"

namespace backupdrill {

// The target kind the restore will meet, and why, into report.target_kind
// and target_kind_reason. has_platform: the database the restore writes into
// (after recreate: a new, empty one) has the Supabase platform. Throws
// GuardRefusal when target_kind = "supabase" cannot hold.
void resolve_target_kind(const DrillConfig& drill, GuardReport& report, bool has_platform);

class SupabaseProfile : public Profile {
 public:
  const char* name() const override { return "supabase"; }
  bool allows_project_database(const DrillConfig& drill) const override;
  void inspect_target(const DrillConfig& drill, const pg::ConnInfo& target_info,
                      pqxx::connection* target, GuardReport& report,
                      std::string& found) const override;
  void find_tools(const DrillConfig& drill, int source_major) override;
  void after_backup(const PgSession& session, const std::filesystem::path& folder,
                    const RunArtifactNames& names) override;
  ArchiveRestoreOutcome restore_archive(const PgSession& session,
                                        const ArchiveRestoreRequest& request) override;
  std::vector<std::string> artifact_names(const RunArtifactNames& names) const override;

 private:
  std::optional<pg::Tool> pg_dumpall_;  // the roles are the cluster's, not the archive's
};

}  // namespace backupdrill
