#pragma once
// Reads the keys of one TOML table of the config, typed, with ${VAR}
// expansion, and remembers which keys were asked for, so that an unknown
// (mistyped) key is refused with the keys that exist and, when one is
// close, a "did you mean". Every refusal names the file, line, table and key.
//
// Internal to config/; the schema (schema.cpp) drives it.
#include <toml++/toml.h>

#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/config.h"
#include "util/env_expand.h"

namespace backupdrill::config {

// The file name of runbook mode's embedded document: its errors name the
// environment variable a value came from instead of a line.
inline constexpr std::string_view kRunbookOrigin = "runbook environment";

class TableReader {
 public:
  TableReader(const toml::table& table, std::string file, std::string context,
              const EnvLookup& env);

  // A reader of a table inside this one (e.g. [drill.backup]); context is
  // appended to this reader's.
  TableReader nested(const toml::table& table, const std::string& context) const;

  [[noreturn]] void fail(const toml::node* node, const std::string& key,
                         const std::string& what) const;
  // "file.toml:12": where key is (or the table, when it is absent).
  std::string location(const std::string& key) const;

  const toml::node* node(const std::string& key);
  std::string expand(const toml::node* n, const std::string& key, const std::string& raw);

  std::optional<std::string> string(const std::string& key);
  std::string required_string(const std::string& key, const std::string& example);
  // key, or key_file holding the value; registered as a secret either way.
  std::optional<std::string> secret(const std::string& key);
  std::optional<long long> integer(const std::string& key, long long min, long long max);
  std::optional<bool> boolean(const std::string& key);
  std::optional<std::chrono::milliseconds> duration(const std::string& key);
  std::optional<std::vector<std::string>> string_array(const std::string& key);
  // The index in allowed of the value; nullopt when the key is absent.
  std::optional<size_t> one_of(const std::string& key, const std::vector<std::string>& allowed);
  const toml::table* subtable(const std::string& key);

  // Refuses keys that were never asked for, listing known and suggesting the
  // closest one.
  void finish(const std::vector<std::string>& known) const;

  void set_context(std::string context) { context_ = std::move(context); }
  const std::string& context() const { return context_; }
  const std::string& file() const { return file_; }
  const toml::table& table() const { return table_; }
  const EnvLookup& env() const { return env_; }

 private:
  const toml::table& table_;
  std::string file_;
  std::string context_;
  const EnvLookup& env_;
  std::set<std::string> used_;
};

// Expands ${VAR} in every string of a check's table; plugins get final values.
void expand_tree(toml::node& node, TableReader& reader, const std::string& key);

// The known key closest to an unknown one (a typo: at most two edits, or
// one is the other with a prefix or suffix); "" when none is close.
std::string closest_key(const std::string& unknown, const std::vector<std::string>& known);

}  // namespace backupdrill::config
