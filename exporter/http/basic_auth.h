#pragma once
// HTTP basic authentication against web-config's basic_auth_users.
//
// Thread safety: allows() may be called from any number of threads at once;
// bcrypt runs one at a time so a burst of logins cannot take every core.
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace backupdrill::http {

class BasicAuth {
 public:
  // users: name -> bcrypt hash, as validated by load_web_config().
  explicit BasicAuth(std::map<std::string, std::string> users);

  // False when no users are configured: every request is allowed.
  bool enabled() const { return !users_.empty(); }

  // authorization: the Authorization header's value, "" when absent. True
  // for "Basic base64(user:password)" with a configured user whose hash
  // matches. Unknown users cost one bcrypt of a decoy hash, like known ones.
  // A success is remembered for a minute (keyed by a SHA-256 of user,
  // password and hash, never the password itself) so keep-alive scrapers do
  // not pay a bcrypt per request.
  bool allows(std::string_view authorization) const;

  static constexpr const char* kChallenge = "Basic realm=\"backupdrill\"";

 private:
  bool remembered(const std::string& key) const;
  void remember(const std::string& key) const;

  std::map<std::string, std::string> users_;
  std::string decoy_hash_;
  mutable std::mutex bcrypt_mutex_;
  mutable std::mutex cache_mutex_;
  mutable std::map<std::string, std::chrono::steady_clock::time_point> cache_;
};

// Strict RFC 4648 base64 with padding into out; false for anything else.
bool decode_base64(std::string_view in, std::string& out);

}  // namespace backupdrill::http
