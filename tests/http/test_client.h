#pragma once
// Small synchronous HTTP/1.1 clients for the server tests: a keep-alive
// Beast client (plain or TLS) and raw-socket helpers for malformed input.
//
// Thread safety: one client per thread; the free functions are independent.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace backupdrill::http::test {

struct Reply {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

struct TlsClientOptions {
  std::string ca_file;    // trust anchor for the server certificate
  std::string cert_file;  // client certificate, optional
  std::string key_file;
  bool max_tls12 = false;
};

// One connection, reused for every request (keep-alive). Throws
// std::runtime_error (with the Beast / OpenSSL reason) on any failure.
class Client {
 public:
  // host is "127.0.0.1" or "::1".
  Client(const std::string& host, uint16_t port);
  Client(const std::string& host, uint16_t port, const TlsClientOptions& tls);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  Reply request(const std::string& method, const std::string& target,
                const std::vector<std::pair<std::string, std::string>>& headers = {},
                const std::string& body = {});
  Reply get(const std::string& target) { return request("GET", target); }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Connects to 127.0.0.1:port, sends bytes as they are, then reads until the
// server closes or timeout passes; returns what was read.
std::string raw_exchange(uint16_t port, const std::string& bytes,
                         std::chrono::milliseconds timeout = std::chrono::seconds(5));

// Like raw_exchange, and tells whether the server closed the connection
// (EOF or reset) before the timeout.
struct RawReply {
  std::string bytes;
  bool closed = false;
};
RawReply raw_exchange_until_close(uint16_t port, const std::string& bytes,
                                  std::chrono::milliseconds timeout = std::chrono::seconds(5));

// A raw connection that sends only what it is told to; wait_closed() tells
// after how long the server closed it.
class IdleConnection {
 public:
  explicit IdleConnection(uint16_t port);
  ~IdleConnection();
  void send(const std::string& bytes);
  // Milliseconds from connecting until EOF from the server; -1 when still
  // open after timeout (counted from this call).
  long wait_closed(std::chrono::milliseconds timeout);

 private:
  int fd_ = -1;
  std::chrono::steady_clock::time_point connected_;
};

// "Basic base64(user:password)".
std::string basic_auth(const std::string& user, const std::string& password);

// How many responses the bytes hold: status lines ("HTTP/1.1 200 ") wherever
// they start (a body is not followed by a line break).
size_t count_responses(const std::string& bytes);

}  // namespace backupdrill::http::test
