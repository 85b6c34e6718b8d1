#include "amcheck/catalog.h"

namespace backupdrill::checks::amcheck {

std::vector<std::string> missing_schemas(pqxx::connection& conn, const AmcheckConfig& config) {
  std::vector<std::string> missing;
  if (config.schemas.empty()) return missing;
  pqxx::nontransaction tx(conn);
  auto r = tx.exec_params(
      "select s from pg_catalog.unnest($1::text[]) with ordinality as u(s, i) "
      "where not exists (select 1 from pg_catalog.pg_namespace n where n.nspname = u.s) "
      "order by i",
      text_array_literal(config.schemas));
  for (const auto& row : r) missing.push_back(row[0].as<std::string>());
  return missing;
}

std::vector<Relation> relations_to_check(pqxx::connection& conn, const AmcheckConfig& config,
                                         bool with_heaps) {
  // $1 schemas (empty: all but the system ones), $2 excluded, $3 our own.
  static const char* kQuery = R"SQL(
with chosen as (
  select n.oid, n.nspname from pg_catalog.pg_namespace n
  where (case when pg_catalog.cardinality($1::text[]) > 0 then n.nspname = any($1::text[])
              else n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')
                   and n.nspname not like 'pg\_temp\_%'
                   and n.nspname not like 'pg\_toast\_temp\_%' end)
    and not n.nspname = any($2::text[])
    and n.nspname <> $3
),
tables as (
  select c.oid, c.relkind, c.reltoastrelid, ch.nspname, c.relname
  from pg_catalog.pg_class c join chosen ch on ch.oid = c.relnamespace
  where c.relkind in ('r', 'm') and c.relpersistence <> 't'
),
heaps as (
  select t.oid, t.relkind, t.nspname, t.relname, '' as owner from tables t
  union all
  select tc.oid, tc.relkind, tn.nspname, tc.relname, t.nspname || '.' || t.relname
  from tables t
  join pg_catalog.pg_class tc on tc.oid = t.reltoastrelid
  join pg_catalog.pg_namespace tn on tn.oid = tc.relnamespace
)
select 0 as grp, h.oid::int8, h.relkind::text, h.nspname::text, h.relname::text,
       h.owner::text, false as on_toast
from heaps h where $4
union all
select 1, ic.oid::int8, ic.relkind::text, n.nspname::text, ic.relname::text,
       case when h.owner <> '' then h.owner else h.nspname || '.' || h.relname end,
       h.relkind = 't'
from heaps h
join pg_catalog.pg_index x on x.indrelid = h.oid
join pg_catalog.pg_class ic on ic.oid = x.indexrelid
join pg_catalog.pg_am am on am.oid = ic.relam
join pg_catalog.pg_namespace n on n.oid = ic.relnamespace
where am.amname = 'btree' and ic.relkind = 'i' and x.indisvalid and x.indisready and x.indislive
order by 1, 4, 5
)SQL";
  pqxx::nontransaction tx(conn);
  auto r = tx.exec_params(kQuery, text_array_literal(config.schemas),
                          text_array_literal(config.exclude_schemas), std::string(kOwnSchema),
                          with_heaps);
  std::vector<Relation> out;
  out.reserve(r.size());
  for (const auto& row : r) {
    Relation rel;
    rel.oid = row[1].as<long long>();
    rel.relkind = row[2].as<std::string>().front();
    rel.schema = row[3].as<std::string>();
    rel.name = row[4].as<std::string>();
    rel.table = row[5].as<std::string>();
    rel.on_toast = row[6].as<bool>();
    out.push_back(std::move(rel));
  }
  return out;
}

}  // namespace backupdrill::checks::amcheck
