// The real exporter running a drill whose checks flood it (issue 10, defect
// 6), against the PostgreSQL of the pg_clusters fixture (cluster a): every
// hostile check fails naming its limit, the drill fails, and the exporter's
// peak resident memory (VmHWM, read from /proc while it runs; its check
// workers are other processes) stays under 64 MiB.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "pg_support.h"
#include "process/child_process.h"

namespace bd = backupdrill;
using bd::testing::contains;
using bd::testing::pg;
using bd::testing::Scratch;
using namespace std::chrono_literals;

namespace {

// The VmHWM of pid in KiB; 0 once it is gone (or a zombie).
long peak_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return 0;
}

struct MeasuredRun {
  bd::ExitStatus status;
  std::string output;
  long peak_kib = 0;
};

// Runs the exporter to its end, reading its VmHWM every few milliseconds
// until it exits (VmHWM only grows, so the last reading is the peak but for
// the last few milliseconds of its life).
MeasuredRun run_measured(const std::vector<std::string>& args, const std::filesystem::path& log) {
  bd::ChildSpec spec;
  spec.program = BD_EXPORTER;
  spec.args = args;
  spec.env = {{"PGPASSWORD", std::nullopt},
              {"SOURCE_DB_URL", std::nullopt},
              {"TARGET_DB_URL", std::nullopt},
              {"BACKUPDRILL_PLUGIN_DIR", std::nullopt},
              {"TARGET_API_URL", std::nullopt}};
  spec.out = bd::ChildSpec::Stream::file;
  spec.out_file = log;
  spec.err = bd::ChildSpec::Stream::to_stdout;
  auto child = bd::ChildProcess::spawn(spec);
  MeasuredRun run;
  auto give_up = std::chrono::steady_clock::now() + 4min;
  while (std::chrono::steady_clock::now() < give_up) {
    run.peak_kib = std::max(run.peak_kib, peak_kib(child.pid()));
    siginfo_t info{};
    // WNOWAIT: look without reaping, so the pid stays this child's.
    if (::waitid(P_PID, child.pid(), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == child.pid()) {
      break;
    }
    std::this_thread::sleep_for(5ms);
  }
  run.status = child.wait(std::chrono::steady_clock::now() + 10s);
  std::ifstream in(log);
  run.output.assign(std::istreambuf_iterator<char>(in), {});
  return run;
}

}  // namespace

TEST(HostilePluginDrill, FloodingChecksFailNamingTheLimitWithTheExporterUnder64MiB) {
  Scratch s("hostile");
  const std::vector<std::string> hostile{"flood_lines", "flood_values", "huge_line", "rogue_lines"};
  std::string checks;
  for (const auto& name : hostile) {
    checks += "[[drill.check]]\nplugin = \"" + name + "\"\ntimeout = \"90s\"\n\n";
  }
  auto cfg = s.config(s.plugin_dir({}, hostile), checks);
  auto run = run_measured({"--config.file=" + cfg.string(), "--once"}, s.dir() / "exporter.log");
  std::cout << "exporter peak RSS (VmHWM): " << run.peak_kib << " KiB\n";

  ASSERT_TRUE(run.status.exited) << run.status.describe() << "\n" << run.output.substr(0, 3000);
  EXPECT_EQ(run.status.code, 1) << "the drill must fail\n" << run.output.substr(0, 3000);
  EXPECT_GT(run.peak_kib, 0);
  EXPECT_LT(run.peak_kib, 64 * 1024) << "exporter peak RSS " << run.peak_kib << " KiB";

  auto summary_text = s.artifact("drill_summary_", ".json");
  ASSERT_FALSE(summary_text.empty()) << run.output.substr(0, 3000);
  auto summary = nlohmann::json::parse(summary_text);
  ASSERT_EQ(summary["checks"].size(), hostile.size()) << summary.dump(1).substr(0, 3000);
  for (const auto& c : summary["checks"]) {
    std::string message = c.value("message", "");
    EXPECT_EQ(c.value("result", ""), "failed") << c.dump().substr(0, 1000);
    EXPECT_TRUE(contains(message, "went over its output limits")) << message;
    EXPECT_TRUE(contains(message, "over the limit of")) << message;
  }
  EXPECT_LT(summary_text.size(), 8u << 20);
  EXPECT_LT(s.artifact("validation_").size(), 8u << 20);
}
