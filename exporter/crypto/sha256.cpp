#include "crypto/sha256.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace backupdrill {

Digest::Digest(Algorithm algorithm) : ctx_(EVP_MD_CTX_new()) {
  const EVP_MD* md = algorithm == Algorithm::md5 ? EVP_md5() : EVP_sha256();
  if (ctx_ == nullptr || EVP_DigestInit_ex(ctx_, md, nullptr) != 1) {
    EVP_MD_CTX_free(ctx_);
    throw std::runtime_error("OpenSSL: cannot initialise a digest");
  }
}

Digest::~Digest() { EVP_MD_CTX_free(ctx_); }

void Digest::update(const void* data, size_t size) { EVP_DigestUpdate(ctx_, data, size); }

std::string hex_to_base64(std::string_view hex) {
  if (hex.size() % 2 != 0) return "";
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::vector<unsigned char> bytes;
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return "";
    bytes.push_back(static_cast<unsigned char>(hi * 16 + lo));
  }
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string Digest::hex_digest() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_, digest, &len);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  return out;
}

std::string sha256_file(const std::filesystem::path& path) { return sha256_file(path, nullptr); }

std::string sha256_file(const std::filesystem::path& path,
                        const std::function<void(const char*, size_t)>& also) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw std::runtime_error("cannot read " + path.string() + ": " + std::strerror(errno));
  try {
    std::string digest = sha256_fd(fd, path.string(), also);
    ::close(fd);
    return digest;
  } catch (...) {
    ::close(fd);
    throw;
  }
}

std::string sha256_fd(int fd, const std::string& what,
                      const std::function<void(const char*, size_t)>& also) {
  Sha256 sha;
  std::vector<char> buf(1 << 20);
  while (true) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::runtime_error("cannot read " + what + ": " + std::strerror(errno));
    if (n == 0) break;
    sha.update(buf.data(), static_cast<size_t>(n));
    if (also) also(buf.data(), static_cast<size_t>(n));
  }
  return sha.hex_digest();
}

}  // namespace backupdrill
