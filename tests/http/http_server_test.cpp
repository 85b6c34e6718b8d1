// The plain-HTTP server on real loopback sockets.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "http/listen_address.h"
#include "http/server.h"
#include "test_client.h"

namespace backupdrill::http {
namespace {

using namespace std::chrono_literals;
using test::Client;
using test::raw_exchange;

const std::string kAliceHash = "$2y$10$A09EB5g/H0mAGYAfP/Hd5OlLgIZpmjd0.dsoqa3zDwDOwbS/ZzLJ.";

Response body(std::string text) {
  Response r;
  r.body = std::move(text);
  return r;
}

Router demo_router() {
  Router r;
  r.add("GET", "/metrics", [](const Request&) { return body("metric 1\n"); });
  r.add("GET", "/api/v1/drills/{name}/runs",
        [](const Request& q) { return body("runs of " + q.params.at("name")); });
  r.add("POST", "/echo", [](const Request& q) {
    Response res = body(q.body);
    res.headers.emplace_back("X-Remote", q.remote_address);
    res.headers.emplace_back("X-Seen-Header",
                             q.headers.count("x-custom") ? q.headers.at("x-custom") : "none");
    res.headers.emplace_back("X-Query", q.query);
    return res;
  });
  r.add("GET", "/boom", [](const Request&) -> Response {
    throw std::runtime_error("db password=hunter2 in the message");
  });
  r.add("GET", "/inject", [](const Request&) {
    Response res = body("x");
    res.headers.emplace_back("X-Evil", "a\r\nSet-Cookie: owned=1");
    res.headers.emplace_back("X-Fine", "ok");
    return res;
  });
  // A route with a token of its own, like the admin trigger.
  r.add(
      "POST", "/trigger",
      [](const Request& q) {
        auto it = q.headers.find("authorization");
        const bool ok = it != q.headers.end() && bearer_token(it->second) == "s3cret";
        Response res = body(ok ? "triggered" : "token needed");
        if (!ok) res.status = 401;
        return res;
      },
      RouteAuth::own_bearer_token);
  r.add("GET", "/slow", [](const Request&) {
    std::this_thread::sleep_for(400ms);
    return body("slow done");
  });
  return r;
}

// A started server on 127.0.0.1 with an ephemeral port, and its log.
class ServerTest : public ::testing::Test {
 protected:
  void start(ServerOptions o = {}, Router router = demo_router()) {
    if (o.listen_address == ":10125") o.listen_address = "127.0.0.1:0";
    o.log = [this](std::string_view level, std::string_view msg) {
      std::lock_guard lock(log_mutex_);
      log_ += std::string(level) + ": " + std::string(msg) + "\n";
    };
    server_ = std::make_unique<Server>(std::move(o), std::move(router));
    server_->start();
    port_ = server_->port();
    ASSERT_NE(port_, 0);
  }
  std::string log() {
    std::lock_guard lock(log_mutex_);
    return log_;
  }
  // The server's threads log into log_: they must be gone before it is.
  void TearDown() override { server_.reset(); }

  std::unique_ptr<Server> server_;
  uint16_t port_ = 0;
  std::mutex log_mutex_;
  std::string log_;
};

TEST_F(ServerTest, RoutesGetAnd404And405) {
  start();
  Client c("127.0.0.1", port_);
  test::Reply r = c.get("/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "metric 1\n");
  EXPECT_EQ(r.header("content-type"), "text/plain; charset=utf-8");
  r = c.get("/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, "Not Found\n");
  r = c.request("POST", "/metrics", {}, "x");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("allow"), "GET, HEAD");
}

TEST_F(ServerTest, HeadIsGetWithoutBodyOnTheSameConnection) {
  start();
  Client c("127.0.0.1", port_);
  test::Reply r = c.request("HEAD", "/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-length"), "9");
  EXPECT_EQ(r.body, "");
  // Had the server sent a body, it would now be read as the next response.
  r = c.get("/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "metric 1\n");
}

TEST_F(ServerTest, PathParamsAreDecoded) {
  start();
  Client c("127.0.0.1", port_);
  test::Reply r = c.get("/api/v1/drills/supabase%2Dmain%20%2F2/runs");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "runs of supabase-main /2");
  EXPECT_EQ(c.get("/api/v1/drills/%zz/runs").status, 400);
}

TEST_F(ServerTest, RequestCarriesBodyHeadersQueryAndPeer) {
  start();
  Client c("127.0.0.1", port_);
  test::Reply r = c.request("POST", "/echo?drill=a", {{"X-Custom", "v1"}}, "payload");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "payload");
  EXPECT_EQ(r.header("x-seen-header"), "v1");
  EXPECT_EQ(r.header("x-query"), "drill=a");
  EXPECT_EQ(r.header("x-remote").rfind("127.0.0.1:", 0), 0u) << r.header("x-remote");
}

TEST_F(ServerTest, ThrowingHandlerGives500WithoutTheTextAndLogsIt) {
  start();
  Client c("127.0.0.1", port_);
  test::Reply r = c.get("/boom");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, "Internal Server Error\n");
  EXPECT_EQ(r.body.find("hunter2"), std::string::npos);
  EXPECT_NE(log().find("handler for GET /boom failed: db password"), std::string::npos) << log();
  EXPECT_EQ(c.get("/metrics").status, 200);  // the connection survives
}

TEST_F(ServerTest, HeaderInjectionFromAHandlerIsDropped) {
  start();
  Client c("127.0.0.1", port_);
  test::Reply r = c.get("/inject");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("x-evil"), "");
  EXPECT_EQ(r.header("set-cookie"), "");
  EXPECT_EQ(r.header("x-fine"), "ok");
  EXPECT_NE(log().find("dropping response header \"X-Evil\""), std::string::npos);
}

TEST_F(ServerTest, MalformedRequestLineIs400AndServerGoesOn) {
  start();
  for (const char* bad : {"GARBAGE\r\n\r\n", "GET /metrics HTTP/9.x\r\n\r\n", "GET metrics\r\n\r\n",
                          "\x16\x03\x01\x02\x00\x01\r\n\r\n"}) {
    const std::string out = raw_exchange(port_, bad);
    EXPECT_EQ(out.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << bad << " -> " << out;
    EXPECT_NE(out.find("Connection: close"), std::string::npos) << out;
  }
  // An invalid header line too.
  EXPECT_EQ(
      raw_exchange(port_, "GET /metrics HTTP/1.1\r\nBad Header\r\n\r\n").rfind("HTTP/1.1 400", 0),
      0u);
  EXPECT_EQ(Client("127.0.0.1", port_).get("/metrics").status, 200);
}

TEST_F(ServerTest, OversizedHeaderIs431) {
  ServerOptions o;
  o.max_header_bytes = 4096;
  start(o);
  const std::string big(8000, 'a');
  const std::string out =
      raw_exchange(port_, "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + big + "\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 431 Request Header Fields Too Large\r\n", 0), 0u) << out;
  // Just under the limit is fine.
  const std::string fits(3000, 'b');
  EXPECT_EQ(raw_exchange(port_, "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + fits +
                                    "\r\nConnection: close\r\n\r\n")
                .rfind("HTTP/1.1 200", 0),
            0u);
}

TEST_F(ServerTest, OversizedBodyIs413) {
  ServerOptions o;
  o.max_body_bytes = 1024;
  start(o);
  std::string out =
      raw_exchange(port_, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\nabc");
  EXPECT_EQ(out.rfind("HTTP/1.1 413 Payload Too Large\r\n", 0), 0u) << out;
  // Chunked bodies are counted too.
  const std::string chunk(800, 'c');
  out = raw_exchange(port_,
                     "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "320\r\n" +
                         chunk + "\r\n320\r\n" + chunk + "\r\n0\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 413", 0), 0u) << out;
  Client c("127.0.0.1", port_);
  EXPECT_EQ(c.request("POST", "/echo", {}, std::string(1024, 'x')).status, 200);
}

TEST_F(ServerTest, IdleAndSlowConnectionsAreClosedAfterTheReadTimeout) {
  ServerOptions o;
  o.read_timeout = 300ms;
  start(o);
  test::IdleConnection idle(port_);
  test::IdleConnection slow(port_);
  slow.send("GET /metrics HTTP/1.1\r\nHost: x\r\n");  // never finishes the headers
  const long idle_ms = idle.wait_closed(5s);
  const long slow_ms = slow.wait_closed(5s);
  EXPECT_GE(idle_ms, 250);
  EXPECT_LT(idle_ms, 2000);
  EXPECT_GE(slow_ms, 200);
  EXPECT_LT(slow_ms, 2000);
  // A keep-alive connection that goes quiet after a request is closed too.
  test::IdleConnection kept(port_);
  kept.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  const long kept_ms = kept.wait_closed(5s);
  EXPECT_GE(kept_ms, 250);
  EXPECT_LT(kept_ms, 2000);
}

TEST_F(ServerTest, ManyConcurrentKeepAliveClientsAreAllAnswered) {
  start();
  constexpr int kThreads = 50;
  constexpr int kRequests = 20;
  std::atomic<int> ok{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        Client c("127.0.0.1", port_);
        for (int i = 0; i < kRequests; ++i) {
          const std::string name = "d" + std::to_string(t) + "-" + std::to_string(i);
          test::Reply r = c.get("/api/v1/drills/" + name + "/runs");
          (r.status == 200 && r.body == "runs of " + name ? ok : failed)++;
        }
      } catch (const std::exception&) {
        failed++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), kThreads * kRequests);
  EXPECT_EQ(failed.load(), 0);
}

TEST_F(ServerTest, ConnectionLimitClosesExtraConnections) {
  ServerOptions o;
  o.max_connections = 2;
  start(o);
  auto a = std::make_unique<Client>("127.0.0.1", port_);
  Client b("127.0.0.1", port_);
  EXPECT_EQ(a->get("/metrics").status, 200);
  EXPECT_EQ(b.get("/metrics").status, 200);
  test::IdleConnection third(port_);
  EXPECT_GE(third.wait_closed(2s), 0);  // closed at once
  EXPECT_NE(log().find("connection limit reached"), std::string::npos);
  a.reset();  // frees a slot (after the server sees the close)
  std::string out;
  for (int i = 0; i < 50 && out.rfind("HTTP/1.1 200", 0) != 0; ++i) {
    std::this_thread::sleep_for(20ms);
    out = raw_exchange(port_, "GET /metrics HTTP/1.1\r\nConnection: close\r\n\r\n", 1s);
  }
  EXPECT_EQ(out.rfind("HTTP/1.1 200", 0), 0u) << out;
}

TEST_F(ServerTest, BusyPortFailsWithAClearMessage) {
  start();
  ServerOptions o;
  o.listen_address = "127.0.0.1:" + std::to_string(port_);
  Server second(o, demo_router());
  try {
    second.start();
    FAIL() << "bound a busy port";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("cannot listen on 127.0.0.1:" + std::to_string(port_) +
                        ": Address already in use"),
              std::string::npos)
        << what;
  }
  EXPECT_EQ(Client("127.0.0.1", port_).get("/metrics").status, 200);
}

TEST_F(ServerTest, StopLetsTheRequestInProgressFinish) {
  start();
  std::string reply;
  std::thread client(
      [&] { reply = raw_exchange(port_, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n", 5s); });
  std::this_thread::sleep_for(150ms);  // the handler is sleeping now
  const auto t0 = std::chrono::steady_clock::now();
  server_->stop();
  server_->stop();  // idempotent
  client.join();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  EXPECT_EQ(reply.rfind("HTTP/1.1 200", 0), 0u) << reply;
  EXPECT_NE(reply.find("slow done"), std::string::npos);
  EXPECT_NE(reply.find("Connection: close"), std::string::npos);
  EXPECT_THROW(Client("127.0.0.1", port_), std::exception);  // no longer listening
}

TEST_F(ServerTest, StopClosesIdleKeepAliveConnectionsPromptly) {
  start();
  Client c("127.0.0.1", port_);
  EXPECT_EQ(c.get("/metrics").status, 200);
  const auto t0 = std::chrono::steady_clock::now();
  server_->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  EXPECT_THROW(c.get("/metrics"), std::runtime_error);
}

TEST_F(ServerTest, BasicAuthGuardsEveryPath) {
  ServerOptions o;
  o.web.emplace();
  o.web->basic_auth_users["alice"] = kAliceHash;
  start(o);
  Client c("127.0.0.1", port_);
  for (const char* path : {"/metrics", "/nope"}) {
    test::Reply r = c.get(path);
    EXPECT_EQ(r.status, 401) << path;
    EXPECT_EQ(r.header("www-authenticate"), "Basic realm=\"backupdrill\"");
  }
  auto with = [&](const std::string& auth) {
    return c.request("GET", "/metrics", {{"Authorization", auth}});
  };
  EXPECT_EQ(with(test::basic_auth("alice", "wrong")).status, 401);
  EXPECT_EQ(with(test::basic_auth("bob", "correct horse battery staple")).status, 401);
  EXPECT_EQ(with("Bearer x").status, 401);
  test::Reply r = with(test::basic_auth("alice", "correct horse battery staple"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "metric 1\n");
  EXPECT_EQ(
      c.request("GET", "/nope",
                {{"Authorization", test::basic_auth("alice", "correct horse battery staple")}})
          .status,
      404);
}

// Issue 15: basic auth and the admin token both need the Authorization
// header. A route with a token of its own is decided by its handler when the
// request presents a Bearer credential; without one, basic auth comes first.
TEST_F(ServerTest, BasicAuthLetsARouteWithItsOwnTokenDecide) {
  ServerOptions o;
  o.web.emplace();
  o.web->basic_auth_users["alice"] = kAliceHash;
  start(o);
  Client c("127.0.0.1", port_);
  auto post = [&](const std::string& path, const std::string& auth) {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!auth.empty()) headers.emplace_back("Authorization", auth);
    return c.request("POST", path, headers);
  };
  const std::string alice = test::basic_auth("alice", "correct horse battery staple");

  test::Reply r = post("/trigger", "Bearer s3cret");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "triggered");
  r = post("/trigger", "bearer s3cret");
  EXPECT_EQ(r.body, "triggered");
  r = post("/trigger", "Bearer wrong");  // the handler refuses, not basic auth
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, "token needed");
  r = post("/trigger", alice);  // basic auth passes, the handler wants its token
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, "token needed");
  for (const std::string& auth :
       {std::string(), test::basic_auth("alice", "wrong"), std::string("Bearer ")}) {
    r = post("/trigger", auth);  // basic auth comes first
    EXPECT_EQ(r.status, 401) << auth;
    EXPECT_EQ(r.header("www-authenticate"), "Basic realm=\"backupdrill\"") << auth;
    EXPECT_EQ(r.body, "Unauthorized\n") << auth;
  }
  // Every other route still needs basic auth, a Bearer token or not.
  EXPECT_EQ(c.request("GET", "/metrics", {{"Authorization", "Bearer s3cret"}}).status, 401);
  EXPECT_EQ(post("/echo", "Bearer s3cret").status, 401);
  EXPECT_EQ(c.request("GET", "/trigger", {{"Authorization", "Bearer s3cret"}}).status, 401);
  EXPECT_EQ(c.request("GET", "/metrics", {{"Authorization", alice}}).status, 200);
}

TEST_F(ServerTest, WebConfigHeadersAreOnEveryResponse) {
  ServerOptions o;
  o.web.emplace();
  o.web->headers = {{"X-Frame-Options", "deny"}, {"X-Content-Type-Options", "nosniff"}};
  start(o);
  Client c("127.0.0.1", port_);
  for (const char* path : {"/metrics", "/nope", "/boom"}) {
    test::Reply r = c.get(path);
    EXPECT_EQ(r.header("x-frame-options"), "deny") << path;
    EXPECT_EQ(r.header("x-content-type-options"), "nosniff") << path;
  }
  EXPECT_NE(raw_exchange(port_, "BAD\r\n\r\n").find("X-Frame-Options: deny"), std::string::npos);
}

TEST_F(ServerTest, ListensOnIpv6Loopback) {
  ServerOptions o;
  o.listen_address = "[::1]:0";
  try {
    start(o);
  } catch (const std::runtime_error& e) {
    GTEST_SKIP() << "no IPv6 loopback here: " << e.what();
  }
  Client c("::1", port_);
  test::Reply r = c.request("POST", "/echo", {}, "v6");
  EXPECT_EQ(r.body, "v6");
  EXPECT_EQ(r.header("x-remote").rfind("[::1]:", 0), 0u) << r.header("x-remote");
}

TEST_F(ServerTest, AllAddressesFormServesIpv4Loopback) {
  ServerOptions o;
  o.listen_address = ":0";  // every address; the test talks to 127.0.0.1 only
  start(o);
  Client c("127.0.0.1", port_);
  test::Reply r = c.request("POST", "/echo", {}, "any");
  EXPECT_EQ(r.body, "any");
  // Dual-stack sockets see IPv4 peers as ::ffff:127.0.0.1; we print them as IPv4.
  EXPECT_EQ(r.header("x-remote").rfind("127.0.0.1:", 0), 0u) << r.header("x-remote");
}

TEST(Server, StartTwiceAndBadAddressesAreRefused) {
  ServerOptions o;
  o.listen_address = "127.0.0.1:0";
  Server s(o, Router{});
  s.start();
  EXPECT_THROW(s.start(), std::logic_error);
  o.listen_address = "127.0.0.1";
  EXPECT_THROW(Server(o, Router{}).start(), std::invalid_argument);
}

TEST(ListenAddress, Parses) {
  EXPECT_EQ(parse_listen_address(":10125").host, "");
  EXPECT_EQ(parse_listen_address(":10125").port, 10125);
  EXPECT_EQ(parse_listen_address("0.0.0.0:80").host, "0.0.0.0");
  EXPECT_EQ(parse_listen_address("[::1]:0").host, "::1");
  EXPECT_EQ(parse_listen_address("localhost:9").host, "localhost");
  for (const char* bad : {"10125", ":", ":65536", ":x", "::1:80", "[::1:80", "[]:80"}) {
    EXPECT_THROW(parse_listen_address(bad), std::invalid_argument) << bad;
  }
}

}  // namespace
}  // namespace backupdrill::http
