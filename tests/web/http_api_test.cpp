// The exporter's routes in memory (no sockets, no PostgreSQL): status codes,
// JSON shapes, the admin token, ?limit=.
#include "web/http_api.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "metrics/drill_metrics.h"
#include "scheduler/drill_service.h"

namespace backupdrill {
namespace {

namespace fs = std::filesystem;

constexpr const char* kToken = "route-test-token-4f1";

class HttpApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("http_api_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    service_.reset();
    fs::remove_all(dir_);
  }

  // Drills a and b; runs are only queued (max_concurrent_drills = 0), never started.
  void start(const std::string& admin_token = kToken) {
    Config c;
    c.exporter.artifact_dir = dir_;
    c.exporter.admin_token = admin_token;
    c.exporter.max_concurrent_drills = 0;
    for (const char* name : {"a", "b"}) {
      DrillConfig d;
      d.name = name;
      d.source_url = "postgresql://u@127.0.0.1:1/src";
      d.target_url = std::string("postgresql://u@127.0.0.1:1/") + name;
      c.drills.push_back(d);
    }
    service_ = std::make_unique<DrillService>(c);
    metrics_ = std::make_unique<DrillMetrics>(
        [this] { return service_->metrics_state(); },
        ExporterFacts{"0.0.0-test", "test", {}, std::chrono::system_clock::now()});
    router_ = http::Router();
    add_exporter_routes(router_, *service_, *metrics_, ready_);
  }

  // n finished runs of drill a in its artifact folder, one minute apart.
  void write_runs(int n) {
    fs::create_directories(dir_ / "a");
    for (int i = 0; i < n; ++i) {
      RunRecord r;
      r.drill = "a";
      r.started = from_unix_seconds(1795078400 + 60 * i);
      r.finished = r.started + std::chrono::seconds(10);
      r.run_id = compact_utc(r.started);
      r.success = i % 2 == 0;
      if (!r.success) r.failed_phase = kPhaseRestore;
      std::ofstream(dir_ / "a" / ("drill_summary_" + r.run_id + ".json")) << summary_json_text(r);
    }
  }

  http::Response call(const std::string& method, const std::string& target,
                      const std::string& authorization = "") {
    http::Request req;
    req.method = method;
    req.target = target;
    const size_t q = target.find('?');
    req.path = target.substr(0, q);
    req.query = q == std::string::npos ? "" : target.substr(q + 1);
    if (!authorization.empty()) req.headers["authorization"] = authorization;
    return router_.dispatch(req);
  }

  static nlohmann::json json(const http::Response& r) {
    EXPECT_EQ(r.content_type, "application/json");
    return nlohmann::json::parse(r.body);
  }

  fs::path dir_;
  std::atomic<bool> ready_{true};
  std::unique_ptr<DrillService> service_;
  std::unique_ptr<DrillMetrics> metrics_;
  http::Router router_;
};

TEST_F(HttpApiTest, MetricsHealthAndReadiness) {
  start();
  auto m = call("GET", "/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_EQ(m.content_type, DrillMetrics::kContentType);
  EXPECT_NE(m.body.find("backupdrill_runs_total{drill=\"b\"} 0"), std::string::npos);
  EXPECT_EQ(call("GET", "/-/healthy").status, 200);
  EXPECT_EQ(call("GET", "/-/ready").status, 200);
  ready_ = false;
  EXPECT_EQ(call("GET", "/-/ready").status, 503);
  auto page = call("GET", "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
}

TEST_F(HttpApiTest, DrillsListHasItsShape) {
  start();
  auto body = json(call("GET", "/api/v1/drills"));
  EXPECT_EQ(body["status"], "success");
  ASSERT_EQ(body["drills"].size(), 2u);
  const auto& a = body["drills"][0];
  EXPECT_EQ(a["name"], "a");
  EXPECT_EQ(a["running"], false);
  EXPECT_EQ(a["queued"], false);
  EXPECT_TRUE(a["current_run"].is_null());
  EXPECT_TRUE(a["last_run"].is_null());
  EXPECT_TRUE(a["next_run"].is_null());
  EXPECT_EQ(a["rto_target_seconds"], 7200);
  EXPECT_EQ(a["links"]["runs"], "/api/v1/drills/a/runs");
  EXPECT_EQ(a["links"]["trigger"], "/api/v1/drills/a/run");
}

TEST_F(HttpApiTest, RunsListNewestFirstWithLimit) {
  start();
  write_runs(4);
  auto all = json(call("GET", "/api/v1/drills/a/runs"));
  EXPECT_EQ(all["status"], "success");
  EXPECT_EQ(all["drill"], "a");
  EXPECT_EQ(all["running"], false);
  ASSERT_EQ(all["runs"].size(), 4u);
  EXPECT_EQ(all["runs"][0]["run_id"], compact_utc(from_unix_seconds(1795078400 + 180)));
  EXPECT_EQ(all["runs"][0]["result"], "failed");
  EXPECT_EQ(all["runs"][0]["failed_phase"], "restore");
  EXPECT_EQ(all["runs"][1]["result"], "passed");
  EXPECT_EQ(json(call("GET", "/api/v1/drills/a/runs?limit=2"))["runs"].size(), 2u);
  EXPECT_EQ(json(call("GET", "/api/v1/drills/a/runs?limit=%33"))["runs"].size(), 3u);
  EXPECT_EQ(json(call("GET", "/api/v1/drills/a/runs?limit=1000"))["runs"].size(), 4u);
}

// Only a parameter named limit counts (xlimit=3 used to match).
TEST_F(HttpApiTest, OtherParametersAreNotTheLimit) {
  start();
  write_runs(4);
  EXPECT_EQ(json(call("GET", "/api/v1/drills/a/runs?xlimit=3"))["runs"].size(), 4u);
  EXPECT_EQ(json(call("GET", "/api/v1/drills/a/runs?xlimit=0&limit=2"))["runs"].size(), 2u);
  EXPECT_EQ(json(call("GET", "/api/v1/drills/a/runs?unlimit=1"))["runs"].size(), 4u);
}

// Issue 15: the message says "from 1 to 1000", so 0 (and the rest) is a 400.
TEST_F(HttpApiTest, ALimitOutsideOneToAThousandIs400) {
  start();
  for (const char* bad : {"0", "1001", "-1", "5abc", "", "2.5", "99999999999999999999999"}) {
    auto r = call("GET", std::string("/api/v1/drills/a/runs?limit=") + bad);
    EXPECT_EQ(r.status, 400) << "limit=" << bad;
    EXPECT_EQ(json(r)["error"], "limit must be a whole number from 1 to 1000");
  }
}

TEST_F(HttpApiTest, UnknownOrImpossibleDrillIs404) {
  start();
  EXPECT_EQ(call("GET", "/api/v1/drills/nope/runs").status, 404);
  auto r = call("GET", "/api/v1/drills/a%20b/runs");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body.find("a b"), std::string::npos);  // never echoed
}

TEST_F(HttpApiTest, TriggerNeedsTheAdminToken) {
  start();
  auto none = call("POST", "/api/v1/drills/a/run");
  EXPECT_EQ(none.status, 401);
  bool challenge = false;
  for (const auto& [k, v] : none.headers) {
    challenge |= k == "WWW-Authenticate" && v.rfind("Bearer", 0) == 0;
  }
  EXPECT_TRUE(challenge);
  EXPECT_EQ(call("POST", "/api/v1/drills/a/run", "Bearer wrong").status, 401);
  auto basic = call("POST", "/api/v1/drills/a/run", std::string("Basic ") + kToken);
  EXPECT_EQ(basic.status, 401);
  // Basic auth credentials (which the web config may have accepted) are not
  // the admin token: the answer says what is needed.
  EXPECT_NE(json(basic)["error"].get<std::string>().find("not basic auth credentials"),
            std::string::npos)
      << basic.body;
  EXPECT_EQ(call("POST", "/api/v1/drills/a/run", std::string("Bearer ") + kToken + "x").status,
            401);
  EXPECT_FALSE(service_->state("a")->queued);  // nothing was triggered
}

TEST_F(HttpApiTest, TriggerIsDisabledWithoutAToken) {
  start("");
  auto r = call("POST", "/api/v1/drills/a/run", "Bearer ");
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(json(r)["error"].get<std::string>().find("admin_token"), std::string::npos);
}

TEST_F(HttpApiTest, Trigger202ThenBusy409ThenUnknown404) {
  start();
  const std::string auth = std::string("Bearer ") + kToken;
  auto accepted = call("POST", "/api/v1/drills/a/run", auth);
  ASSERT_EQ(accepted.status, 202) << accepted.body;
  auto body = json(accepted);
  EXPECT_EQ(body["status"], "accepted");
  EXPECT_EQ(body["drill"], "a");
  EXPECT_EQ(body["runs"], "/api/v1/drills/a/runs");
  const std::string run_id = body["run_id"];
  EXPECT_FALSE(run_id.empty());

  auto busy = call("POST", "/api/v1/drills/a/run", std::string("bearer ") + kToken);
  EXPECT_EQ(busy.status, 409);
  EXPECT_EQ(json(busy)["status"], "error");
  EXPECT_EQ(json(busy)["run_id"], run_id);

  auto listed = json(call("GET", "/api/v1/drills"));
  EXPECT_EQ(listed["drills"][0]["queued"], true);
  EXPECT_EQ(listed["drills"][0]["current_run"], run_id);

  EXPECT_EQ(call("POST", "/api/v1/drills/nope/run", auth).status, 404);
  EXPECT_EQ(call("GET", "/api/v1/drills/a/run").status, 405);
}

}  // namespace
}  // namespace backupdrill
