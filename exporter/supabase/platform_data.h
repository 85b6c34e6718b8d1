#pragma once
// The rows of a Supabase project's platform tables (auth.users,
// storage.objects, ...) loaded into a target project that already has those
// tables with their triggers and foreign keys.
//
// Replica mode (session_replication_role = replica) keeps them from firing
// while the rows arrive in the archive's order (auth.identities sorts before
// auth.users). Supabase's supautils lets `postgres` SET that parameter inside
// a session but refuses it in a connection's startup packet (PGOPTIONS), and
// pg_restore cannot run a statement of ours first. So pg_restore only writes
// the entries' data as a script (--data-only --file=-) and backupdrill
// replays it on a connection of its own, after a plain SET:
//   SET session_replication_role = replica; BEGIN;
//   TRUNCATE <the tables loaded, and the user tables referencing them>;
//   one SAVEPOINT per archive entry; COMMIT, or ROLLBACK when an entry failed
// so that a failed drill leaves the project's platform tables as they were.
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "pg/session.h"

namespace backupdrill::supabase {

struct PlatformDataInput {
  std::filesystem::path dump;
  std::filesystem::path list;       // --use-list: the TABLE DATA / SEQUENCE SET entries
  std::vector<std::string> tables;  // "auth.users": emptied first, in the same transaction
};

struct PlatformDataOutcome {
  int failed_entries = 0;  // archive entries whose statements failed (each logged)
  int loaded_entries = 0;
  bool committed = false;  // false: nothing changed on the target
  bool tool_ok = true;     // pg_restore --file=- exited 0
  std::string tool_status;
  std::vector<std::string> notes;  // tables skipped on purpose
};

using LogLine = std::function<void(const std::string& line)>;

// Throws std::runtime_error when the target cannot be reached or pg_restore
// cannot start; statement failures are logged through `error` and counted.
PlatformDataOutcome load_platform_data(const PgSession& session, const PlatformDataInput& input,
                                       const LogLine& info, const LogLine& error);

}  // namespace backupdrill::supabase
