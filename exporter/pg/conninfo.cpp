#include "pg/conninfo.h"

#include <libpq-fe.h>

#include <cctype>
#include <cstdlib>
#include <memory>
#include <string_view>
#include <utility>

#include "util/secrets.h"
#include "util/text.h"

namespace backupdrill::pg {
namespace {

// The libpq environment variables that say where and how to connect. The
// exporter's own connections follow them (libpq reads them in-process), but
// children do not inherit them (their environment is an allow-list), so
// they are folded into the parameters here, where they reach pg_dump and
// pg_restore on argv like the rest of the string. A value written in the
// string wins, as in libpq. Not here: PGPASSWORD and PGPASSFILE (they become
// the child's PGPASSFILE, see PrivateDir::write_passfile) and what the drill
// sets for its children itself (PGAPPNAME, PGCONNECT_TIMEOUT, PGOPTIONS).
constexpr std::pair<const char*, const char*> kFoldedEnvironment[] = {
    {"host", "PGHOST"},
    {"hostaddr", "PGHOSTADDR"},
    {"port", "PGPORT"},
    {"dbname", "PGDATABASE"},
    {"user", "PGUSER"},
    {"sslmode", "PGSSLMODE"},
    {"sslrootcert", "PGSSLROOTCERT"},
    {"sslcert", "PGSSLCERT"},
    {"sslkey", "PGSSLKEY"},
    {"sslcrl", "PGSSLCRL"},
};

// Registers every form of a password written in a connection string, before
// libpq has looked at it: the text as written (percent-encoded in a URL,
// quoted and backslash-escaped in keyword/value form), its decoded value, and
// the whole string, which then is a secret itself (register_secret adds each
// one's percent-decoded form).
void register_written_passwords(std::string_view text) {
  bool found = false;
  auto add = [&](std::string_view raw, const std::string& decoded) {
    found = true;
    register_secret(raw);
    register_secret(decoded);
  };
  if (text.starts_with("postgresql://") || text.starts_with("postgres://")) {
    std::string_view rest = text.substr(text.find("://") + 3);
    // As libpq reads it: user[:password]@ ends at the first '@' unless a '/'
    // comes first.
    size_t end = rest.find_first_of("@/");
    if (end != std::string_view::npos && rest[end] == '@') {
      std::string_view userinfo = rest.substr(0, end);
      if (size_t colon = userinfo.find(':'); colon != std::string_view::npos) {
        std::string_view raw = userinfo.substr(colon + 1);
        add(raw, percent_decode(raw));
      }
    }
    if (size_t q = rest.find('?'); q != std::string_view::npos) {
      std::string_view query = rest.substr(q + 1);
      while (!query.empty()) {
        std::string_view pair = query.substr(0, query.find('&'));
        query.remove_prefix(std::min(query.size(), pair.size() + 1));
        size_t eq = pair.find('=');
        if (eq != std::string_view::npos && percent_decode(pair.substr(0, eq)) == "password") {
          add(pair.substr(eq + 1), percent_decode(pair.substr(eq + 1)));
        }
      }
    }
  } else {
    // keyword = value pairs; a value is 'quoted' (\' and \\ escaped) or runs
    // to the next blank (with \ escapes too).
    size_t i = 0;
    auto blank = [&](size_t at) {
      return at < text.size() && std::isspace(static_cast<unsigned char>(text[at]));
    };
    while (i < text.size()) {
      while (blank(i)) ++i;
      size_t key_start = i;
      while (i < text.size() && text[i] != '=' && !blank(i)) ++i;
      std::string_view key = text.substr(key_start, i - key_start);
      while (blank(i)) ++i;
      if (i >= text.size() || text[i] != '=') break;
      ++i;
      while (blank(i)) ++i;
      bool quoted = i < text.size() && text[i] == '\'';
      if (quoted) ++i;
      size_t value_start = i;
      std::string value;
      while (i < text.size() && (quoted ? text[i] != '\'' : !blank(i))) {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        value += text[i++];
      }
      std::string_view raw = text.substr(value_start, i - value_start);
      if (quoted && i < text.size()) ++i;
      if (key == "password") add(raw, value);
    }
  }
  if (found) register_secret(text);
}

}  // namespace

std::string quote_conninfo_value(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

ConnInfo ConnInfo::parse(const std::string& text) {
  register_written_passwords(text);
  // libpq falls back to PGPASSWORD for this connection in-process: a secret.
  if (const char* env = std::getenv("PGPASSWORD"); env && *env) register_secret(env);
  char* err = nullptr;
  PQconninfoOption* options = PQconninfoParse(text.c_str(), &err);
  if (options == nullptr) {
    std::string reason = err ? err : "out of memory";
    if (err) PQfreemem(err);
    trim_right(reason);
    throw ConnInfoError("not a valid PostgreSQL connection string (" + scrub(reason) +
                        "); expected postgresql://user@host:port/db or 'host=... dbname=...'");
  }
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> guard(options, PQconninfoFree);
  ConnInfo info;
  for (auto* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    std::string key = o->keyword;
    if (key == "password") {
      info.password_ = o->val;
      register_secret(o->val);
    } else {
      info.params_[key] = o->val;
    }
  }
  // A service's file names its own host, port...: libpq puts it before the
  // environment, so nothing is folded over it.
  for (const auto& [keyword, variable] : kFoldedEnvironment) {
    if (info.params_.contains("service")) break;
    const char* value = std::getenv(variable);
    if (value && *value && !info.params_.contains(keyword)) info.params_[keyword] = value;
  }
  return info;
}

std::string ConnInfo::without_password() const {
  std::string out;
  for (const auto& [k, v] : params_) {
    if (!out.empty()) out += ' ';
    out += k + "=" + quote_conninfo_value(v);
  }
  return out;
}

std::string ConnInfo::full() const {
  std::string out = without_password();
  if (password_)
    out += (out.empty() ? "" : " ") + std::string("password=") + quote_conninfo_value(*password_);
  return out;
}

std::string ConnInfo::redacted() const {
  std::string out = "postgresql://";
  if (auto user = get("user")) out += *user;
  if (password_) out += ":***";
  if (get("user") || password_) out += "@";
  out += get("host").value_or(get("hostaddr").value_or(""));
  if (auto port = get("port")) out += ":" + *port;
  out += "/" + dbname();
  std::string query;
  for (const auto& [k, v] : params_) {
    if (k == "user" || k == "host" || k == "port" || k == "dbname" || k == "passfile") continue;
    query += (query.empty() ? "?" : "&") + k + "=" + v;
  }
  return scrub(out + query);
}

std::optional<std::string> ConnInfo::get(const std::string& key) const {
  if (auto it = params_.find(key); it != params_.end()) return it->second;
  return std::nullopt;
}

std::string ConnInfo::dbname() const { return get("dbname").value_or(""); }

ConnInfo ConnInfo::with_dbname(const std::string& db) const {
  ConnInfo copy = *this;
  copy.params_["dbname"] = db;
  return copy;
}

bool is_local_host(std::string_view host) {
  std::string lower(host);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower.empty() || lower == "localhost" || lower == "127.0.0.1" || lower == "::1";
}

std::string address_key(const ConnInfo& info) {
  std::string host = info.get("host").value_or(info.get("hostaddr").value_or(""));
  if (is_local_host(host)) host = "local";
  return host + ":" + info.get("port").value_or("5432") + "/" + info.dbname();
}

}  // namespace backupdrill::pg
