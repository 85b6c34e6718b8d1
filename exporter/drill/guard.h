#pragma once
// The safety rules of docs/design.md (Safety rules), checked before anything
// is written: never restore into the source, never destroy a database that
// is not a drill target.
#include <stdexcept>
#include <string>

#include "config/config.h"
#include "model/guard_report.h"
#include "pg/conninfo.h"
#include "profiles/profile.h"

namespace backupdrill {

// Connects to both sides. Throws GuardRefusal on a safety violation and
// std::runtime_error when a server cannot be reached (the drill fails).
// The profile may redefine an empty target and set the target kind.
// source_or_null: null for an existing archive without a source_url.
GuardReport run_guard(const DrillConfig& drill, const Profile& profile,
                      const pg::ConnInfo* source_or_null, const pg::ConnInfo& target);

// The maintenance database of the target's server, for DROP/CREATE DATABASE.
pg::ConnInfo maintenance_conninfo(const pg::ConnInfo& target, const std::string& db);

}  // namespace backupdrill
