// ABI tests: one fixture plugin per failure mode. Each must give its
// documented error (at load or create) or a failed check, and the host
// process (this test) must survive to run the next check.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "config/config.h"
#include "drill/drill_checks.h"
#include "pg/conninfo.h"
#include "plugin_host/check_worker.h"
#include "plugin_host/plugin_dir.h"
#include "process/child_process.h"

namespace bd = backupdrill;
namespace ph = backupdrill::plugin_host;
using namespace std::chrono_literals;

namespace {

const std::filesystem::path kFixtures = BD_FIXTURES_DIR;

std::string load_error(const std::string& fixture) {
  try {
    ph::CheckWorker worker(kFixtures / (fixture + ".so"));
  } catch (const ph::PluginError& e) {
    return e.what();
  }
  return "";
}

bd::CheckConfig check(const std::string& plugin, const std::string& name,
                      std::chrono::milliseconds timeout = 20s) {
  bd::CheckConfig c;
  c.plugin = plugin;
  c.name = name;
  c.timeout = timeout;
  c.settings_toml = "plugin = \"" + plugin + "\"\nname = \"" + name + "\"\n";
  c.origin = "abi_test.toml:1";
  return c;
}

bd::DrillConfig drill_of(std::vector<bd::CheckConfig> checks) {
  bd::DrillConfig d;
  d.name = "abi";
  d.origin = "abi_test.toml:1";
  d.checks = std::move(checks);
  return d;
}

const bd::pg::ConnInfo& nowhere() {
  static auto c = bd::pg::ConnInfo::parse("host=127.0.0.1 port=1 dbname=none user=nobody");
  return c;
}

}  // namespace

TEST(PluginAbi, MissingEntrySymbolIsRefusedAtLoad) {
  auto e = load_error("noentry");
  EXPECT_NE(e.find("noentry.so"), std::string::npos) << e;
  EXPECT_NE(e.find("does not export backupdrill_check_entry()"), std::string::npos) << e;
}

TEST(PluginAbi, WrongAbiVersionIsRefusedAtLoad) {
  auto e = load_error("bad_abi");
  EXPECT_NE(e.find("bad_abi.so"), std::string::npos) << e;
  EXPECT_NE(e.find("ABI version 99"), std::string::npos) << e;
  EXPECT_NE(e.find("this exporter speaks ABI version 1"), std::string::npos) << e;
}

TEST(PluginAbi, TooSmallStructSizeIsRefusedAtLoad) {
  auto e = load_error("bad_size");
  EXPECT_NE(e.find("bad_size.so"), std::string::npos) << e;
  EXPECT_NE(e.find("struct_size 8 bytes"), std::string::npos) << e;
}

TEST(PluginAbi, NotASharedObjectIsRefusedAtLoad) {
  auto junk = std::filesystem::temp_directory_path() / "backupdrill_abi_junk.so";
  std::ofstream(junk) << "not an ELF file";
  std::string e;
  try {
    ph::CheckWorker worker(junk);
  } catch (const ph::PluginError& err) {
    e = err.what();
  }
  std::filesystem::remove(junk);
  EXPECT_NE(e.find("cannot be loaded"), std::string::npos) << e;
}

TEST(PluginAbi, DescriptorIsReadFromTheWorker) {
  ph::CheckWorker worker(kFixtures / "good.so");
  EXPECT_EQ(worker.info().name, "good");
  EXPECT_EQ(worker.info().version, "2.3.4");
  EXPECT_TRUE(worker.info().source_phase);
  EXPECT_NE(worker.info().sample_config.find("plugin = \"good\""), std::string::npos);
}

TEST(PluginAbi, CreateRejectingItsConfigIsAConfigErrorNamingFileAndKey) {
  std::string e;
  try {
    backupdrill::DrillChecks checks(kFixtures, drill_of({check("reject", "picky")}));
  } catch (const bd::ConfigError& err) {
    e = err.what();
  }
  EXPECT_NE(e.find("abi_test.toml:1"), std::string::npos) << e;
  EXPECT_NE(e.find("check \"picky\""), std::string::npos) << e;
  EXPECT_NE(e.find("reject.so"), std::string::npos) << e;
  EXPECT_NE(e.find("rejected its config: key \"mode\""), std::string::npos) << e;
}

TEST(PluginAbi, UnknownPluginNamesTheFolderAndWhatIsThere) {
  std::string e;
  try {
    backupdrill::DrillChecks checks(kFixtures, drill_of({check("no_such_check", "x")}));
  } catch (const bd::ConfigError& err) {
    e = err.what();
  }
  EXPECT_NE(e.find("no_such_check.so"), std::string::npos) << e;
  EXPECT_NE(e.find("good"), std::string::npos) << e;
}

// Every misbehaving plugin in one drill, followed by a good one: each fails
// its own check with a clear message, and the good one still runs and passes.
TEST(PluginAbi, EachFailureModeFailsOnlyItsCheck) {
  ph::WorkerOptions options;
  options.memory_mb = 512;  // "leak" runs into this limit
  auto drill = drill_of({check("throws", "t"), check("segv", "s"), check("abort", "a"),
                         check("hang", "h", 1500ms), check("leak", "l"), check("good", "g")});
  backupdrill::DrillChecks checks(kFixtures, drill, {}, options);
  checks.source_phase(nowhere(), "00000003-00000002-1", bd::Deadline::max());
  auto started = std::chrono::steady_clock::now();
  auto outcomes = checks.run(nowhere(), nowhere(), bd::Deadline::max());
  auto elapsed = std::chrono::steady_clock::now() - started;
  ASSERT_EQ(outcomes.size(), 6u);
  for (size_t i = 0; i < 5; ++i) EXPECT_FALSE(outcomes[i].success) << outcomes[i].name;

  EXPECT_EQ(outcomes[0].message, "boom from run()");
  EXPECT_NE(outcomes[1].message.find("check s (plugin segv.so) crashed with signal 11 "
                                     "(Segmentation fault)"),
            std::string::npos)
      << outcomes[1].message;
  EXPECT_NE(outcomes[2].message.find("check a (plugin abort.so) crashed with signal 6 (Aborted)"),
            std::string::npos)
      << outcomes[2].message;
  EXPECT_NE(outcomes[3].message.find("check h (plugin hang.so) did not finish within its "
                                     "timeout of 1500ms; its worker was killed"),
            std::string::npos)
      << outcomes[3].message;
  EXPECT_NE(outcomes[4].message.find("bad_alloc"), std::string::npos) << outcomes[4].message;
  EXPECT_LT(elapsed, 15s) << "the hang must be cut at its deadline";

  const auto& good = outcomes[5];
  EXPECT_TRUE(good.success) << good.message;
  EXPECT_EQ(good.message, "all good");
  ASSERT_EQ(good.lines.size(), 2u);
  EXPECT_EQ(good.lines[0].name, "g");
  EXPECT_EQ(good.lines[1].value, "00000003-00000002-1") << "state kept between the phases";
  ASSERT_EQ(good.smoke.size(), 1u);
  EXPECT_EQ(good.smoke[0], "PASS good smoke");
  ASSERT_EQ(good.rows.size(), 1u);
  EXPECT_EQ(good.rows[0].source, 7);
  EXPECT_EQ(good.rows[0].target, 7);
}

// Cancelling the drill stops a check that ignores cancelled(): it is killed
// after a short grace.
TEST(PluginAbi, DrillCancelStopsAHangingCheck) {
  std::stop_source cancel;
  auto drill = drill_of({check("hang", "h", 60s)});
  backupdrill::DrillChecks checks(kFixtures, drill, cancel.get_token());
  std::thread canceller([&] {
    std::this_thread::sleep_for(300ms);
    cancel.request_stop();
  });
  auto started = std::chrono::steady_clock::now();
  auto outcomes = checks.run(nowhere(), nowhere(), bd::Deadline::max());
  canceller.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 20s);
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_FALSE(outcomes[0].success);
  EXPECT_NE(outcomes[0].message.find("cancelled"), std::string::npos) << outcomes[0].message;
}

// With a password-less URL and PGPASSWORD in the exporter's environment (the
// demo's setup), the password reaches the worker in the connection string
// over the pipe, and is in neither its argv nor its environment.
TEST(PluginAbi, PasswordReachesTheWorkerOnlyThroughThePipe) {
  const std::string password = "pw-5e1f9a7c3b";
  ::setenv("PGPASSWORD", password.c_str(), 1);
  auto target = bd::pg::ConnInfo::parse("host=127.0.0.1 port=1 dbname=t user=u");
  backupdrill::DrillChecks checks(kFixtures, drill_of({check("envprobe", "probe")}));
  auto outcomes = checks.run(nowhere(), target, bd::Deadline::max());
  ::unsetenv("PGPASSWORD");
  ASSERT_EQ(outcomes.size(), 1u);
  ASSERT_TRUE(outcomes[0].success) << outcomes[0].message;
  std::string lines;
  for (const auto& l : outcomes[0].lines) lines += l.name + "|" + l.value + "\n";
  EXPECT_EQ(lines,
            "password_received|yes\npassword_in_argv|no\npassword_in_environ|no\n"
            "pgpassword_env|absent\n");
}

// The real exporter: --check-config with a broken plugin exits 2 and names
// the plugin file and why; --list-checks shows the bundled checks.
TEST(PluginAbi, ExporterCheckConfigRefusesABrokenPlugin) {
  auto dir = std::filesystem::temp_directory_path() / "backupdrill_abi_cfg";
  std::filesystem::create_directories(dir);
  auto cfg = dir / "bad.toml";
  std::ofstream(cfg)
      << "[exporter]\nartifact_dir = \"" << dir.string() << "\"\nplugin_dir = \""
      << kFixtures.string()
      << "\"\n[[drill]]\nname = \"d\"\nsource_url = \"postgresql://u@127.0.0.1:1/a\"\n"
         "target_url = \"postgresql://u@127.0.0.1:1/b\"\n"
         "[[drill.check]]\nplugin = \"bad_abi\"\nname = \"x\"\n";
  bd::ChildSpec spec;
  spec.program = BD_EXPORTER;
  spec.args = {"--config.file=" + cfg.string(), "--check-config"};
  auto run = bd::run_capture(spec, std::chrono::steady_clock::now() + 60s);
  EXPECT_TRUE(run.status.exited);
  EXPECT_EQ(run.status.code, 2) << run.out;
  EXPECT_NE(run.out.find("bad.toml:"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("bad_abi.so"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("ABI version 99"), std::string::npos) << run.out;

  spec.args = {"--list-checks"};
  run = bd::run_capture(spec, std::chrono::steady_clock::now() + 60s);
  EXPECT_EQ(run.status.code, 0) << run.out;
  for (const char* name : {"table_counts\t", "sql_assert\t", "api_health\t", "freshness\t",
                           "amcheck\t", "example\t"}) {
    EXPECT_NE(run.out.find(name), std::string::npos) << run.out;
  }
  spec.args = {"--sample-config=sql_assert"};
  run = bd::run_capture(spec, std::chrono::steady_clock::now() + 60s);
  EXPECT_EQ(run.status.code, 0) << run.out;
  std::ifstream sample(std::string(BD_SOURCE_DIR) + "/checks/sql_assert/sample.toml");
  std::string expected((std::istreambuf_iterator<char>(sample)), {});
  EXPECT_EQ(run.out, expected);
  std::filesystem::remove_all(dir);
}

// The sample is the documentation: each bundled check's README shows its
// sample.toml verbatim, and the plugin embeds the same text.
TEST(PluginAbi, BundledReadmesShowTheirSampleConfig) {
  for (const std::string name :
       {"table_counts", "sql_assert", "api_health", "freshness", "amcheck"}) {
    auto read = [](const std::filesystem::path& p) {
      std::ifstream in(p);
      return std::string((std::istreambuf_iterator<char>(in)), {});
    };
    auto folder = std::filesystem::path(BD_SOURCE_DIR) / "checks" / name;
    auto sample = read(folder / "sample.toml");
    ASSERT_FALSE(sample.empty()) << name;
    EXPECT_NE(read(folder / "README.md").find("```toml\n" + sample + "```"), std::string::npos)
        << name << "/README.md does not show sample.toml";
    auto info = ph::describe_plugin(std::filesystem::path(BD_CHECKS_DIR) / (name + ".so"));
    EXPECT_EQ(info.sample_config, sample) << name;
  }
}

// --check-config and start-up validate every check in one worker per plugin:
// many checks of one plugin are each created and destroyed in turn, and a
// rejection deep in the list still names its drill, check and key.
TEST(PluginAbi, ValidationOfManyDrillsNamesTheCheckThatRejectsItsConfig) {
  std::vector<bd::DrillConfig> drills;
  for (int i = 0; i < 30; ++i) {
    auto d = drill_of({check("good", "g"), check("good", "h")});
    d.name = "drill-" + std::to_string(i);
    drills.push_back(d);
  }
  EXPECT_NO_THROW(bd::validate_check_configs(kFixtures, drills));
  drills[27].checks.push_back(check("reject", "picky"));
  std::string e;
  try {
    bd::validate_check_configs(kFixtures, drills);
  } catch (const bd::ConfigError& err) {
    e = err.what();
  }
  EXPECT_NE(e.find("drill \"drill-27\" check \"picky\""), std::string::npos) << e;
  EXPECT_NE(e.find("rejected its config: key \"mode\""), std::string::npos) << e;
  drills[27].checks.back() = check("no_such_check", "x");
  e.clear();
  try {
    bd::validate_check_configs(kFixtures, drills);
  } catch (const bd::ConfigError& err) {
    e = err.what();
  }
  EXPECT_NE(e.find("no_such_check.so"), std::string::npos) << e;
}
