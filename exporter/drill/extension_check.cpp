#include "drill/extension_check.h"

#include <algorithm>
#include <optional>
#include <set>

#include "drill/guard.h"

namespace backupdrill {
namespace {

// Libraries an extension needs in shared_preload_libraries before CREATE
// EXTENSION works, and a setting that exists only once the library is
// loaded (shared_preload_libraries itself is readable by superusers only).
struct Preloaded {
  const char* extension;
  const char* library;
  const char* probe;
};
constexpr Preloaded kPreloaded[] = {
    {"pg_cron", "pg_cron", "cron.database_name"},
    {"pg_net", "pg_net", "pg_net.batch_size"},
    {"timescaledb", "timescaledb", "timescaledb.max_background_workers"},
    {"pgaudit", "pgaudit", "pgaudit.log"},
};

// Debian's package of an extension, with %d for the server's major version.
struct Package {
  const char* extension;
  const char* package;
};
constexpr Package kDebian[] = {
    {"pg_cron", "postgresql-%d-cron"},
    {"vector", "postgresql-%d-pgvector"},
    {"postgis", "postgresql-%d-postgis-3"},
    {"postgis_topology", "postgresql-%d-postgis-3"},
    {"postgis_raster", "postgresql-%d-postgis-3"},
    {"address_standardizer", "postgresql-%d-postgis-3"},
    {"pgrouting", "postgresql-%d-pgrouting"},
    {"pg_partman", "postgresql-%d-partman"},
    {"pgaudit", "postgresql-%d-pgaudit"},
    {"pg_repack", "postgresql-%d-repack"},
    {"hypopg", "postgresql-%d-hypopg"},
    {"plpgsql_check", "postgresql-%d-plpgsql-check"},
    {"pgtap", "postgresql-%d-pgtap"},
    {"rum", "postgresql-%d-rum"},
    {"orafce", "postgresql-%d-orafce"},
    {"hll", "postgresql-%d-hll"},
    {"pg_stat_kcache", "postgresql-%d-pg-stat-kcache"},
    {"plv8", "postgresql-%d-plv8"},
};

// Supabase's own extensions: no distribution packages them.
constexpr const char* kSupabaseOnly[] = {
    "supabase_vault", "pg_graphql",    "pg_net", "pgjwt",     "pg_jsonschema", "wrappers",
    "pgsodium",       "index_advisor", "pg_tle", "supautils", "pg_hashids",    "pgmq"};

std::string package_for(const std::string& ext, int major) {
  for (const auto& p : kDebian) {
    if (ext == p.extension) {
      char buf[96];
      std::snprintf(buf, sizeof buf, p.package, major);
      return buf;
    }
  }
  return "";
}

std::string install_hint(const std::string& ext, int major) {
  auto pkg = package_for(ext, major);
  if (!pkg.empty()) return "install Debian's " + pkg;
  if (std::find(std::begin(kSupabaseOnly), std::end(kSupabaseOnly), ext) !=
      std::end(kSupabaseOnly)) {
    return "build " + ext + " for PostgreSQL " + std::to_string(major) +
           " from its source (no distribution packages it), or drill into a Supabase project";
  }
  return "install the package that provides " + ext + " for PostgreSQL " + std::to_string(major);
}

}  // namespace

std::vector<MissingExtension> missing_extensions(pqxx::connection& conn,
                                                 const std::vector<std::string>& needed,
                                                 const std::string& target_db) {
  pqxx::nontransaction tx(conn);
  const int major =
      tx.exec1("select current_setting('server_version_num')::int / 10000")[0].as<int>();
  std::set<std::string> available;
  for (auto row : tx.exec("select name from pg_available_extensions"))
    available.insert(row[0].as<std::string>());
  std::vector<MissingExtension> out;
  std::set<std::string> seen;
  for (const auto& ext : needed) {
    if (ext == "plpgsql" || !seen.insert(ext).second) continue;
    if (!available.count(ext)) {
      out.push_back({ext, "not available on the target's server (pg_available_extensions)",
                     install_hint(ext, major)});
      continue;
    }
    for (const auto& p : kPreloaded) {
      if (ext != p.extension) continue;
      // Loaded when pg_settings lists the setting (it lists no placeholder:
      // `cron.database_name` in postgresql.conf without the library is
      // one, and current_setting() would read it). A setting this role may
      // not read exists, so the library is loaded; its value is then
      // unknown (empty).
      std::optional<std::string> value;
      auto listed =
          tx.exec_params("select setting from pg_settings where name = $1", std::string(p.probe));
      if (!listed.empty()) {
        value = listed[0][0].is_null() ? "" : listed[0][0].as<std::string>();
      } else {
        try {
          tx.exec_params1("select current_setting($1, true)", std::string(p.probe));
        } catch (const pqxx::sql_error& e) {
          if (std::string(e.what()).find("must be superuser") == std::string::npos &&
              std::string(e.what()).find("permission denied") == std::string::npos)
            throw;
          value = "";
        }
      }
      if (!value) {
        auto pkg = package_for(ext, major);
        out.push_back({ext, "installed but its library is not preloaded",
                       std::string("add ") + p.library +
                           " to shared_preload_libraries in the target server's "
                           "postgresql.conf (shared_preload_libraries = '" +
                           p.library + "') and restart it" +
                           (pkg.empty() ? "" : " (Debian's package: " + pkg + ")")});
      } else if (ext == "pg_cron" && !value->empty() && *value != target_db) {
        out.push_back({ext,
                       "the target server's cron.database_name is '" + *value +
                           "', and pg_cron can only be created in that database",
                       "set cron.database_name = '" + target_db +
                           "' in the target server's postgresql.conf and restart it, or "
                           "restore into database " +
                           *value});
      }
    }
  }
  return out;
}

std::string describe_missing(const std::vector<MissingExtension>& missing) {
  std::string out = "the target cannot create ";
  out += missing.size() == 1 ? "an extension" : std::to_string(missing.size()) + " extensions";
  out += " the archive needs:";
  for (size_t i = 0; i < missing.size(); ++i) {
    out +=
        (i ? "; " : " ") + missing[i].name + " (" + missing[i].reason + "): " + missing[i].remedy;
  }
  return out + ". Nothing was changed on the target.";
}

void require_target_extensions(const pg::ConnInfo& source, const pg::ConnInfo& target_maintenance,
                               const std::string& target_db) {
  std::vector<std::string> needed;
  {
    pqxx::connection conn(source.full());
    pqxx::nontransaction tx(conn);
    for (auto row : tx.exec("select extname from pg_extension order by 1"))
      needed.push_back(row[0].as<std::string>());
  }
  pqxx::connection conn(target_maintenance.full());
  auto missing = missing_extensions(conn, needed, target_db);
  if (!missing.empty()) throw GuardRefusal(describe_missing(missing));
}

}  // namespace backupdrill
