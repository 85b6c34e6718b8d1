#include "util/secrets.h"

#include <algorithm>
#include <mutex>
#include <set>

namespace backupdrill {
namespace {

std::mutex& secrets_mutex() {
  static std::mutex m;
  return m;
}

// Longest first, so a secret that contains another one is masked whole.
struct LongestFirst {
  bool operator()(const std::string& a, const std::string& b) const {
    return a.size() != b.size() ? a.size() > b.size() : a < b;
  }
};

std::set<std::string, LongestFirst>& secrets() {
  static std::set<std::string, LongestFirst> s;
  return s;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
        hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

void register_secret(std::string_view secret) {
  std::string decoded = percent_decode(secret);
  std::lock_guard lock(secrets_mutex());
  if (secret.size() >= 4) secrets().emplace(secret);
  if (decoded.size() >= 4) secrets().emplace(std::move(decoded));
}

std::string scrub(std::string_view text) {
  std::string out(text);
  std::lock_guard lock(secrets_mutex());
  for (const auto& secret : secrets()) {
    for (auto pos = out.find(secret); pos != std::string::npos; pos = out.find(secret, pos + 3)) {
      out.replace(pos, secret.size(), "***");
    }
  }
  return out;
}

}  // namespace backupdrill
