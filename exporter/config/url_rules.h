#pragma once
// What the config can know about a drill's URLs without connecting
// (issue 15): a connection string is a postgresql:// or postgres:// URL or a
// libpq keyword/value string, and the target is not the source. The guard
// checks the same again at run time, by the cluster's identity too.
//
// Thread safety: pure functions (libpq's parser is thread-safe).
#include <optional>
#include <string>

#include "util/env_expand.h"

namespace backupdrill::config {

// "" when text is a connection string libpq accepts in a form this exporter
// takes; else why not, in a sentence that never repeats the string (it may
// hold a password).
std::string connection_string_problem(const std::string& text);

// Where a connection string points, normalized: host (lower case; none,
// localhost, 127.0.0.1 and ::1 are one "local" host, as the guard counts them),
// port (default 5432), database (default: the user's name, as libpq's) and
// user, with libpq's PGHOST, PGPORT, PGDATABASE and PGUSER from env where the
// string leaves them out. The user counts: behind a pooler such as Supabase's
// Supavisor, one host, port and database name reach another project by the
// user ("postgres.<project>"); the guard compares the servers at run time.
// nullopt for a string that does not parse or names a service.
struct DatabaseAddress {
  std::string host, port, dbname, user;
  bool operator==(const DatabaseAddress&) const = default;
  std::string describe() const;  // "host h, port p, database d, user u": no password
};
std::optional<DatabaseAddress> database_address(const std::string& text, const EnvLookup& env);

}  // namespace backupdrill::config
