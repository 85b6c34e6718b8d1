#pragma once
// Typed access to a check's TOML settings with errors that name the check's
// location and the key, and refusal of unknown keys.
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/config.h"

namespace backupdrill {

class CheckSettings {
 public:
  explicit CheckSettings(const CheckConfig& config);

  std::optional<std::string> string(const std::string& key);
  std::optional<bool> boolean(const std::string& key);
  std::optional<double> number(const std::string& key);
  std::optional<long long> integer(const std::string& key);
  std::optional<std::vector<std::string>> strings(const std::string& key);
  // A key read by other means (a nested table), so finish() accepts it.
  void known(const std::string& key) { used_.insert(key); }
  [[noreturn]] void fail(const std::string& key, const std::string& what) const;
  // Refuses keys nobody asked for (plugin, name and timeout are the host's).
  void finish() const;

 private:
  const CheckConfig& config_;
  std::set<std::string> used_{"plugin", "name", "timeout"};
};

}  // namespace backupdrill
