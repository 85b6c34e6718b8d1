#include "drill/guard_rules.h"

namespace backupdrill {

bool same_database(const ServerFacts& a, const ServerFacts& b) {
  if (!a.system_identifier.empty() && !b.system_identifier.empty()) {
    return a.system_identifier == b.system_identifier && a.db_oid == b.db_oid;
  }
  return a.postmaster_start == b.postmaster_start && a.db_oid == b.db_oid;
}

void refuse_by_name(const DrillConfig& drill, const Profile& profile,
                    const pg::ConnInfo* source_or_null, const pg::ConnInfo& target) {
  const std::string target_db = target.dbname();
  if (target_db.empty()) {
    throw GuardRefusal("target_url " + target.redacted() +
                       " names no database; name the drill's own database, e.g. "
                       "postgresql://user@host:5432/drill_target");
  }
  const bool project_database = target_db == "postgres" && profile.allows_project_database(drill);
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
  if (source_or_null == nullptr) return;
  const pg::ConnInfo& source = *source_or_null;
  // Same host, port and database name, as written: refuse without connecting.
  if (pg::address_key(source) == pg::address_key(target) &&
      // A pooler (Supabase's Supavisor) tells projects apart by the user; the
      // same database reached as another user is caught once connected.
      source.get("user").value_or("") == target.get("user").value_or("")) {
    throw GuardRefusal(
        "target " + target.redacted() + " is the source " + source.redacted() +
        " (same host, port, database and user); a drill never restores into its source");
  }
}

}  // namespace backupdrill
