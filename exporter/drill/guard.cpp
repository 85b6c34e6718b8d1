#include "drill/guard.h"

#include <pqxx/pqxx>

#include "drill/guard_rules.h"
#include "drill/target_contents.h"
#include "util/secrets.h"
#include "util/text.h"

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
  trim_right(reason);
  return "cannot connect to the " + side + " " + info.redacted() + ": " + reason;
}

}  // namespace

pg::ConnInfo maintenance_conninfo(const pg::ConnInfo& target, const std::string& db) {
  return target.with_dbname(db);
}

GuardReport run_guard(const DrillConfig& drill, const Profile& profile,
                      const pg::ConnInfo* source_or_null, const pg::ConnInfo& target) {
  GuardReport report;
  refuse_by_name(drill, profile, source_or_null, target);
  const std::string target_db = target.dbname();

  // An existing archive (source = file or s3) needs no source server; with
  // one configured, it still serves the safety rules and the comparisons.
  if (source_or_null != nullptr) {
    const pg::ConnInfo& source = *source_or_null;
    std::optional<pqxx::connection> src;
    try {
      src.emplace(source.full());
    } catch (const std::exception& e) {
      throw std::runtime_error(describe_connect_error("source", source, e));
    }
    report.source = read_facts(*src);
  }

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
    std::string nothing;
    profile.inspect_target(drill, target, nullptr, report, nothing);
    return report;  // a database that does not exist cannot be the source
  }

  std::optional<pqxx::connection> tgt;
  try {
    tgt.emplace(target.full());
  } catch (const std::exception& e) {
    throw std::runtime_error(describe_connect_error("target", target, e));
  }
  ServerFacts target_facts = read_facts(*tgt);
  if (source_or_null != nullptr && same_database(report.source, target_facts)) {
    throw GuardRefusal("target " + target.redacted() + " is the same database as the source " +
                       source_or_null->redacted() +
                       " (same cluster and database); a drill never restores into its source");
  }
  // Empty: nothing a user created, in any catalog a user can add to.
  const auto user_objects = find_user_objects(*tgt);
  report.target_empty = user_objects.empty();
  std::string found = describe(user_objects);
  profile.inspect_target(drill, target, &*tgt, report, found);
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
