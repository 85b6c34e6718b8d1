#include "supabase/policy_grants.h"

#include <nlohmann/json.hpp>

namespace backupdrill::supabase {

std::set<std::string> policy_grant_tables(std::string_view setting, std::string_view role) {
  std::set<std::string> tables;
  // The server's own setting, bounded by PostgreSQL; not JSON: no grants.
  const auto doc = nlohmann::json::parse(setting, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return tables;
  const auto it = doc.find(std::string(role));
  if (it == doc.end() || !it->is_array()) return tables;
  for (const auto& table : *it) {
    if (table.is_string()) tables.insert(table.get<std::string>());
  }
  return tables;
}

}  // namespace backupdrill::supabase
