#include "config/config.h"

#include <gtest/gtest.h>
#include <toml++/toml.h>

#include <fstream>

#include "config/resolved_drill.h"

namespace backupdrill {
namespace {

// A check's settings as the plugin receives them, parsed back.
toml::table settings_of(const CheckConfig& check) { return toml::parse(check.settings_toml); }

std::optional<std::string> test_env(const std::string& name) {
  static const std::map<std::string, std::string> vars{
      {"SOURCE_DB_URL", "postgresql://u:srcpw-1234@db:5432/app"},
      {"TARGET_DB_URL", "postgresql://u@staging:5432/drill"},
      {"EMPTY", ""}};
  auto it = vars.find(name);
  if (it == vars.end()) return std::nullopt;
  return it->second;
}

const char* kValid = R"(
[exporter]
artifact_dir = "/tmp/art"
keep_runs = 3
admin_token = "tok-abcdef"

[[drill]]
name       = "supabase-main"
schedule   = "0 4 * * 0"
source_url = "${SOURCE_DB_URL}"
target_url = "${TARGET_DB_URL}"
rpo_target = "24h"
rto_target = "1h30m"
timeout    = "3h"
profile    = "supabase"
adopt_target = true

[drill.backup]
jobs = 4
compression = "gzip:3"
exclude_schemas = ["audit"]

[drill.restore]
mode = "clean"
jobs = 3

[[drill.check]]
plugin = "table_counts"
name   = "critical_tables"
tables = ["public.profiles"]
compare_source = true
timeout = "90s"

[[drill.check]]
plugin = "sql_assert"
name   = "invalid_progress"
query  = "select 0"
expect = 0
)";

TEST(Config, ParsesEveryContractKey) {
  Config cfg = load_config_text(kValid, "test.toml", test_env);
  EXPECT_EQ(cfg.exporter.artifact_dir, "/tmp/art");
  EXPECT_EQ(cfg.exporter.keep_runs, 3);
  EXPECT_EQ(cfg.exporter.admin_token, "tok-abcdef");
  ASSERT_EQ(cfg.drills.size(), 1u);
  const auto& d = cfg.drills[0];
  EXPECT_EQ(d.name, "supabase-main");
  EXPECT_EQ(d.schedule, "0 4 * * 0");
  EXPECT_EQ(d.source_url, "postgresql://u:srcpw-1234@db:5432/app");
  EXPECT_EQ(d.rto_target, std::chrono::minutes(90));
  EXPECT_EQ(d.rpo_target, std::chrono::hours(24));
  EXPECT_EQ(d.timeout, std::chrono::hours(3));
  EXPECT_EQ(d.profile, DrillConfig::Profile::supabase);
  EXPECT_TRUE(d.adopt_target);
  EXPECT_EQ(d.backup.jobs, 4);
  EXPECT_EQ(d.backup.compression, "gzip:3");
  EXPECT_EQ(d.backup.exclude_schemas, std::vector<std::string>{"audit"});
  EXPECT_EQ(d.restore.mode, RestoreConfig::Mode::clean);
  EXPECT_EQ(d.restore.jobs, 3);
  ASSERT_EQ(d.checks.size(), 2u);
  EXPECT_EQ(d.checks[0].plugin, "table_counts");
  EXPECT_EQ(d.checks[0].timeout, std::chrono::seconds(90));
  EXPECT_EQ(d.checks[1].name, "invalid_progress");
}

TEST(Config, DefaultsAreTheDocumentedOnes) {
  Config cfg = load_config_text(
      "[[drill]]\nname = \"d\"\nsource_url = \"host=a dbname=x\"\ntarget_url = \"host=b "
      "dbname=y\"\n",
      "t.toml", test_env);
  const auto& d = cfg.drills[0];
  EXPECT_EQ(d.rpo_target, std::chrono::hours(24));
  EXPECT_EQ(d.rto_target, std::chrono::hours(2));
  EXPECT_EQ(d.profile, DrillConfig::Profile::postgres);
  EXPECT_EQ(d.target_kind, DrillConfig::TargetKind::automatic);
  EXPECT_FALSE(d.adopt_target);
  EXPECT_EQ(d.backup.jobs, 1);
  EXPECT_EQ(d.backup.compression, "gzip:1");
  EXPECT_EQ(d.restore.mode, RestoreConfig::Mode::recreate);
  EXPECT_EQ(d.restore.jobs, 2);
  EXPECT_EQ(cfg.exporter.keep_runs, 10);
}

// Each bad config must name the file, the line, the key and the expected form.
struct BadCase {
  std::string what;
  std::string from;
  std::string to;
  std::vector<std::string> expected;
};

class ConfigRefusal : public ::testing::TestWithParam<BadCase> {};

TEST_P(ConfigRefusal, NamesFileLineKeyAndForm) {
  const auto& c = GetParam();
  std::string text = kValid;
  auto pos = text.find(c.from);
  ASSERT_NE(pos, std::string::npos) << c.from;
  text.replace(pos, c.from.size(), c.to);
  try {
    load_config_text(text, "bad.toml", test_env);
    FAIL() << c.what << " was accepted";
  } catch (const ConfigError& e) {
    std::string msg = e.what();
    for (const auto& needle : c.expected) {
      EXPECT_NE(msg.find(needle), std::string::npos)
          << c.what << ": \"" << needle << "\" not in: " << msg;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ConfigRefusal,
    ::testing::Values(
        BadCase{"unknown key",
                "timeout    = \"3h\"",
                "timeout    = \"3h\"\nretries = 3",
                {"bad.toml:15:", "unknown key \"retries\"", "rto_target"}},
        BadCase{"wrong type",
                "keep_runs = 3",
                "keep_runs = \"3\"",
                {"bad.toml:4:", "key \"keep_runs\"", "whole number"}},
        BadCase{"missing required key",
                "name       = \"supabase-main\"\n",
                "",
                {"bad.toml:", "key \"name\"", "is required"}},
        BadCase{"unset variable",
                "${TARGET_DB_URL}",
                "${NOT_SET_ANYWHERE}",
                {"bad.toml:11:", "key \"target_url\"", "NOT_SET_ANYWHERE is not set",
                 "${NOT_SET_ANYWHERE:-default}"}},
        BadCase{"bad duration",
                "rto_target = \"1h30m\"",
                "rto_target = \"2 hours\"",
                {"bad.toml:13:", "key \"rto_target\"", "\"2 hours\" is not a duration", "\"2h\""}},
        BadCase{"bad enum",
                "mode = \"clean\"",
                "mode = \"merge\"",
                {"bad.toml:", "key \"mode\"", "\"recreate\", \"clean\""}},
        BadCase{"bad compression",
                "compression = \"gzip:3\"",
                "compression = \"brotli\"",
                {"key \"compression\"", "gzip:1"}},
        BadCase{"jobs out of range", "jobs = 4", "jobs = 0", {"key \"jobs\"", "from 1 to 64"}},
        BadCase{"bad drill name",
                "name       = \"supabase-main\"",
                "name = \"a/b\"",
                {"key \"name\"", "not a valid drill name"}},
        BadCase{"not TOML", "[exporter]", "[exporter", {"bad.toml:2:", "not valid TOML"}},
        BadCase{"duplicate check name",
                "name   = \"invalid_progress\"",
                "name   = \"critical_tables\"",
                {"two checks named \"critical_tables\""}},
        BadCase{"bad cron field",
                "schedule   = \"0 4 * * 0\"",
                "schedule = \"0 25 * * 0\"",
                {"bad.toml:9:", "[[drill]] \"supabase-main\" key \"schedule\"", "hour field",
                 "0 4 * * 0"}},
        BadCase{"cron that never fires",
                "schedule   = \"0 4 * * 0\"",
                "schedule = \"0 0 30 2 *\"",
                {"key \"schedule\"", "never fires"}},
        BadCase{"check without plugin",
                "plugin = \"sql_assert\"\n",
                "",
                {"[[drill.check]] #2", "key \"plugin\"", "is required"}}),
    [](const ::testing::TestParamInfo<BadCase>& info) {
      std::string name;
      for (char c : info.param.what) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
      return name;
    });

TEST(Config, SecretFromFile) {
  auto file = std::filesystem::temp_directory_path() / "bd_config_test_token";
  { std::ofstream(file) << "from-file-token\n"; }
  std::string text = kValid;
  text.replace(text.find("admin_token = \"tok-abcdef\""), 26,
               "admin_token_file = \"" + file.string() + "\"");
  Config cfg = load_config_text(text, "f.toml", test_env);
  EXPECT_EQ(cfg.exporter.admin_token, "from-file-token");
  std::filesystem::remove(file);
}

TEST(Config, RunbookEnvironmentDefinesTheDefaultDrill) {
  auto env = [](const std::string& n) -> std::optional<std::string> {
    if (n == "SOURCE_DB_URL") return "postgresql://a@h/src";
    if (n == "TARGET_DB_URL") return "postgresql://a@h/tgt";
    if (n == "RTO_TARGET") return "30m";
    if (n == "TARGET_API_URL") return "http://127.0.0.1:1/health";
    return std::nullopt;
  };
  Config cfg = runbook_config(env);
  ASSERT_EQ(cfg.drills.size(), 1u);
  const auto& d = cfg.drills[0];
  EXPECT_EQ(d.name, "default");
  EXPECT_EQ(cfg.exporter.artifact_dir, "./.drills/backup");
  EXPECT_EQ(d.rto_target, std::chrono::minutes(30));
  EXPECT_EQ(d.rpo_target, std::chrono::hours(24));
  ASSERT_EQ(d.checks.size(), 3u);
  EXPECT_EQ(d.checks[0].plugin, "table_counts");
  const toml::table first = settings_of(d.checks[0]);
  const auto* tables = first["tables"].as_array();
  ASSERT_NE(tables, nullptr);
  std::vector<std::string> names;
  for (const auto& t : *tables) names.push_back(**t.as_string());
  EXPECT_EQ(names, (std::vector<std::string>{"public.profiles", "public.tasks", "public.documents",
                                             "public.notifications", "public.lms_courses",
                                             "public.lms_subsections"}));
  EXPECT_EQ(d.checks[1].name, "invalid_progress");
  EXPECT_EQ(d.checks[2].plugin, "api_health");
  EXPECT_EQ(settings_of(d.checks[2])["url"].value<std::string>(), "http://127.0.0.1:1/health");

  EXPECT_THROW(runbook_config([](const std::string&) { return std::optional<std::string>(); }),
               ConfigError);
  auto bad = [](const std::string& n) -> std::optional<std::string> {
    if (n == "RPO_TARGET") return "one day";
    if (n == "SOURCE_DB_URL" || n == "TARGET_DB_URL") return "host=x dbname=y";
    return std::nullopt;
  };
  try {
    runbook_config(bad);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("RPO_TARGET=\"one day\""), std::string::npos);
  }
}

// Drill, check and plugin names have a limit of 64 bytes (issue 10): a name
// of any length is refused quickly, naming file, line, key and the limit,
// and the error does not repeat the whole name.
TEST(Config, NamesLongerThanTheLimitAreRefusedNamingKeyAndLimit) {
  const std::string huge(100000, 'A');
  const std::string at_limit(64, 'n');
  struct Case {
    std::string from, to, key;
  };
  for (const auto& c : std::vector<Case>{
           {"name       = \"supabase-main\"", "name = \"" + huge + "\"", "key \"name\""},
           {"name   = \"critical_tables\"", "name = \"" + huge + "\"", "key \"name\""},
           {"plugin = \"table_counts\"", "plugin = \"" + huge + "\"", "key \"plugin\""}}) {
    std::string text = kValid;
    text.replace(text.find(c.from), c.from.size(), c.to);
    try {
      load_config_text(text, "long.toml", test_env);
      ADD_FAILURE() << c.key << " of 100000 bytes was accepted";
    } catch (const ConfigError& e) {
      std::string msg = e.what();
      EXPECT_NE(msg.find("long.toml:"), std::string::npos) << msg;
      EXPECT_NE(msg.find(c.key), std::string::npos) << msg;
      EXPECT_NE(msg.find("is 100000 bytes long, over the limit of 64 bytes by 99936"),
                std::string::npos)
          << msg;
      EXPECT_LT(msg.size(), 600u) << msg;
    }
    // The same place with a name of exactly 64 bytes is fine.
    text = kValid;
    std::string fitting = c.to.substr(0, c.to.find('"') + 1) + at_limit + "\"";
    text.replace(text.find(c.from), c.from.size(), fitting);
    if (c.key == "key \"plugin\"") continue;  // a plugin name also names a file: not checked here
    EXPECT_NO_THROW(load_config_text(text, "fit.toml", test_env)) << c.key;
  }
}

TEST(Config, PluginNamesAreFileNamesWithoutPaths) {
  for (const std::string bad : {"../evil", "a/b", "x..y", ".hidden", ""}) {
    std::string text = kValid;
    text.replace(text.find("plugin = \"table_counts\""), 23, "plugin = \"" + bad + "\"");
    EXPECT_THROW(load_config_text(text, "p.toml", test_env), ConfigError) << bad;
  }
}

TEST(Config, CompressionFormsAreReadWithoutARegex) {
  for (const std::string good :
       {"none", "0", "9", "gzip", "gzip:1", "lz4", "lz4:12", "zstd", "zstd:19"}) {
    std::string text = kValid;
    text.replace(text.find("compression = \"gzip:3\""), 22, "compression = \"" + good + "\"");
    EXPECT_NO_THROW(load_config_text(text, "c.toml", test_env)) << good;
  }
  for (const std::string& bad : std::vector<std::string>{"gzip:10", "gzip:", "lz4:123", "zstd:x",
                                                         "10", "gzipx", std::string(100000, '9')}) {
    std::string text = kValid;
    text.replace(text.find("compression = \"gzip:3\""), 22, "compression = \"" + bad + "\"");
    EXPECT_THROW(load_config_text(text, "c.toml", test_env), ConfigError) << bad.substr(0, 20);
  }
}

}  // namespace
}  // namespace backupdrill

namespace backupdrill {
namespace {

// Issue 23: each drill's facts are derived once, by the loader.
TEST(ResolvedDrill, TheLoaderResolvesEachDrillOnce) {
  const std::string text = R"(
[exporter]
plugin_dir = "/opt/bd/checks"
[[drill]]
name = "url"
source_url = "postgresql://u:pw-resolved-1@db.example.com/app"
target_url = "postgresql://u@localhost/drill_t"
[[drill]]
name = "keywords"
source_url = "host=db.example.com dbname=app user=u"
target_url = "host=127.0.0.1 port=5432 dbname=drill_t user=other"
[[drill]]
name = "physical"
source_url = "postgresql://u@db.example.com/app"
[drill.backup]
source = "pgbackrest"
stanza = "main"
[drill.restore]
work_dir = "/var/lib/bd/w"
run_as = "postgres"
)";
  Config cfg = load_config_text(text, "t.toml",
                                [](const std::string&) { return std::optional<std::string>(); });
  ASSERT_EQ(cfg.drills.size(), 3u);
  for (const auto& d : cfg.drills) ASSERT_TRUE(d.resolved) << d.name;
  const auto& url = *cfg.drills[0].resolved;
  const auto& keywords = *cfg.drills[1].resolved;
  // localhost and 127.0.0.1, a URL and keywords, the default port: one key.
  EXPECT_EQ(url.target_key, "local:5432/drill_t");
  EXPECT_EQ(keywords.target_key, url.target_key);
  EXPECT_EQ(cfg.drills[2].resolved->target_key, "physical:physical");
  ASSERT_TRUE(url.source);
  EXPECT_EQ(url.source->password(), std::optional<std::string>("pw-resolved-1"));
  EXPECT_EQ(pg::address_key(*url.source), "db.example.com:5432/app");
  EXPECT_EQ(url.plugin_dir, std::filesystem::path("/opt/bd/checks"));
  EXPECT_EQ(cfg.exporter.plugin_dir, std::filesystem::path("/opt/bd/checks"));
  // A hand-built drill (no loader) is resolved by the same function.
  DrillConfig by_hand;
  by_hand.name = "h";
  by_hand.target_url = "postgresql://u@[::1]:5432/drill_t";
  EXPECT_EQ(resolved(by_hand, cfg.exporter)->target_key, "local:5432/drill_t");
  // A reload is a new Config: new resolved drills, the old ones untouched.
  Config again = load_config_text(text, "t.toml",
                                  [](const std::string&) { return std::optional<std::string>(); });
  EXPECT_NE(again.drills[0].resolved.get(), cfg.drills[0].resolved.get());
  EXPECT_EQ(again.drills[0].resolved->target_key, url.target_key);
}

TEST(ResolvedDrill, PluginDirDefaultsOnce) {
  ::setenv("BACKUPDRILL_PLUGIN_DIR", "/from/env", 1);
  EXPECT_EQ(resolve_plugin_dir(""), std::filesystem::path("/from/env"));
  EXPECT_EQ(resolve_plugin_dir("/configured"), std::filesystem::path("/configured"));
  ::unsetenv("BACKUPDRILL_PLUGIN_DIR");
  auto beside_binary = resolve_plugin_dir("");
  EXPECT_EQ(beside_binary.filename(), "checks") << beside_binary;
  EXPECT_TRUE(pg::is_local_host("") && pg::is_local_host("LOCALHOST") && pg::is_local_host("::1") &&
              !pg::is_local_host("db.example.com"));
}

}  // namespace
}  // namespace backupdrill
