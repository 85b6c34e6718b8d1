#include "http/server.h"

#include <fcntl.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <stdexcept>
#include <thread>
#include <vector>

#include "http/connection.h"
#include "http/listen_address.h"
#include "http/tls_context.h"

namespace backupdrill::http {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;

constexpr auto kStopGrace = std::chrono::seconds(5);
// After an accept error such as "too many open files", wait before retrying
// instead of spinning.
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);

// Boost.Asio opens and accepts sockets without SOCK_CLOEXEC: mark them, so a
// program the exporter starts (pg_dump, a check worker) never holds the
// listening port or a client's connection. (ChildProcess also closes every
// descriptor above 2 in the child, which covers the moment between accept()
// and this call.)
void close_on_exec(int fd) {
  int flags = ::fcntl(fd, F_GETFD);
  if (flags >= 0) ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

}  // namespace

struct Server::Impl {
  Impl(ServerOptions options, Router router)
      : state(std::make_shared<detail::ServerState>(std::move(options), std::move(router))) {}

  void bind();
  void accept();
  void run_thread();

  std::shared_ptr<detail::ServerState> state;
  net::io_context io{};
  tcp::acceptor acceptor{net::make_strand(io)};
  net::steady_timer retry{acceptor.get_executor()};
  std::vector<std::thread> threads;
  uint16_t port = 0;
  bool started = false;
  bool stopped = false;
};

void Server::Impl::bind() {
  const ServerOptions& o = state->options;
  const ListenAddress address = parse_listen_address(o.listen_address);
  auto fail = [&](const boost::system::error_code& ec, const std::string& what) {
    std::string hint;
    if (ec == net::error::address_in_use) {
      hint =
          " (another process listens there; stop it or choose another "
          "--web.listen-address)";
    } else if (ec == net::error::access_denied) {
      hint = " (ports below 1024 need privileges)";
    }
    return std::runtime_error("cannot listen on " + o.listen_address + ": " + what + ec.message() +
                              hint);
  };

  std::vector<tcp::endpoint> candidates;
  if (address.host.empty()) {
    // Dual-stack [::] serves IPv4 too; hosts without IPv6 fall back to 0.0.0.0.
    candidates = {tcp::endpoint(tcp::v6(), address.port), tcp::endpoint(tcp::v4(), address.port)};
  } else {
    boost::system::error_code ec;
    tcp::resolver resolver(io);
    auto results = resolver.resolve(address.host, std::to_string(address.port),
                                    tcp::resolver::numeric_service, ec);
    if (ec) throw fail(ec, "cannot resolve \"" + address.host + "\": ");
    for (const auto& r : results) candidates.push_back(r.endpoint());
  }

  boost::system::error_code ec;
  for (const tcp::endpoint& endpoint : candidates) {
    acceptor.open(endpoint.protocol(), ec);
    if (ec) continue;  // e.g. no IPv6 in this network namespace
    close_on_exec(acceptor.native_handle());
    if (endpoint.protocol() == tcp::v6() && address.host.empty()) {
      acceptor.set_option(net::ip::v6_only(false), ec);
    }
    acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (!ec) break;
    boost::system::error_code ignored;
    acceptor.close(ignored);
    // A busy port is busy on every address: say so now.
    if (ec == net::error::address_in_use || ec == net::error::access_denied) break;
  }
  if (ec || !acceptor.is_open()) throw fail(ec, "");
  port = acceptor.local_endpoint().port();
}

void Server::Impl::accept() {
  acceptor.async_accept(net::make_strand(io),
                        [this](boost::system::error_code ec, tcp::socket socket) {
                          if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
                          if (ec) {
                            state->log("warn", "accepting a connection failed: " + ec.message());
                            retry.expires_after(kAcceptRetryDelay);
                            retry.async_wait([this](boost::system::error_code wait_ec) {
                              if (!wait_ec) accept();
                            });
                            return;
                          }
                          close_on_exec(socket.native_handle());
                          detail::serve_connection(std::move(socket), state);
                          accept();
                        });
}

void Server::Impl::run_thread() {
  // Everything that can throw inside a connection is caught there; this is
  // the last line so an unexpected exception costs a log line, not the process.
  for (;;) {
    try {
      io.run();
      return;
    } catch (const std::exception& e) {
      state->log("error", std::string("HTTP server thread: unexpected exception: ") + e.what());
    }
  }
}

Server::Server(ServerOptions options, Router router) {
  if (!router.has_log() && options.log) router.set_log(options.log);
  impl_ = std::make_unique<Impl>(std::move(options), std::move(router));
}

Server::~Server() { stop(); }

void Server::start() {
  if (impl_->started) throw std::logic_error("Server::start() called twice");
  impl_->started = true;
  auto& state = *impl_->state;
  if (state.options.threads < 1) throw std::invalid_argument("ServerOptions.threads must be >= 1");
  if (state.options.web) {
    for (const std::string& w : state.options.web->warnings) state.log("warn", w);
    if (state.options.web->tls) state.tls = make_tls_context(*state.options.web->tls);
  }
  impl_->bind();
  impl_->accept();
  for (int i = 0; i < state.options.threads; ++i) {
    impl_->threads.emplace_back([this] { impl_->run_thread(); });
  }
  state.log("info", "listening on " + state.options.listen_address + " (port " +
                        std::to_string(impl_->port) + ", " + (state.tls ? "TLS" : "plain HTTP") +
                        (state.auth.enabled() ? ", basic auth" : "") + ")");
}

void Server::stop() {
  if (!impl_ || !impl_->started || impl_->stopped) return;
  impl_->stopped = true;
  auto& state = *impl_->state;
  state.stopping = true;
  net::post(impl_->acceptor.get_executor(), [impl = impl_.get()] {
    boost::system::error_code ignored;
    impl->acceptor.close(ignored);
    impl->retry.cancel();
  });
  if (!state.stop_all(kStopGrace)) {
    state.log("warn", "stopping the HTTP server with " + std::to_string(state.active.load()) +
                          " connection(s) still busy");
  }
  impl_->io.stop();
  for (std::thread& t : impl_->threads) t.join();
  impl_->threads.clear();
}

uint16_t Server::port() const { return impl_->port; }

}  // namespace backupdrill::http
