#pragma once
// Internal to the server: how received bytes become one request. The Beast
// parser settings the server uses, and the framing rules of RFC 9112 §6
// checked once the header is parsed and before any body byte is read, so that
// this server and any proxy in front of it agree on where each request ends
// (no request smuggling). The connection and the fuzz target both go through
// these functions, so the fuzzer tests exactly what the server runs.
//
// Thread safety: free functions without state.
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/system/error_code.hpp>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "http/router.h"

namespace backupdrill::http::detail {

using RequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

struct RequestLimits {
  size_t header_bytes;  // request line + header fields; more -> 431
  size_t body_bytes;    // decoded body; more -> 413
  size_t target_bytes;  // the request target (path and query); more -> 414
};

// A request the server answers with status and then closes the connection:
// after it, where the next request would begin is unknown.
struct Refusal {
  int status;
  std::string reason;  // for the log (printable, bounded); never sent to the client
};

// Applies the limits to a fresh parser (one parser per request).
void configure_parser(RequestParser& parser, const RequestLimits& limits);

// Call once parser.is_header_done(). nullopt when the request's length is
// unambiguous: either no body, exactly one Content-Length of plain digits, or
// exactly "Transfer-Encoding: chunked" (HTTP/1.1, no Content-Length). Anything
// else is refused with 400: an unknown coding or one after chunked, chunked
// twice, Transfer-Encoding with Content-Length, in HTTP/1.0, repeated or
// listed Content-Length. A target longer than limits.target_bytes is 414.
std::optional<Refusal> check_framing(const RequestParser& parser, const RequestLimits& limits);

// The answer to a failed read: 431, 413 or 400 for what the client sent;
// nullopt when nobody is there to answer (end of stream, socket error,
// timeout, cancellation).
std::optional<Refusal> refusal_for(const boost::system::error_code& ec);

// The router's view of a complete message; moves the body out of it.
Request to_request(RequestParser::value_type& message, std::string remote_address);

// text cut to max bytes, with every byte outside printable ASCII as "\xNN":
// safe to put in a log line whatever the client sent.
std::string printable(std::string_view text, size_t max = 120);

}  // namespace backupdrill::http::detail
