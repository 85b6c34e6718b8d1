// web-config loading (exporter-toolkit format), bcrypt and basic auth.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "http/basic_auth.h"
#include "http/bcrypt.h"
#include "http/web_config.h"
#include "test_client.h"

namespace backupdrill::http {
namespace {

namespace fs = std::filesystem;
const std::string kData = HTTP_TESTDATA;
const std::string kAliceHash = "$2y$10$A09EB5g/H0mAGYAfP/Hd5OlLgIZpmjd0.dsoqa3zDwDOwbS/ZzLJ.";
const std::string kAlicePassword = "correct horse battery staple";
const std::string kBobHash = "$2y$10$uA.HQ2MweIIesPLSpWUfX.xYc1nR58DTtRrkji4Wr28U7XV/..egG";

class WebConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("bd-webconfig-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const std::string& text, const std::string& name = "web.yml") {
    const fs::path p = dir_ / name;
    std::ofstream(p) << text;
    return p;
  }
  // The loader's message for text, or "" when it loads.
  std::string error_of(const std::string& text) {
    try {
      load_web_config(write(text));
    } catch (const WebConfigError& e) {
      return e.what();
    }
    return "";
  }
  std::string tls_lines() {
    return "tls_server_config:\n  cert_file: " + kData + "/server.crt\n  key_file: " + kData +
           "/server.key\n";
  }

  fs::path dir_;
};

TEST_F(WebConfigTest, LoadsTheShippedExample) {
  const WebConfig c = load_web_config(WEB_CONFIG_EXAMPLE);
  ASSERT_TRUE(c.tls);
  EXPECT_EQ(c.tls->cert_file, fs::path(kData + "/server.crt").lexically_normal().string());
  EXPECT_EQ(c.tls->min_version, TlsVersion::kTls12);
  EXPECT_EQ(c.basic_auth_users.at("alice"), kAliceHash);
  ASSERT_EQ(c.headers.size(), 2u);
  EXPECT_EQ(c.headers[0].first, "X-Content-Type-Options");
}

TEST_F(WebConfigTest, EmptyFileMeansNoTlsNoAuth) {
  const WebConfig c = load_web_config(write(""));
  EXPECT_FALSE(c.tls);
  EXPECT_TRUE(c.basic_auth_users.empty());
  // An empty tls_server_config does not turn TLS on either (as upstream).
  EXPECT_FALSE(load_web_config(write("tls_server_config: {}\n")).tls);
}

TEST_F(WebConfigTest, MissingFileNamesIt) {
  try {
    load_web_config(dir_ / "nope.yml");
    FAIL() << "loaded a missing file";
  } catch (const WebConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("nope.yml: cannot read"), std::string::npos) << e.what();
  }
}

TEST_F(WebConfigTest, UnknownTopLevelKeyNamesFileLineAndKey) {
  const std::string e = error_of("basic_auth_users: {}\ntls_config:\n  cert_file: x\n");
  EXPECT_NE(e.find((dir_ / "web.yml").string() + ":2: tls_config: unknown key"), std::string::npos)
      << e;
  EXPECT_NE(e.find("expected one of tls_server_config"), std::string::npos) << e;
}

TEST_F(WebConfigTest, UnknownNestedKeyNamesTheDottedKey) {
  const std::string e = error_of("tls_server_config:\n  cert_fil: a\n  key_file: b\n");
  EXPECT_NE(e.find("web.yml:2: tls_server_config.cert_fil: unknown key"), std::string::npos) << e;
}

TEST_F(WebConfigTest, BadClientAuthTypeListsTheValues) {
  const std::string e = error_of(tls_lines() + "  client_auth_type: RequireCert\n");
  EXPECT_NE(e.find("web.yml:4: tls_server_config.client_auth_type: expected NoClientCert, "
                   "RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven or "
                   "RequireAndVerifyClientCert, got \"RequireCert\""),
            std::string::npos)
      << e;
}

TEST_F(WebConfigTest, MissingKeyFileIsNamed) {
  const std::string e = error_of("tls_server_config:\n  cert_file: " + kData + "/server.crt\n");
  EXPECT_NE(e.find("web.yml:2: tls_server_config.key_file: missing"), std::string::npos) << e;
}

TEST_F(WebConfigTest, UnreadableCertFileIsNamedWithItsPath) {
  const std::string e = error_of(
      "tls_server_config:\n  cert_file: missing.crt\n  key_file: " + kData + "/server.key\n");
  EXPECT_NE(e.find("web.yml:2: tls_server_config.cert_file: cannot read the file \"" +
                   (dir_ / "missing.crt").string() + "\""),
            std::string::npos)
      << e;
}

TEST_F(WebConfigTest, KeyOfAnotherCertificateIsRefused) {
  const std::string e = error_of("tls_server_config:\n  cert_file: " + kData +
                                 "/server.crt\n  key_file: " + kData + "/client.key\n");
  EXPECT_NE(e.find("web.yml:3: tls_server_config.key_file: the private key does not belong"),
            std::string::npos)
      << e;
}

TEST_F(WebConfigTest, RelativePathsAreRelativeToTheFile) {
  fs::copy_file(kData + "/server.crt", dir_ / "s.crt");
  fs::copy_file(kData + "/server.key", dir_ / "s.key");
  const WebConfig c =
      load_web_config(write("tls_server_config:\n  cert_file: s.crt\n"
                            "  key_file: ./s.key\n"));
  ASSERT_TRUE(c.tls);
  EXPECT_EQ(c.tls->cert_file, (dir_ / "s.crt").string());
  EXPECT_EQ(c.tls->key_file, (dir_ / "s.key").string());
}

TEST_F(WebConfigTest, InlinePemIsAccepted) {
  std::ifstream cert(kData + "/server.crt"), key(kData + "/server.key");
  std::string c((std::istreambuf_iterator<char>(cert)), {});
  std::string k((std::istreambuf_iterator<char>(key)), {});
  auto indent = [](std::string s) {
    std::string out;
    for (char ch : s) out += ch == '\n' ? std::string("\n    ") : std::string(1, ch);
    return out;
  };
  const WebConfig w = load_web_config(write("tls_server_config:\n  cert: |\n    " + indent(c) +
                                            "\n  key: |\n    " + indent(k) + "\n"));
  ASSERT_TRUE(w.tls);
  EXPECT_NE(w.tls->cert.find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_NE(error_of(tls_lines() + "  cert: abc\n").find("set either cert_file or cert"),
            std::string::npos);
}

TEST_F(WebConfigTest, ClientCaWithoutClientAuthIsRefused) {
  const std::string e = error_of(tls_lines() + "  client_ca_file: " + kData + "/client.crt\n");
  EXPECT_NE(e.find("tls_server_config.client_auth_type: client CAs are configured"),
            std::string::npos)
      << e;
  const std::string v = error_of(tls_lines() + "  client_auth_type: RequireAndVerifyClientCert\n");
  EXPECT_NE(v.find("tls_server_config.client_ca_file: client_auth_type verifies"),
            std::string::npos)
      << v;
}

TEST_F(WebConfigTest, VersionsCiphersAndCurves) {
  WebConfig c = load_web_config(write(
      tls_lines() +
      "  min_version: TLS13\n  max_version: TLS13\n  cipher_suites:\n"
      "    - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\n    - TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305\n"
      "  prefer_server_cipher_suites: false\n  curve_preferences: [X25519, CurveP256]\n"));
  ASSERT_TRUE(c.tls);
  EXPECT_EQ(c.tls->min_version, TlsVersion::kTls13);
  EXPECT_FALSE(c.tls->prefer_server_cipher_suites);
  EXPECT_EQ(c.tls->curve_preferences.size(), 2u);
  EXPECT_NE(error_of(tls_lines() + "  min_version: TLS14\n").find("expected TLS10, TLS11"),
            std::string::npos);
  EXPECT_NE(error_of(tls_lines() + "  min_version: TLS13\n  max_version: TLS12\n")
                .find("tls_server_config.min_version: is newer than max_version"),
            std::string::npos);
  EXPECT_NE(error_of(tls_lines() + "  cipher_suites: [TLS_MADE_UP]\n")
                .find("tls_server_config.cipher_suites: unknown cipher suite \"TLS_MADE_UP\""),
            std::string::npos);
  EXPECT_NE(error_of(tls_lines() + "  curve_preferences: [P256]\n")
                .find("tls_server_config.curve_preferences: unknown curve"),
            std::string::npos);
}

TEST_F(WebConfigTest, UnsupportedUpstreamFeaturesAreRefusedNotIgnored) {
  EXPECT_NE(error_of("rate_limit:\n  interval: 1s\n  burst: 5\n")
                .find("web.yml:1: rate_limit: is not supported"),
            std::string::npos);
  EXPECT_NE(error_of(tls_lines() + "  client_auth_type: RequireAnyClientCert\n"
                                   "  client_allowed_sans: [a.example]\n")
                .find("tls_server_config.client_allowed_sans: is not supported"),
            std::string::npos);
}

TEST_F(WebConfigTest, HeadersFollowUpstreamRules) {
  const WebConfig c = load_web_config(
      write("http_server_config:\n  http2: false\n  headers:\n    X-Frame-Options: sameorigin\n"
            "    Content-Security-Policy: \"default-src 'self'\"\n    X-XSS-Protection: \"\"\n"));
  ASSERT_EQ(c.headers.size(), 2u);  // a blank value means unset
  EXPECT_EQ(c.headers[1].second, "default-src 'self'");
  EXPECT_TRUE(c.warnings.empty());
  EXPECT_EQ(load_web_config(write("http_server_config:\n  http2: true\n")).warnings.size(), 1u);
  EXPECT_NE(error_of("http_server_config:\n  headers:\n    Server: nginx\n")
                .find("web.yml:3: http_server_config.headers.Server: unknown key"),
            std::string::npos);
  EXPECT_NE(error_of("http_server_config:\n  headers:\n    X-Frame-Options: allow\n")
                .find("http_server_config.headers.X-Frame-Options: expected deny or sameorigin"),
            std::string::npos);
}

TEST_F(WebConfigTest, PasswordHashMustBeBcryptAndIsNeverEchoed) {
  const std::string e = error_of("basic_auth_users:\n  alice: plaintext-secret\n");
  EXPECT_NE(e.find("web.yml:2: basic_auth_users.alice: expected a bcrypt hash"), std::string::npos)
      << e;
  EXPECT_EQ(e.find("plaintext-secret"), std::string::npos) << e;
  EXPECT_NE(error_of("basic_auth_users:\n  \"a:b\": " + kAliceHash + "\n").find("free of ':'"),
            std::string::npos);
}

TEST_F(WebConfigTest, DuplicateKeysAndBadYamlAreRefused) {
  EXPECT_NE(error_of("basic_auth_users:\n  alice: " + kAliceHash + "\n  alice: " + kBobHash + "\n")
                .find("web.yml:3: basic_auth_users.alice: appears twice"),
            std::string::npos);
  EXPECT_NE(error_of("tls_server_config: [unclosed\n").find("not valid YAML"), std::string::npos);
  EXPECT_NE(error_of("- a\n- b\n").find("(top level): expected a mapping"), std::string::npos);
  EXPECT_NE(error_of("http_server_config:\n  http2: maybe\n").find("expected true or false"),
            std::string::npos);
}

TEST(Bcrypt, VerifiesHtpasswdHashes) {
  EXPECT_EQ(bcrypt_cost(kAliceHash), 10);
  EXPECT_TRUE(bcrypt_verify(kAlicePassword, kAliceHash));
  EXPECT_FALSE(bcrypt_verify("correct horse battery stapl", kAliceHash));
  EXPECT_FALSE(bcrypt_verify("", kAliceHash));
  EXPECT_TRUE(bcrypt_verify("s3cret:with:colons", kBobHash));
  // crypt() stops at NUL: "x\0anything" must not pass for "x".
  EXPECT_FALSE(
      bcrypt_verify(std::string(kAlicePassword) + std::string(1, '\0') + "tail", kAliceHash));
}

TEST(Bcrypt, RejectsNonBcrypt) {
  EXPECT_FALSE(bcrypt_cost("$1$abc$def"));
  EXPECT_FALSE(bcrypt_cost(kAliceHash.substr(0, 59)));
  EXPECT_FALSE(bcrypt_cost("$2y$03$" + kAliceHash.substr(7)));
  EXPECT_FALSE(bcrypt_verify("x", "not a hash"));
  const std::string decoy = bcrypt_decoy_hash(4);
  EXPECT_EQ(bcrypt_cost(decoy), 4);
  EXPECT_FALSE(bcrypt_verify("", decoy));
}

TEST(Bcrypt, FreshHtpasswdHashVerifies) {
  const std::string htpasswd = HTPASSWD_PROGRAM;
  if (htpasswd.empty() || htpasswd.find("NOTFOUND") != std::string::npos) {
    GTEST_SKIP() << "htpasswd not installed (apt-get install apache2-utils)";
  }
  FILE* p = ::popen((htpasswd + " -nbBC 5 carol 'pa ss' 2>/dev/null").c_str(), "r");
  ASSERT_NE(p, nullptr);
  char line[256] = {};
  ASSERT_NE(std::fgets(line, sizeof line, p), nullptr);
  ::pclose(p);
  std::string entry(line);
  entry = entry.substr(0, entry.find_first_of("\r\n"));
  ASSERT_EQ(entry.rfind("carol:", 0), 0u) << entry;
  const std::string hash = entry.substr(6);
  EXPECT_EQ(bcrypt_cost(hash), 5) << hash;
  EXPECT_TRUE(bcrypt_verify("pa ss", hash));
  EXPECT_FALSE(bcrypt_verify("pa  ss", hash));
}

TEST(BasicAuth, ChecksTheAuthorizationHeader) {
  BasicAuth auth({{"alice", kAliceHash}, {"bob", kBobHash}});
  ASSERT_TRUE(auth.enabled());
  EXPECT_TRUE(auth.allows(test::basic_auth("alice", kAlicePassword)));
  EXPECT_TRUE(auth.allows(test::basic_auth("alice", kAlicePassword)));  // cached path
  EXPECT_TRUE(auth.allows(test::basic_auth("bob", "s3cret:with:colons")));
  EXPECT_FALSE(auth.allows(test::basic_auth("alice", "wrong")));
  EXPECT_FALSE(auth.allows(test::basic_auth("mallory", kAlicePassword)));
  EXPECT_FALSE(auth.allows(""));
  EXPECT_FALSE(auth.allows("Bearer abc"));
  EXPECT_FALSE(auth.allows("Basic !!!"));
  EXPECT_FALSE(auth.allows("Basic YWxpY2U="));  // "alice": no colon
  // The scheme is case-insensitive.
  std::string lower = test::basic_auth("alice", kAlicePassword);
  lower.replace(0, 5, "basic");
  EXPECT_TRUE(auth.allows(lower));
  EXPECT_FALSE(BasicAuth({}).enabled());
  EXPECT_TRUE(BasicAuth({}).allows(""));
}

TEST(BasicAuth, Base64IsStrict) {
  std::string out;
  EXPECT_TRUE(decode_base64("YTpi", out));
  EXPECT_EQ(out, "a:b");
  EXPECT_TRUE(decode_base64("YQ==", out));
  EXPECT_EQ(out, "a");
  EXPECT_FALSE(decode_base64("YQ=", out));
  EXPECT_FALSE(decode_base64("Y=Q=", out));
  EXPECT_FALSE(decode_base64("YQ==YQ==", out));
}

}  // namespace
}  // namespace backupdrill::http
