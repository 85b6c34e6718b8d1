#include "pg/conninfo.h"

#include <libpq-fe.h>

#include <memory>

#include "util/secrets.h"

namespace backupdrill::pg {

std::string quote_conninfo_value(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

ConnInfo ConnInfo::parse(const std::string& text) {
  char* err = nullptr;
  PQconninfoOption* options = PQconninfoParse(text.c_str(), &err);
  if (options == nullptr) {
    std::string reason = err ? err : "out of memory";
    if (err) PQfreemem(err);
    while (!reason.empty() && (reason.back() == '\n' || reason.back() == ' ')) reason.pop_back();
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

}  // namespace backupdrill::pg
