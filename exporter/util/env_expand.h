#pragma once
// ${VAR} and ${VAR:-default} expansion for config values, so secrets and
// per-host values stay out of the config file.
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace backupdrill {

struct EnvExpandError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

// The process environment.
std::optional<std::string> process_env(const std::string& name);

// Expands every ${NAME} (error when NAME is unset) and ${NAME:-default}
// (default when NAME is unset or empty). "$$" is a literal "$"; a lone "$"
// not followed by "{" is kept as is. Throws EnvExpandError naming the variable.
std::string expand_env(std::string_view text, const EnvLookup& lookup = process_env);

}  // namespace backupdrill
