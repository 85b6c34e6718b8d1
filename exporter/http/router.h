#pragma once
// Maps (method, path pattern) to handlers. The server parses the request and
// checks authentication; the router only picks the handler, fills the path
// parameters and turns handler failures into answers that reveal nothing.
//
// Thread safety: add() and set_log() must finish before the first dispatch()
// (i.e. before Server::start()); dispatch() is const and may then run on any
// number of threads at once. Handlers run on the server's I/O threads and must
// be thread-safe themselves; a slow handler holds up one of them.
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace backupdrill::http {

// level is one of "debug", "info", "warn", "error".
using LogFn = std::function<void(std::string_view level, std::string_view msg)>;

struct Request {
  std::string method;  // as sent, e.g. "GET"
  std::string target;  // as sent, e.g. "/api/v1/drills/a%20b/runs?limit=5"
  std::string path;    // target before '?', still percent-encoded
  std::string query;   // target after '?', without it; parse with parse_query()
  std::map<std::string, std::string> headers;  // lower-case names; repeats joined by ", "
  std::string body;
  std::string remote_address;                 // "127.0.0.1:51234" or "[::1]:51234"
  std::map<std::string, std::string> params;  // path parameters, percent-decoded, valid UTF-8
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  // Extra headers; a "Content-Type" here overrides content_type. Values with
  // CR or LF are dropped (and logged) by the server to prevent header injection.
  std::vector<std::pair<std::string, std::string>> headers;
};

using Handler = std::function<Response(const Request&)>;

// Who authorises a route when the web config turns basic auth on.
enum class RouteAuth {
  // The web config's basic auth, like every route (the default).
  basic,
  // The handler checks a Bearer token of its own (the admin trigger). Basic
  // auth and the token would both need the one Authorization header, so a
  // request that presents a Bearer credential (see bearer_token()) skips
  // basic auth and the handler decides; any other request still has to pass
  // basic auth first, and then the handler refuses it for want of the token.
  own_bearer_token,
};

// The credential of "Authorization: Bearer <token>" (scheme case-insensitive,
// RFC 7235), nullopt for any other scheme or an empty token.
std::optional<std::string_view> bearer_token(std::string_view authorization);

// A plain-text answer with the standard reason phrase, e.g. "Not Found\n".
Response text_response(int status);

class Router {
 public:
  Router() = default;
  explicit Router(LogFn log) : log_(std::move(log)) {}

  // pattern: "/literal/{param}/..."; a {param} matches exactly one non-empty
  // segment (an encoded "%2F" stays inside the segment). When two patterns
  // match, the one with a literal segment where the other has a parameter
  // wins ("/drills/active" beats "/drills/{name}"). Throws
  // std::invalid_argument for a malformed pattern or a duplicate route.
  void add(std::string method, std::string pattern, Handler handler,
           RouteAuth auth = RouteAuth::basic);

  // The RouteAuth of the route dispatch() would call for this request;
  // basic for a request no route answers (404, 405, 400).
  RouteAuth auth_for(const Request& request) const;

  // Where a throwing handler is reported (with the exception text, which
  // never reaches the client). Without one, such failures are not logged.
  void set_log(LogFn log) { log_ = std::move(log); }
  bool has_log() const { return static_cast<bool>(log_); }

  // Answers: the handler's response; 400 for a path with a malformed escape
  // or a segment that does not decode to valid UTF-8 (no handler sees one);
  // 404 for an unknown path; 405 with "Allow" when the path is known but not
  // the method; HEAD runs the GET handler and returns its headers with an
  // empty body plus a "Content-Length" header holding the GET body's size;
  // 500 with a generic text when the handler throws. Fills request.params.
  Response dispatch(Request& request) const;

 private:
  struct Segment {
    std::string text;  // literal text, or the parameter name
    bool is_param = false;
  };
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<Segment> segments;
    Handler handler;
    RouteAuth auth = RouteAuth::basic;
  };
  // The route a request goes to, or why none does.
  struct Match {
    const Route* route = nullptr;
    int status = 0;                    // 400, 404 or 405 when route is null
    std::set<std::string> allowed;     // for 405's Allow
    std::vector<std::string> decoded;  // the path's segments, percent-decoded
  };

  Match match(const Request& request) const;
  Response call(const Route& route, const Request& request) const;

  std::vector<Route> routes_;
  LogFn log_;
};

}  // namespace backupdrill::http
