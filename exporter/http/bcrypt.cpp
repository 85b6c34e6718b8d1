#include "http/bcrypt.h"

#include <crypt.h>
#include <openssl/crypto.h>

#include <memory>
#include <stdexcept>

namespace backupdrill::http {
namespace {

constexpr size_t kHashLength = 60;  // "$2y$10$" + 22 salt + 31 digest characters

bool is_bcrypt_base64(char c) {
  return c == '.' || c == '/' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9');
}

}  // namespace

std::optional<int> bcrypt_cost(std::string_view hash) {
  if (hash.size() != kHashLength || hash.substr(0, 2) != "$2") return std::nullopt;
  if (hash[2] != 'a' && hash[2] != 'b' && hash[2] != 'y') return std::nullopt;
  if (hash[3] != '$' || hash[6] != '$') return std::nullopt;
  if (hash[4] < '0' || hash[4] > '9' || hash[5] < '0' || hash[5] > '9') return std::nullopt;
  const int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
  if (cost < 4 || cost > 31) return std::nullopt;
  for (char c : hash.substr(7)) {
    if (!is_bcrypt_base64(c)) return std::nullopt;
  }
  return cost;
}

bool bcrypt_verify(std::string_view password, const std::string& hash) {
  // crypt_data is 32 KiB: too big for the stack of an I/O thread.
  auto data = std::make_unique<crypt_data>();
  const std::string phrase(password);
  // Always hash, even for a password we will refuse, so timing says nothing.
  const char* out = crypt_rn(phrase.c_str(), hash.c_str(), data.get(), sizeof(crypt_data));
  if (out == nullptr || phrase.find('\0') != std::string::npos) return false;
  const std::string_view computed(out);
  if (computed.size() != hash.size()) return false;
  return CRYPTO_memcmp(computed.data(), hash.data(), hash.size()) == 0;
}

std::string bcrypt_decoy_hash(int cost) {
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn("$2b$", cost, nullptr, 0, setting, sizeof setting) == nullptr) {
    throw std::runtime_error("cannot make a bcrypt salt (libcrypt without bcrypt support?)");
  }
  auto data = std::make_unique<crypt_data>();
  const char* out = crypt_rn("backupdrill decoy password", setting, data.get(), sizeof(crypt_data));
  if (out == nullptr) throw std::runtime_error("cannot compute a bcrypt hash with libcrypt");
  return out;
}

}  // namespace backupdrill::http
