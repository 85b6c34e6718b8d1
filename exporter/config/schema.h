#pragma once
// The config schema as data: one table per section of the TOML file
// ([exporter], [[drill]], [drill.backup], [drill.restore], [[drill.check]]),
// each key with its type, default, allowed values or range, whether it is a
// secret, whether a reload (SIGHUP) applies it, and a one-line doc. The same
// tables drive parsing (schema.cpp), the unknown-key hints, the reload diff
// below and the test that config/example.toml documents every key.
//
// Thread safety: schema() is built once (thread-safe static); the functions
// are pure.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.h"

namespace backupdrill::config {

enum class ValueType {
  string,        // "text", ${VAR} expanded
  secret,        // a string that is masked everywhere; also <key>_file
  integer,       // a whole number in range
  boolean,       // true | false
  duration,      // "90s", "2h", "1h30m"
  string_array,  // ["a", "b"]
  choice,        // one of allowed
  table,         // [section.key]
  tables,        // [[section.key]]
};
std::string_view to_string(ValueType type);

struct KeyInfo {
  std::string key;
  ValueType type = ValueType::string;
  std::string default_value;         // as TOML would write it; "" when there is none
  std::vector<std::string> allowed;  // choice: the values
  std::optional<std::pair<long long, long long>> range;  // integer: min, max
  bool secret = false;     // masked in logs, artifacts, answers; also <key>_file
  bool reloadable = true;  // SIGHUP applies a change without a restart
  std::string doc;         // one line
};

struct SectionInfo {
  std::string name;   // "exporter", "drill", "drill.backup", "drill.restore", "drill.check"
  bool open = false;  // drill.check: the plugin reads (and validates) further keys
  std::vector<KeyInfo> keys;
};

// Every section, in file order.
const std::vector<SectionInfo>& schema();

// The keys whose values differ between two versions of a drill, by the
// schema ("schedule", "backup.jobs", "check", ...); where a drill sits in
// the file does not count. For the reload log.
std::vector<std::string> drill_differences(const DrillConfig& a, const DrillConfig& b);
bool same_drill(const DrillConfig& a, const DrillConfig& b);

}  // namespace backupdrill::config
