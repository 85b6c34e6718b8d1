#include "supabase/target_inspect.h"

#include "supabase/platform.h"

namespace backupdrill::supabase {
namespace {

// Objects that belong to an extension (pgcrypto's functions, ...) are never
// user data, wherever they live.
constexpr const char* kNotExtensionMember =
    " and not exists (select 1 from pg_depend d where d.classid = %s::regclass"
    " and d.objid = %s and d.deptype = 'e')";

std::string not_member(const std::string& catalog, const std::string& oid_column) {
  char buf[256];
  std::snprintf(buf, sizeof buf, kNotExtensionMember, ("'" + catalog + "'").c_str(),
                oid_column.c_str());
  return buf;
}

}  // namespace

std::string TargetInspection::describe() const {
  std::string what;
  if (user_objects > 0)
    what = std::to_string(user_objects) + " objects outside the platform schemas";
  auto list = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& t : v) s += (s.empty() ? "" : ", ") + t;
    return s;
  };
  if (!tables_with_rows.empty()) {
    what += (what.empty() ? "" : "; ") + std::string("rows in ") + list(tables_with_rows);
  }
  if (!unreadable.empty()) {
    what += (what.empty() ? "" : "; ") + std::string("platform tables it cannot read: ") +
            list(unreadable);
  }
  return what;
}

TargetInspection inspect_target(pqxx::connection& conn) {
  TargetInspection r;
  pqxx::nontransaction tx(conn);
  r.has_platform = tx.exec1(
                         "select to_regclass('auth.users') is not null and exists "
                         "(select 1 from pg_roles where rolname = 'authenticated')")[0]
                       .as<bool>();

  // Schemas are listed by the query, filtered here: one list of platform
  // schemas (platform.cpp) for every part of the drill.
  std::string user_schemas_filter;
  for (auto row : tx.exec("select nspname from pg_namespace")) {
    std::string name = row[0].as<std::string>();
    if (is_platform_schema(name))
      user_schemas_filter += (user_schemas_filter.empty() ? "" : ",") + tx.quote(name);
  }
  const std::string platform_list = user_schemas_filter.empty() ? "''" : user_schemas_filter;
  const std::string skip = " not in ('pg_catalog','information_schema'," + platform_list +
                           ")"
                           " and n.nspname not like 'pg_toast%' and n.nspname not like 'pg_temp%'";
  r.user_objects =
      tx.exec1(
            "select (select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            "          where n.nspname" +
            skip + not_member("pg_class", "c.oid") +
            ")"
            "     + (select count(*) from pg_namespace n where n.nspname <> 'public' and "
            "n.nspname" +
            skip + not_member("pg_namespace", "n.oid") +
            ")"
            "     + (select count(*) from pg_proc p join pg_namespace n on n.oid = p.pronamespace"
            "          where n.nspname" +
            skip + not_member("pg_proc", "p.oid") + ")")[0]
          .as<long long>();

  // Rows in the platform tables a drill loads are somebody's users and
  // files; the platform's own bookkeeping (migration history) is not.
  auto tables = tx.exec(
      "select n.nspname, c.relname, has_table_privilege(c.oid, 'select') from pg_class c "
      "join pg_namespace n on n.oid = c.relnamespace where c.relkind in ('r','p') "
      "and n.nspname in (" +
      platform_list +
      ")"
      " and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass"
      " and d.objid = c.oid and d.deptype = 'e') order by 1, 2");
  for (auto row : tables) {
    std::string qualified = row[0].as<std::string>() + "." + row[1].as<std::string>();
    if (is_excluded_platform_data(qualified)) continue;
    if (!row[2].as<bool>()) {
      r.unreadable.push_back(qualified);
      continue;
    }
    if (tx.exec1("select exists (select 1 from only " + tx.quote_name(row[0].as<std::string>()) +
                 "." + tx.quote_name(row[1].as<std::string>()) + ")")[0]
            .as<bool>()) {
      r.tables_with_rows.push_back(qualified);
    }
  }
  return r;
}

}  // namespace backupdrill::supabase
