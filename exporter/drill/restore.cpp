#include "drill/restore.h"

#include <unistd.h>

#include <fstream>
#include <pqxx/pqxx>
#include <set>

#include "artifacts/artifact_files.h"
#include "drill/extension_check.h"
#include "drill/restore_tool.h"
#include "log/log.h"
#include "supabase/restore_flow.h"
#include "supabase/toc.h"
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

// The extensions the archive creates: its EXTENSION entries' names.
std::vector<std::string> archive_extensions(const PgSession& s, const std::filesystem::path& dump) {
  std::vector<std::string> names;
  for (const auto& e : supabase::parse_toc(archive_listing(s, dump))) {
    if (e.desc == "EXTENSION") names.push_back(e.tag);
  }
  return names;
}

}  // namespace

int count_restore_errors(const std::filesystem::path& log) {
  // pg_restore names the entry before its first failed statement ("from TOC
  // entry 3622; 0 16460 TABLE DATA auth users ..."), in each worker, once
  // per entry. Its own tally ("errors ignored on restore: N") counts
  // statements, and more of them with several jobs: not a figure to compare.
  std::ifstream in(log);
  std::set<long> failed_entries;
  int error_lines = 0;
  std::string line;
  const std::string kEntry = "pg_restore: from TOC entry ";
  while (std::getline(in, line)) {
    auto at = line.find(kEntry);
    if (at != std::string::npos) {
      try {
        failed_entries.insert(std::stol(line.substr(at + kEntry.size())));
      } catch (const std::exception&) {
        ++error_lines;
      }
    } else if (line.rfind("pg_restore: error:", 0) == 0 ||
               line.rfind("pg_restore: [archiver (db)] Error", 0) == 0) {
      ++error_lines;
    }
  }
  // Errors outside any entry (the connection failed): each one counts.
  if (failed_entries.empty()) return error_lines;
  return static_cast<int>(failed_entries.size());
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
  // The guard compared the source's extensions; the archive's table of
  // contents is what pg_restore will create (an extension added since).
  // Checked before the target is touched.
  {
    auto conn = maintenance(s, guard);
    auto missing =
        missing_extensions(conn, archive_extensions(s, dump), s.target.conninfo.dbname());
    if (!missing.empty()) throw std::runtime_error(describe_missing(missing));
  }
  if (recreate) {
    recreate_database(s, guard, run_id);
  } else {
    // Marked before restoring: a clean restore that fails half-way leaves a
    // non-empty database that the next drill must still recognise as its own.
    mark_existing(s, guard, run_id);
  }
  bool tools_ok = true;
  std::string tool_status;
  if (drill.profile == DrillConfig::Profile::supabase) {
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
    std::vector<std::string> args{"--jobs=" + std::to_string(drill.restore.jobs)};
    if (!recreate) {
      args.push_back("--clean");
      args.push_back("--if-exists");
    }
    args.push_back(dump.string());
    ::close(create_private_file(log));
    ExitStatus status = run_pg_restore_logged(s, args, log);
    result.errors = count_restore_errors(log);
    tools_ok = status.ok();
    tool_status = "pg_restore " + status.describe();
  }
  if (tools_ok && result.errors == 0) return;

  std::string why = result.errors > 0
                        ? "the restore failed on " + std::to_string(result.errors) +
                              (result.errors == 1 ? " archive entry" : " archive entries")
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
