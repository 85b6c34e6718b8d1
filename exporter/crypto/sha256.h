#pragma once
// Incremental SHA-256 (OpenSSL EVP), so a backup is hashed while it streams.
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace backupdrill {

// One incremental digest; Sha256 for backups, Md5 only to compare an S3
// ETag (a single-part upload's ETag is the MD5 of its bytes).
class Digest {
 public:
  enum class Algorithm { sha256, md5 };
  explicit Digest(Algorithm algorithm);
  ~Digest();
  Digest(const Digest&) = delete;
  Digest& operator=(const Digest&) = delete;

  void update(const void* data, size_t size);
  // Lower-case hex digest; the object cannot be updated afterwards.
  std::string hex_digest();

 private:
  evp_md_ctx_st* ctx_;
};

class Sha256 : public Digest {
 public:
  Sha256() : Digest(Algorithm::sha256) {}
};

class Md5 : public Digest {
 public:
  Md5() : Digest(Algorithm::md5) {}
};

// "e3b0c4..." (hex digits, either case) -> its bytes in base64 ("47DEQp..."),
// the form S3's x-amz-checksum-sha256 header uses; "" for text that is not
// hex of an even length.
std::string hex_to_base64(std::string_view hex);

// Hashes a whole file with a fixed 1 MiB buffer. Throws std::runtime_error.
std::string sha256_file(const std::filesystem::path& path);

// Hashes a whole file like sha256_file() and hands every chunk read to
// `also` too, so a second consumer costs no second read.
std::string sha256_file(const std::filesystem::path& path,
                        const std::function<void(const char*, size_t)>& also);

// Hashes what an open descriptor reads to its end (the caller opened it, e.g.
// through a ContainedFolder, and closes it); `what` names it in errors.
std::string sha256_fd(int fd, const std::string& what,
                      const std::function<void(const char*, size_t)>& also = nullptr);

}  // namespace backupdrill
