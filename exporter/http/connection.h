#pragma once
// Internal to the server: the state every connection shares, and the entry
// points that run one accepted connection (plain or TLS) to its end.
//
// Thread safety: ServerState is shared by all connections; its mutable parts
// are atomics or guarded by its mutex. A connection runs on its own strand.
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "http/basic_auth.h"
#include "http/router.h"
#include "http/server.h"

namespace backupdrill::http::detail {

// What stop() needs from a live connection.
class Stoppable {
 public:
  virtual ~Stoppable() = default;
  // Closes the connection once the request in progress (if any) is answered.
  virtual void request_stop() = 0;
};

struct ServerState {
  ServerState(ServerOptions opts, Router r);

  void log(std::string_view level, std::string_view msg) const {
    if (options.log) options.log(level, msg);
  }

  // Connection bookkeeping: add() on start, remove() from the destructor.
  void add(const std::shared_ptr<Stoppable>& c);
  void remove(const Stoppable* c);
  // Asks every live connection to finish; waits up to grace for them to go.
  // Returns false when some are still there.
  bool stop_all(std::chrono::milliseconds grace);

  const ServerOptions options;
  const Router router;
  const BasicAuth auth;
  std::vector<std::pair<std::string, std::string>> extra_headers;  // web config headers
  std::shared_ptr<boost::asio::ssl::context> tls;                  // null: plain HTTP
  std::atomic<size_t> active{0};                                   // accepted, not yet destroyed
  std::atomic<bool> stopping{false};

 private:
  std::mutex mutex_;
  std::condition_variable idle_;
  std::vector<std::pair<const Stoppable*, std::weak_ptr<Stoppable>>> live_;
};

// "127.0.0.1:5000", "[::1]:5000"; IPv4-mapped IPv6 peers print as IPv4.
std::string format_endpoint(const boost::asio::ip::tcp::endpoint& endpoint);

// Takes over an accepted socket (whose executor should be a strand) and
// serves it until the peer leaves, a timeout, an error or stop. Counts
// itself in state->active.
void serve_connection(boost::asio::ip::tcp::socket socket, std::shared_ptr<ServerState> state);

}  // namespace backupdrill::http::detail
