#pragma once
// The exporter's HTTP(S) server: Boost.Beast on its own io_context threads,
// HTTP/1.1 with keep-alive, optional TLS and basic auth from the web config,
// requests handed to a Router.
//
// Thread safety: start(), stop() and the destructor must be called from one
// thread (the owner's); port() may be called from any thread after start().
// Handlers run concurrently on the server's threads (see router.h).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "http/router.h"
#include "http/web_config.h"

namespace backupdrill::http {

struct ServerOptions {
  // ":port" (every address, dual-stack when the host has IPv6), "host:port",
  // "[::1]:port"; port 0 picks a free port (see Server::port()).
  std::string listen_address = ":10125";
  std::optional<WebConfig> web;  // TLS, basic auth, extra headers
  int threads = 2;               // I/O threads; handlers run on them
  // A request with an ambiguous length (Transfer-Encoding other than exactly
  // "chunked", with Content-Length, or in HTTP/1.0; Content-Length repeated)
  // is answered 400 and the connection closed, as is any request past a size
  // limit below (431, 413, 414): see request_framing.h.
  // Budget for one request (headers and body) and for an idle keep-alive
  // connection; also for the TLS handshake.
  std::chrono::milliseconds read_timeout{10000};
  std::chrono::milliseconds write_timeout{30000};  // for sending one response
  size_t max_header_bytes = 16 * 1024;             // request line + headers; more -> 431
  size_t max_body_bytes = 1 << 20;                 // more -> 413
  size_t max_target_bytes = 8 * 1024;              // path and query; more -> 414
  size_t max_connections = 512;                    // further connections are closed at once
  // Where the server reports; level is "debug", "info", "warn" or "error".
  // Also given to the router when it has no log of its own. May be empty.
  std::function<void(std::string_view level, std::string_view msg)> log;
};

class Server {
 public:
  Server(ServerOptions options, Router router);
  ~Server();  // stop()s
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts serving. Throws std::runtime_error with the address and
  // the reason ("cannot listen on :10125: Address already in use ...") and
  // std::invalid_argument for a malformed listen_address; throws
  // std::logic_error when called twice.
  void start();

  // Stops accepting, lets requests in progress finish (up to 5 s), closes
  // idle connections and joins the threads. Idempotent.
  void stop();

  // The bound port, useful with port 0; 0 before start().
  uint16_t port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace backupdrill::http
