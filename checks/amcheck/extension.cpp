#include "amcheck/extension.h"

#include <optional>

#include "amcheck/catalog.h"
#include "amcheck/pg_errors.h"

namespace backupdrill::checks::amcheck {

namespace {

std::optional<Extension> find_extension(pqxx::connection& conn) {
  pqxx::nontransaction tx(conn);
  auto r = tx.exec(
      "select n.nspname, e.extversion from pg_catalog.pg_extension e "
      "join pg_catalog.pg_namespace n on n.oid = e.extnamespace where e.extname = 'amcheck'");
  if (r.empty()) return std::nullopt;
  Extension ext;
  ext.schema = r[0][0].as<std::string>();
  ext.version = r[0][1].as<std::string>();
  ext.ours = ext.schema == kOwnSchema;
  return ext;
}

}  // namespace

std::string Extension::function(pqxx::connection& conn, const std::string& name) const {
  return conn.quote_name(schema) + "." + name;
}

Extension ensure_extension(pqxx::connection& conn) {
  if (auto ext = find_extension(conn)) return *ext;
  std::string user, in_recovery, available;
  {
    pqxx::nontransaction tx(conn);
    auto r = tx.exec(
        "select current_user::text, pg_catalog.pg_is_in_recovery()::text, "
        "exists (select 1 from pg_catalog.pg_available_extensions where name = 'amcheck')::text");
    user = r[0][0].as<std::string>();
    in_recovery = r[0][1].as<std::string>();
    available = r[0][2].as<std::string>();
  }
  if (available != "true") {
    throw ExtensionError(
        "the amcheck extension is not available on the target server: install its files there "
        "(Debian and Ubuntu: it ships with the postgresql-NN server package; RHEL: "
        "postgresql-contrib), then run the drill again");
  }
  if (in_recovery == "true") {
    throw ExtensionError(
        "the amcheck extension is not installed in the restored database, and the server is "
        "read-only (in recovery) so it cannot be created here: CREATE EXTENSION amcheck on the "
        "source (the backup then brings it), or check a promoted server");
  }
  try {
    pqxx::work tx(conn);
    tx.exec("create schema if not exists " + conn.quote_name(kOwnSchema));
    tx.exec("create extension amcheck schema " + conn.quote_name(kOwnSchema));
    tx.commit();
  } catch (const pqxx::sql_error& e) {
    std::string why = server_message(e);
    if (sqlstate_of(e) == "42501") {
      throw ExtensionError(
          "the amcheck extension is not installed in the restored database and the target's "
          "user \"" +
          user + "\" may not create it (" + why +
          "): connect to the target as a superuser, or CREATE EXTENSION amcheck on the source "
          "(the backup then brings it) and GRANT EXECUTE ON FUNCTION bt_index_check(regclass, "
          "boolean) and verify_heapam to \"" +
          user + "\" there");
    }
    throw ExtensionError("could not install the amcheck extension in the restored database: " +
                         why);
  }
  auto ext = find_extension(conn);
  if (!ext) throw ExtensionError("CREATE EXTENSION amcheck succeeded but the extension is missing");
  return *ext;
}

bool has_function(pqxx::connection& conn, const Extension& ext, const std::string& signature) {
  pqxx::nontransaction tx(conn);
  auto r = tx.exec_params("select pg_catalog.to_regprocedure($1) is not null",
                          conn.quote_name(ext.schema) + "." + signature);
  return r[0][0].as<bool>();
}

void remove_extension(pqxx::connection& conn, const Extension& ext) {
  if (!ext.ours) return;
  pqxx::work tx(conn);
  tx.exec("drop extension if exists amcheck");
  tx.exec("drop schema if exists " + conn.quote_name(kOwnSchema));
  tx.commit();
}

}  // namespace backupdrill::checks::amcheck
