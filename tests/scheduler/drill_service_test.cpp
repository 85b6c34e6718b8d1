// The service's busy rules without PostgreSQL: with max_concurrent_drills = 0
// every accepted run waits in the queue and never starts, so the rules for a
// drill that is queued are exact; a run blocked on a loopback socket that
// never answers (the test holds it) shows the rules for a running drill.
#include "scheduler/drill_service.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>

namespace backupdrill {
namespace {

namespace fs = std::filesystem;

DrillConfig drill(const std::string& name, const std::string& target_url) {
  DrillConfig d;
  d.name = name;
  d.source_url = "postgresql://u@127.0.0.1:1/src";
  d.target_url = target_url;
  return d;
}

class DrillServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("drill_service_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // a and b restore into the same database (written two ways); c elsewhere.
  Config queue_only_config() {
    Config c;
    c.exporter.artifact_dir = dir_;
    c.exporter.max_concurrent_drills = 0;
    c.drills = {drill("a", "postgresql://u@127.0.0.1:5432/shared"),
                drill("b", "postgresql://u@localhost/shared"),
                drill("c", "postgresql://u@127.0.0.1:5432/other")};
    return c;
  }

  static const DrillMetricsState* find(const std::vector<DrillMetricsState>& all,
                                       const std::string& name) {
    for (const auto& s : all) {
      if (s.drill == name) return &s;
    }
    return nullptr;
  }

  fs::path dir_;
};

TEST_F(DrillServiceTest, AQueuedDrillIsNeverQueuedTwice) {
  DrillService service(queue_only_config());
  auto first = service.trigger("a", "api");
  ASSERT_EQ(first.status, DrillService::TriggerStatus::accepted) << first.reason;
  EXPECT_FALSE(first.run_id.empty());
  auto state = service.state("a");
  ASSERT_TRUE(state);
  EXPECT_TRUE(state->queued);
  EXPECT_FALSE(state->running);
  EXPECT_EQ(state->current_run, first.run_id);

  auto second = service.trigger("a", "schedule");
  EXPECT_EQ(second.status, DrillService::TriggerStatus::busy);
  EXPECT_EQ(second.run_id, first.run_id);  // the caller learns which run holds it
  EXPECT_NE(second.reason.find("already queued"), std::string::npos) << second.reason;

  const auto* a = find(service.metrics_state(), "a");
  ASSERT_NE(a, nullptr);
  EXPECT_TRUE(a->queued);
  EXPECT_EQ(a->history.skipped.at(kSkipBusy), 1u);
  EXPECT_EQ(a->history.runs, 0u);
}

// Issue 16: a scheduled run still queued when its drill's next scheduled
// time comes is skipped (reason queue), and the new run waits in its place:
// not turned away as busy, which would lose both runs.
TEST_F(DrillServiceTest, AScheduledRunStillQueuedAtTheNextFiringIsReplacedByIt) {
  Config c = queue_only_config();
  c.drills[0].schedule = "* * * * *";
  DrillService service(c);
  auto first = service.trigger("a", "schedule");
  ASSERT_EQ(first.status, DrillService::TriggerStatus::accepted) << first.reason;
  auto next = service.trigger("a", "schedule");
  ASSERT_EQ(next.status, DrillService::TriggerStatus::accepted) << next.reason;
  EXPECT_GT(next.run_id, first.run_id);
  const auto* a = find(service.metrics_state(), "a");
  ASSERT_NE(a, nullptr);
  EXPECT_TRUE(a->queued);
  EXPECT_EQ(service.state("a")->current_run, next.run_id);
  EXPECT_EQ(a->history.skipped.at(kSkipQueue), 1u);
  EXPECT_EQ(a->history.skipped.count(kSkipBusy) ? a->history.skipped.at(kSkipBusy) : 0u, 0u);
  // Still one run waiting, which a person's trigger cannot double.
  auto by_hand = service.trigger("a", "api");
  EXPECT_EQ(by_hand.status, DrillService::TriggerStatus::busy);
  EXPECT_EQ(by_hand.run_id, next.run_id);
  // A run a person queued is not replaced by the schedule: it will do.
  auto c_run = service.trigger("c", "api");
  ASSERT_EQ(c_run.status, DrillService::TriggerStatus::accepted);
  EXPECT_EQ(service.trigger("c", "schedule").status, DrillService::TriggerStatus::busy);
}

TEST_F(DrillServiceTest, TwoDrillsSharingATargetNeverOverlap) {
  DrillService service(queue_only_config());
  ASSERT_EQ(service.trigger("a", "api").status, DrillService::TriggerStatus::accepted);
  auto b = service.trigger("b", "api");
  EXPECT_EQ(b.status, DrillService::TriggerStatus::busy);
  EXPECT_NE(b.reason.find("drill \"a\""), std::string::npos) << b.reason;
  EXPECT_EQ(find(service.metrics_state(), "b")->history.skipped.at(kSkipBusy), 1u);
  // Another target is free.
  EXPECT_EQ(service.trigger("c", "api").status, DrillService::TriggerStatus::accepted);
}

TEST_F(DrillServiceTest, UnknownDrillAndShutdown) {
  DrillService service(queue_only_config());
  EXPECT_EQ(service.trigger("nope", "api").status, DrillService::TriggerStatus::unknown);
  ASSERT_EQ(service.trigger("a", "api").status, DrillService::TriggerStatus::accepted);
  service.stop();
  // Queued runs never start after a stop, and nothing new is accepted.
  EXPECT_FALSE(service.state("a")->queued);
  auto late = service.trigger("c", "api");
  EXPECT_EQ(late.status, DrillService::TriggerStatus::busy);
  EXPECT_NE(late.reason.find("shutting down"), std::string::npos);
}

TEST_F(DrillServiceTest, AReloadDropsRemovedDrillsFromTheViewAndAddsNewOnes) {
  DrillService service(queue_only_config());
  ASSERT_EQ(service.trigger("a", "api").status, DrillService::TriggerStatus::accepted);
  ASSERT_EQ(service.trigger("a", "api").status, DrillService::TriggerStatus::busy);
  Config next = queue_only_config();
  next.drills.erase(next.drills.begin());  // a goes
  next.drills.push_back(drill("d", "postgresql://u@127.0.0.1:5432/d"));
  auto summary = service.reload(next);
  EXPECT_EQ(summary.removed, std::vector<std::string>{"a"});
  EXPECT_EQ(summary.added, std::vector<std::string>{"d"});
  auto view = service.metrics_state();
  EXPECT_EQ(find(view, "a"), nullptr);
  ASSERT_NE(find(view, "d"), nullptr);
  EXPECT_EQ(find(view, "d")->history.runs, 0u);
  EXPECT_FALSE(service.state("a"));
  EXPECT_EQ(service.trigger("a", "api").status, DrillService::TriggerStatus::unknown);

  // Back again: it starts as at start-up, without the counts of its first life.
  service.reload(queue_only_config());
  const auto* a = find(service.metrics_state(), "a");
  ASSERT_NE(a, nullptr);
  EXPECT_TRUE(a->history.skipped.empty());
}

// A reload that raises max_concurrent_drills starts the waiting runs at once
// (a's run fails in its guard: nothing listens on port 1).
TEST_F(DrillServiceTest, AReloadWithMoreSlotsStartsWaitingRunsAtOnce) {
  DrillService service(queue_only_config());
  ASSERT_EQ(service.trigger("a", "api").status, DrillService::TriggerStatus::accepted);
  ASSERT_TRUE(service.state("a")->queued);
  Config more = queue_only_config();
  more.exporter.max_concurrent_drills = 1;
  service.reload(more);
  EXPECT_FALSE(service.state("a")->queued);
  service.wait_idle();
  const auto* a = find(service.metrics_state(), "a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->history.runs, 1u);
  // A removed drill's waiting run leaves the queue and frees the target it
  // shared with b.
  Config none = queue_only_config();
  DrillService other(none);
  ASSERT_EQ(other.trigger("a", "api").status, DrillService::TriggerStatus::accepted);
  ASSERT_EQ(other.trigger("b", "api").status, DrillService::TriggerStatus::busy);
  none.drills.erase(none.drills.begin());
  other.reload(none);
  EXPECT_EQ(other.trigger("b", "api").status, DrillService::TriggerStatus::accepted);
}

TEST_F(DrillServiceTest, TheViewCarriesTheConfigurationAndTheSchedule) {
  Config c = queue_only_config();
  c.drills[0].schedule = "0 3 * * *";
  c.drills[0].rto_target = std::chrono::minutes(30);
  DrillService service(c);
  const auto* a = find(service.metrics_state(), "a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->rto_target_seconds, 1800);
  EXPECT_EQ(a->schedule_interval_seconds, 86400);
  EXPECT_TRUE(a->next_run);
  const auto* b = find(service.metrics_state(), "b");
  EXPECT_EQ(b->schedule_interval_seconds, 0);
  EXPECT_FALSE(b->next_run);
}

// A listening loopback socket that accepts and never answers: a drill that
// connects to it is running until the test lets go.
class SilentServer {
 public:
  SilentServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd_, 8) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("cannot listen on 127.0.0.1");
    }
    port_ = ntohs(addr.sin_port);
  }
  ~SilentServer() { close_all(); }
  int port() const { return port_; }
  // Waits (bounded, so a broken run fails the test instead of hanging it)
  // until a client connected.
  bool accept_one() {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 60'000) != 1) return false;
    client_ = ::accept(fd_, nullptr, nullptr);
    return client_ >= 0;
  }
  void close_all() {
    if (client_ >= 0) ::close(client_);
    if (fd_ >= 0) ::close(fd_);
    client_ = fd_ = -1;
  }

 private:
  int fd_ = -1;
  int client_ = -1;
  int port_ = 0;
};

TEST_F(DrillServiceTest, ARunningDrillNeverRunsTwiceAtOnce) {
  SilentServer server;
  const std::string silent = "postgresql://u@127.0.0.1:" + std::to_string(server.port());
  Config c;
  c.exporter.artifact_dir = dir_;
  c.exporter.max_concurrent_drills = 1;
  DrillConfig d = drill("a", silent + "/tgt?sslmode=disable");
  d.source_url = silent + "/src?sslmode=disable";
  c.drills = {d, drill("b", "postgresql://u@127.0.0.1:1/b")};
  DrillService service(c);

  auto first = service.trigger("a", "api");
  ASSERT_EQ(first.status, DrillService::TriggerStatus::accepted) << first.reason;
  ASSERT_TRUE(server.accept_one()) << "the drill never connected";
  // The run is now inside its guard, waiting for the server.
  EXPECT_TRUE(service.state("a")->running);
  auto again = service.trigger("a", "api");
  EXPECT_EQ(again.status, DrillService::TriggerStatus::busy);
  EXPECT_EQ(again.run_id, first.run_id);
  EXPECT_NE(again.reason.find("already running"), std::string::npos) << again.reason;
  // The only slot is taken: another drill waits in the queue.
  ASSERT_EQ(service.trigger("b", "api").status, DrillService::TriggerStatus::accepted);
  EXPECT_TRUE(service.state("b")->queued);
  const auto* a = find(service.metrics_state(), "a");
  EXPECT_TRUE(a->running);
  EXPECT_EQ(a->history.skipped.at(kSkipBusy), 1u);

  server.close_all();  // the connection breaks: the run fails in its guard
  service.wait_idle();
  auto view = service.metrics_state();
  a = find(view, "a");
  EXPECT_FALSE(a->running);
  EXPECT_EQ(a->history.runs, 1u);
  ASSERT_TRUE(a->history.last);
  EXPECT_FALSE(a->history.last->success);
  EXPECT_EQ(a->history.last->run_id, first.run_id);
  // b left the queue when the slot came free (and failed: nothing listens).
  EXPECT_FALSE(find(view, "b")->queued);
  EXPECT_EQ(find(view, "b")->history.runs, 1u);
}

}  // namespace
}  // namespace backupdrill
