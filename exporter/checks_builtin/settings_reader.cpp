#include "checks_builtin/settings_reader.h"

namespace backupdrill {

CheckSettings::CheckSettings(const CheckConfig& config) : config_(config) {}

void CheckSettings::fail(const std::string& key, const std::string& what) const {
  std::string where = config_.origin;
  if (const auto* node = config_.settings.get(key); node && node->source().begin.line > 0) {
    auto colon = where.rfind(':');
    if (colon != std::string::npos) where = where.substr(0, colon);
    where += ":" + std::to_string(node->source().begin.line);
  }
  throw ConfigError(where + ": check \"" + config_.name + "\" (" + config_.plugin + ") key \"" +
                    key + "\": " + what);
}

std::optional<std::string> CheckSettings::string(const std::string& key) {
  used_.insert(key);
  const auto* node = config_.settings.get(key);
  if (!node) return std::nullopt;
  if (!node->is_string()) fail(key, "expected a string in double quotes");
  return **node->as_string();
}

std::optional<bool> CheckSettings::boolean(const std::string& key) {
  used_.insert(key);
  const auto* node = config_.settings.get(key);
  if (!node) return std::nullopt;
  if (!node->is_boolean()) fail(key, "expected true or false");
  return **node->as_boolean();
}

std::optional<double> CheckSettings::number(const std::string& key) {
  used_.insert(key);
  const auto* node = config_.settings.get(key);
  if (!node) return std::nullopt;
  if (node->is_integer()) return static_cast<double>(**node->as_integer());
  if (node->is_floating_point()) return **node->as_floating_point();
  fail(key, "expected a number");
}

std::optional<long long> CheckSettings::integer(const std::string& key) {
  used_.insert(key);
  const auto* node = config_.settings.get(key);
  if (!node) return std::nullopt;
  if (!node->is_integer()) fail(key, "expected a whole number");
  return **node->as_integer();
}

std::optional<std::vector<std::string>> CheckSettings::strings(const std::string& key) {
  used_.insert(key);
  const auto* node = config_.settings.get(key);
  if (!node) return std::nullopt;
  const auto* arr = node->as_array();
  if (!arr) fail(key, "expected an array of strings");
  std::vector<std::string> out;
  for (const auto& item : *arr) {
    if (!item.is_string()) fail(key, "expected an array of strings");
    out.push_back(**item.as_string());
  }
  return out;
}

void CheckSettings::finish() const {
  for (const auto& [k, v] : config_.settings) {
    std::string key(k.str());
    if (!used_.contains(key)) {
      std::string list;
      for (const auto& u : used_) list += (list.empty() ? "" : ", ") + u;
      fail(key, "unknown key for plugin " + config_.plugin + "; its keys are " + list);
    }
  }
}

}  // namespace backupdrill
