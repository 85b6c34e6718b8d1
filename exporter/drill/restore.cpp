#include "drill/restore.h"

#include <fstream>
#include <pqxx/pqxx>
#include <string_view>

#include "log/log.h"
#include "supabase/restore_flow.h"
#include "util/secrets.h"

namespace backupdrill {
namespace {

std::string marker_comment(const std::string& drill, const std::string& run_id) {
  return std::string(kTargetMarkerPrefix) + ": restored by drill \"" + drill + "\" run " + run_id +
         "; backupdrill may drop and recreate this database";
}

pqxx::connection maintenance(const PgSession& s, const GuardReport& guard) {
  return pqxx::connection(maintenance_conninfo(s.target.conninfo, guard.maintenance_db).full());
}

// Sessions still connected to the target (a check, a person) must not keep
// the drill from dropping it: FORCE on 13+, terminated by hand before.
void drop_if_exists(pqxx::nontransaction& tx, const PgSession& s, const GuardReport& guard) {
  const std::string db = tx.quote_name(s.target.conninfo.dbname());
  if (guard.target_server.major() >= 13) {
    tx.exec("drop database if exists " + db + " with (force)");
  } else {
    tx.exec_params(
        "select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> "
        "pg_backend_pid()",
        s.target.conninfo.dbname());
    tx.exec("drop database if exists " + db);
  }
}

void recreate_database(const PgSession& s, const GuardReport& guard, const std::string& run_id) {
  auto conn = maintenance(s, guard);
  pqxx::nontransaction tx(conn);
  const std::string db = tx.quote_name(s.target.conninfo.dbname());
  drop_if_exists(tx, s, guard);
  // template0: template1 may hold objects that would collide with the dump.
  tx.exec("create database " + db + " template template0 encoding " +
          tx.quote(guard.source.encoding));
  tx.exec("comment on database " + db + " is " + tx.quote(marker_comment(s.drill, run_id)));
}

void mark_existing(const PgSession& s, const GuardReport& guard, const std::string& run_id) {
  auto conn = maintenance(s, guard);
  pqxx::nontransaction tx(conn);
  const std::string db = tx.quote_name(s.target.conninfo.dbname());
  if (!guard.target_exists) {
    tx.exec("create database " + db + " template template0 encoding " +
            tx.quote(guard.source.encoding));
  }
  tx.exec("comment on database " + db + " is " + tx.quote(marker_comment(s.drill, run_id)));
}

}  // namespace

int count_restore_errors(const std::filesystem::path& log) {
  std::ifstream in(log);
  constexpr std::string_view kIgnored = "errors ignored on restore: ";
  int lines = 0;
  int reported = 0;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("pg_restore: error:", 0) == 0 ||
        line.rfind("pg_restore: [archiver (db)] Error", 0) == 0) {
      ++lines;
    }
    // "... errors ignored on restore: N" (no regex over pg_restore's output).
    if (auto at = line.find(kIgnored); at != std::string::npos) {
      size_t from = at + kIgnored.size(), end = from;
      while (end < line.size() && end - from < 9 && line[end] >= '0' && line[end] <= '9') ++end;
      if (end > from) reported = std::stoi(line.substr(from, end - from));
    }
  }
  return std::max(lines, reported);
}

void drop_target(const PgSession& s, const GuardReport& guard) {
  auto conn = maintenance(s, guard);
  pqxx::nontransaction tx(conn);
  drop_if_exists(tx, s, guard);
}

void run_restore(const PgSession& s, const DrillConfig& drill, const GuardReport& guard,
                 const std::filesystem::path& dump, const std::filesystem::path& log,
                 const std::string& run_id, RestoreResult& result) {
  const bool recreate = drill.restore.mode == RestoreConfig::Mode::recreate;
  if (recreate) {
    recreate_database(s, guard, run_id);
  } else {
    // Marked before restoring: a clean restore that fails half-way leaves a
    // non-empty database that the next drill must still recognise as its own.
    mark_existing(s, guard, run_id);
  }
  bool tools_ok = true;
  std::string tool_status;
  if (drill.profile == "supabase") {
    // Roles first, then the archive through the profile's restore plan; the
    // artifact names follow the run's stamp (backup_<ts>.roles, ...).
    const auto folder = log.parent_path();
    supabase::ProfileRestoreInput in;
    in.kind = guard.target_kind == "supabase" ? supabase::TargetKind::supabase
                                              : supabase::TargetKind::postgres;
    in.dump = dump;
    in.roles = folder / ("backup_" + run_id + ".roles");
    in.list = folder / ("restore_" + run_id + ".list");
    in.extlist = folder / ("restore_" + run_id + ".extlist");
    in.log = log;
    in.clean = !recreate;
    in.jobs = drill.restore.jobs;
    auto outcome = supabase::restore_with_profile(s, in);
    result.notes = std::move(outcome.notes);
    result.errors = count_restore_errors(log) + outcome.own_errors;
    tools_ok = outcome.tools_ok;
    tool_status = outcome.tool_status;
  } else {
    ChildSpec spec;
    spec.program = s.pg_restore.path;
    spec.args = {"--dbname=" + s.target.conninfo.without_password(), "--no-password", "--verbose",
                 "--jobs=" + std::to_string(drill.restore.jobs)};
    if (!recreate) {
      spec.args.push_back("--clean");
      spec.args.push_back("--if-exists");
    }
    spec.args.push_back(dump.string());
    spec.env = s.target.env();
    spec.out = ChildSpec::Stream::file;
    spec.out_file = log;
    spec.err = ChildSpec::Stream::to_stdout;
    auto child = ChildProcess::spawn(spec);
    ExitStatus status = child.wait(s.deadline, s.cancel);
    result.errors = count_restore_errors(log);
    tools_ok = status.ok();
    tool_status = "pg_restore " + status.describe();
  }
  if (tools_ok && result.errors == 0) return;

  std::string why = result.errors > 0 ? "pg_restore reported " + std::to_string(result.errors) +
                                            " error" + (result.errors == 1 ? "" : "s")
                                      : tool_status;
  if (recreate) {
    try {
      drop_target(s, guard);
      result.dropped_partial = true;
      why += "; the partial restore was dropped";
    } catch (const std::exception& e) {
      why += "; dropping the partial restore failed too: " + scrub(e.what());
    }
  }
  throw std::runtime_error(why + " (see " + log.filename().string() + ")");
}

}  // namespace backupdrill
