#pragma once
// The amcheck extension in the restored database: found where it is, or
// installed into a schema of the check's own (backupdrill_amcheck) and
// removed again afterwards, so the target holds only what was restored. A
// database that cannot get it fails with what to install or grant.
#include <pqxx/pqxx>
#include <stdexcept>
#include <string>

namespace backupdrill::checks::amcheck {

// Why the check cannot use amcheck; what() says what to install or grant.
struct ExtensionError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Extension {
  std::string schema;   // where its functions are
  std::string version;  // extversion
  bool ours = false;    // installed by this check (now or by a run cut short): remove it after
  // Quoted, schema-qualified function names ("backupdrill_amcheck".bt_index_check).
  std::string function(pqxx::connection& conn, const std::string& name) const;
};

// Finds amcheck, or installs it (CREATE EXTENSION needs a superuser: amcheck
// is not a trusted extension). Throws ExtensionError.
Extension ensure_extension(pqxx::connection& conn);

// Whether the installed amcheck has this function signature, e.g.
// "bt_index_check(regclass,boolean)" (an old extension version may not).
bool has_function(pqxx::connection& conn, const Extension& ext, const std::string& signature);

// Removes what ensure_extension() installed (when ours); throws pqxx errors.
void remove_extension(pqxx::connection& conn, const Extension& ext);

}  // namespace backupdrill::checks::amcheck
