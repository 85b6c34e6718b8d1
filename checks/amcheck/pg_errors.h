#pragma once
// Reading a libpqxx error: its SQLSTATE (libpqxx 6.4 leaves it empty on some
// of its own exception classes, e.g. insufficient_privilege) and the
// server's message as people read it.
#include <pqxx/pqxx>
#include <string>

#include "common/settings.h"

namespace backupdrill::checks::amcheck {

inline std::string sqlstate_of(const pqxx::sql_error& e) {
  if (!e.sqlstate().empty()) return e.sqlstate();
  if (dynamic_cast<const pqxx::insufficient_privilege*>(&e)) return "42501";
  return "";
}

// The first line of the message, without libpq's "ERROR:  " prefix.
inline std::string server_message(const std::exception& e) {
  std::string text = first_line(e.what());
  for (const std::string prefix : {"ERROR:  ", "FATAL:  "}) {
    if (text.rfind(prefix, 0) == 0) return text.substr(prefix.size());
  }
  return text;
}

}  // namespace backupdrill::checks::amcheck
