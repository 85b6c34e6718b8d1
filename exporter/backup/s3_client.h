#pragma once
// The few S3 requests a drill of an existing backup needs, over libcurl with
// its SigV4 signer (CURLOPT_AWS_SIGV4 "aws:amz:<region>:s3"; no AWS SDK):
// ListObjectsV2 with pagination, a ranged GET of an object's first bytes, a
// small GET (a sidecar checksum), and a streamed GET to a file hashed as it
// arrives, with retries.
//
// AWS S3 (endpoint empty) is addressed virtual-host style
// (https://<bucket>.s3.<region>.amazonaws.com/<key>); a custom endpoint (R2,
// B2, MinIO, s3rver) path style (<endpoint>/<bucket>/<key>), which every
// S3-compatible server understands. Redirects are not followed; only http and
// https are spoken.
//
// Errors name the endpoint and the bucket, and S3's own code and message;
// the credentials are registered as secrets (util/secrets.h), given to curl
// only through CURLOPT_USERNAME/PASSWORD, and never appear in an error.
//
// Thread safety: an S3Client may be used from one thread at a time.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "config/config.h"
#include "util/time_format.h"

namespace backupdrill::backup {

struct S3Url {
  std::string bucket;
  std::string prefix;  // "" or ending in '/'
};

// "s3://bucket/prefix/" -> {bucket, "prefix/"}; a prefix without a trailing
// slash gets one (a prefix is a folder here, "app" must not match "app-old/").
// Throws BackupSourceError naming what is wrong.
S3Url parse_s3_url(const std::string& url);

struct S3Object {
  std::string key;
  unsigned long long size = 0;
  std::string etag;  // without the quotes
  SystemTime last_modified{};
};

struct S3Options {
  int page_size = 1000;  // max-keys of each ListObjectsV2 page (S3's own maximum)
  int attempts = 3;      // of the streamed download, on transport errors and 5xx
  std::stop_token cancel = {};
};

// Called while a download streams: bytes so far and the object's size.
using S3Progress = std::function<void(unsigned long long done, unsigned long long total)>;

struct S3Download {
  unsigned long long size = 0;
  std::string sha256;
  int attempts = 0;
};

class S3Client {
 public:
  S3Client(const BackupConfig& config, const std::string& bucket, S3Options options = {});

  // Every object whose key starts with prefix, all pages.
  std::vector<S3Object> list(const std::string& prefix) const;
  // The object's first max_bytes (a Range request; fewer when it is smaller).
  std::string first_bytes(const std::string& key, size_t max_bytes) const;
  // A small object whole; nullopt when it does not exist (404). Refuses one
  // larger than max_bytes.
  std::optional<std::string> get_small(const std::string& key, size_t max_bytes) const;
  // Streams the listed object into dest (created 0600), hashing it. The
  // download is complete only at the listed size and, where the store gives
  // them, the listed ETag (a single-part upload's MD5) and its
  // x-amz-checksum-sha256: a body cut short (a proxy that closes the
  // connection instead of sending Content-Length) is a transport error.
  // A failed attempt is retried from the start; a failure leaves no file
  // and says "got X of Y bytes" when that was the cause.
  S3Download download(const S3Object& object, const std::filesystem::path& dest,
                      const S3Progress& progress = {}) const;

  // "bucket \"b\" at endpoint http://127.0.0.1:9000" for messages.
  std::string where() const;
  std::string url_of(const std::string& key) const;  // "s3://b/k"

 private:
  std::string object_url(const std::string& key) const;
  std::string bucket_url() const;

  std::string endpoint_;  // without a trailing slash; "" for AWS
  std::string region_;
  std::string access_key_id_;
  std::string secret_access_key_;
  std::string bucket_;
  S3Options options_;
};

}  // namespace backupdrill::backup
