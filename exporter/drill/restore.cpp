#include "drill/restore.h"

#include <unistd.h>

#include <fstream>
#include <pqxx/pqxx>
#include <set>

#include "artifacts/artifact_files.h"
#include "drill/extension_check.h"
#include "log/log.h"
#include "pg/restore_tool.h"
#include "pg/toc.h"
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

// template0: template1 may hold objects that would collide with the dump.
// The source's encoding when there is a source server; for an existing
// archive the server's default (pg_restore sets the archive's client
// encoding).
std::string create_database_sql(pqxx::nontransaction& tx, const std::string& db,
                                const GuardReport& guard) {
  std::string sql = "create database " + db + " template template0";
  if (!guard.source.encoding.empty()) sql += " encoding " + tx.quote(guard.source.encoding);
  return sql;
}

void recreate_database(const PgSession& s, const GuardReport& guard, const std::string& run_id) {
  auto conn = maintenance(s, guard);
  pqxx::nontransaction tx(conn);
  const std::string db = tx.quote_name(s.target.conninfo.dbname());
  drop_if_exists(tx, s, guard);
  tx.exec(create_database_sql(tx, db, guard));
  tx.exec("comment on database " + db + " is " + tx.quote(marker_comment(s.drill, run_id)));
}

void mark_existing(const PgSession& s, const GuardReport& guard, const std::string& run_id) {
  auto conn = maintenance(s, guard);
  pqxx::nontransaction tx(conn);
  const std::string db = tx.quote_name(s.target.conninfo.dbname());
  if (!guard.target_exists) {
    tx.exec(create_database_sql(tx, db, guard));
  }
  tx.exec("comment on database " + db + " is " + tx.quote(marker_comment(s.drill, run_id)));
}

// The extensions the archive creates: its EXTENSION entries' names.
std::vector<std::string> archive_extensions(const PgSession& s, const std::filesystem::path& dump) {
  std::vector<std::string> names;
  for (const auto& e : pg::parse_toc(archive_listing(s, dump))) {
    if (e.desc == "EXTENSION") names.push_back(e.tag);
  }
  return names;
}

}  // namespace

void drop_target(const PgSession& s, const GuardReport& guard) {
  auto conn = maintenance(s, guard);
  pqxx::nontransaction tx(conn);
  drop_if_exists(tx, s, guard);
}

void run_restore(const PgSession& s, const DrillConfig& drill, Profile& profile,
                 const GuardReport& guard, const std::filesystem::path& dump,
                 const std::filesystem::path& log, const std::string& run_id,
                 RestoreResult& result) {
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
  ArchiveRestoreRequest request;
  request.dump = dump;
  request.log = log;
  request.folder = log.parent_path();
  request.names = RunArtifactNames{run_id};
  request.clean = !recreate;
  request.jobs = drill.restore.jobs;
  request.target_kind = guard.target_kind;
  auto outcome = profile.restore_archive(s, request);
  result.notes = std::move(outcome.notes);
  result.errors = outcome.errors;
  const bool tools_ok = outcome.tools_ok;
  const std::string& tool_status = outcome.tool_status;
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
