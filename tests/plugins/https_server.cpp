#include "https_server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <stdexcept>

#include "process/child_process.h"

namespace backupdrill::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;

struct HttpsServer::Impl {
  asio::io_context io;
  ssl::context ctx{ssl::context::tls_server};
  asio::ip::tcp::acceptor acceptor{io};
};

HttpsServer::HttpsServer(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  cert_ = dir / "cert.pem";
  key_ = dir / "key.pem";
  ChildSpec spec;
  spec.program = find_in_path("openssl").value_or("/usr/bin/openssl");
  spec.args = {"req",           "-x509",   "-newkey",
               "rsa:2048",      "-nodes",  "-keyout",
               key_.string(),   "-out",    cert_.string(),
               "-days",         "2",       "-subj",
               "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"};
  auto made = run_capture(spec);
  if (!made.status.ok()) throw std::runtime_error("openssl req failed: " + made.out);

  impl_ = new Impl;
  impl_->ctx.use_certificate_chain_file(cert_.string());
  impl_->ctx.use_private_key_file(key_.string(), ssl::context::pem);
  asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
  impl_->acceptor.bind(ep);
  impl_->acceptor.listen();
  port_ = impl_->acceptor.local_endpoint().port();
  thread_ = std::thread([this] { serve(); });
}

HttpsServer::~HttpsServer() {
  stop_ = true;
  try {  // wake the blocking accept()
    asio::io_context io;
    asio::ip::tcp::socket s(io);
    s.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port_)});
  } catch (...) {
  }
  if (thread_.joinable()) thread_.join();
  delete impl_;
}

std::string HttpsServer::url(const std::string& path) const {
  return "https://127.0.0.1:" + std::to_string(port_) + path;
}

std::string HttpsServer::last_authorization() const {
  std::lock_guard lock(mutex_);
  return authorization_;
}

void HttpsServer::serve() {
  while (!stop_) {
    asio::ip::tcp::socket socket(impl_->io);
    boost::system::error_code ec;
    impl_->acceptor.accept(socket, ec);
    if (ec || stop_) continue;
    try {
      beast::ssl_stream<asio::ip::tcp::socket> stream(std::move(socket), impl_->ctx);
      stream.handshake(ssl::stream_base::server);  // throws when the client refuses us
      beast::flat_buffer buffer;
      http::request<http::string_body> req;
      http::read(stream, buffer, req);
      ++requests_;
      {
        std::lock_guard lock(mutex_);
        authorization_ = std::string(req[http::field::authorization]);
      }
      http::response<http::string_body> res;
      res.version(11);
      if (req.target() == "/health") {
        res.result(http::status::ok);
        res.body() = "status: ok";
      } else if (req.target() == "/degraded") {
        res.result(http::status::ok);
        res.body() = "status: degraded";
      } else {
        res.result(http::status::internal_server_error);
        res.body() = "oops";
      }
      res.set(http::field::content_type, "text/plain");
      res.prepare_payload();
      http::write(stream, res);
      stream.shutdown(ec);
    } catch (const std::exception&) {
      // A refused handshake is what some tests expect; keep serving.
    }
  }
}

}  // namespace backupdrill::testing
