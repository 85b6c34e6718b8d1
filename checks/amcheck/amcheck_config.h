#pragma once
// The amcheck check's settings, parsed from its [[drill.check]] table. Kept
// apart from the plugin so the validation is unit-tested without a server.
#include <string>
#include <vector>

namespace backupdrill::checks::amcheck {

struct AmcheckConfig {
  std::vector<std::string> schemas;          // empty: every schema but the system ones
  std::vector<std::string> exclude_schemas;  // never these
  bool heapallindexed = true;                // B-tree checks also prove every heap tuple is indexed
  bool heap = true;                          // verify_heapam over tables (PostgreSQL 14+)
};

// Throws backupdrill::checks::SettingsError "key \"x\": what is expected".
AmcheckConfig parse_amcheck_config(const std::string& toml_text);

// Schema names as a PostgreSQL text[] literal ({"a","b"}), for a $n::text[]
// parameter: every element double-quoted with " and \ escaped.
std::string text_array_literal(const std::vector<std::string>& items);

}  // namespace backupdrill::checks::amcheck
