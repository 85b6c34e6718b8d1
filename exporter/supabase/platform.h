#pragma once
// What belongs to the Supabase platform rather than to the project's owner:
// its roles, its schemas, and the platform tables whose rows a drill never
// copies. One list, so the guard, the backup and the restore agree.
#include <string>
#include <string_view>
#include <vector>

namespace backupdrill::supabase {

// anon, authenticated, service_role, authenticator, postgres, supabase_*,
// pgsodium_*, dashboard_user, pgbouncer, ... and PostgreSQL's own pg_*.
bool is_platform_role(std::string_view role);

// auth, storage, realtime, extensions, graphql, graphql_public,
// supabase_functions, vault, pgsodium, net, cron, supabase_migrations, ...
bool is_platform_schema(std::string_view schema);

// A platform table whose rows are never restored into a Supabase project,
// and why (for the drill summary).
struct ExcludedData {
  std::string table;  // "auth.schema_migrations"
  std::string reason;
  // Key material and what it encrypts (pgsodium.key, vault.secrets): never
  // restored into any target, never emptied on one.
  bool every_target = false;
};
const std::vector<ExcludedData>& excluded_platform_data();
bool is_excluded_platform_data(std::string_view qualified_table);
bool is_excluded_from_every_target(std::string_view qualified_table);

}  // namespace backupdrill::supabase
