// Router and URL helpers, without sockets.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "http/router.h"
#include "http/url.h"

namespace backupdrill::http {
namespace {

Request make(std::string method, std::string path) {
  Request r;
  r.method = std::move(method);
  r.target = path;
  r.path = std::move(path);
  return r;
}

std::string header(const Response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "<absent>";
}

Response reply(std::string body) {
  Response r;
  r.body = std::move(body);
  return r;
}

Response echo_params(const Request& r) {
  Response out;
  for (const auto& [k, v] : r.params) out.body += k + "=" + v + ";";
  return out;
}

TEST(Router, DispatchesToTheMatchingHandler) {
  Router router;
  router.add("GET", "/metrics", [](const Request&) { return reply("m"); });
  router.add("GET", "/", [](const Request&) { return reply("home"); });
  Request a = make("GET", "/metrics");
  EXPECT_EQ(router.dispatch(a).body, "m");
  Request b = make("GET", "/");
  EXPECT_EQ(router.dispatch(b).body, "home");
}

TEST(Router, UnknownPathIs404) {
  Router router;
  router.add("GET", "/metrics", [](const Request&) { return Response{}; });
  for (const char* path : {"/metric", "/metrics/", "/metrics/x", "", "metrics"}) {
    Request r = make("GET", path);
    EXPECT_EQ(router.dispatch(r).status, 404) << path;
  }
}

TEST(Router, KnownPathWrongMethodIs405WithAllow) {
  Router router;
  router.add("GET", "/api/v1/drills", [](const Request&) { return Response{}; });
  router.add("POST", "/api/v1/drills/{name}/run", [](const Request&) { return Response{}; });
  Request r = make("DELETE", "/api/v1/drills");
  Response res = router.dispatch(r);
  EXPECT_EQ(res.status, 405);
  EXPECT_EQ(header(res, "Allow"), "GET, HEAD");
  Request p = make("GET", "/api/v1/drills/x/run");
  res = router.dispatch(p);
  EXPECT_EQ(res.status, 405);
  EXPECT_EQ(header(res, "Allow"), "POST");
}

TEST(Router, HeadRunsGetWithoutBodyButWithItsLength) {
  Router router;
  int calls = 0;
  router.add("GET", "/metrics", [&](const Request&) {
    ++calls;
    return reply("0123456789");
  });
  Request r = make("HEAD", "/metrics");
  Response res = router.dispatch(r);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "");
  EXPECT_EQ(header(res, "Content-Length"), "10");
}

TEST(Router, PathParamsArePercentDecoded) {
  Router router;
  router.add("GET", "/api/v1/drills/{name}/runs", echo_params);
  Request r = make("GET", "/api/v1/drills/supabase%20main%2Fx+y%C3%A9/runs");
  Response res = router.dispatch(r);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "name=supabase main/x+y\xC3\xA9;");
  EXPECT_EQ(r.params.at("name"), "supabase main/x+y\xC3\xA9");
}

TEST(Router, LiteralSegmentsAreDecodedBeforeMatching) {
  Router router;
  router.add("GET", "/api/v1/drills", [](const Request&) { return reply("list"); });
  Request r = make("GET", "/api/v1/%64rills");
  EXPECT_EQ(router.dispatch(r).body, "list");
}

TEST(Router, MalformedEscapeIs400AndEmptyParamIs404) {
  Router router;
  router.add("GET", "/d/{name}", echo_params);
  Request bad = make("GET", "/d/%zz");
  EXPECT_EQ(router.dispatch(bad).status, 400);
  Request nul = make("GET", "/d/a%00b");
  EXPECT_EQ(router.dispatch(nul).status, 400);
  Request empty = make("GET", "/d/");
  EXPECT_EQ(router.dispatch(empty).status, 404);
}

TEST(Router, SegmentThatIsNotUtf8Is400BeforeAnyHandlerSeesIt) {
  Router router;
  int calls = 0;
  router.add("GET", "/api/v1/drills/{name}/runs", [&](const Request&) {
    ++calls;
    return reply("runs");
  });
  // Overlong '.', lone continuation, truncated sequence, a surrogate, past
  // U+10FFFF, an invalid lead byte, an overlong 3-byte NUL.
  for (const char* name :
       {"%c0%ae", "%80", "a%e2%82", "%ed%a0%80", "%f4%90%80%80", "%ff", "%e0%80%80", "%c3%28"}) {
    Request r = make("GET", std::string("/api/v1/drills/") + name + "/runs");
    EXPECT_EQ(router.dispatch(r).status, 400) << name;
  }
  // A literal segment too (the pattern has no such route, but nothing may decode it).
  Request lit = make("GET", "/api/v1/%c0%ae/x/runs");
  EXPECT_EQ(router.dispatch(lit).status, 400);
  EXPECT_EQ(calls, 0);
  // Valid multi-byte UTF-8 reaches the handler, decoded.
  Request ok = make("GET", "/api/v1/drills/caf%c3%a9%f0%9f%98%80/runs");
  EXPECT_EQ(router.dispatch(ok).body, "runs");
  EXPECT_EQ(calls, 1);
}

TEST(Url, IsValidUtf8) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii"));
  EXPECT_TRUE(is_valid_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf"));
  for (const char* bad : {"\xc0\xae", "\xc1\xbf", "\x80", "\xbf", "\xe2\x82", "\xed\xa0\x80",
                          "\xed\xbf\xbf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xff", "\xfe",
                          "\xe0\x80\x80", "\xf0\x80\x80\x80", "a\xc3", "\xc3\x28"}) {
    EXPECT_FALSE(is_valid_utf8(bad)) << bad;
  }
}

TEST(Router, LiteralBeatsParameterWhateverTheOrder) {
  Router router;
  router.add("GET", "/d/{name}", [](const Request&) { return reply("param"); });
  router.add("GET", "/d/active", [](const Request&) { return reply("literal"); });
  Request a = make("GET", "/d/active");
  EXPECT_EQ(router.dispatch(a).body, "literal");
  Request b = make("GET", "/d/other");
  EXPECT_EQ(router.dispatch(b).body, "param");
}

TEST(Router, ThrowingHandlerIs500WithoutTheTextAndIsLogged) {
  std::vector<std::string> logged;
  Router router([&](std::string_view level, std::string_view msg) {
    logged.push_back(std::string(level) + ": " + std::string(msg));
  });
  router.add("GET", "/boom", [](const Request&) -> Response {
    throw std::runtime_error("password=hunter2 leaked");
  });
  router.add("GET", "/odd", [](const Request&) -> Response { throw 42; });
  Request r = make("GET", "/boom");
  Response res = router.dispatch(r);
  EXPECT_EQ(res.status, 500);
  EXPECT_EQ(res.body.find("hunter2"), std::string::npos);
  EXPECT_EQ(res.body, "Internal Server Error\n");
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_NE(logged[0].find("error: handler for GET /boom failed"), std::string::npos);
  Request o = make("GET", "/odd");
  EXPECT_EQ(router.dispatch(o).status, 500);
  EXPECT_EQ(logged.size(), 2u);
}

TEST(Router, RefusesBadPatternsAndDuplicates) {
  Router router;
  auto h = [](const Request&) { return Response{}; };
  EXPECT_THROW(router.add("GET", "metrics", h), std::invalid_argument);
  EXPECT_THROW(router.add("GET", "/a/{}", h), std::invalid_argument);
  EXPECT_THROW(router.add("GET", "/a/x{y}", h), std::invalid_argument);
  EXPECT_THROW(router.add("GET", "/a/{x}/{x}", h), std::invalid_argument);
  EXPECT_THROW(router.add("GET", "/a", Handler{}), std::invalid_argument);
  router.add("GET", "/a", h);
  EXPECT_THROW(router.add("GET", "/a", h), std::invalid_argument);
  router.add("POST", "/a", h);  // another method is another route
}

TEST(Url, PercentDecode) {
  EXPECT_EQ(percent_decode("a%20b%2fc").value(), "a b/c");
  EXPECT_EQ(percent_decode("a+b").value(), "a+b");
  EXPECT_EQ(percent_decode("a+b", true).value(), "a b");
  EXPECT_FALSE(percent_decode("%"));
  EXPECT_FALSE(percent_decode("%4"));
  EXPECT_FALSE(percent_decode("%g0"));
  EXPECT_FALSE(percent_decode("%00"));
}

TEST(Url, ParseQuery) {
  auto q = parse_query("drill=a%20b&limit=5&flag&x=1&x=2&bad=%zz&&");
  EXPECT_EQ(q.at("drill"), "a b");
  EXPECT_EQ(q.at("limit"), "5");
  EXPECT_EQ(q.at("flag"), "");
  EXPECT_EQ(q.at("x"), "2");
  EXPECT_EQ(q.count("bad"), 0u);
}

TEST(Response, TextResponseUsesTheReasonPhrase) {
  EXPECT_EQ(text_response(404).body, "Not Found\n");
  EXPECT_EQ(text_response(431).body, "Request Header Fields Too Large\n");
}

// The admin trigger carries its own token; the server asks the router which
// rule a request falls under before it checks basic auth (issue 15).
TEST(Router, AuthForNamesTheRuleOfTheRouteARequestGoesTo) {
  Router router;
  router.add("GET", "/api/v1/drills", [](const Request&) { return reply("list"); });
  router.add(
      "POST", "/api/v1/drills/{name}/run", [](const Request&) { return reply("run"); },
      RouteAuth::own_bearer_token);
  EXPECT_EQ(router.auth_for(make("POST", "/api/v1/drills/a/run")), RouteAuth::own_bearer_token);
  EXPECT_EQ(router.auth_for(make("GET", "/api/v1/drills/a/run")), RouteAuth::basic);  // 405
  EXPECT_EQ(router.auth_for(make("POST", "/api/v1/drills")), RouteAuth::basic);       // 405
  EXPECT_EQ(router.auth_for(make("GET", "/api/v1/drills")), RouteAuth::basic);
  EXPECT_EQ(router.auth_for(make("POST", "/api/v1/drills/a/run/x")), RouteAuth::basic);  // 404
  EXPECT_EQ(router.auth_for(make("POST", "/api/v1/drills/%ff/run")), RouteAuth::basic);  // 400
  Request run = make("POST", "/api/v1/drills/a/run");
  EXPECT_EQ(router.dispatch(run).body, "run");
}

TEST(BearerToken, TakesTheCredentialOfTheBearerSchemeOnly) {
  EXPECT_EQ(bearer_token("Bearer abc"), "abc");
  EXPECT_EQ(bearer_token("bearer abc"), "abc");
  EXPECT_EQ(bearer_token("BEARER  abc"), "abc");
  EXPECT_EQ(bearer_token("Bearer"), std::nullopt);
  EXPECT_EQ(bearer_token("Bearer "), std::nullopt);
  EXPECT_EQ(bearer_token("Bearer   "), std::nullopt);
  EXPECT_EQ(bearer_token("Bearerabc"), std::nullopt);
  EXPECT_EQ(bearer_token("Basic YWxpY2U6eA=="), std::nullopt);
  EXPECT_EQ(bearer_token(""), std::nullopt);
}

}  // namespace
}  // namespace backupdrill::http
