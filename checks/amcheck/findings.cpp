#include "amcheck/findings.h"

namespace backupdrill::checks::amcheck {

namespace {

std::string plural(size_t n, const std::string& one, const std::string& many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

std::string describe(const Relation& r) {
  std::string name = r.schema + "." + r.name;
  switch (r.relkind) {
    case 'i':
      return "index " + name +
             (r.on_toast ? " (on the TOAST table of " + r.table + ")" : " (on " + r.table + ")");
    case 'm':
      return "materialized view " + name;
    case 't':
      return "TOAST table " + name + " (of " + r.table + ")";
    default:
      return "table " + name;
  }
}

ErrorKind classify_sqlstate(const std::string& sqlstate) {
  if (sqlstate == "XX001" || sqlstate == "XX002") return ErrorKind::corruption;
  if (sqlstate == "42501") return ErrorKind::no_privilege;
  if (sqlstate == "57014") return ErrorKind::out_of_time;
  return ErrorKind::not_checkable;
}

std::string failure_message(const std::vector<Finding>& findings, size_t checked,
                            size_t max_listed) {
  size_t corrupt = 0;
  for (const auto& f : findings) corrupt += f.corrupt ? 1 : 0;
  size_t unchecked = findings.size() - corrupt;
  std::string head;
  if (corrupt) head = plural(corrupt, "relation is corrupt", "relations are corrupt");
  if (unchecked) {
    head += (head.empty() ? "" : " and ") +
            plural(unchecked, "relation could not be checked", "relations could not be checked");
  }
  head += " (of " + plural(checked, "relation", "relations") + " checked)";
  std::string list;
  for (size_t i = 0; i < findings.size() && i < max_listed; ++i) {
    const auto& f = findings[i];
    list +=
        (i ? "; " : "") + f.relation + (f.corrupt ? ": " : ": could not be checked: ") + f.message;
  }
  if (findings.size() > max_listed) {
    list += "; and " + std::to_string(findings.size() - max_listed) + " more (each in the log)";
  }
  return head + ": " + list;
}

std::string schemas_text(const std::vector<std::string>& schemas) {
  if (schemas.empty()) return "every non-system schema";
  std::string where = schemas.size() == 1 ? "schema " : "schemas ";
  for (size_t i = 0; i < schemas.size(); ++i) where += (i ? ", " : "") + schemas[i];
  return where;
}

std::string checked_text(size_t indexes, size_t heaps, bool heapallindexed,
                         const std::vector<std::string>& schemas) {
  std::string text = plural(indexes + heaps, "relation", "relations") + " in " +
                     schemas_text(schemas) + ": " +
                     plural(indexes, "B-tree index", "B-tree indexes") +
                     (heapallindexed ? " (bt_index_check, heapallindexed)" : " (bt_index_check)");
  if (heaps) {
    text += ", " + plural(heaps, "heap relation", "heap relations") +
            " (verify_heapam: tables, materialized views, TOAST tables)";
  }
  return text;
}

}  // namespace backupdrill::checks::amcheck
