#pragma once
// The names a config gives: drills (they name the artifact folder and a
// metric label), checks (a metric label) and plugins (the file <name>.so in
// the plugin folder). Each is checked character by character, so a name of
// any length is refused in time linear in its length (no regex).
//
// Thread safety: pure functions.
#include <cstddef>
#include <string>
#include <string_view>

#include "util/bounded_text.h"

namespace backupdrill {

// The longest drill, check and plugin name, in bytes.
inline constexpr size_t kMaxConfigNameBytes = 64;

enum class NameKind { drill, check, plugin };

// "" when name is valid; else why not, for an error message (the name in it
// bounded). Drill and check names: a letter or digit, then letters, digits,
// "_", "." or "-". Plugin names may also start with "_" and hold no "..".
inline std::string name_problem(std::string_view name, NameKind kind) {
  const char* what = kind == NameKind::drill   ? "drill name"
                     : kind == NameKind::check ? "check name"
                                               : "plugin name";
  const std::string shown = "\"" + bounded_text(name, 80) + "\"";
  if (name.size() > kMaxConfigNameBytes) {
    return shown + " is not a valid " + what + ": it is " + std::to_string(name.size()) +
           " bytes long, over the limit of " + std::to_string(kMaxConfigNameBytes) + " bytes by " +
           std::to_string(name.size() - kMaxConfigNameBytes);
  }
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  bool ok = !name.empty() && (alnum(name[0]) || (kind == NameKind::plugin && name[0] == '_'));
  for (char c : name) ok = ok && (alnum(c) || c == '_' || c == '.' || c == '-');
  if (kind == NameKind::plugin && name.find("..") != std::string_view::npos) ok = false;
  if (ok) return "";
  std::string rule = "letters, digits, _ . - (max " + std::to_string(kMaxConfigNameBytes) + ")";
  if (kind == NameKind::plugin) {
    return shown + " is not a plugin name: use the file name without .so, e.g. \"table_counts\" (" +
           rule + ")";
  }
  return shown + " is not a valid " + what + ": " + rule;
}

}  // namespace backupdrill
