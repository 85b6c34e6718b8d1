#include "process/child_process.h"

#include <gtest/gtest.h>

#include "util/secrets.h"

namespace backupdrill {
namespace {

TEST(ChildProcess, CapturesOutputAndExitCode) {
  ChildSpec spec;
  spec.program = "/bin/sh";
  spec.args = {"-c", "echo out; echo err >&2; exit 3"};
  auto run = run_capture(spec);
  EXPECT_TRUE(run.status.exited);
  EXPECT_EQ(run.status.code, 3);
  EXPECT_NE(run.out.find("out"), std::string::npos);
  EXPECT_NE(run.out.find("err"), std::string::npos);
}

TEST(ChildProcess, DeadlineKillsTheWholeGroup) {
  ChildSpec spec;
  spec.program = "/bin/sh";
  spec.args = {"-c", "sleep 30 & sleep 30; echo never"};
  auto started = std::chrono::steady_clock::now();
  auto run = run_capture(spec, started + std::chrono::milliseconds(300));
  EXPECT_TRUE(run.status.timed_out);
  EXPECT_FALSE(run.status.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
}

TEST(ChildProcess, EnvironmentIsExplicitAndSecretsAreNotInherited) {
  register_secret("inherited-secret-42");
  ::setenv("BD_TEST_SECRET_URL", "postgresql://u:inherited-secret-42@h/d", 1);
  ::setenv("BD_TEST_PLAIN", "plain", 1);
  ChildSpec spec;
  spec.program = "/usr/bin/env";
  spec.env["BD_ADDED"] = "yes";
  spec.env["BD_TEST_PLAIN"] = std::nullopt;
  auto run = run_capture(spec);
  EXPECT_NE(run.out.find("BD_ADDED=yes"), std::string::npos);
  EXPECT_EQ(run.out.find("BD_TEST_PLAIN"), std::string::npos);
  EXPECT_EQ(run.out.find("inherited-secret-42"), std::string::npos);
}

TEST(ChildProcess, MissingProgramIsAClearError) {
  ChildSpec spec;
  spec.program = "/nonexistent/pg_dump";
  try {
    ChildProcess::spawn(spec);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/pg_dump"), std::string::npos);
  }
}

TEST(ChildProcess, FindInPath) {
  EXPECT_TRUE(find_in_path("sh").has_value());
  EXPECT_FALSE(find_in_path("definitely-not-a-program-xyz").has_value());
}

}  // namespace
}  // namespace backupdrill
