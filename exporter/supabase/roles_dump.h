#pragma once
// The backup side of the roles: pg_dumpall --roles-only --no-role-passwords
// from the source, split (roles.h) into the backup_<ts>.roles artifact.
#include <filesystem>

#include "pg/session.h"

namespace backupdrill::supabase {

// Throws std::runtime_error with pg_dumpall's reason.
void dump_roles(const PgSession& session, const pg::Tool& pg_dumpall,
                const std::filesystem::path& out);

}  // namespace backupdrill::supabase
