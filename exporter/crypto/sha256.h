#pragma once
// Incremental SHA-256 (OpenSSL EVP), so a backup is hashed while it streams.
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

struct evp_md_ctx_st;

namespace backupdrill {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, size_t size);
  // Lower-case hex digest; the object cannot be updated afterwards.
  std::string hex_digest();

 private:
  evp_md_ctx_st* ctx_;
};

// Hashes a whole file with a fixed 1 MiB buffer. Throws std::runtime_error.
std::string sha256_file(const std::filesystem::path& path);

// Hashes a whole file like sha256_file() and hands every chunk read to
// `also` too, so a second consumer costs no second read.
std::string sha256_file(const std::filesystem::path& path,
                        const std::function<void(const char*, size_t)>& also);

}  // namespace backupdrill
