#pragma once
// What the amcheck check found, and the words for it: the relations it
// checks, how a PostgreSQL error on one of them is read (corruption, or a
// reason to stop such as a missing privilege or the deadline), and the
// failure and success messages. No database here: unit-tested alone.
#include <cstddef>
#include <string>
#include <vector>

namespace backupdrill::checks::amcheck {

struct Relation {
  long long oid = 0;
  char relkind = 'r';  // pg_class.relkind: 'i' index, 'r' table, 'm' materialized view, 't' TOAST
  std::string schema;
  std::string name;
  // An index: its table ("schema.name"); a TOAST table: the table it belongs to.
  std::string table;
  bool on_toast = false;  // an index of a TOAST table
  bool is_index() const { return relkind == 'i'; }
};

// "index public.t_pkey (on public.t)", "table public.t",
// "TOAST table pg_toast.pg_toast_16384 (of public.t)", ...
std::string describe(const Relation& r);

// How an error raised while checking one relation is read.
enum class ErrorKind {
  corruption,     // SQLSTATE XX001 data_corrupted, XX002 index_corrupted: amcheck's verdict
  no_privilege,   // 42501: stop, the check cannot work as this user
  out_of_time,    // 57014 query_canceled (our statement_timeout): stop
  not_checkable,  // anything else: this relation could not be checked
};
ErrorKind classify_sqlstate(const std::string& sqlstate);

struct Finding {
  std::string relation;  // describe() of it
  bool corrupt = true;   // false: it could not be checked (message says why)
  std::string message;   // the first line of the server's message
};

// The failure message: how many are corrupt or unchecked, of how many
// checked, then each relation with its first message (at most
// max_listed; the rest are counted, and every one is in the log).
std::string failure_message(const std::vector<Finding>& findings, size_t checked,
                            size_t max_listed = 10);

// "every non-system schema", "schema public", "schemas public, auth"
std::string schemas_text(const std::vector<std::string>& schemas);

// "12 relations in schemas public, auth: 8 B-tree indexes (heapallindexed),
// 4 tables (verify_heapam)"
std::string checked_text(size_t indexes, size_t heaps, bool heapallindexed,
                         const std::vector<std::string>& schemas);

}  // namespace backupdrill::checks::amcheck
