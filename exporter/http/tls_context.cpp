#include "http/tls_context.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/buffer.hpp>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

namespace backupdrill::http {
namespace {

namespace ssl = boost::asio::ssl;
const std::string kKey = "tls_server_config.";

[[noreturn]] void fail(const std::string& key, const std::string& what) {
  throw std::runtime_error(kKey + key + ": " + what);
}

std::string read_file(const std::string& key, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(key, "cannot read the file \"" + path + "\"");
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// PEM text from the file or, without one, the inline key; names the source
// for messages.
std::pair<std::string, std::string> pem_source(const std::string& file_key, const std::string& file,
                                               const std::string& inline_key,
                                               const std::string& inline_pem) {
  if (!file.empty()) return {read_file(file_key, file), file_key};
  return {inline_pem, inline_key};
}

int protocol(TlsVersion v) {
  switch (v) {
    case TlsVersion::kTls10:
      return TLS1_VERSION;
    case TlsVersion::kTls11:
      return TLS1_1_VERSION;
    case TlsVersion::kTls12:
      return TLS1_2_VERSION;
    case TlsVersion::kTls13:
      break;
  }
  return TLS1_3_VERSION;
}

// Accepts whatever certificate the client sends: Go's RequestClientCert and
// RequireAnyClientCert do not verify it either.
int accept_any_certificate(int, X509_STORE_CTX*) { return 1; }

void load_client_cas(ssl::context& ctx, const std::string& pem, const std::string& key) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509_STORE* store = SSL_CTX_get_cert_store(ctx.native_handle());
  STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
  int count = 0;
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    X509_STORE_add_cert(store, cert);
    sk_X509_NAME_push(names, X509_NAME_dup(X509_get_subject_name(cert)));
    X509_free(cert);
    ++count;
  }
  BIO_free(bio);
  ERR_clear_error();  // the loop ends on a "no start line" error
  if (count == 0) {
    sk_X509_NAME_pop_free(names, X509_NAME_free);
    fail(key, "expected one or more PEM certificates (BEGIN CERTIFICATE), found none");
  }
  // Tells clients which CAs we accept, so they pick the right certificate.
  SSL_CTX_set_client_CA_list(ctx.native_handle(), names);
}

std::string openssl_cipher(const std::string& go_name) {
  // Go accepts two names without the hash suffix; OpenSSL knows the IANA ones.
  static const std::map<std::string, std::string> aliases = {
      {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
      {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"},
  };
  auto it = aliases.find(go_name);
  const std::string& iana = it == aliases.end() ? go_name : it->second;
  const std::string name = OPENSSL_cipher_name(iana.c_str());
  if (name == "(NONE)") return {};
  return name;
}

std::string openssl_group(const std::string& go_name) {
  static const std::map<std::string, std::string> groups = {
      {"CurveP256", "P-256"}, {"CurveP384", "P-384"}, {"CurveP521", "P-521"}, {"X25519", "X25519"}};
  auto it = groups.find(go_name);
  return it == groups.end() ? std::string() : it->second;
}

// The server's certificate chain and its private key, which must match.
void use_certificate(ssl::context& ctx, const TlsServerConfig& c) {
  const auto [cert_pem, cert_key] = pem_source("cert_file", c.cert_file, "cert", c.cert);
  try {
    ctx.use_certificate_chain(boost::asio::buffer(cert_pem));
  } catch (const boost::system::system_error& e) {
    fail(cert_key, "expected a PEM certificate chain: " + e.code().message());
  }
  const auto [key_pem, key_key] = pem_source("key_file", c.key_file, "key", c.key);
  try {
    ctx.use_private_key(boost::asio::buffer(key_pem), ssl::context::pem);
  } catch (const boost::system::system_error& e) {
    if (e.code().message().find("mismatch") == std::string::npos) {
      fail(key_key, "expected a PEM private key: " + e.code().message());
    }
    ERR_clear_error();
    fail(key_key, "the private key does not belong to the certificate of " + cert_key);
  }
  if (SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
    ERR_clear_error();
    fail(key_key, "the private key does not belong to the certificate of " + cert_key);
  }
}

// client_auth_type as exporter-toolkit (Go's crypto/tls) means it, with the
// client CAs it needs.
void verify_clients(ssl::context& ctx, const TlsServerConfig& c) {
  SSL_CTX* native = ctx.native_handle();
  const bool has_ca = !c.client_ca_file.empty() || !c.client_ca.empty();
  if (has_ca) {
    const auto [ca_pem, ca_key] =
        pem_source("client_ca_file", c.client_ca_file, "client_ca", c.client_ca);
    load_client_cas(ctx, ca_pem, ca_key);
  }
  switch (c.client_auth) {
    case ClientAuth::kNoClientCert:
      if (has_ca) {
        fail("client_auth_type",
             "client CAs are configured but client_auth_type is NoClientCert; set "
             "RequireAndVerifyClientCert (or VerifyClientCertIfGiven) or drop the CA");
      }
      SSL_CTX_set_verify(native, SSL_VERIFY_NONE, nullptr);
      break;
    case ClientAuth::kRequestClientCert:
      SSL_CTX_set_verify(native, SSL_VERIFY_PEER, accept_any_certificate);
      break;
    case ClientAuth::kRequireAnyClientCert:
      SSL_CTX_set_verify(native, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                         accept_any_certificate);
      break;
    case ClientAuth::kVerifyClientCertIfGiven:
    case ClientAuth::kRequireAndVerifyClientCert:
      if (!has_ca) {
        fail("client_ca_file",
             "client_auth_type verifies client certificates, so it needs "
             "client_ca_file (or client_ca) with the CA that signs them");
      }
      SSL_CTX_set_verify(native,
                         c.client_auth == ClientAuth::kRequireAndVerifyClientCert
                             ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT
                             : SSL_VERIFY_PEER,
                         nullptr);
      break;
  }
}

void set_cipher_suites(SSL_CTX* native, const std::vector<std::string>& suites) {
  if (suites.empty()) return;
  std::string list;
  for (const std::string& name : suites) {
    const std::string mapped = openssl_cipher(name);
    if (mapped.empty()) {
      fail("cipher_suites", "unknown cipher suite \"" + name +
                                "\"; expected a Go crypto/tls name such as "
                                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
    }
    // TLS 1.3 suites are not configurable, in Go as here.
    if (mapped.rfind("TLS_", 0) == 0) continue;
    list += (list.empty() ? "" : ":") + mapped;
  }
  if (!list.empty() && SSL_CTX_set_cipher_list(native, list.c_str()) != 1) {
    ERR_clear_error();
    fail("cipher_suites", "OpenSSL accepts none of " + list);
  }
}

void set_curve_preferences(SSL_CTX* native, const std::vector<std::string>& curves) {
  if (curves.empty()) return;
  std::string list;
  for (const std::string& name : curves) {
    const std::string group = openssl_group(name);
    if (group.empty()) {
      fail("curve_preferences",
           "unknown curve \"" + name + "\"; expected CurveP256, CurveP384, CurveP521 or X25519");
    }
    list += (list.empty() ? "" : ":") + group;
  }
  if (SSL_CTX_set1_groups_list(native, list.c_str()) != 1) {
    ERR_clear_error();
    fail("curve_preferences", "OpenSSL refuses the groups " + list);
  }
}

}  // namespace

std::shared_ptr<ssl::context> make_tls_context(const TlsServerConfig& c) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_compression);
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_min_proto_version(native, protocol(c.min_version));
  SSL_CTX_set_max_proto_version(native, protocol(c.max_version));

  use_certificate(*ctx, c);
  verify_clients(*ctx, c);
  // Without it, OpenSSL refuses to resume sessions once peers are verified.
  static const unsigned char kSessionContext[] = "backupdrill";
  SSL_CTX_set_session_id_context(native, kSessionContext, sizeof kSessionContext - 1);

  set_cipher_suites(native, c.cipher_suites);
  if (c.prefer_server_cipher_suites) SSL_CTX_set_options(native, SSL_OP_CIPHER_SERVER_PREFERENCE);
  set_curve_preferences(native, c.curve_preferences);
  return ctx;
}

}  // namespace backupdrill::http
