#include "http/web_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "http/bcrypt.h"
#include "http/tls_context.h"

namespace backupdrill::http {
namespace {

namespace fs = std::filesystem;

// One parse of one file; remembers where each key was so that errors found
// after parsing (a key that does not match its certificate) still name a line.
class Parser {
 public:
  Parser(const fs::path& file) : file_(file.string()), dir_(file.parent_path()) {
    if (dir_.empty()) dir_ = ".";
  }

  WebConfig parse(std::string_view text) {
    YAML::Node root;
    try {
      root = YAML::Load(std::string(text));
    } catch (const YAML::Exception& e) {
      throw WebConfigError(file_ + ":" + std::to_string(e.mark.line + 1) +
                           ": not valid YAML: " + e.msg);
    }
    WebConfig config;
    config.file = file_;
    if (root.IsNull()) return config;  // an empty file means defaults, as upstream
    for (const auto& [key, value] : entries(root, "")) {
      if (key == "tls_server_config") {
        tls(value, config);
      } else if (key == "http_server_config") {
        http_server(value, config);
      } else if (key == "basic_auth_users") {
        users(value, config);
      } else if (key == "rate_limit") {
        fail(value, key,
             "is not supported by backupdrill_exporter; remove it (put a proxy in front "
             "to rate-limit)");
      } else {
        unknown(value, "", key, "tls_server_config, http_server_config, basic_auth_users");
      }
    }
    return config;
  }

 private:
  using Entries = std::vector<std::pair<std::string, YAML::Node>>;

  // Points at the key's line when the key was seen, else at the node.
  [[noreturn]] void fail(const YAML::Node& at, const std::string& key, const std::string& what) {
    auto line = lines_.find(key);
    throw WebConfigError(file_ + ":" +
                         std::to_string(line != lines_.end() ? line->second : at.Mark().line + 1) +
                         ": " + key + ": " + what);
  }
  [[noreturn]] void unknown(const YAML::Node& at, const std::string& prefix, const std::string& key,
                            const std::string& expected) {
    fail(at, prefix + key, "unknown key; expected one of " + expected);
  }

  // The map's entries in file order; refuses non-maps and repeated keys
  // (yaml-cpp would silently keep one of them).
  Entries entries(const YAML::Node& node, const std::string& path) {
    if (!node.IsMap()) {
      fail(node, path.empty() ? "(top level)" : path, "expected a mapping of keys to values");
    }
    Entries out;
    std::set<std::string> seen;
    for (const auto& kv : node) {
      const std::string key = kv.first.as<std::string>();
      const std::string full = path.empty() ? key : path + "." + key;
      lines_[full] = kv.first.Mark().line + 1;
      if (!seen.insert(key).second) fail(kv.first, full, "appears twice");
      out.emplace_back(key, kv.second);
    }
    return out;
  }

  std::string scalar(const YAML::Node& node, const std::string& key) {
    if (node.IsNull()) return "";
    if (!node.IsScalar()) fail(node, key, "expected a string");
    return node.Scalar();
  }

  bool boolean(const YAML::Node& node, const std::string& key) {
    const std::string s = scalar(node, key);
    if (s == "true") return true;
    if (s == "false") return false;
    fail(node, key, "expected true or false, got \"" + s + "\"");
  }

  std::vector<std::string> strings(const YAML::Node& node, const std::string& key) {
    std::vector<std::string> out;
    if (node.IsNull()) return out;
    if (!node.IsSequence()) fail(node, key, "expected a list of strings");
    for (const auto& item : node) out.push_back(scalar(item, key));
    return out;
  }

  std::string path(const YAML::Node& node, const std::string& key) {
    const std::string p = scalar(node, key);
    if (p.empty()) return p;
    return fs::absolute(fs::path(p).is_absolute() ? fs::path(p) : dir_ / p)
        .lexically_normal()
        .string();
  }

  TlsVersion version(const YAML::Node& node, const std::string& key) {
    const std::string s = scalar(node, key);
    if (s == "TLS10") return TlsVersion::kTls10;
    if (s == "TLS11") return TlsVersion::kTls11;
    if (s == "TLS12") return TlsVersion::kTls12;
    if (s == "TLS13") return TlsVersion::kTls13;
    fail(node, key, "expected TLS10, TLS11, TLS12 or TLS13, got \"" + s + "\"");
  }

  ClientAuth client_auth(const YAML::Node& node, const std::string& key) {
    const std::string s = scalar(node, key);
    if (s.empty() || s == "NoClientCert") return ClientAuth::kNoClientCert;
    if (s == "RequestClientCert") return ClientAuth::kRequestClientCert;
    // RequireClientCert is exporter-toolkit's old spelling, still accepted there.
    if (s == "RequireAnyClientCert" || s == "RequireClientCert") {
      return ClientAuth::kRequireAnyClientCert;
    }
    if (s == "VerifyClientCertIfGiven") return ClientAuth::kVerifyClientCertIfGiven;
    if (s == "RequireAndVerifyClientCert") return ClientAuth::kRequireAndVerifyClientCert;
    fail(node, key,
         "expected NoClientCert, RequestClientCert, RequireAnyClientCert, "
         "VerifyClientCertIfGiven or RequireAndVerifyClientCert, got \"" +
             s + "\"");
  }

  void tls(const YAML::Node& node, WebConfig& config) {
    const std::string p = "tls_server_config";
    TlsServerConfig t;
    bool client_auth_set = false;
    if (node.IsNull()) return;
    for (const auto& [key, value] : entries(node, p)) {
      const std::string k = p + "." + key;
      if (key == "cert_file") {
        t.cert_file = path(value, k);
      } else if (key == "key_file") {
        t.key_file = path(value, k);
      } else if (key == "client_ca_file") {
        t.client_ca_file = path(value, k);
      } else if (key == "cert") {
        t.cert = scalar(value, k);
      } else if (key == "key") {
        t.key = scalar(value, k);
      } else if (key == "client_ca") {
        t.client_ca = scalar(value, k);
      } else if (key == "client_auth_type") {
        client_auth_set = !scalar(value, k).empty();
        t.client_auth = client_auth(value, k);
      } else if (key == "min_version") {
        t.min_version = version(value, k);
      } else if (key == "max_version") {
        t.max_version = version(value, k);
      } else if (key == "cipher_suites") {
        t.cipher_suites = strings(value, k);
      } else if (key == "prefer_server_cipher_suites") {
        t.prefer_server_cipher_suites = boolean(value, k);
      } else if (key == "curve_preferences") {
        t.curve_preferences = strings(value, k);
      } else if (key == "client_allowed_sans") {
        // Silently ignoring it would accept clients the operator meant to refuse.
        if (!strings(value, k).empty()) {
          fail(value, k,
               "is not supported by backupdrill_exporter; issue client certificates from a "
               "dedicated CA (client_ca_file) instead");
        }
      } else {
        unknown(value, p + ".", key,
                "cert_file, key_file, client_ca_file, client_auth_type, min_version, "
                "max_version, cipher_suites, prefer_server_cipher_suites, curve_preferences, "
                "cert, key, client_ca");
      }
    }
    // exporter-toolkit turns TLS on as soon as any of these is set.
    const bool enabled = !t.cert_file.empty() || !t.cert.empty() || !t.key_file.empty() ||
                         !t.key.empty() || !t.client_ca_file.empty() || !t.client_ca.empty() ||
                         client_auth_set;
    if (!enabled) return;
    auto only_one = [&](const std::string& a, const std::string& b, bool both) {
      if (both) fail(node, p + "." + a, "set either " + a + " or " + b + ", not both");
    };
    only_one("cert_file", "cert", !t.cert_file.empty() && !t.cert.empty());
    only_one("key_file", "key", !t.key_file.empty() && !t.key.empty());
    only_one("client_ca_file", "client_ca", !t.client_ca_file.empty() && !t.client_ca.empty());
    if (t.cert_file.empty() && t.cert.empty()) {
      fail(node, p + ".cert_file", "missing; TLS needs the server certificate (PEM path)");
    }
    if (t.key_file.empty() && t.key.empty()) {
      fail(node, p + ".key_file", "missing; TLS needs the server's private key (PEM path)");
    }
    if (t.min_version > t.max_version) {
      fail(node, p + ".min_version", "is newer than max_version");
    }
    try {
      make_tls_context(t);  // loads every certificate and key once, to fail now
    } catch (const std::runtime_error& e) {
      const std::string what = e.what();
      const std::string key = what.substr(0, what.find(':'));
      auto line = lines_.find(key);
      throw WebConfigError(
          file_ + ":" + std::to_string(line != lines_.end() ? line->second : node.Mark().line + 1) +
          ": " + what);
    }
    config.tls = std::move(t);
  }

  void http_server(const YAML::Node& node, WebConfig& config) {
    const std::string p = "http_server_config";
    if (node.IsNull()) return;
    for (const auto& [key, value] : entries(node, p)) {
      const std::string k = p + "." + key;
      if (key == "http2") {
        if (boolean(value, k)) {
          config.warnings.push_back(config.file + ": " + k +
                                    ": HTTP/2 is not offered; the exporter serves HTTP/1.1");
        }
      } else if (key == "headers") {
        headers(value, k, config);
      } else {
        unknown(value, p + ".", key, "headers, http2");
      }
    }
  }

  void headers(const YAML::Node& node, const std::string& p, WebConfig& config) {
    if (node.IsNull()) return;
    // The set exporter-toolkit allows, with its value rules.
    static const std::vector<std::pair<std::string, std::vector<std::string>>> allowed = {
        {"Strict-Transport-Security", {}},
        {"X-Content-Type-Options", {"nosniff"}},
        {"X-Frame-Options", {"deny", "sameorigin"}},
        {"X-XSS-Protection", {}},
        {"Content-Security-Policy", {}},
    };
    for (const auto& [name, value] : entries(node, p)) {
      const std::string k = p + "." + name;
      // A named copy: lambdas capturing structured bindings need Clang 16.
      const std::string& header = name;
      auto rule = std::find_if(allowed.begin(), allowed.end(),
                               [&](const auto& a) { return a.first == header; });
      if (rule == allowed.end()) {
        unknown(value, p + ".", name,
                "Strict-Transport-Security, X-Content-Type-Options, X-Frame-Options, "
                "X-XSS-Protection, Content-Security-Policy");
      }
      const std::string v = scalar(value, k);
      if (v.empty()) continue;  // "unset if blank"
      if (v.find_first_of("\r\n") != std::string::npos) {
        fail(value, k, "expected a single-line value");
      }
      if (!rule->second.empty() &&
          std::find(rule->second.begin(), rule->second.end(), v) == rule->second.end()) {
        std::string list;
        for (const auto& a : rule->second) list += (list.empty() ? "" : " or ") + a;
        fail(value, k, "expected " + list + ", got \"" + v + "\"");
      }
      config.headers.emplace_back(name, v);
    }
  }

  void users(const YAML::Node& node, WebConfig& config) {
    const std::string p = "basic_auth_users";
    if (node.IsNull()) return;
    for (const auto& [user, value] : entries(node, p)) {
      const std::string k = p + "." + user;
      if (user.empty() || user.find(':') != std::string::npos) {
        fail(value, k, "a user name must be non-empty and free of ':' (basic auth splits there)");
      }
      // Never echo the value: a hash is a secret too.
      if (!value.IsScalar() || !bcrypt_cost(value.Scalar())) {
        fail(value, k,
             "expected a bcrypt hash such as htpasswd -nBC 10 " + user +
                 " prints ($2y$10$ "
                 "followed by 53 characters)");
      }
      config.basic_auth_users[user] = value.Scalar();
    }
  }

  std::string file_;
  fs::path dir_;
  std::map<std::string, int> lines_;
};

}  // namespace

WebConfig parse_web_config(std::string_view yaml, const std::filesystem::path& file) {
  return Parser(file).parse(yaml);
}

WebConfig load_web_config(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    throw WebConfigError(file.string() +
                         ": cannot read the web config file (check --web.config.file)");
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_web_config(text.str(), file);
}

}  // namespace backupdrill::http
