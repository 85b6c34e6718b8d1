#include "http/request_framing.h"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <cctype>
#include <cstdint>
#include <limits>

namespace backupdrill::http::detail {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

constexpr char kHex[] = "0123456789abcdef";

std::string_view view(beast::string_view s) { return {s.data(), s.size()}; }

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return beast::iequals(beast::string_view(a.data(), a.size()),
                        beast::string_view(b.data(), b.size()));
}

Refusal bad_request(std::string reason) { return {400, std::move(reason)}; }

// Every Transfer-Encoding field together must say exactly "chunked": it is the
// only coding this server decodes, and RFC 9112 §6.3 makes a final coding other
// than chunked (or an unknown one anywhere) a 400.
std::optional<Refusal> check_transfer_codings(const std::string& all_values) {
  int chunked = 0;
  std::string_view rest(all_values);
  while (true) {
    const size_t comma = rest.find(',');
    const std::string_view coding = trim_ows(rest.substr(0, comma));
    if (!coding.empty()) {
      if (!iequals(coding, "chunked")) {
        return bad_request("Transfer-Encoding \"" + printable(all_values, 80) +
                           "\": only chunked is supported");
      }
      ++chunked;
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (chunked != 1) {
    return bad_request("Transfer-Encoding \"" + printable(all_values, 80) +
                       "\": expected chunked exactly once");
  }
  return std::nullopt;
}

}  // namespace

void configure_parser(RequestParser& parser, const RequestLimits& limits) {
  const auto header = std::min<size_t>(limits.header_bytes, std::numeric_limits<uint32_t>::max());
  parser.header_limit(static_cast<std::uint32_t>(header));
  parser.body_limit(static_cast<std::uint64_t>(limits.body_bytes));
}

std::optional<Refusal> check_framing(const RequestParser& parser, const RequestLimits& limits) {
  const auto& msg = parser.get();
  if (msg.target().size() > limits.target_bytes) {
    return Refusal{414, "request target of " + std::to_string(msg.target().size()) +
                            " bytes (the limit is " + std::to_string(limits.target_bytes) + ")"};
  }
  int te_fields = 0;
  int cl_fields = 0;
  std::string codings;
  std::string_view length;
  for (const auto& field : msg) {
    if (field.name() == bhttp::field::transfer_encoding) {
      ++te_fields;
      codings += (codings.empty() ? "" : ", ") + std::string(view(field.value()));
    } else if (field.name() == bhttp::field::content_length) {
      ++cl_fields;
      length = view(field.value());
    }
  }
  if (te_fields > 0) {
    if (cl_fields > 0) return bad_request("both Transfer-Encoding and Content-Length");
    if (msg.version() < 11) return bad_request("Transfer-Encoding in an HTTP/1.0 request");
    if (auto refusal = check_transfer_codings(codings)) return refusal;
    // Beast reads the same fields; should it ever disagree, refuse rather than guess.
    if (!parser.chunked()) return bad_request("Transfer-Encoding not understood as chunked");
    return std::nullopt;
  }
  if (cl_fields > 1) return bad_request("Content-Length sent more than once");
  if (cl_fields == 1) {
    const bool digits = !length.empty() && length.size() <= 19 &&
                        length.find_first_not_of("0123456789") == std::string_view::npos;
    if (!digits) {
      return bad_request("Content-Length \"" + printable(length, 40) + "\" is not a number");
    }
    std::uint64_t value = 0;  // 19 digits always fit
    for (char c : length) value = value * 10 + static_cast<std::uint64_t>(c - '0');
    if (parser.content_length() != value) return bad_request("Content-Length not understood");
    return std::nullopt;
  }
  if (parser.chunked() || parser.content_length()) {
    return bad_request("a body length without a framing header");
  }
  return std::nullopt;
}

std::optional<Refusal> refusal_for(const boost::system::error_code& ec) {
  if (!ec) return std::nullopt;
  if (ec == bhttp::error::header_limit) return Refusal{431, "request header too large"};
  if (ec == bhttp::error::body_limit) return Refusal{413, "request body too large"};
  if (ec == bhttp::error::end_of_stream) return std::nullopt;
  if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category()) {
    return Refusal{400, "malformed request: " + ec.message()};
  }
  return std::nullopt;
}

Request to_request(RequestParser::value_type& message, std::string remote_address) {
  Request request;
  request.method = std::string(view(message.method_string()));
  request.target = std::string(view(message.target()));
  const size_t q = request.target.find('?');
  request.path = request.target.substr(0, q);
  if (q != std::string::npos) request.query = request.target.substr(q + 1);
  for (const auto& field : message) {
    std::string name(view(field.name_string()));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string& v = request.headers[name];
    v += (v.empty() ? "" : ", ") + std::string(view(field.value()));
  }
  request.body = std::move(message.body());
  request.remote_address = std::move(remote_address);
  return request;
}

std::string printable(std::string_view text, size_t max) {
  std::string out;
  for (size_t i = 0; i < text.size() && i < max; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  if (text.size() > max) out += "...";
  return out;
}

}  // namespace backupdrill::http::detail
