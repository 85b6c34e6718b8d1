#include "http/connection.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <optional>
#include <type_traits>

namespace backupdrill::http::detail {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

// TLS close_notify exchange at the end of a connection; a peer that does not
// answer is not worth waiting for.
constexpr auto kShutdownTimeout = std::chrono::seconds(2);

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

std::string lower(beast::string_view s) {
  std::string out(s.data(), s.size());
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

template <bool kTls>
class Connection : public Stoppable, public std::enable_shared_from_this<Connection<kTls>> {
  using Stream = std::conditional_t<kTls, beast::ssl_stream<beast::tcp_stream>, beast::tcp_stream>;

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

  void read() {
    if (closing_) return close();
    busy_ = false;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(state_->options.max_header_bytes));
    parser_->body_limit(static_cast<std::uint64_t>(state_->options.max_body_bytes));
    lowest().expires_after(state_->options.read_timeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      beast::bind_front_handler(&Connection::on_read, this->shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    busy_ = true;
    if (!ec) return handle();
    if (ec == bhttp::error::end_of_stream || ec == net::error::operation_aborted) return close();
    if (ec == beast::error::timeout) {
      state_->log("debug", "closing the connection of " + remote_ + ": read timeout");
      return close_now();
    }
    if (ec == bhttp::error::header_limit) return reject(431);
    if (ec == bhttp::error::body_limit) return reject(413);
    if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category()) {
      state_->log("debug", "bad request from " + remote_ + ": " + ec.message());
      return reject(400);
    }
    close_now();  // a socket or TLS error: nobody to answer
  }

  void handle() {
    auto& msg = parser_->get();
    Request request;
    request.method = std::string(msg.method_string());
    request.target = std::string(msg.target());
    const size_t q = request.target.find('?');
    request.path = request.target.substr(0, q);
    if (q != std::string::npos) request.query = request.target.substr(q + 1);
    for (const auto& field : msg) {
      std::string& v = request.headers[lower(field.name_string())];
      v += (v.empty() ? "" : ", ") + std::string(field.value());
    }
    request.body = std::move(msg.body());
    request.remote_address = remote_;
    const bool keep_alive = msg.keep_alive();
    const unsigned version = msg.version();

    Response response;
    auto auth = request.headers.find("authorization");
    if (state_->auth.enabled() &&
        !state_->auth.allows(auth == request.headers.end() ? "" : auth->second)) {
      state_->log("debug", "basic authentication failed for " + remote_);
      response = text_response(401);
      response.headers.emplace_back("WWW-Authenticate", BasicAuth::kChallenge);
    } else {
      response = state_->router.dispatch(request);
    }
    send(std::move(response), request.method == "HEAD", keep_alive, version);
  }

  // After a malformed request the parser's position is unknown: answer and close.
  void reject(int status) { send(text_response(status), false, false, 11); }

  void send(Response r, bool head, bool keep_alive, unsigned version) {
    if (r.status < 100 || r.status > 999) {
      state_->log("error", "a handler returned the invalid status " + std::to_string(r.status));
      r = text_response(500);
    }
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
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

  // Ends the connection politely: close_notify for TLS, FIN for TCP.
  void close() {
    busy_ = true;
    if constexpr (kTls) {
      lowest().expires_after(kShutdownTimeout);
      stream_.async_shutdown(
          [self = this->shared_from_this()](beast::error_code) { self->close_now(); });
    } else {
      beast::error_code ignored;
      lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
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
