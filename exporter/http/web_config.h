#pragma once
// The web configuration file of Prometheus' exporter-toolkit
// (--web.config.file): TLS, basic-auth users and extra response headers, in
// the same YAML format, so promtool check web-config accepts our files and
// operators reuse theirs. See
// https://github.com/prometheus/exporter-toolkit/blob/master/docs/web-configuration.md
//
// Thread safety: loading has no shared state; a WebConfig is a plain value.
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace backupdrill::http {

// Named after Go's tls.ClientAuthType, as the file spells them.
enum class ClientAuth {
  kNoClientCert,
  kRequestClientCert,
  kRequireAnyClientCert,
  kVerifyClientCertIfGiven,
  kRequireAndVerifyClientCert,
};

enum class TlsVersion { kTls10, kTls11, kTls12, kTls13 };

struct TlsServerConfig {
  // Paths are absolute: relative ones in the file are resolved against the
  // file's directory, as exporter-toolkit and promtool do.
  std::string cert_file, key_file, client_ca_file;
  // Inline PEM alternatives to the files above (keys cert, key, client_ca).
  std::string cert, key, client_ca;
  ClientAuth client_auth = ClientAuth::kNoClientCert;
  TlsVersion min_version = TlsVersion::kTls12;
  TlsVersion max_version = TlsVersion::kTls13;
  // Go / IANA names, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256; they limit
  // TLS 1.2 and older only, as in Go. Empty: OpenSSL's defaults.
  std::vector<std::string> cipher_suites;
  bool prefer_server_cipher_suites = true;
  std::vector<std::string> curve_preferences;  // CurveP256, CurveP384, CurveP521, X25519
};

struct WebConfig {
  std::string file;                                     // where it came from, for messages
  std::optional<TlsServerConfig> tls;                   // engaged when the file turns TLS on
  std::map<std::string, std::string> basic_auth_users;  // user -> bcrypt hash
  // http_server_config.headers, added to every response.
  std::vector<std::pair<std::string, std::string>> headers;
  // Accepted settings this server does not act on, e.g. "http2: true is
  // accepted but only HTTP/1.1 is served"; the server logs them at start.
  std::vector<std::string> warnings;
};

// Message form: "<file>:<line>: <dotted.key>: <what is wrong; what is expected>".
class WebConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads and validates the file, including that certificates and keys load
// and belong together and that every password hash is bcrypt. Throws
// WebConfigError.
WebConfig load_web_config(const std::filesystem::path& file);

// The same for text already in memory; file names it in messages and its
// directory anchors relative paths.
WebConfig parse_web_config(std::string_view yaml, const std::filesystem::path& file);

}  // namespace backupdrill::http
