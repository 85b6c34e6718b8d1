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

}  // namespace

void register_secret(std::string_view secret) {
  if (secret.size() < 4) return;
  std::lock_guard lock(secrets_mutex());
  secrets().emplace(secret);
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
