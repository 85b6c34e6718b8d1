#include "http/router.h"

#include <algorithm>
#include <ostream>  // boost/beast/http/status.hpp needs it but does not include it
// clang-format off
#include <boost/beast/http/status.hpp>
// clang-format on
#include <exception>
#include <optional>
#include <set>
#include <stdexcept>

#include "http/url.h"

namespace backupdrill::http {
namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty() || path.front() != '/') return out;
  path.remove_prefix(1);
  while (true) {
    const size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

bool iequals_ascii(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace

std::optional<std::string_view> bearer_token(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size() ||
      !iequals_ascii(authorization.substr(0, kScheme.size()), kScheme) ||
      authorization[kScheme.size()] != ' ') {
    return std::nullopt;
  }
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  if (token.empty()) return std::nullopt;
  return token;
}

Response text_response(int status) {
  Response r;
  r.status = status;
  const auto reason =
      boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(status));
  r.body = std::string(reason.data(), reason.size()) + "\n";
  return r;
}

void Router::add(std::string method, std::string pattern, Handler handler, RouteAuth auth) {
  if (method.empty() || !handler) {
    throw std::invalid_argument("route " + pattern + ": a method and a handler are required");
  }
  if (pattern.empty() || pattern.front() != '/') {
    throw std::invalid_argument("route pattern \"" + pattern +
                                "\": expected a path starting "
                                "with '/'");
  }
  Route route{std::move(method), pattern, {}, std::move(handler), auth};
  std::set<std::string> names;
  for (std::string_view seg : split_path(pattern)) {
    if (seg.size() >= 2 && seg.front() == '{' && seg.back() == '}') {
      std::string name(seg.substr(1, seg.size() - 2));
      if (name.empty() || name.find_first_of("{}") != std::string::npos) {
        throw std::invalid_argument("route pattern \"" + pattern +
                                    "\": expected a parameter name inside {}");
      }
      if (!names.insert(name).second) {
        throw std::invalid_argument("route pattern \"" + pattern + "\": parameter {" + name +
                                    "} appears twice");
      }
      route.segments.push_back({std::move(name), true});
    } else if (seg.find_first_of("{}") != std::string_view::npos) {
      throw std::invalid_argument("route pattern \"" + pattern +
                                  "\": a {parameter} must be a whole segment");
    } else {
      route.segments.push_back({std::string(seg), false});
    }
  }
  for (const Route& r : routes_) {
    if (r.method == route.method && r.pattern == route.pattern) {
      throw std::invalid_argument("route " + route.method + " " + pattern + " is added twice");
    }
  }
  routes_.push_back(std::move(route));
}

Response Router::call(const Route& route, const Request& request) const {
  try {
    return route.handler(request);
  } catch (const std::exception& e) {
    // The text goes to the log (which scrubs secrets), never to the client.
    if (log_) {
      log_("error", "handler for " + request.method + " " + route.pattern + " failed: " + e.what());
    }
  } catch (...) {
    if (log_) log_("error", "handler for " + request.method + " " + route.pattern + " failed");
  }
  return text_response(500);
}

Router::Match Router::match(const Request& request) const {
  Match m;
  for (std::string_view seg : split_path(request.path)) {
    // Nothing after the router (handlers, logs, JSON answers) has to cope
    // with bytes that are not text.
    auto d = percent_decode(seg);
    if (!d || !is_valid_utf8(*d)) {
      m.status = 400;
      return m;
    }
    m.decoded.push_back(std::move(*d));
  }
  const std::vector<std::string>& decoded = m.decoded;
  if (decoded.empty()) {  // not an origin-form path
    m.status = 404;
    return m;
  }

  // Rank: the first segment where two matching patterns differ decides, and a
  // literal there is more specific than a parameter.
  auto rank = [](const Route& r) {
    std::string s;
    for (const Segment& seg : r.segments)
      s.push_back(seg.is_param ? '0' : '1');  // literal sorts higher
    return s;
  };
  auto matches = [&](const Route& r) {
    if (r.segments.size() != decoded.size()) return false;
    for (size_t i = 0; i < decoded.size(); ++i) {
      if (!r.segments[i].is_param && r.segments[i].text != decoded[i]) return false;
      if (r.segments[i].is_param && decoded[i].empty()) return false;
    }
    return true;
  };

  const bool head = request.method == "HEAD";
  std::string best_rank;
  for (const Route& r : routes_) {
    if (!matches(r)) continue;
    m.allowed.insert(r.method);
    if (r.method == "GET") m.allowed.insert("HEAD");
    const bool fits = r.method == request.method || (head && r.method == "GET");
    if (!fits) continue;
    std::string rk = rank(r);
    // An explicit HEAD route beats GET-as-HEAD for the same pattern.
    if (m.route == nullptr || rk > best_rank || (rk == best_rank && r.method == request.method)) {
      m.route = &r;
      best_rank = std::move(rk);
    }
  }
  if (m.route == nullptr) m.status = m.allowed.empty() ? 404 : 405;
  return m;
}

RouteAuth Router::auth_for(const Request& request) const {
  const Match m = match(request);
  return m.route ? m.route->auth : RouteAuth::basic;
}

Response Router::dispatch(Request& request) const {
  const Match m = match(request);
  const Route* best = m.route;
  const std::vector<std::string>& decoded = m.decoded;
  const bool head = request.method == "HEAD";
  if (best == nullptr) {
    if (m.status != 405) return text_response(m.status);
    Response r = text_response(405);
    std::string allow;
    for (const std::string& method : m.allowed) allow += (allow.empty() ? "" : ", ") + method;
    r.headers.emplace_back("Allow", allow);
    return r;
  }

  request.params.clear();
  for (size_t i = 0; i < decoded.size(); ++i) {
    if (best->segments[i].is_param) request.params[best->segments[i].text] = decoded[i];
  }
  Response response = call(*best, request);
  if (head) {
    // Served by the GET handler: announce the length a GET would have.
    if (best->method == "GET") {
      response.headers.emplace_back("Content-Length", std::to_string(response.body.size()));
    }
    response.body.clear();
  }
  return response;
}

}  // namespace backupdrill::http
