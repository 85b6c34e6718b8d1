// End-to-end: a hostile HTTP client against the real exporter binary in serve
// mode. Request smuggling through Transfer-Encoding / Content-Length tricks is
// answered 400 and the connection closed; names that cannot be a drill (bad
// UTF-8, control characters, overlong) are 400/404, never a 500; and the
// exporter keeps serving. No database is needed: the drill never runs (or,
// when triggered, fails at its guard). Also: the admin trigger under
// web-config basic auth (issue 15).
#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "exporter_process.h"
#include "support.h"
#include "test_client.h"

namespace backupdrill::testing {
namespace {

const std::string kToken = "hostile-admin-token-51d2";

// A config with the admin token from ${TOKEN}, its artifacts beside it, and
// one drill whose source and target are port 1 on loopback, where nothing
// listens. Returns its path.
std::filesystem::path write_unreachable_drill(const std::filesystem::path& config,
                                              const std::string& drill) {
  write_file(config, "[exporter]\nartifact_dir = \"" +
                         (config.parent_path() / "artifacts").string() +
                         "\"\nadmin_token = \"${TOKEN}\"\n"
                         "[[drill]]\nname = \"" +
                         drill +
                         "\"\n"
                         "source_url = \"postgresql://nobody@127.0.0.1:1/src\"\n"
                         "target_url = \"postgresql://nobody@127.0.0.1:1/tgt\"\n");
  return config;
}

class HostileHttp : public ::testing::Test {
 protected:
  void SetUp() override {
    // A folder per test: ctest -j runs this fixture's tests side by side.
    dir_ = fresh_dir(std::string("http_hostile_") +
                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    // Nothing here starts a drill.
    const auto config = write_unreachable_drill(dir_ / "hostile.toml", "hostile");
    exporter_.emplace(config, std::vector<std::string>{},
                      std::map<std::string, std::optional<std::string>>{{"TOKEN", kToken}},
                      dir_ / "exporter.log");
  }
  void TearDown() override {
    if (exporter_) {
      EXPECT_EQ(exporter_->stop(), 0) << exporter_->log();
    }
  }
  uint16_t port() const { return static_cast<uint16_t>(exporter_->port()); }
  std::string url(const std::string& path) const { return exporter_->base_url() + path; }

  std::filesystem::path dir_;
  std::optional<ServingExporter> exporter_;
};

TEST_F(HostileHttp, SmugglingAttemptIs400AndTheConnectionCloses) {
  // The smuggled request would trigger a drill if it were served.
  const std::string smuggled =
      "POST /api/v1/drills/hostile/run HTTP/1.1\r\nHost: x\r\n"
      "Authorization: Bearer " +
      kToken + "\r\nContent-Length: 0\r\n\r\n";
  const std::vector<std::string> heads = {
      "Transfer-Encoding: gzip\r\n",
      "Transfer-Encoding: xchunked\r\n",
      "Transfer-Encoding: chunked, gzip\r\n",
      "Transfer-Encoding: gzip\r\nContent-Length: " + std::to_string(smuggled.size()) + "\r\n",
      "Content-Length: 0\r\nContent-Length: 0\r\n",
  };
  for (const std::string& head : heads) {
    const auto reply = http::test::raw_exchange_until_close(
        port(), "GET /-/healthy HTTP/1.1\r\nHost: x\r\n" + head + "\r\n" + smuggled);
    EXPECT_EQ(reply.bytes.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << head << reply.bytes;
    EXPECT_TRUE(reply.closed) << head;
    EXPECT_EQ(http::test::count_responses(reply.bytes), 1u) << head << reply.bytes;
  }
  // Nothing was triggered: the drill never ran.
  EXPECT_EQ(exporter_->metric("backupdrill_running{drill=\"hostile\"}"), 0.0);
  EXPECT_EQ(exporter_->metric("backupdrill_runs_total{drill=\"hostile\"}"), 0.0);
  EXPECT_EQ(http_call(url("/-/healthy")).status, 200);
}

TEST_F(HostileHttp, NamesThatCannotBeADrillAreNever500) {
  const std::vector<std::string> names = {
      "%c0%ae",                 // overlong "." (the reported case)
      "%ff%fe",                 // not UTF-8 at all
      "%ed%a0%80",              // a UTF-16 surrogate
      "a%0ab",                  // a line break
      "%1b%5b31m",              // a terminal escape
      "..",                     // a path, not a name
      "%2e%2e%2f%2e%2e%2fetc",  // ../../etc
      "caf%c3%a9",              // valid UTF-8, not a possible drill name
      std::string(300, 'x'),    // longer than any drill name
      "hostile%00",             // an encoded NUL
  };
  for (const std::string& name : names) {
    for (const auto& [method, path] :
         std::vector<std::pair<std::string, std::string>>{{"GET", "/runs"}, {"POST", "/run"}}) {
      std::vector<std::string> args{"-X", method, "-H", "Authorization: Bearer " + kToken};
      const HttpAnswer a = http_call(url("/api/v1/drills/" + name + path), args);
      EXPECT_TRUE(a.status == 404 || a.status == 400)
          << method << " " << name << " -> " << a.status << " " << a.body;
    }
  }
  // The error answer for a valid-UTF-8 unknown name is JSON that parses.
  const HttpAnswer unknown = http_call(url("/api/v1/drills/caf%c3%a9/runs"));
  EXPECT_EQ(unknown.status, 404);
  EXPECT_TRUE(nlohmann::json::accept(unknown.body)) << unknown.body;
  // A real drill still answers, and nothing above left an exception in the log.
  EXPECT_EQ(http_call(url("/api/v1/drills/hostile/runs")).status, 200);
  EXPECT_EQ(exporter_->log().find("type_error"), std::string::npos) << exporter_->log();
  EXPECT_EQ(exporter_->log().find("failed:"), std::string::npos) << exporter_->log();
}

TEST_F(HostileHttp, OversizedRequestsAreRefusedAndTheExporterGoesOn) {
  // A URL past the limit, headers past the limit, a body past the limit.
  const std::string long_target = "/api/v1/drills/" + std::string(9000, 'a') + "/runs";
  auto reply = http::test::raw_exchange_until_close(
      port(), "GET " + long_target + " HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(reply.bytes.rfind("HTTP/1.1 414", 0), 0u) << reply.bytes.substr(0, 200);
  EXPECT_TRUE(reply.closed);
  reply = http::test::raw_exchange_until_close(
      port(),
      "GET /-/healthy HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(20000, 'p') + "\r\n\r\n");
  EXPECT_EQ(reply.bytes.rfind("HTTP/1.1 431", 0), 0u) << reply.bytes.substr(0, 200);
  reply = http::test::raw_exchange_until_close(
      port(), "POST /api/v1/drills/hostile/run HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                  std::to_string(2 << 20) + "\r\n\r\nxxxx");
  EXPECT_EQ(reply.bytes.rfind("HTTP/1.1 413", 0), 0u) << reply.bytes.substr(0, 200);
  EXPECT_EQ(http_call(url("/-/healthy")).status, 200);
}

// Issue 15: with web-config basic auth on, the trigger is authorised by the
// admin token (Authorization: Bearer), which skips basic auth because the one
// header cannot carry both; basic auth credentials alone are refused with a
// message naming the token; every other route still needs basic auth; and the
// token never reaches the log, even at debug level.
TEST(TriggerUnderBasicAuth, TheAdminTokenAuthorisesItAndEveryOtherRouteNeedsBasicAuth) {
  const auto dir = fresh_dir("trigger_basic_auth");
  const auto web = dir / "web.yml";
  // alice / "correct horse battery staple", made with htpasswd -nbBC 10.
  write_file(web,
             "basic_auth_users:\n  alice: "
             "$2y$10$A09EB5g/H0mAGYAfP/Hd5OlLgIZpmjd0.dsoqa3zDwDOwbS/ZzLJ.\n");
  // A triggered drill fails at its guard.
  const auto config = write_unreachable_drill(dir / "trigger.toml", "guarded");
  ServingExporter e(config, {"--web.config.file=" + web.string(), "--log.level=debug"},
                    {{"TOKEN", kToken}}, dir / "exporter.log");
  const std::string run = e.base_url() + "/api/v1/drills/guarded/run";
  const std::vector<std::string> alice{"-u", "alice:correct horse battery staple"};
  auto post = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"-X", "POST"});
    return http_call(run, args);
  };

  // Basic auth credentials but no token: refused, and the answer says why.
  HttpAnswer a = post(alice);
  EXPECT_EQ(a.status, 401) << a.body;
  EXPECT_NE(a.body.find("admin token"), std::string::npos) << a.body;
  // A wrong token, no credentials at all, a wrong password: refused.
  EXPECT_EQ(post({"-H", "Authorization: Bearer " + kToken + "x"}).status, 401);
  EXPECT_EQ(post({}).status, 401);
  EXPECT_EQ(post({"-u", "alice:wrong"}).status, 401);
  // Every GET route still needs basic auth, a valid admin token or not.
  for (const std::string path : {"/", "/metrics", "/api/v1/drills", "/api/v1/drills/guarded/runs",
                                 "/-/healthy", "/runbook"}) {
    EXPECT_EQ(http_call(e.base_url() + path).status, 401) << path;
    EXPECT_EQ(http_call(e.base_url() + path, {"-H", "Authorization: Bearer " + kToken}).status, 401)
        << path;
    EXPECT_EQ(http_call(e.base_url() + path, alice).status, 200) << path;
  }
  // Nothing so far started a run.
  auto runs = [&] {
    return nlohmann::json::parse(
        http_call(e.base_url() + "/api/v1/drills/guarded/runs", alice).body)["runs"];
  };
  EXPECT_TRUE(runs().empty());

  // The admin token alone: accepted, and the run is there.
  a = post({"-H", "Authorization: Bearer " + kToken});
  ASSERT_EQ(a.status, 202) << a.body << e.log();
  const std::string run_id = nlohmann::json::parse(a.body)["run_id"];
  // The guard cannot reach port 1: the run ends quickly (bounded wait).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  nlohmann::json list;
  do {
    list = runs();
    if (!list.empty() && list[0]["result"] != "running") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  } while (std::chrono::steady_clock::now() < deadline);
  ASSERT_FALSE(list.empty()) << e.log();
  EXPECT_EQ(list[0]["run_id"], run_id);
  EXPECT_EQ(list[0]["trigger"], "api");
  EXPECT_EQ(list[0]["result"], "failed");

  EXPECT_EQ(e.stop(), 0) << e.log();
  const std::string log = e.log();
  EXPECT_NE(log.find("basic authentication failed"), std::string::npos)
      << "the log is at debug level: " << log;
  EXPECT_EQ(log.find(kToken), std::string::npos) << log;
}

}  // namespace
}  // namespace backupdrill::testing
