#pragma once
// bcrypt password hashes ($2a$, $2b$, $2y$ as htpasswd -B makes them),
// verified with libxcrypt's crypt_rn.
//
// Thread safety: free functions; each call uses its own crypt state.
#include <optional>
#include <string>
#include <string_view>

namespace backupdrill::http {

// The cost of a well-formed bcrypt hash ("$2y$10$" + 53 characters of
// bcrypt's base64), or nullopt when the text is not one.
std::optional<int> bcrypt_cost(std::string_view hash);

// True when password hashes to hash. Takes as long as one bcrypt of the
// hash's cost whatever the answer, and compares with CRYPTO_memcmp. A
// password with a NUL byte never matches (crypt would cut it short).
bool bcrypt_verify(std::string_view password, const std::string& hash);

// A hash of a random password with the given cost, to spend the same time on
// unknown user names as on known ones.
std::string bcrypt_decoy_hash(int cost);

}  // namespace backupdrill::http
