#include "util/env_expand.h"

#include <cctype>
#include <cstdlib>

namespace backupdrill {

std::optional<std::string> process_env(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

std::string expand_env(std::string_view text, const EnvLookup& lookup) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c != '$' || i + 1 >= text.size()) {
      out += c;
      continue;
    }
    if (text[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    if (text[i + 1] != '{') {
      out += c;
      continue;
    }
    size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      throw EnvExpandError("unterminated \"${\" at offset " + std::to_string(i) +
                           ": write ${NAME} or ${NAME:-default}");
    }
    std::string_view body = text.substr(i + 2, close - i - 2);
    std::string_view name = body;
    std::optional<std::string_view> fallback;
    if (auto sep = body.find(":-"); sep != std::string_view::npos) {
      name = body.substr(0, sep);
      fallback = body.substr(sep + 2);
    }
    bool valid = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0]));
    for (char n : name) {
      if (!std::isalnum(static_cast<unsigned char>(n)) && n != '_') valid = false;
    }
    if (!valid) {
      throw EnvExpandError("\"${" + std::string(body) +
                           "}\" is not a variable reference: names are letters, digits and _");
    }
    auto value = lookup(std::string(name));
    if (fallback && (!value || value->empty())) {
      out += *fallback;
    } else if (value) {
      out += *value;
    } else {
      throw EnvExpandError("environment variable " + std::string(name) + " is not set (use ${" +
                           std::string(name) + ":-default} for an optional value)");
    }
    i = close;
  }
  return out;
}

}  // namespace backupdrill
