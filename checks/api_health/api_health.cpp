// api_health: the runbook's API smoke check. GET a URL (HTTP, or HTTPS with
// certificate verification on by default), optionally with a bearer token
// and extra headers, and expect a status and a body substring. Writes one
// PASS/FAIL line to smoke_<ts>.txt. Skipped, not failed, when the URL is
// empty: the runbook's smoke check is optional. The token and header values
// are registered as secrets, so the host masks them wherever they show up.
#include <backupdrill/check.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <optional>
#include <regex>

#include "api_health_sample.h"
#include "common/settings.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;

using backupdrill::checks::Settings;
using backupdrill::sdk::Host;
using backupdrill::sdk::RunContext;

struct Url {
  bool tls = false;
  std::string host;
  std::string port;
  std::string target;  // path and query
};

std::optional<Url> parse_url(const std::string& text) {
  static const std::regex kUrl(
      R"(^(https?)://(\[[0-9a-fA-F:.]+\]|[^/:?#\[\]@]+)(:([0-9]{1,5}))?([/?][^#]*)?$)");
  std::smatch m;
  if (!std::regex_match(text, m, kUrl)) return std::nullopt;
  Url url;
  url.tls = m[1] == "https";
  url.host = m[2];
  if (url.host.front() == '[') url.host = url.host.substr(1, url.host.size() - 2);
  url.port = m[4].matched ? m[4].str() : (url.tls ? "443" : "80");
  url.target = m[5].matched ? m[5].str() : "/";
  if (url.target.front() == '?') url.target = "/" + url.target;
  return url;
}

class ApiHealth : public backupdrill::sdk::Check {
 public:
  ApiHealth(const std::string& config, Host& host) {
    Settings s(config);
    name_ = s.name();
    url_text_ = s.string("url").value_or("");
    token_ = s.string("bearer_token").value_or("");
    host.secret(token_);
    expect_status_ = static_cast<int>(s.integer("expect_status").value_or(200));
    body_contains_ = s.string("expect_body_contains").value_or("");
    ca_file_ = s.string("ca_file").value_or("");
    insecure_ = s.boolean("insecure_skip_verify").value_or(false);
    headers_ = s.string_table("headers");
    for (const auto& [k, v] : headers_) host.secret(v);  // API keys travel in headers
    s.finish();
    if (!url_text_.empty()) {
      auto url = parse_url(url_text_);
      if (!url) s.fail("url", "\"" + url_text_ + "\" is not an http:// or https:// URL");
      url_ = *url;
    }
  }

  void run(const RunContext&, Host& host) override {
    if (url_text_.empty()) {
      host.skip("skipped: no URL configured (TARGET_API_URL is empty)");
      return;
    }
    auto started = std::chrono::steady_clock::now();
    std::string line = "GET " + url_text_;
    try {
      auto [status, body] = fetch(std::chrono::milliseconds(host.remaining_ms()));
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - started)
                    .count();
      std::string detail =
          line + " -> " + std::to_string(status) + " in " + std::to_string(ms) + " ms";
      bool status_ok = status == expect_status_;
      bool body_ok = body_contains_.empty() || body.find(body_contains_) != std::string::npos;
      if (!status_ok) detail += " (expected " + std::to_string(expect_status_) + ")";
      if (!body_ok) detail += " (body does not contain \"" + body_contains_ + "\")";
      host.smoke(status_ok && body_ok, detail);
      host.line(name_ + "_status", std::to_string(status));
      if (status_ok && body_ok) {
        host.summary(detail);
      } else {
        host.fail(detail);
      }
    } catch (const std::exception& e) {
      std::string detail = line + " -> " + e.what();
      host.smoke(false, detail);
      host.fail(detail);
    }
  }

 private:
  template <class Stream>
  std::pair<int, std::string> exchange(Stream& stream) {
    http::request<http::empty_body> req{http::verb::get, url_.target, 11};
    bool default_port = url_.port == (url_.tls ? "443" : "80");
    req.set(http::field::host, default_port ? url_.host : url_.host + ":" + url_.port);
    req.set(http::field::user_agent, "backupdrill-api-health");
    req.set(http::field::accept, "*/*");
    if (!token_.empty()) req.set(http::field::authorization, "Bearer " + token_);
    for (const auto& [k, v] : headers_) req.set(k, v);
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(1 << 20);
    http::read(stream, buffer, parser);
    return {parser.get().result_int(), parser.get().body()};
  }

  std::pair<int, std::string> fetch(std::chrono::milliseconds left) {
    asio::io_context io;
    auto budget = std::min<std::chrono::steady_clock::duration>(left, std::chrono::seconds(30));
    asio::ip::tcp::resolver resolver(io);
    auto endpoints = resolver.resolve(url_.host, url_.port);
    if (!url_.tls) {
      beast::tcp_stream stream(io);
      stream.expires_after(budget);
      stream.connect(endpoints);
      auto result = exchange(stream);
      beast::error_code ec;
      stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
      return result;
    }
    ssl::context ctx(ssl::context::tls_client);
    ctx.set_options(ssl::context::no_sslv2 | ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                    ssl::context::no_tlsv1_1);
    if (insecure_) {
      ctx.set_verify_mode(ssl::verify_none);
    } else {
      ctx.set_verify_mode(ssl::verify_peer);
      if (!ca_file_.empty()) {
        try {
          ctx.load_verify_file(ca_file_);
        } catch (const boost::system::system_error& e) {
          throw std::runtime_error("cannot read ca_file \"" + ca_file_ +
                                   "\": " + e.code().message());
        }
      } else {
        ctx.set_default_verify_paths();
      }
    }
    beast::ssl_stream<beast::tcp_stream> stream(io, ctx);
    if (!SSL_set_tlsext_host_name(stream.native_handle(), url_.host.c_str())) {
      throw std::runtime_error("cannot set TLS server name");
    }
    if (!insecure_) stream.set_verify_callback(ssl::host_name_verification(url_.host));
    beast::get_lowest_layer(stream).expires_after(budget);
    beast::get_lowest_layer(stream).connect(endpoints);
    try {
      stream.handshake(ssl::stream_base::client);
    } catch (const boost::system::system_error& e) {
      throw std::runtime_error(std::string("TLS handshake failed: ") + e.code().message() +
                               (insecure_ ? "" : " (set ca_file to trust a private CA)"));
    }
    auto result = exchange(stream);
    beast::error_code ec;
    stream.shutdown(ec);
    return result;
  }

  std::string name_;
  std::string url_text_;
  Url url_;
  std::string token_;
  int expect_status_ = 200;
  std::string body_contains_;
  std::string ca_file_;
  bool insecure_ = false;
  std::vector<std::pair<std::string, std::string>> headers_;
};

}  // namespace

BACKUPDRILL_CHECK(ApiHealth, "api_health", BACKUPDRILL_CHECKS_VERSION,
                  "HTTP(S) GET of an API health URL: status, body, bearer token, TLS "
                  "verification; skipped when the URL is empty",
                  BACKUPDRILL_SAMPLE_CONFIG, false)
