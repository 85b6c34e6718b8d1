#include "supabase/platform.h"

#include <algorithm>
#include <array>

namespace backupdrill::supabase {
namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

bool is_platform_role(std::string_view role) {
  static constexpr std::array<std::string_view, 10> kRoles{"anon",
                                                           "authenticated",
                                                           "service_role",
                                                           "authenticator",
                                                           "postgres",
                                                           "dashboard_user",
                                                           "pgbouncer",
                                                           "pgsodium_keyholder",
                                                           "pgsodium_keyiduser",
                                                           "pgsodium_keymaker"};
  if (std::find(kRoles.begin(), kRoles.end(), role) != kRoles.end()) return true;
  // supabase_admin, supabase_auth_admin, supabase_storage_admin,
  // supabase_realtime_admin, supabase_replication_admin, ...; pg_* are
  // PostgreSQL's predefined roles.
  return starts_with(role, "supabase_") || starts_with(role, "pgsodium_") ||
         starts_with(role, "pg_");
}

bool is_platform_schema(std::string_view schema) {
  static constexpr std::array<std::string_view, 16> kSchemas{"auth",
                                                             "storage",
                                                             "realtime",
                                                             "extensions",
                                                             "graphql",
                                                             "graphql_public",
                                                             "supabase_functions",
                                                             "vault",
                                                             "pgsodium",
                                                             "pgsodium_masks",
                                                             "net",
                                                             "cron",
                                                             "supabase_migrations",
                                                             "pgbouncer",
                                                             "_realtime",
                                                             "_analytics"};
  return std::find(kSchemas.begin(), kSchemas.end(), schema) != kSchemas.end();
}

const std::vector<ExcludedData>& excluded_platform_data() {
  static const std::vector<ExcludedData> kExcluded{
      {"auth.schema_migrations",
       "the target project's Auth service keeps its own migration history; the source's rows "
       "would collide with it (duplicate keys)"},
      {"storage.migrations",
       "the target project's Storage service keeps its own migration history; the source's rows "
       "would collide with it (duplicate keys)"},
      {"supabase_functions.migrations",
       "the target project's own migration history of supabase_functions (duplicate keys)"},
      {"realtime.schema_migrations",
       "the target project's Realtime service keeps its own migration history (duplicate keys)"},
      {"vault.secrets",
       "encrypted with the source project's root key: unreadable in another project, and the "
       "target's own secrets stay as they are; set the secrets again in the target",
       true},
      {"cron.job_run_details",
       "the source's run history of its pg_cron jobs; the target's jobs write their own"},
      {"pgsodium.key",
       "the source project's key material: the target keeps its own keys (and the secrets "
       "encrypted with them) untouched",
       true},
  };
  return kExcluded;
}

bool is_excluded_from_every_target(std::string_view qualified_table) {
  const auto& list = excluded_platform_data();
  return std::any_of(list.begin(), list.end(), [&](const ExcludedData& e) {
    return e.every_target && e.table == qualified_table;
  });
}

bool is_excluded_platform_data(std::string_view qualified_table) {
  const auto& list = excluded_platform_data();
  return std::any_of(list.begin(), list.end(),
                     [&](const ExcludedData& e) { return e.table == qualified_table; });
}

}  // namespace backupdrill::supabase
