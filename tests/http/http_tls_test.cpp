// The server with TLS from the web config, on real loopback sockets, with the
// test certificates in testdata/ (see its README).
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "http/server.h"
#include "test_client.h"

namespace backupdrill::http {
namespace {

using namespace std::chrono_literals;
using test::Client;
using test::TlsClientOptions;

const std::string kData = HTTP_TESTDATA;
const std::string kAliceHash = "$2y$10$A09EB5g/H0mAGYAfP/Hd5OlLgIZpmjd0.dsoqa3zDwDOwbS/ZzLJ.";
const std::string kAlicePassword = "correct horse battery staple";

TlsServerConfig server_tls() {
  TlsServerConfig t;
  t.cert_file = kData + "/server.crt";
  t.key_file = kData + "/server.key";
  return t;
}

TlsClientOptions trusting_client() { return {kData + "/server.crt", "", "", false}; }
TlsClientOptions with_cert(const std::string& name) {
  return {kData + "/server.crt", kData + "/" + name + ".crt", kData + "/" + name + ".key", false};
}

class TlsTest : public ::testing::Test {
 protected:
  void start(TlsServerConfig tls, std::map<std::string, std::string> users = {}) {
    ServerOptions o;
    o.listen_address = "127.0.0.1:0";
    o.web.emplace();
    o.web->tls = std::move(tls);
    o.web->basic_auth_users = std::move(users);
    Router r;
    r.add("GET", "/metrics", [](const Request&) {
      Response res;
      res.body = "metric 1\n";
      return res;
    });
    server_ = std::make_unique<Server>(std::move(o), std::move(r));
    server_->start();
    port_ = server_->port();
  }
  // True when a client with these options gets its answer.
  bool served(const TlsClientOptions& o) {
    try {
      Client c("127.0.0.1", port_, o);
      return c.get("/metrics").status == 200;
    } catch (const std::exception&) {
      return false;
    }
  }

  std::unique_ptr<Server> server_;
  uint16_t port_ = 0;
};

TEST_F(TlsTest, HttpsRequestSucceedsAgainstTheTestCa) {
  start(server_tls());
  Client c("127.0.0.1", port_, trusting_client());
  test::Reply r = c.get("/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "metric 1\n");
  EXPECT_EQ(c.get("/metrics").status, 200);  // keep-alive over TLS
  EXPECT_EQ(c.get("/nope").status, 404);
}

TEST_F(TlsTest, ClientThatDoesNotTrustTheCertificateFails) {
  start(server_tls());
  // Proves the test above verifies something: another CA is refused.
  EXPECT_FALSE(served({kData + "/client.crt", "", "", false}));
  EXPECT_TRUE(served(trusting_client()));
}

TEST_F(TlsTest, PlainHttpOnTheTlsPortFailsCleanlyAndServingGoesOn) {
  start(server_tls());
  const auto t0 = std::chrono::steady_clock::now();
  const std::string out = test::raw_exchange(port_, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 5s);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);  // closed, not left hanging
  EXPECT_EQ(out.find("HTTP/1."), std::string::npos) << out;
  EXPECT_EQ(out.find("metric"), std::string::npos);
  EXPECT_TRUE(served(trusting_client()));
}

TEST_F(TlsTest, CurlGetsAnswersOverHttpsWithBasicAuth) {
  const std::string curl = CURL_PROGRAM;
  if (curl.empty() || curl.find("NOTFOUND") != std::string::npos) {
    GTEST_SKIP() << "curl not installed";
  }
  start(server_tls(), {{"alice", kAliceHash}});
  auto run = [&](const std::string& user) {
    const std::string port = std::to_string(port_);
    const std::string cmd = curl + " -sS --max-time 10 --cacert " + kData +
                            "/server.crt --resolve localhost:" + port +
                            ":127.0.0.1 -o - -w ' status=%{http_code}' " + user +
                            " https://localhost:" + port + "/metrics 2>&1";
    std::string out;
    FILE* p = ::popen(cmd.c_str(), "r");
    char buf[512];
    while (p && std::fgets(buf, sizeof buf, p)) out += buf;
    if (p) ::pclose(p);
    return out;
  };
  EXPECT_EQ(run("-u 'alice:" + kAlicePassword + "'"), "metric 1\n status=200");
  EXPECT_NE(run("-u alice:wrong").find("status=401"), std::string::npos);
  EXPECT_NE(run("").find("status=401"), std::string::npos);
}

TEST_F(TlsTest, BasicAuthOverTls) {
  start(server_tls(), {{"alice", kAliceHash}});
  Client c("127.0.0.1", port_, trusting_client());
  test::Reply r = c.get("/metrics");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.header("www-authenticate"), "Basic realm=\"backupdrill\"");
  EXPECT_EQ(
      c.request("GET", "/metrics", {{"Authorization", test::basic_auth("alice", "nope")}}).status,
      401);
  EXPECT_EQ(
      c.request("GET", "/metrics", {{"Authorization", test::basic_auth("alice", kAlicePassword)}})
          .status,
      200);
}

TEST_F(TlsTest, RequireAndVerifyClientCertRefusesMissingAndUnknownCertificates) {
  TlsServerConfig t = server_tls();
  t.client_auth = ClientAuth::kRequireAndVerifyClientCert;
  t.client_ca_file = kData + "/client.crt";
  start(t);
  EXPECT_FALSE(served(trusting_client()));      // no certificate
  EXPECT_FALSE(served(with_cert("stranger")));  // not signed by client_ca_file
  EXPECT_TRUE(served(with_cert("client")));
  EXPECT_FALSE(served(trusting_client()));  // and the server is still up and strict
}

TEST_F(TlsTest, RequireAnyClientCertWantsOneButDoesNotVerifyIt) {
  TlsServerConfig t = server_tls();
  t.client_auth = ClientAuth::kRequireAnyClientCert;
  start(t);
  EXPECT_FALSE(served(trusting_client()));
  EXPECT_TRUE(served(with_cert("stranger")));
}

TEST_F(TlsTest, VerifyClientCertIfGivenAllowsNoneButNotAnUnknownOne) {
  TlsServerConfig t = server_tls();
  t.client_auth = ClientAuth::kVerifyClientCertIfGiven;
  t.client_ca_file = kData + "/client.crt";
  start(t);
  EXPECT_TRUE(served(trusting_client()));
  EXPECT_TRUE(served(with_cert("client")));
  EXPECT_FALSE(served(with_cert("stranger")));
}

TEST_F(TlsTest, MinVersionTls13RefusesTls12Clients) {
  TlsServerConfig t = server_tls();
  t.min_version = TlsVersion::kTls13;
  start(t);
  TlsClientOptions old = trusting_client();
  old.max_tls12 = true;
  EXPECT_FALSE(served(old));
  EXPECT_TRUE(served(trusting_client()));
}

TEST_F(TlsTest, BadCertificateFailsStartWithTheKey) {
  TlsServerConfig t = server_tls();
  t.key_file = kData + "/client.key";
  ServerOptions o;
  o.listen_address = "127.0.0.1:0";
  o.web.emplace();
  o.web->tls = t;
  Server s(o, Router{});
  try {
    s.start();
    FAIL() << "started with a key of another certificate";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("tls_server_config.key_file"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace backupdrill::http
