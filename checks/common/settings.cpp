#include "common/settings.h"

#include <sstream>

namespace backupdrill::checks {

Settings::Settings(const std::string& toml_text) {
  try {
    table_ = toml::parse(toml_text);
  } catch (const toml::parse_error& e) {
    throw SettingsError(std::string("the config is not valid TOML: ") +
                        std::string(e.description()));
  }
}

std::string Settings::name() const { return table_["name"].value_or(std::string("check")); }

void Settings::fail(const std::string& key, const std::string& what) const {
  throw SettingsError("key \"" + key + "\": " + what);
}

std::optional<std::string> Settings::string(const std::string& key) {
  used_.insert(key);
  const auto* node = table_.get(key);
  if (!node) return std::nullopt;
  if (!node->is_string()) fail(key, "expected a string in double quotes");
  return **node->as_string();
}

std::optional<bool> Settings::boolean(const std::string& key) {
  used_.insert(key);
  const auto* node = table_.get(key);
  if (!node) return std::nullopt;
  if (!node->is_boolean()) fail(key, "expected true or false");
  return **node->as_boolean();
}

std::optional<double> Settings::number(const std::string& key) {
  used_.insert(key);
  const auto* node = table_.get(key);
  if (!node) return std::nullopt;
  if (node->is_integer()) return static_cast<double>(**node->as_integer());
  if (node->is_floating_point()) return **node->as_floating_point();
  fail(key, "expected a number");
}

std::optional<long long> Settings::integer(const std::string& key) {
  used_.insert(key);
  const auto* node = table_.get(key);
  if (!node) return std::nullopt;
  if (!node->is_integer()) fail(key, "expected a whole number");
  return **node->as_integer();
}

std::optional<std::vector<std::string>> Settings::strings(const std::string& key) {
  used_.insert(key);
  const auto* node = table_.get(key);
  if (!node) return std::nullopt;
  const auto* arr = node->as_array();
  if (!arr) fail(key, "expected an array of strings, e.g. [\"a\", \"b\"]");
  std::vector<std::string> out;
  for (const auto& item : *arr) {
    if (!item.is_string()) fail(key, "expected an array of strings, e.g. [\"a\", \"b\"]");
    out.push_back(**item.as_string());
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> Settings::string_table(const std::string& key) {
  used_.insert(key);
  std::vector<std::pair<std::string, std::string>> out;
  const auto* node = table_.get(key);
  if (!node) return out;
  const auto* table = node->as_table();
  if (!table) fail(key, "expected a table, e.g. " + key + " = { apikey = \"${ANON_KEY}\" }");
  for (const auto& [k, v] : *table) {
    if (!v.is_string()) fail(key, "the value of \"" + std::string(k.str()) + "\" must be a string");
    out.emplace_back(std::string(k.str()), **v.as_string());
  }
  return out;
}

void Settings::finish() const {
  for (const auto& [k, v] : table_) {
    std::string key(k.str());
    if (!used_.contains(key)) {
      std::string list;
      for (const auto& u : used_) list += (list.empty() ? "" : ", ") + u;
      fail(key, "unknown key; the keys of this plugin are " + list);
    }
  }
}

}  // namespace backupdrill::checks
