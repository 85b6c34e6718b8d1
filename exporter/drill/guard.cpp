#include "drill/guard.h"

#include <pqxx/pqxx>

#include "drill/target_contents.h"
#include "supabase/target_inspect.h"
#include "util/secrets.h"

namespace backupdrill {
namespace {

ServerFacts read_facts(pqxx::connection& conn) {
  ServerFacts facts;
  pqxx::nontransaction tx(conn);
  auto row = tx.exec1(
      "select pg_postmaster_start_time()::text, current_setting('server_version_num')::int, "
      "current_setting('server_version'), d.oid::bigint, pg_encoding_to_char(d.encoding), "
      "pg_database_size(d.oid) "
      "from pg_database d where d.datname = current_database()");
  facts.postmaster_start = row[0].as<std::string>();
  facts.version_num = row[1].as<int>();
  facts.version = row[2].as<std::string>();
  facts.db_oid = row[3].as<long long>();
  facts.encoding = row[4].as<std::string>();
  facts.database_size = row[5].as<long long>();
  // pg_control_system() is for superusers and pg_monitor; a managed service
  // may refuse it, and then the postmaster start time stands in.
  if (tx.exec1("select has_function_privilege('pg_control_system()', 'execute')")[0].as<bool>()) {
    facts.system_identifier =
        tx.exec1("select system_identifier::text from pg_control_system()")[0].as<std::string>();
  }
  return facts;
}

std::string describe_connect_error(const std::string& side, const pg::ConnInfo& info,
                                   const std::exception& e) {
  std::string reason = scrub(e.what());
  while (!reason.empty() && (reason.back() == '\n' || reason.back() == ' ')) reason.pop_back();
  return "cannot connect to the " + side + " " + info.redacted() + ": " + reason;
}

bool same_database(const ServerFacts& a, const ServerFacts& b) {
  if (!a.system_identifier.empty() && !b.system_identifier.empty()) {
    return a.system_identifier == b.system_identifier && a.db_oid == b.db_oid;
  }
  return a.postmaster_start == b.postmaster_start && a.db_oid == b.db_oid;
}

std::string normalize_host(std::string host) {
  if (host.empty() || host == "localhost" || host == "127.0.0.1" || host == "::1") {
    return "local";
  }
  return host;
}

// profile = "supabase": what the restore will meet. has_platform: the
// database the restore writes into (after recreate: a new, empty one) has
// the Supabase platform.
void resolve_target_kind(const DrillConfig& drill, GuardReport& report, bool has_platform) {
  const bool recreate = drill.restore.mode == RestoreConfig::Mode::recreate;
  if (drill.target_kind == DrillConfig::TargetKind::supabase && !has_platform) {
    throw GuardRefusal(
        recreate ? std::string("target_kind = \"supabase\" needs [drill.restore] mode = "
                               "\"clean\": recreate makes a new database without the platform's "
                               "schemas")
                 : std::string("target_kind = \"supabase\" but the target database has no "
                               "Supabase platform (no auth.users table or no role "
                               "authenticated); set target_kind = \"postgres\" or \"auto\", "
                               "or point target_url at a Supabase project"));
  }
  if (drill.target_kind == DrillConfig::TargetKind::postgres) {
    report.target_kind = "postgres";
    report.target_kind_reason = "target_kind = \"postgres\" (configured)";
  } else if (has_platform) {
    report.target_kind = "supabase";
    report.target_kind_reason =
        drill.target_kind == DrillConfig::TargetKind::supabase
            ? "target_kind = \"supabase\" (configured; the target has the platform)"
            : "target kind supabase (detected: the target has auth.users and the platform roles)";
  } else {
    report.target_kind = "postgres";
    report.target_kind_reason =
        !report.target_exists ? "target kind postgres (detected: the target database is new)"
        : recreate            ? "target kind postgres (restore.mode = \"recreate\": a new database)"
                   : "target kind postgres (detected: no Supabase platform in the target)";
  }
}

}  // namespace

pg::ConnInfo maintenance_conninfo(const pg::ConnInfo& target, const std::string& db) {
  return target.with_dbname(db);
}

GuardReport run_guard(const DrillConfig& drill, const pg::ConnInfo& source,
                      const pg::ConnInfo& target) {
  GuardReport report;
  const std::string target_db = target.dbname();
  if (target_db.empty()) {
    throw GuardRefusal("target_url " + target.redacted() +
                       " names no database; name the drill's own database, e.g. "
                       "postgresql://user@host:5432/drill_target");
  }
  const bool supabase_profile = drill.profile == DrillConfig::Profile::supabase;
  const bool recreate = drill.restore.mode == RestoreConfig::Mode::recreate;
  // A Supabase project has one database, "postgres": a drill into a
  // temporary project restores into it, in clean mode (recreate would drop it).
  const bool project_database = target_db == "postgres" && supabase_profile && !recreate;
  if ((target_db == "postgres" && !project_database) || target_db == "template0" ||
      target_db == "template1") {
    throw GuardRefusal("target database \"" + target_db +
                       "\" is a system database and is never a drill target; name a database "
                       "of its own, e.g. drill_target" +
                       (target_db == "postgres"
                            ? " (a Supabase project's database \"postgres\" is allowed with "
                              "profile = \"supabase\" and [drill.restore] mode = \"clean\")"
                            : ""));
  }
  // Same host, port and database name, as written: refuse without connecting.
  if (normalize_host(source.get("host").value_or("")) ==
          normalize_host(target.get("host").value_or("")) &&
      source.get("port").value_or("5432") == target.get("port").value_or("5432") &&
      source.dbname() == target_db) {
    throw GuardRefusal("target " + target.redacted() + " is the source " + source.redacted() +
                       " (same host, port and database); a drill never restores into its source");
  }

  std::optional<pqxx::connection> src;
  try {
    src.emplace(source.full());
  } catch (const std::exception& e) {
    throw std::runtime_error(describe_connect_error("source", source, e));
  }
  report.source = read_facts(*src);

  std::optional<pqxx::connection> maint;
  std::string first_error;
  for (const std::string db : {"postgres", "template1"}) {
    try {
      maint.emplace(maintenance_conninfo(target, db).full());
      report.maintenance_db = db;
      break;
    } catch (const std::exception& e) {
      if (first_error.empty()) first_error = describe_connect_error("target server", target, e);
    }
  }
  if (!maint) throw std::runtime_error(first_error);
  report.target_server = read_facts(*maint);
  {
    pqxx::nontransaction tx(*maint);
    auto rows = tx.exec_params(
        "select coalesce(shobj_description(oid, 'pg_database'), '') from pg_database "
        "where datname = $1",
        target_db);
    report.target_exists = !rows.empty();
    if (report.target_exists) {
      report.target_marked = rows[0][0].as<std::string>().rfind(kTargetMarkerPrefix, 0) == 0;
    }
  }
  if (!report.target_exists) {
    report.target_empty = true;
    if (supabase_profile) resolve_target_kind(drill, report, false);
    return report;  // a database that does not exist cannot be the source
  }

  std::optional<pqxx::connection> tgt;
  try {
    tgt.emplace(target.full());
  } catch (const std::exception& e) {
    throw std::runtime_error(describe_connect_error("target", target, e));
  }
  ServerFacts target_facts = read_facts(*tgt);
  if (same_database(report.source, target_facts)) {
    throw GuardRefusal("target " + target.redacted() + " is the same database as the source " +
                       source.redacted() +
                       " (same cluster and database); a drill never restores into its source");
  }
  // Empty: nothing a user created, in any catalog a user can add to.
  const auto user_objects = find_user_objects(*tgt);
  report.target_empty = user_objects.empty();
  std::string found = describe(user_objects);
  if (supabase_profile) {
    auto inspection = supabase::inspect_target(*tgt);
    if (inspection.has_platform) {
      // A fresh Supabase project is not empty in the plain sense: its
      // platform schemas and tables are there. Empty means nothing of a
      // user's: no objects outside the platform schemas, no rows in the
      // platform tables a drill would load.
      report.target_empty = inspection.empty();
      found = inspection.describe();
      if (recreate && !report.target_marked) {
        throw GuardRefusal("target database \"" + target_db + "\" on " + target.redacted() +
                           " is a Supabase project database (it has auth.users and the platform "
                           "roles); restore.mode = \"recreate\" would drop it together with the "
                           "platform's schemas. Set [drill.restore] mode = \"clean\"");
      }
    }
    resolve_target_kind(drill, report, inspection.has_platform && !recreate);
  }
  if (!report.target_empty && !report.target_marked && !drill.adopt_target) {
    throw GuardRefusal("target database \"" + target_db + "\" on " + target.redacted() +
                       " is not empty (" + found +
                       ") and not marked as a backupdrill target; refusing to overwrite "
                       "it. Point target_url at an absent or empty database, or set "
                       "adopt_target = true if this database may be destroyed");
  }
  return report;
}

}  // namespace backupdrill
