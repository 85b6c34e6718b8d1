// libFuzzer target: raw bytes from a client, through exactly what a server
// connection runs (the Beast request parser with the server's settings, the
// framing checks, the conversion to a Request, the router with the exporter's
// route shapes), pipelined requests included. Besides "no crash", every
// accepted request must have an unambiguous length within the limits, and
// every path parameter a handler sees must be valid UTF-8.
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/request_framing.h"
#include "http/router.h"
#include "http/url.h"

namespace {

using backupdrill::http::Request;
using backupdrill::http::Response;
using backupdrill::http::Router;
namespace detail = backupdrill::http::detail;
namespace bhttp = boost::beast::http;

[[noreturn]] void invariant_failed(const char* what) {
  std::fprintf(stderr, "http fuzz invariant failed: %s\n", what);
  std::abort();
}

void check(bool ok, const char* what) {
  if (!ok) invariant_failed(what);
}

Response params_handler(const Request& request) {
  Response r;
  for (const auto& [name, value] : request.params) {
    check(backupdrill::http::is_valid_utf8(value), "a path parameter is valid UTF-8");
    check(!value.empty(), "a path parameter is not empty");
    r.body += value;
  }
  return r;
}

const Router& router() {
  static const Router r = [] {
    Router router;
    for (const char* get :
         {"/", "/metrics", "/-/healthy", "/api/v1/drills", "/api/v1/drills/{name}/runs",
          "/drills/{name}/runs/{run_id}", "/drills/{name}/runs/{run_id}/files/{file}"}) {
      router.add("GET", get, params_handler);
    }
    router.add("POST", "/api/v1/drills/{name}/run", params_handler);
    return router;
  }();
  return r;
}

// Small limits, so inputs of fuzzer size reach every limit.
constexpr detail::RequestLimits kLimits{512, 256, 128};

// One request from the front of rest, as a connection reads it. Returns false
// when the connection would end here (refused, incomplete, or closed).
bool serve_one(std::string_view& rest) {
  detail::RequestParser parser;
  detail::configure_parser(parser, kLimits);
  boost::system::error_code ec;
  // async_read_header: the parser stops after the header (eager is off).
  size_t used = parser.put(boost::asio::buffer(rest.data(), rest.size()), ec);
  rest.remove_prefix(used);
  if (ec == bhttp::error::need_more) return false;  // the client never finished the header
  if (ec) {
    const auto refusal = detail::refusal_for(ec);
    check(!refusal || (refusal->status >= 400 && refusal->status < 500), "a refusal is a 4xx");
    return false;
  }
  check(parser.is_header_done(), "no error means a complete header");
  if (const auto refusal = detail::check_framing(parser, kLimits)) {
    check(refusal->status == 400 || refusal->status == 414, "framing refusals are 400 or 414");
    check(!refusal->reason.empty(), "a refusal says why");
    return false;
  }
  // async_read: the body.
  parser.eager(true);
  while (!parser.is_done()) {
    used = parser.put(boost::asio::buffer(rest.data(), rest.size()), ec);
    rest.remove_prefix(used);
    if (ec == bhttp::error::need_more && used > 0 && !rest.empty()) continue;
    if (ec || used == 0) return false;  // incomplete, or refused (413 / 400): the connection ends
  }
  auto& msg = parser.get();
  check(msg.target().size() <= kLimits.target_bytes, "the target is within its limit");
  check(msg.body().size() <= kLimits.body_bytes, "the body is within its limit");
  int te_fields = 0;
  int cl_fields = 0;
  for (const auto& field : msg) {
    te_fields += field.name() == bhttp::field::transfer_encoding;
    cl_fields += field.name() == bhttp::field::content_length;
  }
  check(te_fields == 0 || cl_fields == 0, "never both Transfer-Encoding and Content-Length");
  check(parser.chunked() ? te_fields >= 1 : te_fields == 0, "Transfer-Encoding means chunked");
  check(cl_fields <= 1, "at most one Content-Length field");
  if (!parser.chunked()) {
    check(msg.body().size() == parser.content_length().value_or(0), "Content-Length is the body");
  }
  const bool keep_alive = msg.keep_alive();
  Request request = detail::to_request(msg, "127.0.0.1:1");
  const Response response = router().dispatch(request);
  check(response.status >= 200 && response.status <= 599, "a response has a valid status");
  return keep_alive;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  // Pipelined requests on one connection, as long as it stays open.
  for (int i = 0; i < 16 && !rest.empty(); ++i) {
    if (!serve_one(rest)) break;
  }
  return 0;
}
