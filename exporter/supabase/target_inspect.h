#pragma once
// What the guard needs to know about an existing target database under
// profile = "supabase": is it a Supabase project (the platform's roles and
// schemas are there), and does it hold anything that is not the platform's
// empty scaffolding (user objects, or rows in platform tables the drill
// would overwrite)?
#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace backupdrill::supabase {

struct TargetInspection {
  bool has_platform = false;   // schema auth with table auth.users, and role authenticated
  long long user_objects = 0;  // relations, schemas, functions outside platform schemas
  std::vector<std::string> tables_with_rows;  // platform tables holding rows (user data)
  std::vector<std::string> unreadable;        // platform tables this role cannot read

  bool empty() const { return user_objects == 0 && tables_with_rows.empty() && unreadable.empty(); }
  std::string describe() const;  // for a refusal: what was found
};

TargetInspection inspect_target(pqxx::connection& conn);

}  // namespace backupdrill::supabase
