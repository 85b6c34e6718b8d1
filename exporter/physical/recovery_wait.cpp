#include "physical/recovery_wait.h"

#include <pqxx/pqxx>
#include <stdexcept>
#include <thread>

#include "log/log.h"
#include "physical/server_log.h"

namespace backupdrill::physical {
namespace {

using Steady = std::chrono::steady_clock;

struct Progress {
  bool in_recovery = true;
  std::string lsn;
  std::optional<SystemTime> last_commit;
  std::string version;
};

Progress read_progress(pqxx::connection& conn) {
  pqxx::nontransaction tx(conn);
  const auto row = tx.exec1(
      "select pg_is_in_recovery(), coalesce(pg_last_wal_replay_lsn()::text, ''), "
      "extract(epoch from pg_last_xact_replay_timestamp())::float8, "
      "current_setting('server_version')");
  Progress p;
  p.in_recovery = row[0].as<bool>();
  p.lsn = row[1].as<std::string>();
  if (!row[2].is_null()) p.last_commit = from_unix_seconds(row[2].as<double>());
  p.version = row[3].as<std::string>();
  return p;
}

std::string describe(const Progress& p) {
  return "replayed to " + (p.lsn.empty() ? std::string("(nothing yet)") : p.lsn) +
         ", last replayed commit " + (p.last_commit ? iso8601_utc(*p.last_commit) : "none");
}

}  // namespace

std::string socket_conninfo(const ServerSettings& server, const std::string& database,
                            const std::string& role) {
  auto quote = [](const std::string& v) {
    std::string out = "'";
    for (char c : v) {
      if (c == '\'' || c == '\\') out += '\\';
      out += c;
    }
    return out + "'";
  };
  return "host=" + quote(server.socket_dir.string()) + " port=" + std::to_string(server.port) +
         " dbname=" + quote(database) + " user=" + quote(role);
}

RecoveryOutcome wait_for_promotion(ThrowawayServer& server, const std::string& database,
                                   const std::vector<std::string>& roles, Deadline deadline,
                                   std::stop_token cancel, const std::string& drill) {
  const auto started = Steady::now();
  auto next_progress = started + std::chrono::seconds(10);
  std::optional<pqxx::connection> conn;
  size_t role = 0;
  Progress last;
  std::string connect_error;
  while (true) {
    if (auto status = server.exited()) {
      std::string why = server_failure(server.settings().log_file);
      throw std::runtime_error(
          "the restored server stopped during recovery (" + status->describe() +
          "); it said: " + (why.empty() ? std::string("nothing in its log") : why));
    }
    if (cancel.stop_requested()) {
      throw std::runtime_error("recovery was cancelled (" + describe(last) + ")");
    }
    if (Steady::now() >= deadline) {
      throw std::runtime_error("the drill's timeout passed during recovery (" + describe(last) +
                               ")");
    }
    if (!conn) {
      try {
        conn.emplace(socket_conninfo(server.settings(), database, roles[role]) +
                     " connect_timeout=2 application_name=backupdrill");
      } catch (const std::exception& e) {
        connect_error = e.what();
        if (connect_error.find("role \"") != std::string::npos &&
            connect_error.find("does not exist") != std::string::npos) {
          if (++role == roles.size()) {
            throw std::runtime_error("none of the roles " + roles.front() +
                                     (roles.size() > 1 ? ", " + roles.back() : "") +
                                     " exists in the restored cluster; the checks need one");
          }
          continue;
        }
        if (connect_error.find("database \"") != std::string::npos &&
            connect_error.find("does not exist") != std::string::npos) {
          throw std::runtime_error("the restored cluster has no database \"" + database +
                                   "\" ([drill.restore] database)");
        }
      }
    }
    if (conn) {
      try {
        last = read_progress(*conn);
        if (!last.in_recovery) {
          RecoveryOutcome out{roles[role], last.lsn, last.last_commit, last.version,
                              std::chrono::duration<double>(Steady::now() - started).count()};
          return out;
        }
      } catch (const std::exception& e) {
        connect_error = e.what();
        conn.reset();
      }
    }
    if (Steady::now() >= next_progress) {
      next_progress += std::chrono::seconds(10);
      log::info(
          "recovery in progress",
          {{"drill", drill},
           {"replay_lsn", last.lsn.empty() ? "-" : last.lsn},
           {"last_replayed_commit", last.last_commit ? iso8601_utc(*last.last_commit) : "-"},
           {"seconds", std::to_string(static_cast<long>(
                           std::chrono::duration<double>(Steady::now() - started).count()))}});
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

}  // namespace backupdrill::physical
