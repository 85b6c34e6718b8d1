#pragma once
// Typed access to a check's [[drill.check]] table (TOML text from the host),
// with errors that name the key and what is expected (the host adds the file
// and line), and refusal of unknown keys so a typo is never ignored.
#include <toml++/toml.h>

#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace backupdrill::checks {

struct SettingsError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Settings {
 public:
  // Throws SettingsError when the text is not TOML.
  explicit Settings(const std::string& toml_text);

  std::string name() const;  // the check's name
  std::optional<std::string> string(const std::string& key);
  std::optional<bool> boolean(const std::string& key);
  std::optional<double> number(const std::string& key);
  std::optional<long long> integer(const std::string& key);
  std::optional<std::vector<std::string>> strings(const std::string& key);
  // A string table (e.g. headers = { apikey = "..." }).
  std::vector<std::pair<std::string, std::string>> string_table(const std::string& key);
  [[noreturn]] void fail(const std::string& key, const std::string& what) const;
  // Refuses keys nobody asked for (plugin, name and timeout are the host's).
  void finish() const;

 private:
  toml::table table_;
  std::set<std::string> used_{"plugin", "name", "timeout"};
};

// Session settings that make every value's text form identical on any
// server (time zone, date style, float digits), so source and target
// fingerprints of the same data match.
inline constexpr const char* kStableOutputSettings =
    "set timezone = 'UTC'; set datestyle = 'ISO, YMD'; set intervalstyle = 'postgres'; "
    "set extra_float_digits = 3; set bytea_output = 'hex'";

// The first line of a (PostgreSQL) error text.
inline std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

}  // namespace backupdrill::checks
