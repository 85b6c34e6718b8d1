#pragma once
// The guard's decisions that need no connection, apart from the queries that
// feed them: what may never be a target, and when two databases are one.
#include "config/config.h"
#include "model/guard_report.h"
#include "pg/conninfo.h"
#include "profiles/profile.h"

namespace backupdrill {

// Refuses (GuardRefusal) a target that names no database, a system database
// (unless the profile allows a project's "postgres"), or the source's host,
// port, database and user as written.
// source_or_null: null when the drill has no source server (an existing
// archive without source_url).
void refuse_by_name(const DrillConfig& drill, const Profile& profile,
                    const pg::ConnInfo* source_or_null, const pg::ConnInfo& target);

// The same database of the same cluster: by system identifier when both are
// readable, else by the postmaster's start time; and the database's OID.
bool same_database(const ServerFacts& a, const ServerFacts& b);

}  // namespace backupdrill
