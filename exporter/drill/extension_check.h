#pragma once
// Before anything touches the target: every extension the archive will
// create must be installable there. An extension the target's server does
// not have (pg_available_extensions), or one that works only when its
// library is preloaded (pg_cron: shared_preload_libraries, and
// cron.database_name naming the target database), would otherwise fail late,
// as dozens of "schema cron does not exist" errors. Both profiles.
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "pg/conninfo.h"

namespace backupdrill {

struct MissingExtension {
  std::string name;    // "pg_cron"
  std::string reason;  // "not preloaded (shared_preload_libraries)"
  std::string remedy;  // "install Debian's postgresql-15-cron, then ..."
};

// What the target's server lacks of `needed` (extension names; plpgsql and
// duplicates are ignored). `target_db`: the database the restore goes into.
std::vector<MissingExtension> missing_extensions(pqxx::connection& target_server,
                                                 const std::vector<std::string>& needed,
                                                 const std::string& target_db);

// One sentence naming each missing extension, why, and what to install.
std::string describe_missing(const std::vector<MissingExtension>& missing);

// The guard's check: the source database's extensions (what its archive will
// hold) against the target's server, read through `target_maintenance` (the
// target database may not exist yet). Throws GuardRefusal naming each
// missing extension; std::runtime_error when a server cannot be read.
void require_target_extensions(const pg::ConnInfo& source, const pg::ConnInfo& target_maintenance,
                               const std::string& target_db);

}  // namespace backupdrill
