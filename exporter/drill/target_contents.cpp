#include "drill/target_contents.h"

namespace backupdrill {
namespace {

// One row per catalog; FirstNormalObjectId is 16384 in every supported
// PostgreSQL. information_schema is created by initdb after pg_init_privs is
// filled, so its privileges are not compared.
constexpr const char* kUserObjectsQuery = R"SQL(
with db as (select oid, datacl from pg_database where datname = current_database()),
init as (select objoid, classoid, initprivs from pg_init_privs where objsubid = 0),
infoschema as (select oid from pg_namespace where nspname = 'information_schema')
select what, n from (
  select 1 as ord, 'relations' as what, (select count(*) from pg_class where oid >= 16384) as n
  union all select 2, 'schemas', (select count(*) from pg_namespace where oid >= 16384)
  union all select 3, 'functions', (select count(*) from pg_proc where oid >= 16384)
  union all select 4, 'types', (select count(*) from pg_type where oid >= 16384)
  union all select 5, 'large objects', (select count(*) from pg_largeobject_metadata)
  union all select 6, 'extensions', (select count(*) from pg_extension where oid >= 16384)
  union all select 7, 'event triggers', (select count(*) from pg_event_trigger)
  union all select 8, 'publications', (select count(*) from pg_publication)
  union all select 9, 'subscriptions',
    (select count(*) from pg_subscription s, db where s.subdbid = db.oid)
  union all select 10, 'foreign data wrappers',
    (select count(*) from pg_foreign_data_wrapper where oid >= 16384)
  union all select 11, 'foreign servers', (select count(*) from pg_foreign_server)
  union all select 12, 'user mappings', (select count(*) from pg_user_mappings)
  union all select 13, 'casts', (select count(*) from pg_cast where oid >= 16384)
  union all select 14, 'operators', (select count(*) from pg_operator where oid >= 16384)
  union all select 15, 'operator classes', (select count(*) from pg_opclass where oid >= 16384)
  union all select 16, 'operator families', (select count(*) from pg_opfamily where oid >= 16384)
  union all select 17, 'access methods', (select count(*) from pg_am where oid >= 16384)
  union all select 18, 'collations', (select count(*) from pg_collation where oid >= 16384)
  union all select 19, 'conversions', (select count(*) from pg_conversion where oid >= 16384)
  union all select 20, 'text search configurations',
    (select count(*) from pg_ts_config where oid >= 16384)
  union all select 21, 'text search dictionaries',
    (select count(*) from pg_ts_dict where oid >= 16384)
  union all select 22, 'text search parsers', (select count(*) from pg_ts_parser where oid >= 16384)
  union all select 23, 'text search templates',
    (select count(*) from pg_ts_template where oid >= 16384)
  union all select 24, 'languages', (select count(*) from pg_language where oid >= 16384)
  union all select 25, 'transforms', (select count(*) from pg_transform)
  union all select 26, 'statistics objects', (select count(*) from pg_statistic_ext)
  union all select 27, 'policies', (select count(*) from pg_policy)
  union all select 28, 'rules', (select count(*) from pg_rewrite where oid >= 16384)
  union all select 29, 'triggers', (select count(*) from pg_trigger where oid >= 16384)
  union all select 30, 'default privileges', (select count(*) from pg_default_acl)
  union all select 31, 'security labels', (select count(*) from pg_seclabel)
  union all select 32, 'changed privileges on built-in objects', (
      (select count(*) from pg_namespace o
         left join init i on i.objoid = o.oid and i.classoid = 'pg_namespace'::regclass
        where o.oid < 16384 and o.oid not in (select oid from infoschema)
          and o.nspacl is distinct from i.initprivs)
    + (select count(*) from pg_class o
         left join init i on i.objoid = o.oid and i.classoid = 'pg_class'::regclass
        where o.oid < 16384 and o.relnamespace not in (select oid from infoschema)
          and o.relacl is distinct from i.initprivs)
    + (select count(*) from pg_proc o
         left join init i on i.objoid = o.oid and i.classoid = 'pg_proc'::regclass
        where o.oid < 16384 and o.pronamespace not in (select oid from infoschema)
          and o.proacl is distinct from i.initprivs)
    + (select count(*) from pg_type o
         left join init i on i.objoid = o.oid and i.classoid = 'pg_type'::regclass
        where o.oid < 16384 and o.typnamespace not in (select oid from infoschema)
          and o.typacl is distinct from i.initprivs)
    + (select count(*) from pg_language o
         left join init i on i.objoid = o.oid and i.classoid = 'pg_language'::regclass
        where o.oid < 16384 and o.lanacl is distinct from i.initprivs)
    + (select count(*) from pg_foreign_data_wrapper o
         left join init i on i.objoid = o.oid and i.classoid = 'pg_foreign_data_wrapper'::regclass
        where o.oid < 16384 and o.fdwacl is distinct from i.initprivs)
    + (select count(*) from pg_attribute a join pg_class c on c.oid = a.attrelid
        where c.oid < 16384 and c.relnamespace not in (select oid from infoschema)
          and a.attacl is not null
          and not exists (select 1 from pg_init_privs p
                           where p.objoid = a.attrelid and p.classoid = 'pg_class'::regclass
                             and p.objsubid = a.attnum and p.initprivs = a.attacl)))
  union all select 33, 'database privileges', (select count(*) from db where datacl is not null)
  union all select 34, 'database settings',
    (select count(*) from pg_db_role_setting s, db where s.setdatabase = db.oid)
) t where n > 0 order by ord
)SQL";

}  // namespace

std::vector<UserObjects> find_user_objects(pqxx::connection& conn) {
  std::vector<UserObjects> found;
  pqxx::nontransaction tx(conn);
  for (const auto& row : tx.exec(kUserObjectsQuery)) {
    found.push_back({row[0].as<std::string>(), row[1].as<long long>()});
  }
  return found;
}

std::string describe(const std::vector<UserObjects>& found) {
  std::string out;
  for (const auto& f : found) {
    if (!out.empty()) out += ", ";
    out += std::to_string(f.count) + " " + f.kind;
  }
  return out.empty() ? "nothing" : out;
}

}  // namespace backupdrill
