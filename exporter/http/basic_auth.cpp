#include "http/basic_auth.h"

#include <openssl/sha.h>

#include <algorithm>
#include <cctype>

#include "http/bcrypt.h"

namespace backupdrill::http {
namespace {

constexpr auto kCacheTtl = std::chrono::minutes(1);
constexpr size_t kCacheMax = 256;

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

std::string cache_key(std::string_view user, std::string_view password, std::string_view hash) {
  std::string material;
  material.append(user).push_back('\0');
  material.append(password).push_back('\0');
  material.append(hash);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(material.data()), material.size(), digest);
  std::fill(material.begin(), material.end(), '\0');
  return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

}  // namespace

bool decode_base64(std::string_view in, std::string& out) {
  out.clear();
  if (in.size() % 4 != 0) return false;
  for (size_t i = 0; i < in.size(); i += 4) {
    const bool last = i + 4 == in.size();
    int v[4];
    int pad = 0;
    for (int j = 0; j < 4; ++j) {
      const char c = in[i + j];
      if (c == '=' && last && j >= 2) {
        v[j] = 0;
        ++pad;
      } else if (pad > 0 || (v[j] = base64_value(c)) < 0) {
        return false;
      }
    }
    const unsigned n = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    out.push_back(static_cast<char>((n >> 16) & 0xff));
    if (pad < 2) out.push_back(static_cast<char>((n >> 8) & 0xff));
    if (pad < 1) out.push_back(static_cast<char>(n & 0xff));
  }
  return true;
}

BasicAuth::BasicAuth(std::map<std::string, std::string> users) : users_(std::move(users)) {
  int cost = 4;
  for (const auto& [name, hash] : users_) cost = std::max(cost, bcrypt_cost(hash).value_or(4));
  if (!users_.empty()) decoy_hash_ = bcrypt_decoy_hash(cost);
}

bool BasicAuth::remembered(const std::string& key) const {
  std::lock_guard lock(cache_mutex_);
  auto it = cache_.find(key);
  if (it == cache_.end()) return false;
  if (std::chrono::steady_clock::now() - it->second > kCacheTtl) {
    cache_.erase(it);
    return false;
  }
  return true;
}

void BasicAuth::remember(const std::string& key) const {
  std::lock_guard lock(cache_mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (cache_.size() >= kCacheMax) {
    std::erase_if(cache_, [&](const auto& e) { return now - e.second > kCacheTtl; });
    if (cache_.size() >= kCacheMax) cache_.clear();
  }
  cache_[key] = now;
}

bool BasicAuth::allows(std::string_view authorization) const {
  if (users_.empty()) return true;
  // The scheme is case-insensitive (RFC 7617); one or more spaces follow it.
  if (authorization.size() < 6) return false;
  std::string scheme(authorization.substr(0, 6));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (scheme != "basic ") return false;
  std::string_view encoded = authorization.substr(6);
  while (!encoded.empty() && encoded.front() == ' ') encoded.remove_prefix(1);
  while (!encoded.empty() && encoded.back() == ' ') encoded.remove_suffix(1);

  std::string decoded;
  if (!decode_base64(encoded, decoded)) return false;
  const size_t colon = decoded.find(':');
  if (colon == std::string::npos) return false;
  const std::string_view user = std::string_view(decoded).substr(0, colon);
  const std::string_view password = std::string_view(decoded).substr(colon + 1);

  auto it = users_.find(std::string(user));
  const std::string& hash = it == users_.end() ? decoy_hash_ : it->second;
  const std::string key = cache_key(user, password, hash);
  bool ok = false;
  if (it != users_.end() && remembered(key)) {
    ok = true;
  } else {
    std::lock_guard lock(bcrypt_mutex_);
    ok = bcrypt_verify(password, hash) && it != users_.end();
    if (ok) remember(key);
  }
  std::fill(decoded.begin(), decoded.end(), '\0');
  return ok;
}

}  // namespace backupdrill::http
