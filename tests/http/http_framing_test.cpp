// Request framing on real loopback sockets: every way of making the server and
// a proxy in front of it disagree about where a request ends (RFC 9112 §6.1,
// §6.3) is answered 400 and the connection closed, so nothing after the
// headers can be served as a second, smuggled request.
#include <gtest/gtest.h>

#include <atomic>
#include <cctype>
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "http/server.h"
#include "test_client.h"

namespace backupdrill::http {
namespace {

using test::count_responses;
using test::raw_exchange_until_close;

// What a proxy that reads the body differently would forward as the next request.
const std::string kSmuggled = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";

class FramingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Router r;
    r.add("POST", "/echo", [](const Request& q) {
      Response res;
      res.body = "echo:" + q.body;
      return res;
    });
    r.add("GET", "/ok", [](const Request&) {
      Response res;
      res.body = "ok";
      return res;
    });
    r.add("GET", "/smuggled", [this](const Request&) {
      ++smuggled_;
      Response res;
      res.body = "smuggled";
      return res;
    });
    r.add("GET", "/huge-header", [](const Request&) {
      // More than Beast can hold in one field: building the response throws.
      Response res;
      res.headers.emplace_back("X-Huge", std::string(70000, 'h'));
      res.body = "secret-in-body";
      return res;
    });
    ServerOptions o;
    o.listen_address = "127.0.0.1:0";
    o.max_target_bytes = 2048;

    o.log = [this](std::string_view level, std::string_view msg) {
      std::lock_guard lock(log_mutex_);
      log_ += std::string(level) + ": " + std::string(msg) + "\n";
    };
    server_ = std::make_unique<Server>(std::move(o), std::move(r));
    server_->start();
    port_ = server_->port();
  }
  void TearDown() override { server_.reset(); }
  std::string log() {
    std::lock_guard lock(log_mutex_);
    return log_;
  }

  std::unique_ptr<Server> server_;
  uint16_t port_ = 0;
  std::atomic<int> smuggled_{0};
  std::mutex log_mutex_;
  std::string log_;
};

// Each: the request head (without the blank line) and a body that, read as
// the server would if it ignored the header, holds a second request.
struct Attempt {
  const char* what;
  std::string head;
  std::string body;
};

std::vector<Attempt> smuggling_attempts() {
  const std::string post = "POST /echo HTTP/1.1\r\nHost: x\r\n";
  std::string hex_chunked;
  {
    char size[16];
    std::snprintf(size, sizeof size, "%zx", kSmuggled.size());
    hex_chunked = std::string(size) + "\r\n" + kSmuggled + "\r\n0\r\n\r\n";
  }
  return {
      {"unknown coding", post + "Transfer-Encoding: gzip\r\n", kSmuggled},
      {"look-alike of chunked", post + "Transfer-Encoding: xchunked\r\n", kSmuggled},
      {"chunked not last", post + "Transfer-Encoding: chunked, gzip\r\n", kSmuggled},
      {"unknown coding before chunked", post + "Transfer-Encoding: gzip, chunked\r\n", hex_chunked},
      {"identity", post + "Transfer-Encoding: identity\r\n", kSmuggled},
      {"chunked twice", post + "Transfer-Encoding: chunked, chunked\r\n", hex_chunked},
      {"two fields, chunked first",
       post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n", kSmuggled},
      {"two fields, chunked last",
       post + "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", hex_chunked},
      {"Content-Length then Transfer-Encoding",
       post + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n", "abc" + kSmuggled},
      {"Transfer-Encoding then Content-Length",
       post + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n", hex_chunked},
      {"unknown coding and Content-Length",
       post + "Transfer-Encoding: gzip\r\nContent-Length: 3\r\n", "abc" + kSmuggled},
      {"Content-Length and unknown coding",
       post + "Content-Length: 3\r\nTransfer-Encoding: gzip\r\n", "abc" + kSmuggled},
      {"conflicting Content-Length", post + "Content-Length: 3\r\nContent-Length: 4\r\n",
       "abc" + kSmuggled},
      {"duplicate Content-Length", post + "Content-Length: 3\r\nContent-Length: 3\r\n",
       "abc" + kSmuggled},
      {"Content-Length list", post + "Content-Length: 3, 3\r\n", "abc" + kSmuggled},
      {"Transfer-Encoding in HTTP/1.0",
       "POST /echo HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n", hex_chunked},
      {"empty Transfer-Encoding", post + "Transfer-Encoding: \r\n", kSmuggled},
      {"Transfer-Encoding on a GET", "GET /ok HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n",
       kSmuggled},
  };
}

TEST_F(FramingTest, SmugglingAttemptsAre400AndTheConnectionCloses) {
  for (const Attempt& a : smuggling_attempts()) {
    const auto reply = raw_exchange_until_close(port_, a.head + "\r\n" + a.body);
    EXPECT_EQ(reply.bytes.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << a.what << ":\n"
                                                                        << reply.bytes;
    EXPECT_NE(reply.bytes.find("Connection: close\r\n"), std::string::npos) << a.what;
    EXPECT_TRUE(reply.closed) << a.what << ": the connection stayed open";
    EXPECT_EQ(count_responses(reply.bytes), 1u) << a.what << ":\n" << reply.bytes;
  }
  EXPECT_EQ(smuggled_.load(), 0);
  EXPECT_NE(log().find("Transfer-Encoding"), std::string::npos) << log();
}

TEST_F(FramingTest, SoundFramingStillWorksAndPipelines) {
  // Chunked (any case, with optional whitespace), Content-Length, and both
  // pipelined on one connection ahead of a third request.
  const std::string chunked =
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:  Chunked \r\n\r\n"
      "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
  const std::string sized = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nxyz";
  const std::string last = "GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  const auto reply = raw_exchange_until_close(port_, chunked + sized + last);
  EXPECT_TRUE(reply.closed);
  EXPECT_EQ(count_responses(reply.bytes), 3u) << reply.bytes;
  EXPECT_NE(reply.bytes.find("echo:abcde"), std::string::npos) << reply.bytes;
  EXPECT_NE(reply.bytes.find("echo:xyz"), std::string::npos) << reply.bytes;
  EXPECT_EQ(reply.bytes.find("400"), std::string::npos) << reply.bytes;
}

TEST_F(FramingTest, OverlongTargetIs414AndCloses) {
  const std::string target = "/ok?" + std::string(3000, 'q');
  const auto reply = raw_exchange_until_close(
      port_, "GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n" + "GET /smuggled HTTP/1.1\r\n\r\n");
  EXPECT_EQ(reply.bytes.rfind("HTTP/1.1 414 URI Too Long\r\n", 0), 0u) << reply.bytes;
  EXPECT_TRUE(reply.closed);
  EXPECT_EQ(count_responses(reply.bytes), 1u);
  EXPECT_EQ(smuggled_.load(), 0);
  // Just under the limit is served.
  const std::string fits = "/ok?" + std::string(2000, 'q');
  EXPECT_EQ(raw_exchange_until_close(
                port_, "GET " + fits + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .bytes.rfind("HTTP/1.1 200", 0),
            0u);
}

TEST_F(FramingTest, AFailureOutsideTheHandlerIsAGeneric500AndLogged) {
  const auto reply = raw_exchange_until_close(port_, "GET /huge-header HTTP/1.1\r\nHost: x\r\n\r\n",
                                              std::chrono::seconds(3));
  EXPECT_EQ(reply.bytes.rfind("HTTP/1.1 500 Internal Server Error\r\n", 0), 0u) << reply.bytes;
  EXPECT_NE(reply.bytes.find("\r\n\r\nInternal Server Error\n"), std::string::npos) << reply.bytes;
  EXPECT_EQ(reply.bytes.find("secret-in-body"), std::string::npos);
  EXPECT_EQ(reply.bytes.find("too large"), std::string::npos);
  EXPECT_NE(log().find("error: answering GET /huge-header"), std::string::npos) << log();
}

}  // namespace
}  // namespace backupdrill::http
