// The output limits of a check (issue 10, defect 6): the budget's arithmetic,
// then each hostile fixture in a drill's checks. Every one must fail its own
// check with a message naming the limit and by how much it was passed,
// never "exited with code 4", a timeout or a broken protocol, and never
// pass; the good check after them still runs.
#include "plugin_host/output_limits.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "config/config.h"
#include "drill/drill_checks.h"
#include "pg/conninfo.h"
#include "process/child_process.h"
#include "util/bounded_text.h"

namespace bd = backupdrill;
namespace ph = backupdrill::plugin_host;
using namespace std::chrono_literals;

namespace {

const std::filesystem::path kFixtures = BD_FIXTURES_DIR;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

bd::CheckConfig check(const std::string& plugin, std::chrono::milliseconds timeout = 60s) {
  bd::CheckConfig c;
  c.plugin = c.name = plugin;
  c.timeout = timeout;
  c.settings_toml = "plugin = \"" + plugin + "\"\nname = \"" + plugin + "\"\n";
  c.origin = "limits_test.toml:1";
  return c;
}

bd::DrillConfig drill_of(std::vector<bd::CheckConfig> checks) {
  bd::DrillConfig d;
  d.name = "limits";
  d.origin = "limits_test.toml:1";
  d.checks = std::move(checks);
  return d;
}

// The real exporter's --check-config on a config with one drill and the
// given [[drill.check]] table.
bd::CapturedRun check_config(const std::string& name, const std::string& check_table) {
  auto dir = std::filesystem::temp_directory_path() / ("backupdrill_limits_" + name);
  std::filesystem::create_directories(dir);
  auto cfg = dir / "limits.toml";
  std::ofstream(cfg)
      << "[exporter]\nartifact_dir = \"" << dir.string() << "\"\nplugin_dir = \""
      << kFixtures.string()
      << "\"\n[[drill]]\nname = \"d\"\nsource_url = \"postgresql://u@127.0.0.1:1/a\"\n"
         "target_url = \"postgresql://u@127.0.0.1:1/b\"\n"
      << check_table;
  bd::ChildSpec spec;
  spec.program = BD_EXPORTER;
  spec.args = {"--config.file=" + cfg.string(), "--check-config"};
  auto run = bd::run_capture(spec, std::chrono::steady_clock::now() + 60s);
  std::filesystem::remove_all(dir);
  // The error is a logfmt value: read its \" as ".
  for (size_t at; (at = run.out.find("\\\"")) != std::string::npos;) run.out.erase(at, 1);
  return run;
}

const bd::pg::ConnInfo& nowhere() {
  static auto c = bd::pg::ConnInfo::parse("host=127.0.0.1 port=1 dbname=none user=nobody");
  return c;
}

}  // namespace

TEST(BoundedText, CutsAtACharacterAndSaysHowMuch) {
  EXPECT_EQ(bd::bounded_text("short", 64), "short");
  std::string long_text(200000, 'k');
  auto cut = bd::bounded_text(long_text, 100);
  EXPECT_LE(cut.size(), 100u);
  EXPECT_TRUE(contains(cut, " more bytes)")) << cut;
  EXPECT_EQ(bd::bounded_text(cut, 100), cut) << "bounding twice changes nothing";
  // A cut inside "é" (2 bytes) backs off to the character before it.
  std::string accents;
  for (int i = 0; i < 100; ++i) accents += "\xC3\xA9";
  auto cut_accents = bd::bounded_text(accents, 64);
  size_t kept = cut_accents.find("\xE2\x80\xA6");
  ASSERT_NE(kept, std::string::npos);
  EXPECT_EQ(kept % 2, 0u) << "cut inside a UTF-8 character";
}

TEST(BoundedText, InvalidUtf8IsReplacedByteForByte) {
  EXPECT_EQ(bd::utf8_or_replaced("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
            "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
  EXPECT_EQ(bd::utf8_or_replaced("a\xff\xc3"), "a??");          // stray and cut sequences
  EXPECT_EQ(bd::utf8_or_replaced("\xc0\xae"), "??");            // overlong "."
  EXPECT_EQ(bd::utf8_or_replaced("\xed\xa0\x80"), "???");       // a surrogate
  EXPECT_EQ(bd::utf8_or_replaced("\xf4\x90\x80\x80"), "????");  // past U+10FFFF
}

TEST(OutputBudget, AnOversizedLineIsRefusedSayingByHowMuch) {
  ph::OutputBudget b;
  EXPECT_TRUE(b.line("counts", "42"));
  EXPECT_FALSE(b.line("big", std::string(ph::kMaxTextBytes + 10, 'x')));
  EXPECT_TRUE(b.over());
  EXPECT_FALSE(b.line("small", "1")) << "nothing after the first limit is kept";
  EXPECT_TRUE(contains(b.verdict(),
                       "the value of report line \"big\" is 4106 bytes, over the "
                       "limit of 4096 bytes by 10"))
      << b.verdict();
}

TEST(OutputBudget, CountsPastTheLimitToSayByHowMuch) {
  ph::OutputBudget b;
  size_t kept = 0;
  for (size_t i = 0; i < ph::kMaxValues + 500; ++i) {
    ph::Label labels[] = {{"table", "t"}, {"side", "target"}};
    kept += b.value("rows", labels, 2);
  }
  EXPECT_EQ(kept, ph::kMaxValues);
  EXPECT_TRUE(contains(b.verdict(), "more than 20000 values, the limit per check")) << b.verdict();
  EXPECT_TRUE(contains(b.verdict(), "20500 values, 500 over the limit of 20000 per check"))
      << b.verdict();
}

TEST(OutputBudget, LabelsAndTotalBytesAreBounded) {
  ph::OutputBudget too_many;
  std::vector<ph::Label> labels(ph::kMaxLabels + 1, ph::Label{"k", "v"});
  EXPECT_FALSE(too_many.value("rows", nullptr, labels.size()));
  EXPECT_TRUE(contains(too_many.verdict(), "17 labels, over the limit of 16 by 1"))
      << too_many.verdict();

  ph::OutputBudget bytes;
  const std::string value(ph::kMaxTextBytes, 'v');
  size_t lines = 0;
  while (bytes.line("n", value)) ++lines;
  EXPECT_LT(lines * value.size(), ph::kMaxOutputBytes + 1);
  EXPECT_TRUE(contains(bytes.verdict(), "bytes, the limit per check")) << bytes.verdict();
}

TEST(OutputBudget, LogLinesPastTheLimitAreDroppedNotFailed) {
  ph::OutputBudget b;
  for (size_t i = 0; i < ph::kMaxLogLines + 7; ++i) b.log();
  EXPECT_FALSE(b.over());
  EXPECT_EQ(b.dropped_logs(), 7u);
}

// Every hostile fixture in one drill, then a good check: each hostile one
// fails naming its limit, the good one passes, and the kept output is small.
TEST(HostilePlugins, EachFailsItsCheckNamingTheLimit) {
  auto drill = drill_of({check("flood_lines"), check("flood_values"), check("huge_line"),
                         check("sdk_line"), check("rogue_lines"), check("good")});
  backupdrill::DrillChecks checks(kFixtures, drill);
  checks.source_phase(nowhere(), "00000003-00000002-1", bd::Deadline::max());
  auto started = std::chrono::steady_clock::now();
  auto outcomes = checks.run(nowhere(), nowhere(), bd::Deadline::max());
  EXPECT_LT(std::chrono::steady_clock::now() - started, 50s) << "no check may run into its timeout";
  ASSERT_EQ(outcomes.size(), 6u);
  for (size_t i = 0; i < 5; ++i) {
    const auto& o = outcomes[i];
    EXPECT_FALSE(o.success) << o.name << " passed";
    if (o.name != "sdk_line") {
      EXPECT_TRUE(contains(o.message, "went over its output limits"))
          << o.name << ": " << o.message;
    }
    EXPECT_FALSE(contains(o.message, "exited with code")) << o.message;
    EXPECT_FALSE(contains(o.message, "broke the protocol")) << o.message;
    EXPECT_FALSE(contains(o.message, "timeout")) << o.message;
    EXPECT_LE(o.message.size(), 2000u) << o.name;
    // Nothing of an incomplete output is kept.
    EXPECT_TRUE(o.lines.empty()) << o.name;
    EXPECT_TRUE(o.rows.empty()) << o.name;
  }
  EXPECT_TRUE(contains(outcomes[0].message, "check flood_lines (plugin flood_lines.so)"))
      << outcomes[0].message;
  EXPECT_TRUE(contains(outcomes[0].message,
                       "the value of report line \"flood_0\" is 1048576 bytes, over the limit of "
                       "4096 bytes by 1044480"))
      << outcomes[0].message;
  EXPECT_TRUE(contains(outcomes[1].message, "more than 20000 values, the limit per check"))
      << outcomes[1].message;
  EXPECT_TRUE(contains(outcomes[1].message, "1000000 values, 980000 over the limit of 20000"))
      << outcomes[1].message;
  EXPECT_TRUE(contains(outcomes[2].message,
                       "the value of report line \"huge\" is 104857600 "
                       "bytes, over the limit of 4096 bytes by 104853504"))
      << outcomes[2].message;
  // The C++ helper refuses before the line is sent, naming the macro.
  EXPECT_TRUE(contains(outcomes[3].message,
                       "over the limit of 4096 bytes (BD_MAX_TEXT_BYTES) by "
                       "104853504"))
      << outcomes[3].message;
  // Past the worker's bounds: the exporter's own budget stops it.
  EXPECT_TRUE(contains(outcomes[4].message, "more than 10000 report and smoke lines"))
      << outcomes[4].message;
  EXPECT_TRUE(contains(outcomes[4].message, "its worker was killed")) << outcomes[4].message;

  EXPECT_TRUE(outcomes[5].success) << outcomes[5].message;
}

// A line of invalid UTF-8 just within the limit: sent as valid UTF-8 of the
// same size, so the exporter's budget agrees with the worker's and the check
// passes (replacing each byte by U+FFFD would triple it past the limit).
TEST(HostilePlugins, InvalidUtf8WithinTheLimitStaysWithinIt) {
  backupdrill::DrillChecks checks(kFixtures, drill_of({check("bad_utf8")}));
  auto outcomes = checks.run(nowhere(), nowhere(), bd::Deadline::max());
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_TRUE(outcomes[0].success) << outcomes[0].message;
  ASSERT_EQ(outcomes[0].lines.size(), 2u);
  EXPECT_EQ(outcomes[0].lines[0].value, std::string(ph::kMaxTextBytes, '?'));
  EXPECT_EQ(outcomes[0].lines[1].value, "caf\xc3\xa9");
}

// create() failing with a 200 000-character message that starts like a key
// reference: a bounded config error, not a crash of the host.
TEST(HostilePlugins, AHugeCreateMessageIsABoundedConfigError) {
  std::string e;
  try {
    backupdrill::DrillChecks checks(kFixtures, drill_of({check("huge_reject")}));
  } catch (const bd::ConfigError& err) {
    e = err.what();
  }
  ASSERT_FALSE(e.empty()) << "create() failing was accepted";
  EXPECT_TRUE(contains(e, "limits_test.toml:1")) << e.substr(0, 300);
  EXPECT_TRUE(contains(e, "rejected its config: key \"kkkk")) << e.substr(0, 300);
  EXPECT_TRUE(contains(e, " more bytes)")) << e.substr(e.size() - std::min<size_t>(e.size(), 300));
  EXPECT_LE(e.size(), ph::kMaxMessageBytes + 400);
}

// The real exporter (issue 10, defect 5): a plugin name of 100 000
// characters is a config error naming file, line, key and limit, not a
// SIGSEGV in a regex.
TEST(HostileConfig, AHundredThousandCharacterPluginNameIsRefusedCleanly) {
  auto run = check_config("plugin_name", "[[drill.check]]\nplugin = \"" + std::string(100000, 'A') +
                                             "\"\nname = \"x\"\n");
  ASSERT_TRUE(run.status.exited) << run.status.describe();
  EXPECT_EQ(run.status.code, 2) << run.out.substr(0, 2000);
  EXPECT_TRUE(contains(run.out, "limits.toml:9:")) << run.out.substr(0, 2000);
  EXPECT_TRUE(contains(run.out, "key \"plugin\"")) << run.out.substr(0, 2000);
  EXPECT_TRUE(contains(run.out, "is 100000 bytes long, over the limit of 64 bytes by 99936"))
      << run.out.substr(0, 2000);
  EXPECT_LT(run.out.size(), 4000u) << "the name must not be echoed whole";
}

// create() failing with a 200 000-character message: exit 2 with a bounded
// error, not a crash of the exporter.
TEST(HostileConfig, AHugeCreateMessageIsABoundedErrorOfCheckConfig) {
  auto run = check_config("huge_reject", "[[drill.check]]\nplugin = \"huge_reject\"\n");
  ASSERT_TRUE(run.status.exited) << run.status.describe();
  EXPECT_EQ(run.status.code, 2) << run.out.substr(0, 2000);
  EXPECT_TRUE(contains(run.out, "huge_reject.so")) << run.out.substr(0, 2000);
  EXPECT_TRUE(contains(run.out, "rejected its config: key \"kkk")) << run.out.substr(0, 2000);
  EXPECT_TRUE(contains(run.out, " more bytes)")) << run.out.substr(0, 2000);
  EXPECT_LT(run.out.size(), 16000u);
}
