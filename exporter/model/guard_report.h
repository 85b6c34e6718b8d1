#pragma once
// What the guard found out about both sides before anything was written: the
// facts later phases and the profile's hooks act on.
#include <stdexcept>
#include <string>

namespace backupdrill {

// The drill must not run: a usage error (exit 2), nothing was touched.
struct GuardRefusal : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The comment a drill puts on its target database; its presence is what lets
// the next drill drop and recreate it.
inline constexpr const char* kTargetMarkerPrefix = "backupdrill target";

struct ServerFacts {
  std::string system_identifier;  // empty when not readable (needs pg_read_all_settings)
  std::string postmaster_start;   // with the db oid, identifies a database without privileges
  int version_num = 0;
  std::string version;
  long long db_oid = 0;
  std::string encoding;
  long long database_size = 0;  // pg_database_size of the connected database

  int major() const { return version_num / 10000; }
};

struct GuardReport {
  ServerFacts source;
  ServerFacts target_server;  // read through the maintenance database
  bool target_exists = false;
  bool target_marked = false;
  bool target_empty = false;
  std::string maintenance_db;  // "postgres" or "template1"
  // profile = "supabase" only: "supabase" (restore into a Supabase project:
  // its platform stays, only data goes into platform schemas) or "postgres"
  // (restore everything, platform schemas too); empty for profile postgres.
  std::string target_kind;
  std::string target_kind_reason;  // for the summary: detected or configured, and why
};

}  // namespace backupdrill
