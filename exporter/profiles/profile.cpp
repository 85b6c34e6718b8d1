#include "profiles/profile.h"

namespace backupdrill {

// The plain defaults: nothing beyond what PostgreSQL itself defines.
bool Profile::allows_project_database(const DrillConfig&) const { return false; }

void Profile::inspect_target(const DrillConfig&, const pg::ConnInfo&, pqxx::connection*,
                             GuardReport&, std::string&) const {}

void Profile::find_tools(const DrillConfig&, int) {}

void Profile::after_backup(const PgSession&, const std::filesystem::path&,
                           const RunArtifactNames&) {}

std::vector<std::string> Profile::artifact_names(const RunArtifactNames&) const { return {}; }

}  // namespace backupdrill
