#include "test_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/core/detail/base64.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <cerrno>
#include <optional>
#include <stdexcept>

namespace backupdrill::http::test {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

int connect_loopback(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    throw std::runtime_error("connect() to 127.0.0.1 failed");
  }
  return fd;
}

void send_all(int fd, const std::string& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;  // the server may close early (e.g. 431): not a test failure here
    sent += static_cast<size_t>(n);
  }
}

}  // namespace

struct Client::Impl {
  net::io_context io;
  std::optional<net::ssl::context> ctx;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;

  template <class Stream>
  Reply exchange(Stream& stream, const std::string& method, const std::string& target,
                 const std::vector<std::pair<std::string, std::string>>& headers,
                 const std::string& body) {
    bhttp::request<bhttp::string_body> req;
    req.method_string(method);
    req.target(target);
    req.version(11);
    req.set(bhttp::field::host, "localhost");
    for (const auto& [k, v] : headers) req.set(k, v);
    req.body() = body;
    if (!body.empty() || method == "POST") req.prepare_payload();
    bhttp::write(stream, req);
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    if (method == "HEAD") parser.skip(true);
    bhttp::read(stream, buffer, parser);
    Reply reply;
    auto& res = parser.get();
    reply.status = static_cast<int>(res.result_int());
    for (const auto& f : res) {
      std::string name(f.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      reply.headers[name] = std::string(f.value());
    }
    reply.body = res.body();
    return reply;
  }
};

Client::Client(const std::string& host, uint16_t port) : impl_(std::make_unique<Impl>()) {
  impl_->plain.emplace(impl_->io);
  impl_->plain->expires_after(std::chrono::seconds(20));
  impl_->plain->connect(tcp::endpoint(net::ip::make_address(host), port));
  impl_->plain->expires_never();
}

Client::Client(const std::string& host, uint16_t port, const TlsClientOptions& o)
    : impl_(std::make_unique<Impl>()) {
  impl_->ctx.emplace(net::ssl::context::tls_client);
  auto& ctx = *impl_->ctx;
  ctx.load_verify_file(o.ca_file);
  ctx.set_verify_mode(net::ssl::verify_peer);
  if (!o.cert_file.empty()) {
    ctx.use_certificate_chain_file(o.cert_file);
    ctx.use_private_key_file(o.key_file, net::ssl::context::pem);
  }
  if (o.max_tls12) SSL_CTX_set_max_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  impl_->tls.emplace(impl_->io, ctx);
  auto& stream = *impl_->tls;
  stream.set_verify_callback(net::ssl::host_name_verification("localhost"));
  SSL_set_tlsext_host_name(stream.native_handle(), "localhost");
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(20));
  beast::get_lowest_layer(stream).connect(tcp::endpoint(net::ip::make_address(host), port));
  stream.handshake(net::ssl::stream_base::client);
  beast::get_lowest_layer(stream).expires_never();
}

Client::~Client() = default;

Reply Client::request(const std::string& method, const std::string& target,
                      const std::vector<std::pair<std::string, std::string>>& headers,
                      const std::string& body) {
  // Bounded, so a server that never answers fails the test instead of hanging it.
  if (impl_->tls) {
    beast::get_lowest_layer(*impl_->tls).expires_after(std::chrono::seconds(10));
  } else {
    impl_->plain->expires_after(std::chrono::seconds(10));
  }
  try {
    if (impl_->tls) return impl_->exchange(*impl_->tls, method, target, headers, body);
    return impl_->exchange(*impl_->plain, method, target, headers, body);
  } catch (const boost::system::system_error& e) {
    throw std::runtime_error(method + " " + target + ": " + e.code().message());
  }
}

std::string raw_exchange(uint16_t port, const std::string& bytes,
                         std::chrono::milliseconds timeout) {
  return raw_exchange_until_close(port, bytes, timeout).bytes;
}

RawReply raw_exchange_until_close(uint16_t port, const std::string& bytes,
                                  std::chrono::milliseconds timeout) {
  const int fd = connect_loopback(port);
  send_all(fd, bytes);
  RawReply reply;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (::poll(&p, 1, static_cast<int>(std::max<long>(left.count(), 1))) <= 0) break;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {  // EOF or reset
      reply.closed = true;
      break;
    }
    reply.bytes.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return reply;
}

IdleConnection::IdleConnection(uint16_t port)
    : fd_(connect_loopback(port)), connected_(std::chrono::steady_clock::now()) {}
IdleConnection::~IdleConnection() {
  if (fd_ >= 0) ::close(fd_);
}

void IdleConnection::send(const std::string& bytes) { send_all(fd_, bytes); }

long IdleConnection::wait_closed(std::chrono::milliseconds timeout) {
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + timeout;
  char buf[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd_, POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (::poll(&p, 1, static_cast<int>(std::max<long>(left.count(), 1))) <= 0) break;
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
      return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now() - connected_)
                                   .count());
    }
  }
  return -1;
}

std::string basic_auth(const std::string& user, const std::string& password) {
  const std::string plain = user + ":" + password;
  std::string encoded(beast::detail::base64::encoded_size(plain.size()), '\0');
  encoded.resize(beast::detail::base64::encode(encoded.data(), plain.data(), plain.size()));
  return "Basic " + encoded;
}

size_t count_responses(const std::string& bytes) {
  size_t n = 0;
  for (size_t at = bytes.find("HTTP/1."); at != std::string::npos;
       at = bytes.find("HTTP/1.", at + 1)) {
    const std::string status = bytes.substr(at + 7, 6);  // "1 200 "
    if (status.size() == 6 && status[1] == ' ' &&
        std::isdigit(static_cast<unsigned char>(status[2])) && status[5] == ' ') {
      ++n;
    }
  }
  return n;
}

}  // namespace backupdrill::http::test
