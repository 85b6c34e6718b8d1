#pragma once
// A PostgreSQL connection string (URL or keyword/value form, as libpq takes
// both) split into its parameters, so the password can travel separately:
// child processes get the rest on argv and the password through a 0600
// PGPASSFILE, and people only ever see the redacted form.
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace backupdrill::pg {

struct ConnInfoError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class ConnInfo {
 public:
  // Throws ConnInfoError with libpq's reason (which never echoes a password).
  // Registers as secrets the password in every form it is written and read
  // (raw, percent-decoded, unquoted), the whole string when it holds one, and
  // the exporter's PGPASSWORD. libpq's connection variables of the exporter's
  // environment (PGHOST, PGPORT, PGUSER, PGDATABASE, PGSSLMODE...) are folded
  // in as parameters where the string does not set them, so a child, which
  // does not inherit them, connects where the exporter itself would.
  static ConnInfo parse(const std::string& text);

  // The full string for in-process libpq connections (includes the password).
  std::string full() const;
  // Keyword/value form without the password: safe for argv.
  std::string without_password() const;
  // For people: "postgresql://user:***@host:port/db?sslmode=require".
  std::string redacted() const;

  std::optional<std::string> get(const std::string& key) const;
  const std::optional<std::string>& password() const { return password_; }
  std::string dbname() const;  // empty when libpq would use its default
  ConnInfo with_dbname(const std::string& db) const;

 private:
  std::map<std::string, std::string> params_;  // every set parameter but the password
  std::optional<std::string> password_;
};

// Whether a connection string's host is this machine: empty (the Unix
// socket), "localhost", "127.0.0.1" or "::1", in any case. The one rule the
// guard, the configuration's same-database check and the busy-target key
// share.
bool is_local_host(std::string_view host);

// The server and database a connection string reaches, spelled one way
// whatever its form (URL or keywords, localhost or 127.0.0.1 or the socket,
// the default port): "local:5432/app", "db.example.com:6543/postgres".
std::string address_key(const ConnInfo& info);

// Quotes a value for a keyword/value connection string.
std::string quote_conninfo_value(const std::string& value);

}  // namespace backupdrill::pg
