#pragma once
// The cluster roles a Supabase database needs, from
// `pg_dumpall --roles-only --no-role-passwords`, split into the platform's
// (created NOLOGIN on a plain target that lacks them, so grants and policies
// naming anon/authenticated restore) and the project's own (created when
// missing, without passwords). The split script is the backup_<ts>.roles
// artifact; the restore reads it back.
#include <string>
#include <vector>

namespace backupdrill::supabase {

struct RoleStatement {
  enum class Kind { create_platform, create, alter, grant };
  Kind kind = Kind::create;
  std::string role;  // the role created or altered; for a grant, the member
  std::string sql;   // one statement, ending in ';'
};

// Parses pg_dumpall's output: CREATE ROLE / ALTER ROLE of the project's roles,
// a NOLOGIN CREATE ROLE for each platform role, and memberships granted to the
// project's roles (without GRANTED BY). Meta-commands and SET lines are dropped.
std::vector<RoleStatement> split_roles(const std::string& dumpall_output);

// The artifact: one statement a line, with a marker comment per kind.
std::string render_roles_script(const std::vector<RoleStatement>& statements,
                                const std::string& source);
std::vector<RoleStatement> parse_roles_script(const std::string& script);

// For a restoring role that is not a superuser: drops the attributes only a
// superuser may set (SUPERUSER, REPLICATION, BYPASSRLS, also their NO forms)
// from an ALTER ROLE ... WITH statement.
std::string without_superuser_attributes(const std::string& alter_role);

}  // namespace backupdrill::supabase
