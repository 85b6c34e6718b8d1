#pragma once
// What the amcheck check reads from the restored database's catalog: the
// relations to check in the chosen schemas, the schemas named that do not
// exist, and the server's version.
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "amcheck/amcheck_config.h"
#include "amcheck/findings.h"

namespace backupdrill::checks::amcheck {

// The schema the check installs amcheck into when the database lacks it; never checked.
inline constexpr const char* kOwnSchema = "backupdrill_amcheck";

// Of config.schemas, those the database does not have.
std::vector<std::string> missing_schemas(pqxx::connection& conn, const AmcheckConfig& config);

// Heaps first (tables, materialized views and their TOAST tables, when
// with_heaps), then the B-tree indexes of all of them that are valid, ready
// and live; no temporary relations (other sessions' are unreadable) and no
// partitioned parents (no storage; their partitions are checked). Each group
// by schema and name.
std::vector<Relation> relations_to_check(pqxx::connection& conn, const AmcheckConfig& config,
                                         bool with_heaps);

}  // namespace backupdrill::checks::amcheck
