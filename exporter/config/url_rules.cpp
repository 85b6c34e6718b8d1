#include "config/url_rules.h"

#include <libpq-fe.h>

#include <cctype>
#include <map>
#include <memory>
#include <optional>

#include "pg/conninfo.h"

namespace backupdrill::config {
namespace {

// The scheme of "scheme://...", when text starts like a URL: letters,
// digits, + - . before "://" (so a keyword/value string whose value holds
// "://" is not taken for a URL).
std::optional<std::string> url_scheme(const std::string& text) {
  size_t end = text.find("://");
  if (end == std::string::npos || end == 0) return std::nullopt;
  for (size_t i = 0; i < end; ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (!std::isalnum(c) && c != '+' && c != '-' && c != '.') return std::nullopt;
  }
  return text.substr(0, end);
}

using Options = std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)>;

Options parse(const std::string& text, std::string* reason) {
  char* err = nullptr;
  PQconninfoOption* options = PQconninfoParse(text.c_str(), &err);
  if (options == nullptr && reason) *reason = err ? err : "out of memory";
  if (err) PQfreemem(err);
  return Options(options, PQconninfoFree);
}

}  // namespace

std::string connection_string_problem(const std::string& text) {
  if (auto scheme = url_scheme(text)) {
    if (*scheme != "postgresql" && *scheme != "postgres") {
      std::string shown = scheme->size() > 32 ? scheme->substr(0, 32) + "..." : *scheme;
      return "is a " + shown +
             ":// URL, not a PostgreSQL connection string; expected "
             "postgresql://user@host:5432/db (or postgres://) or keyword/value "
             "\"host=... dbname=...\"";
    }
  }
  std::string reason;
  if (!parse(text, &reason)) {
    // libpq's reason quotes the offending token, which may be part of a
    // password: say only what kind of problem it is.
    const bool url = url_scheme(text).has_value();
    return std::string("is not a valid PostgreSQL connection string (libpq cannot parse the ") +
           (url ? "URL" : "keyword/value string") +
           "); expected postgresql://user@host:5432/db or \"host=... dbname=...\", with special "
           "characters of a URL percent-encoded (e.g. @ as %40)";
  }
  return "";
}

std::optional<DatabaseAddress> database_address(const std::string& text, const EnvLookup& env) {
  auto options = parse(text, nullptr);
  if (!options) return std::nullopt;
  std::map<std::string, std::string> params;
  for (auto* o = options.get(); o->keyword != nullptr; ++o) {
    if (o->val != nullptr && *o->val != '\0') params[o->keyword] = o->val;
  }
  // A service file names its own host and port: nothing to compare by.
  if (params.contains("service")) return std::nullopt;
  auto value = [&](const std::string& key, const char* variable) -> std::string {
    if (auto it = params.find(key); it != params.end()) return it->second;
    if (auto v = env(variable); v && !v->empty()) return *v;
    return "";
  };
  DatabaseAddress address;
  address.host = value("host", "PGHOST");
  if (address.host.empty()) address.host = value("hostaddr", "PGHOSTADDR");
  for (auto& c : address.host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (pg::is_local_host(address.host)) address.host = "local";
  address.port = value("port", "PGPORT");
  if (address.port.empty()) address.port = "5432";
  address.user = value("user", "PGUSER");
  address.dbname = value("dbname", "PGDATABASE");
  if (address.dbname.empty()) address.dbname = address.user;
  return address;
}

std::string DatabaseAddress::describe() const {
  return "host " + host + ", port " + port + ", database " +
         (dbname.empty() ? "(default)" : dbname) + ", user " + (user.empty() ? "(default)" : user);
}

}  // namespace backupdrill::config
