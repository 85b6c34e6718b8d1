#pragma once
// Waiting for the throwaway server's recovery: WAL replayed up to the
// target, then promotion. A progress line every 10 s (replayed LSN and the
// last replayed commit's time); the server's own message when it gives up
// (a missing WAL segment, an unreachable target).
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "physical/throwaway_server.h"
#include "util/time_format.h"

namespace backupdrill::physical {

struct RecoveryOutcome {
  std::string role;                       // the role that could connect
  std::string end_lsn;                    // pg_last_wal_replay_lsn() at promotion
  std::optional<SystemTime> last_commit;  // pg_last_xact_replay_timestamp()
  std::string server_version;             // "15.10"
  double seconds = 0;
};

// A libpq keyword/value string to the server's socket.
std::string socket_conninfo(const ServerSettings& server, const std::string& database,
                            const std::string& role);

// Polls until the server is out of recovery. roles: whom to connect as, in
// order (the restored cluster's roles are the source's). Throws
// std::runtime_error quoting the server's log when it exits, and at the
// deadline or on cancellation (with the last progress).
RecoveryOutcome wait_for_promotion(ThrowawayServer& server, const std::string& database,
                                   const std::vector<std::string>& roles, Deadline deadline,
                                   std::stop_token cancel, const std::string& drill);

}  // namespace backupdrill::physical
