#include "http/connection.h"

#include <array>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>
#include <type_traits>

#include "http/request_framing.h"

namespace backupdrill::http::detail {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

// TLS close_notify exchange at the end of a connection; a peer that does not
// answer is not worth waiting for.
constexpr auto kShutdownTimeout = std::chrono::seconds(2);
// Closing a TCP socket with unread input sends a reset, which can destroy the
// answer before the client reads it (e.g. a 413 while the body still
// arrives). So after our FIN the rest of the input is read and dropped, up to
// these bounds, before the socket closes.
constexpr auto kLingerTimeout = std::chrono::seconds(2);
constexpr size_t kLingerBytes = 1 << 20;

bool is_token_char(char c) {
  return c > 32 && c < 127 && c != ':' && c != '(' && c != ')' && c != ',' && c != ';' &&
         c != '"' && c != '/' && c != '[' && c != ']' && c != '{' && c != '}' && c != '\\' &&
         c != '<' && c != '>' && c != '=' && c != '?' && c != '@';
}

bool valid_header(const std::string& name, const std::string& value) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!is_token_char(c)) return false;
  }
  return value.find_first_of("\r\n") == std::string::npos && value.find('\0') == std::string::npos;
}

bool iequals(std::string_view a, std::string_view b) {
  return beast::iequals(beast::string_view(a.data(), a.size()),
                        beast::string_view(b.data(), b.size()));
}

template <bool kTls>
class Connection : public Stoppable, public std::enable_shared_from_this<Connection<kTls>> {
  using Stream = std::conditional_t<kTls, beast::ssl_stream<beast::tcp_stream>, beast::tcp_stream>;
  using BeastResponse = bhttp::response<bhttp::string_body>;

 public:
  Connection(tcp::socket&& socket, std::shared_ptr<ServerState> state, std::string remote)
      : stream_(make_stream(std::move(socket), *state)),
        state_(std::move(state)),
        remote_(std::move(remote)) {}

  ~Connection() override { state_->remove(this); }

  void run() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&Connection::begin, this->shared_from_this()));
  }

  void request_stop() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] {
      self->closing_ = true;
      // Waiting for a request (or a handshake): nothing to finish, so end the
      // wait; a request being answered closes the connection after it.
      if (!self->busy_) self->lowest().cancel();
    });
  }

 private:
  static Stream make_stream(tcp::socket&& socket, ServerState& state) {
    if constexpr (kTls) {
      return Stream(std::move(socket), *state.tls);
    } else {
      return Stream(std::move(socket));
    }
  }

  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  void begin() {
    state_->add(this->shared_from_this());
    if (closing_ || state_->stopping) return close_now();
    if constexpr (kTls) {
      lowest().expires_after(state_->options.read_timeout);
      stream_.async_handshake(
          net::ssl::stream_base::server,
          beast::bind_front_handler(&Connection::on_handshake, this->shared_from_this()));
    } else {
      read();
    }
  }

  void on_handshake(beast::error_code ec) {
    if (ec) {
      // Plain HTTP on the TLS port, a client that rejects our certificate,
      // a missing client certificate: all end here, quietly.
      state_->log("debug", "TLS handshake with " + remote_ + " failed: " + ec.message());
      return close_now();
    }
    read();
  }

  RequestLimits limits() const {
    const ServerOptions& o = state_->options;
    return {o.max_header_bytes, o.max_body_bytes, o.max_target_bytes};
  }

  // A request is read in two steps: the header, then (once its framing is
  // known to be sound) the body.
  void read() {
    if (closing_) return close();
    busy_ = false;
    parser_.emplace();
    configure_parser(*parser_, limits());
    lowest().expires_after(state_->options.read_timeout);
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        beast::bind_front_handler(&Connection::on_header, this->shared_from_this()));
  }

  void on_header(beast::error_code ec, std::size_t) {
    busy_ = true;
    if (ec) return on_read_error(ec);
    if (auto refusal = check_framing(*parser_, limits())) return reject(*refusal);
    if (parser_->is_done()) return handle();
    busy_ = false;  // as for the header: stop() need not wait for a slow body
    bhttp::async_read(stream_, buffer_, *parser_,
                      beast::bind_front_handler(&Connection::on_read, this->shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    busy_ = true;
    if (ec) return on_read_error(ec);
    handle();
  }

  void on_read_error(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == net::error::operation_aborted) return close();
    if (ec == beast::error::timeout) {
      state_->log("debug", "closing the connection of " + remote_ + ": read timeout");
      return close_now();
    }
    if (auto refusal = refusal_for(ec)) return reject(*refusal);
    close_now();  // a socket or TLS error: nobody to answer
  }

  void handle() {
    auto& msg = parser_->get();
    const bool keep_alive = msg.keep_alive();
    const unsigned version = msg.version();
    const bool head = msg.method_string() == "HEAD";
    const std::string what =
        printable({msg.method_string().data(), msg.method_string().size()}, 16) + " " +
        printable({msg.target().data(), msg.target().size()});
    std::shared_ptr<BeastResponse> res;
    // The safety net for everything outside a handler (the router catches
    // those): whatever throws, the client gets a generic 500 and the log the
    // reason, never the other way round.
    try {
      Request request = to_request(msg, remote_);
      res = build(answer(request), head, keep_alive, version);
    } catch (const std::exception& e) {
      state_->log("error", "answering " + what + " from " + remote_ + " failed: " + e.what());
    } catch (...) {
      state_->log("error", "answering " + what + " from " + remote_ + " failed");
    }
    if (!res) res = build(text_response(500), false, false, version);
    write(std::move(res));
  }

  Response answer(Request& request) const {
    auto header = request.headers.find("authorization");
    const std::string_view authorization =
        header == request.headers.end() ? std::string_view() : std::string_view(header->second);
    // A route with a token of its own (router.h, RouteAuth) is decided by its
    // handler when the request presents a Bearer credential: the header
    // cannot carry basic auth as well.
    const bool own_token = bearer_token(authorization).has_value() &&
                           state_->router.auth_for(request) == RouteAuth::own_bearer_token;
    if (state_->auth.enabled() && !own_token && !state_->auth.allows(authorization)) {
      state_->log("debug", "basic authentication failed for " + remote_);
      Response response = text_response(401);
      response.headers.emplace_back("WWW-Authenticate", BasicAuth::kChallenge);
      return response;
    }
    return state_->router.dispatch(request);
  }

  // After a request that cannot be read as sent, where the next one would
  // begin is unknown: answer and close.
  void reject(const Refusal& refusal) {
    state_->log("debug", "refusing a request from " + remote_ + " with " +
                             std::to_string(refusal.status) + ": " + refusal.reason);
    write(build(text_response(refusal.status), false, false, 11));
  }

  std::shared_ptr<BeastResponse> build(Response r, bool head, bool keep_alive,
                                       unsigned version) const {
    if (r.status < 100 || r.status > 999) {
      state_->log("error", "a handler returned the invalid status " + std::to_string(r.status));
      r = text_response(500);
    }
    auto res = std::make_shared<BeastResponse>();
    res->version(version == 10 ? 10 : 11);
    res->result(static_cast<unsigned>(r.status));
    res->set(bhttp::field::content_type, r.content_type);
    for (const auto& [name, value] : state_->extra_headers) res->set(name, value);
    std::string head_length = "0";
    for (const auto& [name, value] : r.headers) {
      if (!valid_header(name, value)) {
        state_->log("error", "dropping response header \"" + name +
                                 "\": invalid name or a line break in the value");
      } else if (iequals(name, "Content-Length")) {
        head_length = value;  // the body decides it otherwise
      } else if (iequals(name, "Content-Type")) {
        res->set(bhttp::field::content_type, value);
      } else {
        res->insert(name, value);
      }
    }
    // stopping is read too: a request_stop() posted meanwhile runs only after us.
    res->keep_alive(keep_alive && !closing_ && !state_->stopping);
    if (head) {
      res->set(bhttp::field::content_length, head_length);
    } else {
      res->body() = std::move(r.body);
      res->prepare_payload();
    }
    return res;
  }

  void write(std::shared_ptr<BeastResponse> res) {
    lowest().expires_after(state_->options.write_timeout);
    bhttp::async_write(stream_, *res,
                       [self = this->shared_from_this(), res](beast::error_code ec, std::size_t) {
                         self->on_write(ec, res->keep_alive());
                       });
  }

  void on_write(beast::error_code ec, bool keep_alive) {
    if (ec) return close_now();
    if (!keep_alive || closing_) return close();
    read();
  }

  // Ends the connection politely: close_notify for TLS; for TCP a FIN, then
  // the client's remaining input is drained (see kLingerTimeout).
  void close() {
    busy_ = true;
    if constexpr (kTls) {
      lowest().expires_after(kShutdownTimeout);
      stream_.async_shutdown(
          [self = this->shared_from_this()](beast::error_code) { self->close_now(); });
    } else {
      beast::error_code ignored;
      lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
      // On stop() nobody waits for an answer we could lose: close at once.
      if (closing_ || state_->stopping) return close_now();
      busy_ = false;  // a stop() from now on cuts the drain short
      lowest().expires_after(kLingerTimeout);
      drain();
    }
  }

  void drain() {
    lowest().async_read_some(net::buffer(scratch_), [self = this->shared_from_this()](
                                                        beast::error_code ec, std::size_t n) {
      self->drained_ += n;
      if (ec || self->drained_ >= kLingerBytes) return self->close_now();
      self->drain();
    });
  }

  void close_now() {
    beast::error_code ignored;
    lowest().socket().close(ignored);
  }

  Stream stream_;
  std::shared_ptr<ServerState> state_;
  std::string remote_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::array<char, 4096> scratch_{};  // input read and dropped while closing
  size_t drained_ = 0;
  bool busy_ = true;      // handling a request (not waiting for one)
  bool closing_ = false;  // stop() was called: no further requests
};

}  // namespace

ServerState::ServerState(ServerOptions opts, Router r)
    : options(std::move(opts)),
      router(std::move(r)),
      auth(options.web ? options.web->basic_auth_users : std::map<std::string, std::string>{}) {
  if (options.web) extra_headers = options.web->headers;
}

void ServerState::add(const std::shared_ptr<Stoppable>& c) {
  std::lock_guard lock(mutex_);
  live_.emplace_back(c.get(), c);
}

void ServerState::remove(const Stoppable* c) {
  std::lock_guard lock(mutex_);
  std::erase_if(live_, [&](const auto& e) { return e.first == c; });
  if (--active == 0) idle_.notify_all();
}

bool ServerState::stop_all(std::chrono::milliseconds grace) {
  std::vector<std::shared_ptr<Stoppable>> targets;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [raw, weak] : live_) {
      if (auto c = weak.lock()) targets.push_back(std::move(c));
    }
  }
  for (const auto& c : targets) c->request_stop();
  targets.clear();  // or the wait below would wait for ourselves
  std::unique_lock lock(mutex_);
  return idle_.wait_for(lock, grace, [&] { return active.load() == 0; });
}

std::string format_endpoint(const tcp::endpoint& endpoint) {
  auto address = endpoint.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = net::ip::make_address_v4(net::ip::v4_mapped, address.to_v6());
  }
  const std::string port = std::to_string(endpoint.port());
  return address.is_v6() ? "[" + address.to_string() + "]:" + port
                         : address.to_string() + ":" + port;
}

void serve_connection(tcp::socket socket, std::shared_ptr<ServerState> state) {
  beast::error_code ec;
  const auto peer = socket.remote_endpoint(ec);
  const std::string remote = ec ? std::string("unknown") : format_endpoint(peer);
  if (state->stopping || state->active.load() >= state->options.max_connections) {
    state->log("warn",
               "refusing the connection of " + remote + ": " +
                   (state->stopping ? std::string("shutting down") : "connection limit reached"));
    socket.close(ec);
    return;
  }
  ++state->active;  // Connection's destructor undoes it through remove()
  if (state->tls) {
    std::make_shared<Connection<true>>(std::move(socket), state, remote)->run();
  } else {
    std::make_shared<Connection<false>>(std::move(socket), state, remote)->run();
  }
}

}  // namespace backupdrill::http::detail
