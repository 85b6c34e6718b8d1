#include "amcheck/amcheck_config.h"

#include <algorithm>

#include "common/settings.h"

namespace backupdrill::checks::amcheck {

namespace {

// Schema names as the user wrote them: non-empty, no duplicates.
void require_names(const Settings& s, const std::string& key,
                   const std::vector<std::string>& names) {
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty()) s.fail(key, "an empty schema name; write e.g. [\"public\", \"auth\"]");
    if (names[i].size() > 63) {
      s.fail(key, "\"" + names[i].substr(0, 63) +
                      "...\" is longer than PostgreSQL's 63-byte limit for a schema name");
    }
    if (std::find(names.begin(), names.begin() + i, names[i]) != names.begin() + i) {
      s.fail(key, "\"" + names[i] + "\" is listed twice");
    }
  }
}

}  // namespace

AmcheckConfig parse_amcheck_config(const std::string& toml_text) {
  Settings s(toml_text);
  AmcheckConfig c;
  c.schemas = s.strings("schemas").value_or(std::vector<std::string>{});
  c.exclude_schemas = s.strings("exclude_schemas").value_or(std::vector<std::string>{});
  c.heapallindexed = s.boolean("heapallindexed").value_or(true);
  c.heap = s.boolean("heap").value_or(true);
  s.finish();
  require_names(s, "schemas", c.schemas);
  require_names(s, "exclude_schemas", c.exclude_schemas);
  for (const auto& name : c.exclude_schemas) {
    if (std::find(c.schemas.begin(), c.schemas.end(), name) != c.schemas.end()) {
      s.fail("exclude_schemas", "\"" + name +
                                    "\" is also in schemas; list it in one of them (schemas: "
                                    "only these; exclude_schemas: all but these)");
    }
  }
  return c;
}

std::string text_array_literal(const std::vector<std::string>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char ch : items[i]) {
      if (ch == '"' || ch == '\\') out += '\\';
      out += ch;
    }
    out += '"';
  }
  return out + "}";
}

}  // namespace backupdrill::checks::amcheck
