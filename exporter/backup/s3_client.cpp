#include "backup/s3_client.h"

#include <curl/curl.h>
#include <expat.h>
#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>

#include "backup/source_error.h"
#include "crypto/sha256.h"
#include "util/bounded_text.h"
#include "util/secrets.h"
#include "util/text.h"

namespace backupdrill::backup {
namespace {

constexpr size_t kMaxListBody = 16 << 20;  // one page of 1000 keys is ~350 KB
constexpr size_t kMaxErrorBody = 64 << 10;
constexpr const char* kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// SigV4's URI encoding: everything but A-Z a-z 0-9 - . _ ~ as %XX
// (upper-case hex); '/' kept in object keys.
std::string uri_encode(const std::string& text, bool keep_slash) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '.' || c == '_' || c == '~' || (keep_slash && c == '/');
    if (plain) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

// An ETag as S3 writes it ("\"<hex>\"", in a listing and in a header),
// without its quotes.
std::string unquoted(std::string text) {
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
    text = text.substr(1, text.size() - 2);
  }
  return text;
}

// The text of chosen elements of an S3 XML answer (expat, no DTDs, bounded
// input): ListBucketResult pages and Error documents.
struct XmlAnswer {
  std::vector<std::string> path;
  std::string text;
  // ListBucketResult
  std::vector<S3Object> objects;
  S3Object current;
  bool truncated = false;
  std::string next_token;
  // Error
  std::string code;
  std::string message;

  static void on_start(void* self, const XML_Char* name, const XML_Char**) {
    auto* a = static_cast<XmlAnswer*>(self);
    a->path.emplace_back(name);
    a->text.clear();
  }
  static void on_text(void* self, const XML_Char* s, int len) {
    auto* a = static_cast<XmlAnswer*>(self);
    if (a->text.size() < 4096) a->text.append(s, static_cast<size_t>(len));
  }
  static void on_end(void* self, const XML_Char*) {
    auto* a = static_cast<XmlAnswer*>(self);
    a->finish_element();
    a->path.pop_back();
    a->text.clear();
  }
  void finish_element() {
    const std::string& name = path.back();
    std::string parent = path.size() >= 2 ? path[path.size() - 2] : "";
    if (parent == "Contents") {
      if (name == "Key") current.key = text;
      if (name == "Size") current.size = std::strtoull(text.c_str(), nullptr, 10);
      if (name == "ETag") current.etag = unquoted(text);
      if (name == "LastModified") parse_iso8601_utc(text, current.last_modified);
    } else if (name == "Contents") {
      objects.push_back(current);
      current = S3Object{};
    } else if (parent == "ListBucketResult") {
      if (name == "IsTruncated") truncated = text == "true";
      if (name == "NextContinuationToken") next_token = text;
    } else if (parent == "Error") {
      if (name == "Code") code = bounded_text(text, 100);
      if (name == "Message") message = bounded_text(text, 300);
    }
  }

  // False when the body is not well-formed XML.
  bool parse(const std::string& body) {
    XML_Parser p = XML_ParserCreate(nullptr);
    if (p == nullptr) return false;
    XML_SetUserData(p, this);
    XML_SetElementHandler(p, &XmlAnswer::on_start, &XmlAnswer::on_end);
    XML_SetCharacterDataHandler(p, &XmlAnswer::on_text);
    bool ok = XML_Parse(p, body.data(), static_cast<int>(body.size()), 1) == XML_STATUS_OK;
    XML_ParserFree(p);
    return ok;
  }
};

// One HTTP exchange; the body goes to `sink` (which may refuse more).
struct Exchange {
  long status = 0;
  CURLcode result = CURLE_OK;
  std::string curl_error;
  std::string body;  // the answer when it is kept (errors, lists)
  // Response headers, names lower-cased, of the last response (bounded).
  std::map<std::string, std::string> headers;
};

using Sink = std::function<bool(const char*, size_t)>;

struct CurlCall {
  Sink sink;
  std::stop_token cancel = {};

  static size_t on_data(char* data, size_t size, size_t count, void* self) {
    auto* call = static_cast<CurlCall*>(self);
    size_t n = size * count;
    return call->sink(data, n) ? n : 0;
  }
  static int on_progress(void* self, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    auto* call = static_cast<CurlCall*>(self);
    return call->cancel.stop_requested() ? 1 : 0;
  }
  // "Name: value\r\n", one line a call; a new status line starts afresh.
  static size_t on_header(char* data, size_t size, size_t count, void* self) {
    auto* headers = static_cast<std::map<std::string, std::string>*>(self);
    size_t n = size * count;
    std::string_view line(data, n);
    if (line.starts_with("HTTP/")) headers->clear();
    auto colon = line.find(':');
    if (colon == std::string_view::npos || colon > 64 || headers->size() > 100) return n;
    std::string name(line.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() &&
           (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
      value.remove_suffix(1);
    }
    (*headers)[name] = std::string(value.substr(0, 256));
    return n;
  }
};

}  // namespace

S3Url parse_s3_url(const std::string& url) {
  const std::string scheme = "s3://";
  if (url.rfind(scheme, 0) != 0) {
    throw BackupSourceError("url \"" + bounded_text(url, 200) +
                            "\" is not an S3 URL; write s3://bucket/prefix/");
  }
  std::string rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  S3Url out;
  out.bucket = rest.substr(0, slash);
  out.prefix = slash == std::string::npos ? "" : rest.substr(slash + 1);
  bool bucket_ok = out.bucket.size() >= 3 && out.bucket.size() <= 63;
  for (char c : out.bucket) {
    bucket_ok = bucket_ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                              c == '.' || c == '_');
  }
  if (!bucket_ok) {
    throw BackupSourceError("url \"" + bounded_text(url, 200) + "\": \"" +
                            bounded_text(out.bucket, 80) +
                            "\" is not a bucket name (3 to 63 of a-z 0-9 . - _)");
  }
  if (!out.prefix.empty() && out.prefix.back() != '/') out.prefix += '/';
  return out;
}

S3Client::S3Client(const BackupConfig& config, const std::string& bucket, S3Options options)
    : endpoint_(config.endpoint),
      region_(config.region.empty() ? "us-east-1" : config.region),
      access_key_id_(config.access_key_id),
      secret_access_key_(config.secret_access_key),
      bucket_(bucket),
      options_(options) {
  init_curl_once();
  while (!endpoint_.empty() && endpoint_.back() == '/') endpoint_.pop_back();
  if (!endpoint_.empty() && endpoint_.rfind("http://", 0) != 0 &&
      endpoint_.rfind("https://", 0) != 0) {
    throw BackupSourceError("endpoint \"" + bounded_text(endpoint_, 200) +
                            "\" must start with https:// (or http:// on a trusted network)");
  }
  if (access_key_id_.empty() || secret_access_key_.empty()) {
    throw BackupSourceError("source = \"s3\" needs access_key_id and secret_access_key (for " +
                            where() + ")");
  }
  register_secret(access_key_id_);
  register_secret(secret_access_key_);
}

std::string S3Client::where() const {
  return "bucket \"" + bucket_ + "\" at " +
         (endpoint_.empty() ? "AWS S3 (region " + region_ + ")" : "endpoint " + endpoint_);
}

std::string S3Client::url_of(const std::string& key) const { return "s3://" + bucket_ + "/" + key; }

std::string S3Client::bucket_url() const {
  if (endpoint_.empty()) return "https://" + bucket_ + ".s3." + region_ + ".amazonaws.com";
  return endpoint_ + "/" + bucket_;
}

std::string S3Client::object_url(const std::string& key) const {
  return bucket_url() + "/" + uri_encode(key, true);
}

namespace {

// Runs one signed GET. Never throws for HTTP errors (the caller words them).
Exchange signed_get(const std::string& url, const std::string& region, const std::string& key_id,
                    const std::string& secret, const std::vector<std::string>& headers,
                    const Sink& sink, std::stop_token cancel) {
  Exchange ex;
  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    ex.result = CURLE_FAILED_INIT;
    ex.curl_error = "cannot initialise libcurl";
    return ex;
  }
  char error[CURL_ERROR_SIZE] = {0};
  curl_slist* list = nullptr;
  // S3 wants the payload's hash signed; a GET's payload is empty (libcurl
  // 7.88 signs this header but does not add it by itself).
  list = curl_slist_append(list, (std::string("x-amz-content-sha256: ") + kEmptySha256).c_str());
  for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
  std::string sigv4 = "aws:amz:" + region + ":s3";
  CurlCall call;
  size_t kept_error = 0;
  call.cancel = cancel;
  call.sink = [&](const char* data, size_t n) {
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 300) {  // an error document: keep its start only
      if (kept_error < kMaxErrorBody) {
        size_t take = std::min(n, kMaxErrorBody - kept_error);
        ex.body.append(data, take);
        kept_error += take;
      }
      return true;
    }
    return sink(data, n);
  };
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, sigv4.c_str());
  curl_easy_setopt(curl, CURLOPT_USERNAME, key_id.c_str());
  curl_easy_setopt(curl, CURLOPT_PASSWORD, secret.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 30L);
  // A transfer that delivers under 1 KiB/s for a minute is dead, not slow.
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &CurlCall::on_data);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &call);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, &CurlCall::on_progress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &call);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &CurlCall::on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &ex.headers);
  ex.result = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &ex.status);
  ex.curl_error = error[0] != '\0' ? error : curl_easy_strerror(ex.result);
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return ex;
}

bool transient(const Exchange& ex) {
  if (ex.result != CURLE_OK && ex.result != CURLE_WRITE_ERROR &&
      ex.result != CURLE_ABORTED_BY_CALLBACK) {
    return true;
  }
  return ex.status >= 500;
}

}  // namespace

// What went wrong, where, and what to do; credentials never included.
static std::string failure(const S3Client& c, const std::string& what, const Exchange& ex) {
  std::string text = what + " (" + c.where() + "): ";
  if (ex.result != CURLE_OK && ex.status < 300) {
    text += ex.curl_error;
  } else {
    XmlAnswer answer;
    answer.parse(ex.body);
    text += "HTTP " + std::to_string(ex.status);
    if (!answer.code.empty()) text += " " + answer.code;
    if (!answer.message.empty()) text += ": " + answer.message;
    if (ex.status == 401 || ex.status == 403) {
      text +=
          "; check access_key_id, secret_access_key and region, and that the key may read "
          "the bucket";
    } else if (ex.status == 404 && answer.code == "NoSuchBucket") {
      text += "; check the bucket in url and the endpoint";
    }
  }
  return scrub(utf8_or_replaced(text));
}

std::vector<S3Object> S3Client::list(const std::string& prefix) const {
  std::vector<S3Object> all;
  std::string token;
  for (int page = 0;; ++page) {
    // Parameters in SigV4's canonical (sorted) order, encoded once.
    std::string query;
    if (!token.empty()) query += "continuation-token=" + uri_encode(token, false) + "&";
    query += "list-type=2&max-keys=" + std::to_string(options_.page_size);
    if (!prefix.empty()) query += "&prefix=" + uri_encode(prefix, false);
    std::string body;
    bool too_big = false;
    Exchange ex = signed_get(
        bucket_url() + "/?" + query, region_, access_key_id_, secret_access_key_, {},
        [&](const char* data, size_t n) {
          if (body.size() + n > kMaxListBody) {
            too_big = true;
            return false;
          }
          body.append(data, n);
          return true;
        },
        options_.cancel);
    if (too_big) {
      throw BackupSourceError("listing " + url_of(prefix) + " (" + where() +
                              "): a page larger than 16 MiB; not an S3 server?");
    }
    if (ex.result != CURLE_OK || ex.status != 200) {
      throw BackupSourceError(failure(*this, "listing " + url_of(prefix), ex));
    }
    XmlAnswer answer;
    if (!answer.parse(body)) {
      throw BackupSourceError("listing " + url_of(prefix) + " (" + where() +
                              "): the answer is not S3's XML; is the endpoint an S3 server?");
    }
    for (auto& o : answer.objects) all.push_back(std::move(o));
    if (!answer.truncated) break;
    if (answer.next_token.empty() || answer.next_token == token || page > 100000) {
      throw BackupSourceError("listing " + url_of(prefix) + " (" + where() +
                              "): the server says there is more but gives no new "
                              "continuation token");
    }
    token = answer.next_token;
  }
  return all;
}

std::string S3Client::first_bytes(const std::string& key, size_t max_bytes) const {
  std::string body;
  Exchange ex = signed_get(
      object_url(key), region_, access_key_id_, secret_access_key_,
      {"Range: bytes=0-" + std::to_string(max_bytes - 1)},
      [&](const char* data, size_t n) {
        // A server that ignores Range sends it all: stop once we have enough.
        size_t take = std::min(n, max_bytes - body.size());
        body.append(data, take);
        return body.size() < max_bytes;
      },
      options_.cancel);
  bool enough = ex.result == CURLE_WRITE_ERROR && body.size() == max_bytes;
  if (!enough && (ex.result != CURLE_OK || (ex.status != 200 && ex.status != 206))) {
    // 416: an empty object has no byte 0.
    if (ex.status == 416) return "";
    throw BackupSourceError(failure(*this, "reading the start of " + url_of(key), ex));
  }
  return body;
}

std::optional<std::string> S3Client::get_small(const std::string& key, size_t max_bytes) const {
  std::string body;
  bool too_big = false;
  Exchange ex = signed_get(
      object_url(key), region_, access_key_id_, secret_access_key_, {},
      [&](const char* data, size_t n) {
        if (body.size() + n > max_bytes) {
          too_big = true;
          return false;
        }
        body.append(data, n);
        return true;
      },
      options_.cancel);
  if (ex.status == 404) return std::nullopt;
  if (too_big) {
    throw BackupVerifyError(url_of(key) + " (" + where() + ") is larger than " +
                            std::to_string(max_bytes) + " bytes, not a checksum file");
  }
  if (ex.result != CURLE_OK || ex.status != 200) {
    throw BackupSourceError(failure(*this, "reading " + url_of(key), ex));
  }
  return body;
}

namespace {

bool is_md5_etag(const std::string& etag) {
  return etag.size() == 32 && etag.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
}

// Whether this GET's ETag is the MD5 of the bytes: a single-part upload
// ("<32 hex>", no "-<parts>") not encrypted with SSE-KMS or SSE-C, whose
// ETags are not MD5s.
bool etag_is_content_md5(const Exchange& ex, const std::string& etag) {
  auto sse = ex.headers.find("x-amz-server-side-encryption");
  bool kms = sse != ex.headers.end() && sse->second.starts_with("aws:kms");
  bool customer = ex.headers.count("x-amz-server-side-encryption-customer-algorithm") > 0;
  return is_md5_etag(etag) && !kms && !customer;
}

// Why a GET that ended without a transport error is still not the whole
// listed object, or "" when it is. md5_hex is "" when the listed ETag could
// not be an MD5 (a multipart upload's), so none was computed.
std::string incomplete(const S3Object& object, const Exchange& ex, unsigned long long got,
                       const std::string& sha256_hex, const std::string& md5_hex) {
  if (got != object.size) {
    return "got " + std::to_string(got) + " of " + std::to_string(object.size) +
           " bytes (the listed size)";
  }
  auto etag = ex.headers.find("etag");
  std::string served = etag == ex.headers.end() ? object.etag : unquoted(etag->second);
  if (!object.etag.empty() && served != object.etag) {
    return "the object changed after it was listed (ETag " + object.etag + ", now " +
           bounded_text(served, 80) + ")";
  }
  if (!md5_hex.empty() && etag_is_content_md5(ex, served) && to_lower_ascii(served) != md5_hex) {
    return "the bytes' MD5 " + md5_hex + " is not the object's ETag " + served;
  }
  auto checksum = ex.headers.find("x-amz-checksum-sha256");
  if (checksum != ex.headers.end() && checksum->second.find('-') == std::string::npos &&
      checksum->second != hex_to_base64(sha256_hex)) {
    return "the bytes' SHA-256 is not the object's x-amz-checksum-sha256";
  }
  return "";
}

}  // namespace

S3Download S3Client::download(const S3Object& object, const std::filesystem::path& dest,
                              const S3Progress& progress) const {
  S3Download result;
  std::string last_error;
  for (int attempt = 1; attempt <= std::max(1, options_.attempts); ++attempt) {
    result.attempts = attempt;
    int fd = ::open(dest.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
      throw BackupSourceError("cannot write the download " + dest.string() + ": " +
                              std::strerror(errno));
    }
    Sha256 sha;
    // Only an ETag that may be the MD5 of the bytes is worth a second digest.
    std::optional<Md5> md5;
    if (is_md5_etag(object.etag)) md5.emplace();
    unsigned long long done = 0;
    unsigned long long next_report = 0;
    int write_errno = 0;
    Exchange ex = signed_get(
        object_url(object.key), region_, access_key_id_, secret_access_key_,
        {"x-amz-checksum-mode: ENABLED"},
        [&](const char* data, size_t n) {
          size_t off = 0;
          while (off < n) {
            ssize_t w = ::write(fd, data + off, n - off);
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) {
              write_errno = errno;
              return false;
            }
            off += static_cast<size_t>(w);
          }
          sha.update(data, n);
          if (md5) md5->update(data, n);
          done += n;
          if (progress && done >= next_report) {
            progress(done, object.size);
            next_report = done + (64ull << 20);
          }
          return true;
        },
        options_.cancel);
    bool closed = ::close(fd) == 0;
    if (write_errno != 0 || !closed) {
      std::filesystem::remove(dest);
      throw BackupSourceError("cannot write the download " + dest.string() + ": " +
                              std::strerror(write_errno != 0 ? write_errno : errno));
    }
    if (ex.result == CURLE_OK && ex.status == 200) {
      result.size = done;
      result.sha256 = sha.hex_digest();
      std::string why =
          incomplete(object, ex, done, result.sha256, md5 ? md5->hex_digest() : std::string());
      if (why.empty()) {
        if (progress) progress(done, done);
        return result;
      }
      // Cut, or not the listed object: a transport error, retried.
      last_error = "downloading " + url_of(object.key) + " (" + where() + "): " + why;
      std::filesystem::remove(dest);
      continue;
    }
    last_error = failure(*this, "downloading " + url_of(object.key), ex);
    std::filesystem::remove(dest);
    if (!transient(ex)) break;
  }
  throw BackupSourceError(last_error + " (after " + std::to_string(result.attempts) +
                          (result.attempts == 1 ? " attempt)" : " attempts)"));
}

}  // namespace backupdrill::backup
