#include "checks_builtin/builtin_checks.h"

namespace backupdrill {

std::unique_ptr<Check> make_builtin_check(const CheckConfig& config) {
  if (config.plugin == "table_counts") return make_table_counts(config);
  if (config.plugin == "sql_assert") return make_sql_assert(config);
  if (config.plugin == "api_health") return make_api_health(config);
  throw ConfigError(config.origin + ": check \"" + config.name + "\": unknown plugin \"" +
                    config.plugin + "\"; the bundled checks are table_counts, sql_assert, "
                    "api_health");
}

}  // namespace backupdrill
