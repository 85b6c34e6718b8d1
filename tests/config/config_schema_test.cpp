// The config schema as data (issue 12): config/example.toml documents every
// key of the schema and loads; the reload diff sees every key; unknown keys
// get a "did you mean". The backup sources' keys (issue 13), the URL rules
// --check-config applies without connecting and runbook mode's document with
// DRILL_PROFILE and CRITICAL_TABLES (issue 15).
#include <gtest/gtest.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "config/config.h"
#include "config/schema.h"
#include "util/secrets.h"

namespace backupdrill {
namespace {

// A check's settings as the plugin receives them, parsed back.
toml::table settings_of(const CheckConfig& check) { return toml::parse(check.settings_toml); }

using Env = std::map<std::string, std::string>;

EnvLookup lookup(Env vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const std::filesystem::path kExample =
    std::filesystem::path(BACKUPDRILL_SOURCE_DIR) / "config" / "example.toml";

// The text of each section of a TOML file, by section name ("drill.check"
// for every [[drill.check]]); the comment lines right above a header belong
// to the section they introduce.
std::map<std::string, std::string> sections_of(const std::string& text) {
  std::map<std::string, std::vector<std::string>> lines;
  std::string current = "";
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("[")) {
      std::string name = line.substr(line.find_first_not_of('['));
      name = name.substr(0, name.find(']'));
      std::vector<std::string> moved;
      auto& previous = lines[current];
      while (!previous.empty() && previous.back().starts_with("#")) {
        moved.insert(moved.begin(), previous.back());
        previous.pop_back();
      }
      current = name;
      for (auto& m : moved) lines[current].push_back(m);
    }
    lines[current].push_back(line);
  }
  std::map<std::string, std::string> out;
  for (const auto& [name, ls] : lines) {
    for (const auto& l : ls) out[name] += l + "\n";
  }
  return out;
}

bool has_word(const std::string& text, const std::string& word) {
  auto part = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  for (size_t at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) {
    bool starts = at == 0 || !part(text[at - 1]);
    bool ends = at + word.size() >= text.size() || !part(text[at + word.size()]);
    if (starts && ends) return true;
  }
  return false;
}

TEST(ConfigSchema, ExampleDocumentsEveryKeyOfTheSchema) {
  const auto sections = sections_of(read_text(kExample));
  size_t keys = 0;
  for (const auto& section : config::schema()) {
    auto it = sections.find(section.name);
    ASSERT_NE(it, sections.end()) << "config/example.toml has no [" << section.name << "]";
    for (const auto& key : section.keys) {
      if (key.type == config::ValueType::table || key.type == config::ValueType::tables) {
        continue;  // a section of its own, checked as one
      }
      ++keys;
      EXPECT_TRUE(has_word(it->second, key.key))
          << "config/example.toml does not document [" << section.name << "] " << key.key;
      if (key.secret) {
        EXPECT_TRUE(has_word(it->second, key.key + "_file"))
            << "config/example.toml does not mention [" << section.name << "] " << key.key
            << "_file";
      }
      EXPECT_FALSE(key.doc.empty()) << key.key;
    }
  }
  EXPECT_GE(keys, 30u) << "the schema lost keys";
}

// The test above can fail: a key the example does not name is found.
TEST(ConfigSchema, TheDocumentationCheckFindsAMissingKey) {
  auto sections = sections_of(read_text(kExample));
  EXPECT_TRUE(has_word(sections["drill.restore"], "jobs"));
  EXPECT_FALSE(has_word(sections["drill.restore"], "job"));
  EXPECT_FALSE(has_word(sections["exporter"], "path"));
}

TEST(ConfigSchema, ExampleLoads) {
  Config cfg =
      load_config_file(kExample, lookup({{"SOURCE_DB_URL", "postgresql://u@db.invalid/src"},
                                         {"TARGET_DB_URL", "postgresql://u@db.invalid/tgt"}}));
  ASSERT_EQ(cfg.drills.size(), 1u);
  EXPECT_EQ(cfg.drills[0].backup.source, BackupConfig::Source::pg_dump);
  EXPECT_EQ(cfg.drills[0].checks.size(), 3u);
}

TEST(ConfigSchema, DefaultsInTheSchemaAreTheStructs) {
  std::map<std::string, std::string> defaults;
  for (const auto& s : config::schema()) {
    for (const auto& k : s.keys) defaults[s.name + "." + k.key] = k.default_value;
  }
  EXPECT_EQ(defaults["exporter.keep_runs"], "10");
  EXPECT_EQ(defaults["exporter.artifact_dir"], "\"/var/lib/backupdrill\"");
  EXPECT_EQ(defaults["drill.rto_target"], "\"2h\"");
  EXPECT_EQ(defaults["drill.profile"], "\"postgres\"");
  EXPECT_EQ(defaults["drill.target_kind"], "\"auto\"");
  EXPECT_EQ(defaults["drill.backup.compression"], "\"gzip:1\"");
  EXPECT_EQ(defaults["drill.backup.source"], "\"pg_dump\"");
  EXPECT_EQ(defaults["drill.backup.checksum"], "\"auto\"");
  EXPECT_EQ(defaults["drill.restore.mode"], "\"recreate\"");
}

// A minimal drill with extra lines in [[drill]], [drill.backup] and
// [drill.restore].
std::string drill_text(const std::string& drill, const std::string& backup = "",
                       const std::string& restore = "") {
  return "[[drill]]\nname = \"d\"\nsource_url = \"postgresql://u@src.example/app\"\n"
         "target_url = \"postgresql://u@tgt.example/drill\"\n" +
         drill + "\n[drill.backup]\n" + backup + "\n[drill.restore]\n" + restore + "\n";
}

DrillConfig drill_of(const std::string& text, Env env = {}) {
  return load_config_text(text, "t.toml", lookup(env)).drills.at(0);
}

std::string error_of(const std::string& text, Env env = {}) {
  try {
    load_config_text(text, "t.toml", lookup(env));
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(accepted)";
}

// Each key of [[drill]], [drill.backup] and [drill.restore] changed alone is
// named by the reload diff; a key added to the schema without a case here
// fails the coverage check at the end.
TEST(ConfigSchema, ReloadDiffNamesEveryChangedKey) {
  struct Case {
    std::string key;
    std::string base_backup;  // [drill.backup] of both versions
    std::string drill, backup, restore;
    std::string base_restore = "";  // [drill.restore] of both versions
  };
  // A physical drill has no target_url (drill_text's is removed for it).
  const std::string pgbr = "source = \"pgbackrest\"\nstanza = \"main\"\n";
  const std::string pgbr_restore = "work_dir = \"/w\"\nrun_as = \"postgres\"\n";
  const std::string file = "source = \"file\"\npath = \"/a/*.dump\"\n";
  const std::string s3 =
      "source = \"s3\"\nurl = \"s3://b/p/\"\naccess_key_id = \"AKIA0000\"\n"
      "secret_access_key = \"sekrit-0000\"\n";
  const std::vector<Case> cases{
      {"schedule", "", "schedule = \"0 4 * * 0\"", "", ""},
      {"source_url", "", "source_url_x", "", ""},
      {"target_url", "", "target_url_x", "", ""},
      {"rpo_target", "", "rpo_target = \"1h\"", "", ""},
      {"rto_target", "", "rto_target = \"1h\"", "", ""},
      {"timeout", "", "timeout = \"1h\"", "", ""},
      {"profile", "", "profile = \"supabase\"", "", ""},
      {"target_kind", "", "target_kind = \"postgres\"", "", ""},
      {"adopt_target", "", "adopt_target = true", "", ""},
      {"pg_bin_dir", "", "pg_bin_dir = \"/opt/pg/bin\"", "", ""},
      {"check", "", "[[drill.check]]\nplugin = \"table_counts\"\ntables = [\"t\"]", "", ""},
      {"backup.source", "", "", file, ""},
      {"backup.jobs", "", "", "jobs = 2", ""},
      {"backup.compression", "", "", "compression = \"none\"", ""},
      {"backup.schemas", "", "", "schemas = [\"a\"]", ""},
      {"backup.exclude_schemas", "", "", "exclude_schemas = [\"a\"]", ""},
      {"backup.path", file, "", "source = \"file\"\npath = \"/b/*.dump\"", ""},
      {"backup.checksum", file, "", file + "checksum = \"none\"", ""},
      {"backup.url", s3, "",
       "source = \"s3\"\nurl = \"s3://b/q/\"\naccess_key_id = \"AKIA0000\"\n"
       "secret_access_key = \"sekrit-0000\"\n",
       ""},
      {"backup.pattern", s3, "", s3 + "pattern = \"*.dump\"", ""},
      {"backup.endpoint", s3, "", s3 + "endpoint = \"https://s3.example\"", ""},
      {"backup.region", s3, "", s3 + "region = \"auto\"", ""},
      {"backup.access_key_id", s3, "",
       "source = \"s3\"\nurl = \"s3://b/p/\"\naccess_key_id = \"AKIA1111\"\n"
       "secret_access_key = \"sekrit-0000\"\n",
       ""},
      {"backup.secret_access_key", s3, "",
       "source = \"s3\"\nurl = \"s3://b/p/\"\naccess_key_id = \"AKIA0000\"\n"
       "secret_access_key = \"sekrit-1111\"\n",
       ""},
      {"restore.mode", "", "", "", "mode = \"clean\""},
      {"restore.jobs", "", "", "", "jobs = 3"},
      {"backup.stanza", pgbr, "", "source = \"pgbackrest\"\nstanza = \"other\"", "", pgbr_restore},
      {"backup.config", pgbr, "", pgbr + "config = \"/etc/b.conf\"", "", pgbr_restore},
      {"backup.set", pgbr, "", pgbr + "set = \"20261129-030000F\"", "", pgbr_restore},
      {"backup.recovery_target", pgbr, "", pgbr + "recovery_target = \"immediate\"", "",
       pgbr_restore},
      {"restore.work_dir", pgbr, "", "", "work_dir = \"/v\"\nrun_as = \"postgres\"", pgbr_restore},
      {"restore.database", pgbr, "", "", pgbr_restore + "database = \"app\"", pgbr_restore},
      {"restore.run_as", pgbr, "", "", "work_dir = \"/w\"\nrun_as = \"nobody\"", pgbr_restore},
      {"restore.keep_failed", pgbr, "", "", pgbr_restore + "keep_failed = true", pgbr_restore},
  };
  auto text_of = [&](const Case& c, const std::string& drill, const std::string& backup,
                     const std::string& restore) {
    std::string text = drill_text(drill, backup, restore);
    if (c.base_backup == pgbr) {
      const std::string target = "target_url = \"postgresql://u@tgt.example/drill\"\n";
      text.erase(text.find(target), target.size());
    }
    return text;
  };
  std::set<std::string> covered;
  for (const auto& c : cases) {
    // The case's [drill.backup] replaces the base's (a key twice is not TOML).
    std::string changed_text = text_of(c, c.drill, c.backup.empty() ? c.base_backup : c.backup,
                                       c.restore.empty() ? c.base_restore : c.restore);
    for (auto [marker, host] :
         {std::pair{"source_url_x", "src.example"}, std::pair{"target_url_x", "tgt.example"}}) {
      if (c.drill != marker) continue;
      changed_text = drill_text("", c.base_backup);
      changed_text.replace(changed_text.find(host), 3, "new");
    }
    DrillConfig before = drill_of(text_of(c, "", c.base_backup, c.base_restore));
    DrillConfig after = drill_of(changed_text);
    auto diff = config::drill_differences(before, after);
    std::vector<std::string> expected{c.key};
    if (c.key == "backup.source") expected.push_back("backup.path");  // a file needs its path
    EXPECT_EQ(diff, expected) << c.key << "\n" << changed_text;
    EXPECT_FALSE(config::same_drill(before, after)) << c.key;
    EXPECT_TRUE(config::same_drill(before, drill_of(text_of(c, "", c.base_backup, c.base_restore))))
        << c.key;
    covered.insert(c.key);
  }
  for (const auto& section : config::schema()) {
    if (section.name == "exporter" || section.name == "drill.check") continue;
    std::string prefix = section.name == "drill" ? "" : section.name.substr(6) + ".";
    for (const auto& k : section.keys) {
      if (k.key == "name" || k.type == config::ValueType::table) continue;
      EXPECT_TRUE(covered.contains(prefix + k.key)) << "no reload-diff case for " << prefix + k.key;
    }
  }
}

TEST(ConfigSchema, UnknownKeysGetTheClosestKnownKey) {
  std::string msg = error_of(drill_text("schedul = \"@daily\""));
  EXPECT_NE(msg.find("t.toml:5:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("unknown key \"schedul\"; did you mean \"schedule\"?"), std::string::npos)
      << msg;
  msg = error_of(drill_text("", "compresion = \"none\""));
  EXPECT_NE(msg.find("[drill.backup] has an unknown key \"compresion\"; did you mean "
                     "\"compression\"?"),
            std::string::npos)
      << msg;
  msg = error_of("[exporter]\nadmin_tokn_file = \"/x\"\n" + drill_text(""));
  EXPECT_NE(msg.find("did you mean \"admin_token_file\"?"), std::string::npos) << msg;
  // Nothing close: the list only.
  msg = error_of(drill_text("retries = 3"));
  EXPECT_EQ(msg.find("did you mean"), std::string::npos) << msg;
  EXPECT_NE(msg.find("the keys here are name, schedule"), std::string::npos) << msg;
}

TEST(ConfigSchema, ProfileAndTargetKindAreEnums) {
  DrillConfig d = drill_of(drill_text("profile = \"supabase\"\ntarget_kind = \"supabase\""));
  EXPECT_EQ(d.profile, DrillConfig::Profile::supabase);
  EXPECT_EQ(d.target_kind, DrillConfig::TargetKind::supabase);
  EXPECT_EQ(to_string(d.profile), "supabase");
  EXPECT_EQ(to_string(DrillConfig::TargetKind::automatic), "auto");
  std::string msg = error_of(drill_text("profile = \"mysql\""));
  EXPECT_NE(msg.find("key \"profile\": \"mysql\" is not allowed; expected one of \"postgres\", "
                     "\"supabase\""),
            std::string::npos)
      << msg;
  msg = error_of(drill_text("target_kind = \"aws\""));
  EXPECT_NE(msg.find("\"auto\", \"postgres\", \"supabase\""), std::string::npos) << msg;
}

// Issue 13: [drill.backup] source = pg_dump | file | s3.
TEST(ConfigBackupSource, FileAndS3KeysAreReadAndSourceUrlBecomesOptional) {
  const std::string no_source =
      "[[drill]]\nname = \"d\"\ntarget_url = \"postgresql://u@tgt.example/drill\"\n";
  DrillConfig f = drill_of(no_source +
                           "[drill.backup]\nsource = \"file\"\npath = \"/srv/b/*.dump\"\n"
                           "checksum = \"required\"\n");
  EXPECT_EQ(f.backup.source, BackupConfig::Source::file);
  EXPECT_EQ(f.backup.path, "/srv/b/*.dump");
  EXPECT_EQ(f.backup.checksum, BackupConfig::Checksum::required);
  EXPECT_EQ(f.source_url, "");

  auto secret_file = std::filesystem::temp_directory_path() / "bd_schema_test_s3_secret";
  { std::ofstream(secret_file) << "s3-secret-from-file-9876\n"; }
  DrillConfig s = drill_of(
      no_source +
          "[drill.backup]\nsource = \"s3\"\nurl = \"s3://backups/app/\"\npattern = \"*.dump\"\n"
          "endpoint = \"https://acct.r2.cloudflarestorage.com\"\nregion = \"auto\"\n"
          "access_key_id = \"${AWS_ACCESS_KEY_ID}\"\nsecret_access_key_file = \"" +
          secret_file.string() + "\"\n",
      {{"AWS_ACCESS_KEY_ID", "AKIAEXAMPLE42"}});
  std::filesystem::remove(secret_file);
  EXPECT_EQ(s.backup.source, BackupConfig::Source::s3);
  EXPECT_EQ(s.backup.url, "s3://backups/app/");
  EXPECT_EQ(s.backup.pattern, "*.dump");
  EXPECT_EQ(s.backup.endpoint, "https://acct.r2.cloudflarestorage.com");
  EXPECT_EQ(s.backup.region, "auto");
  EXPECT_EQ(s.backup.access_key_id, "AKIAEXAMPLE42");
  EXPECT_EQ(s.backup.secret_access_key, "s3-secret-from-file-9876");
  // Secrets like every other: masked wherever a message goes.
  EXPECT_EQ(scrub("key s3-secret-from-file-9876 id AKIAEXAMPLE42"), "key *** id ***");

  // pg_dump (the default) still needs source_url.
  std::string msg = error_of(no_source);
  EXPECT_NE(msg.find("key \"source_url\": is required"), std::string::npos) << msg;
}

TEST(ConfigBackupSource, EachSourceRefusesWhatItLacksOrIgnores) {
  struct Case {
    std::string backup;
    std::vector<std::string> expected;
  };
  for (const auto& c : std::vector<Case>{
           {"source = \"tape\"", {"key \"source\"", "\"pg_dump\", \"file\", \"s3\""}},
           {"source = \"file\"",
            {"t.toml:", "[drill.backup] key \"path\"", "required with source = \"file\""}},
           {"source = \"s3\"", {"key \"url\"", "required with source = \"s3\"", "s3://"}},
           {"source = \"s3\"\nurl = \"https://bucket/\"",
            {"t.toml:8:", "key \"url\"", "expected s3://bucket/prefix/"}},
           {"source = \"s3\"\nurl = \"s3://b/\"\naccess_key_id = \"AKIA1\"",
            {"key \"secret_access_key\"", "together"}},
           {"source = \"s3\"\nurl = \"s3://b/\"\nendpoint = \"r2.example\"",
            {"key \"endpoint\"", "https://"}},
           // Issue 22: an empty or invalid port is refused, never taken as port 80.
           {"source = \"s3\"\nurl = \"s3://b/\"\nendpoint = \"http://127.0.0.1:\"",
            {"t.toml:9:", "key \"endpoint\"", "empty or invalid port"}},
           {"source = \"s3\"\nurl = \"s3://b/\"\nendpoint = \"http://127.0.0.1:99999/\"",
            {"key \"endpoint\"", "empty or invalid port"}},
           {"source = \"s3\"\nurl = \"s3://b/\"\nendpoint = \"http://[::1]:x\"",
            {"key \"endpoint\"", "empty or invalid port"}},
           {"source = \"s3\"\nurl = \"s3://b/\"\nendpoint = \"https://:9000\"",
            {"key \"endpoint\"", "has no host"}},
           {"source = \"s3\"\nurl = \"s3://b/\"\nendpoint = \"http://k:s3cr3t@127.0.0.1:9000\"",
            {"key \"endpoint\"", "has credentials in it"}},
           {"source = \"file\"\npath = \"/a\"\nurl = \"s3://b/\"",
            {"t.toml:9:", "key \"url\"", "only applies with source = \"s3\"",
             "not with source = \"file\""}},
           {"path = \"/a\"", {"key \"path\"", "only applies with source = \"file\""}},
           {"source = \"s3\"\nurl = \"s3://b/\"\njobs = 4",
            {"key \"jobs\"", "only applies with source = \"pg_dump\""}},
           {"checksum = \"none\"",
            {"key \"checksum\"", "only applies with source = \"file\" or \"s3\""}},
           {"source = \"file\"\npath = \"/a\"\nchecksum = \"sometimes\"",
            {"key \"checksum\"", "\"auto\", \"required\", \"none\""}},
           // Issue 14: pgbackrest needs a stanza, refuses target_url (drill_text sets one)
           // and restore keys of logical restores; a recovery target needs its zone.
           {"source = \"pgbackrest\"", {"t.toml:", "key \"stanza\"", "is required"}},
           {"source = \"pgbackrest\"\nstanza = \"main\"",
            {"t.toml:4:", "key \"target_url\"", "is not used with source = \"pgbackrest\""}},
           {"source = \"pgbackrest\"\nstanza = \"m\"\nrecovery_target = \"2026-11-29 03:00:00\"",
            {"t.toml:9:", "key \"recovery_target\"", "with its zone"}},
           {"stanza = \"main\"", {"key \"stanza\"", "only applies with source = \"pgbackrest\""}},
       }) {
    std::string msg = error_of(drill_text("", c.backup));
    for (const auto& needle : c.expected) {
      EXPECT_NE(msg.find(needle), std::string::npos) << c.backup << "\n" << msg;
    }
    EXPECT_EQ(msg.find("s3cr3t"), std::string::npos) << "a password in: " << msg;
  }
}

// Issue 14: a physical drill's [drill.restore]: work_dir required and
// absolute, run_as required and not root when the exporter is root, the
// logical restore's keys refused; a good one is accepted.
TEST(ConfigBackupSource, PgBackRestRestoreKeys) {
  const std::string head =
      "[[drill]]\nname = \"d\"\n[drill.backup]\nsource = \"pgbackrest\"\nstanza = \"main\"\n"
      "recovery_target = \"2026-11-29 03:00:00+00\"\n[drill.restore]\n";
  const DrillConfig good = drill_of(head + "work_dir = \"/w\"\nrun_as = \"postgres\"\n");
  EXPECT_EQ(good.backup.source, BackupConfig::Source::pgbackrest);
  EXPECT_EQ(good.restore.work_dir, "/w");
  EXPECT_EQ(good.restore.database, "postgres");
  EXPECT_FALSE(good.restore.keep_failed);
  for (const auto& [restore, needle] : std::vector<std::pair<std::string, std::string>>{
           {"run_as = \"postgres\"", "key \"work_dir\": is required"},
           {"work_dir = \"rel\"\nrun_as = \"postgres\"", "absolute path"},
           {"work_dir = \"/w\"\nrun_as = \"postgres\"\nmode = \"clean\"",
            "t.toml:10: [[drill]] \"d\" [drill.restore] key \"mode\""},
       }) {
    EXPECT_NE(error_of(head + restore).find(needle), std::string::npos) << restore << "\n"
                                                                        << error_of(head + restore);
  }
  EXPECT_NE(error_of(drill_text("", "", "work_dir = \"/w\""))
                .find("only applies with source = "
                      "\"pgbackrest\""),
            std::string::npos);
  if (::geteuid() == 0) {
    EXPECT_NE(error_of(head + "work_dir = \"/w\"")
                  .find("key \"run_as\": is required when the "
                        "exporter runs as root"),
              std::string::npos);
    EXPECT_NE(error_of(head + "work_dir = \"/w\"\nrun_as = \"root\"").find("cannot be root"),
              std::string::npos);
  }
}

TEST(ConfigSchema, GrafanaUrlMustBeHttp) {
  EXPECT_EQ(
      load_config_text("[exporter]\ngrafana_url = \"https://g.example/d/x\"\n" + drill_text(""),
                       "t.toml", lookup({}))
          .exporter.grafana_url,
      "https://g.example/d/x");
  std::string msg = error_of("[exporter]\ngrafana_url = \"g.example/d/x\"\n" + drill_text(""));
  EXPECT_NE(msg.find("t.toml:2: [exporter] key \"grafana_url\""), std::string::npos) << msg;
  EXPECT_NE(msg.find("http:// or https://"), std::string::npos) << msg;
}

// Issue 15: what --check-config can know without connecting.
TEST(ConfigUrls, NonPostgresUrlsAreRefusedNamingDrillAndKey) {
  for (const std::string bad : {"mysql://u:hunter2-secret@db/app", "https://db.example/app",
                                "postgresql+psycopg://u@db/app", "host=db dbname",
                                "postgresql://u@db:notaport/app?sslmode"}) {
    std::string text = drill_text("");
    text.replace(text.find("postgresql://u@src.example/app"), 30, bad);
    std::string msg = error_of(text);
    EXPECT_NE(msg.find("t.toml:3: [[drill]] \"d\" key \"source_url\""), std::string::npos)
        << bad << "\n"
        << msg;
    EXPECT_NE(msg.find("postgresql://user@host:5432/db"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("hunter2"), std::string::npos) << "a password in: " << msg;
  }
  // Keyword/value strings and both URL schemes are fine.
  for (const std::string good :
       {"host=db dbname=app user=u", "postgres://u@db/app", "postgresql://u:p%40ss@db:5433/app"}) {
    std::string text = drill_text("");
    text.replace(text.find("postgresql://u@src.example/app"), 30, good);
    EXPECT_NO_THROW(load_config_text(text, "t.toml", lookup({}))) << good;
  }
}

TEST(ConfigUrls, TargetThatIsTheSourceIsRefusedHoweverItIsSpelled) {
  struct Case {
    std::string source, target;
    bool same;
  };
  for (const auto& c : std::vector<Case>{
           {"postgresql://u:pw-9999@db.example:5432/app",
            "postgresql://u:pw-9999@db.example:5432/app", true},
           {"postgresql://u@DB.example/app", "host=db.example port=5432 dbname=app user=u", true},
           {"postgresql://u:a-pw@localhost/app", "host=127.0.0.1 dbname=app user=u", true},
           {"postgres://u@[::1]:5432", "postgresql://u@127.0.0.1/u?sslmode=disable", true},
           // Supavisor: one host, port and database; the user names the project.
           {"postgresql://postgres.src:pw@pooler.example:5432/postgres",
            "postgresql://postgres.tgt:pw@pooler.example:5432/postgres", false},
           {"postgresql://u@db.example/app", "postgresql://u@db.example/app_drill", false},
           {"postgresql://u@db.example/app", "postgresql://u@db.example:5433/app", false},
           {"postgresql://u@db.example/app", "postgresql://u@other.example/app", false},
       }) {
    std::string text = "[[drill]]\nname = \"main\"\nsource_url = \"" + c.source +
                       "\"\ntarget_url = \"" + c.target + "\"\n";
    std::string msg = error_of(text);
    if (!c.same) {
      EXPECT_EQ(msg, "(accepted)") << c.source << " -> " << c.target;
      continue;
    }
    EXPECT_NE(msg.find("t.toml:4: [[drill]] \"main\" key \"target_url\": names the same database "
                       "as source_url"),
              std::string::npos)
        << c.target << "\n"
        << msg;
    EXPECT_NE(msg.find("never restores into its source"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("pw-9999"), std::string::npos) << msg;
  }
}

// Runbook mode: the same document as before the TOML, read by the parser.
Env runbook_vars(Env extra = {}) {
  Env env{{"SOURCE_DB_URL", "postgresql://a@h/src"}, {"TARGET_DB_URL", "postgresql://a@h/tgt"}};
  for (auto& [k, v] : extra) env[k] = v;
  return env;
}

TEST(RunbookConfig, ChecksAreTheRunbooksAsBefore) {
  Config cfg = runbook_config(lookup(runbook_vars(
      {{"TARGET_API_URL", "http://127.0.0.1:1/h"}, {"API_BEARER_TOKEN", "runbook-token-5555"}})));
  EXPECT_EQ(cfg.source, "runbook environment");
  const auto& d = cfg.drills.at(0);
  EXPECT_EQ(d.origin, "runbook environment");
  EXPECT_EQ(d.profile, DrillConfig::Profile::postgres);
  EXPECT_EQ(d.timeout, std::chrono::hours(3));
  EXPECT_EQ(d.pg_bin_dir, "");
  ASSERT_EQ(d.checks.size(), 3u);
  toml::array tables;
  for (const auto& t : runbook_tables()) tables.push_back("public." + t);
  // What the C++ runbook_config() gave the plugins, key for key.
  EXPECT_EQ(settings_of(d.checks[0]), (toml::table{{"plugin", "table_counts"},
                                                   {"name", "critical_tables"},
                                                   {"tables", tables},
                                                   {"compare_source", true}}));
  EXPECT_EQ(settings_of(d.checks[1]), (toml::table{{"plugin", "sql_assert"},
                                                   {"name", "invalid_progress"},
                                                   {"query", kRunbookInvalidProgressQuery},
                                                   {"expect", 0}}));
  EXPECT_EQ(settings_of(d.checks[2]), (toml::table{{"plugin", "api_health"},
                                                   {"name", "api"},
                                                   {"url", "http://127.0.0.1:1/h"},
                                                   {"bearer_token", "runbook-token-5555"},
                                                   {"expect_status", 200}}));
  for (const auto& c : d.checks) {
    EXPECT_EQ(c.origin, "runbook environment");
    EXPECT_EQ(c.timeout, std::chrono::minutes(5));
  }
  EXPECT_EQ(scrub("runbook-token-5555"), "***");
}

TEST(RunbookConfig, ValuesWithEverySpecialCharacterArriveUnchanged) {
  const std::string url = "postgresql://u:p%40%22%5C$%7B$$x%7D@h/src?application_name=a\"b\\c${";
  const std::string keyword = "host=h dbname=tgt password='q\"\\\\ ${HOME} $$'";
  const std::string dir = "/tmp/a \"b\" \\c ${X}";
  Config cfg = runbook_config(
      lookup({{"SOURCE_DB_URL", url}, {"TARGET_DB_URL", keyword}, {"BACKUP_DIR", dir}}));
  EXPECT_EQ(cfg.drills.at(0).source_url, url);
  EXPECT_EQ(cfg.drills.at(0).target_url, keyword);
  EXPECT_EQ(cfg.exporter.artifact_dir, dir);
}

// Issue 27, item 5: INVALID_PROGRESS_QUERY replaces the runbook's query, any
// character kept; set but empty drops the check (a database without the
// runbook's table).
TEST(RunbookConfig, InvalidProgressQueryReplacesOrDropsTheCheck) {
  auto names = [](const Config& cfg) {
    std::vector<std::string> out;
    for (const auto& c : cfg.drills.at(0).checks) out.push_back(c.name);
    return out;
  };
  Config cfg = runbook_config(lookup(runbook_vars()));
  EXPECT_EQ(names(cfg), (std::vector<std::string>{"critical_tables", "invalid_progress", "api"}));
  const std::string query = "select count(*) from app.t where note = 'a \"b\" \\ ${X} $$'";
  cfg = runbook_config(lookup(runbook_vars({{"INVALID_PROGRESS_QUERY", query}})));
  EXPECT_EQ(settings_of(cfg.drills.at(0).checks.at(1))["query"].value<std::string>(), query);
  cfg = runbook_config(lookup(runbook_vars({{"INVALID_PROGRESS_QUERY", " "}})));
  EXPECT_EQ(names(cfg), (std::vector<std::string>{"critical_tables", "api"}));
}

TEST(RunbookConfig, DrillProfileAndCriticalTables) {
  Config cfg = runbook_config(lookup(runbook_vars(
      {{"DRILL_PROFILE", "supabase"}, {"CRITICAL_TABLES", " app.users, orders ,x$y,,"}})));
  const auto& d = cfg.drills.at(0);
  EXPECT_EQ(d.profile, DrillConfig::Profile::supabase);
  std::vector<std::string> names;
  const toml::table first = settings_of(d.checks.at(0));
  for (const auto& t : *first["tables"].as_array()) {
    names.push_back(**t.as_string());
  }
  EXPECT_EQ(names, (std::vector<std::string>{"app.users", "orders", "x$y"}));

  // Set but empty: the runbook's six, as when unset.
  cfg = runbook_config(lookup(runbook_vars({{"CRITICAL_TABLES", ""}, {"DRILL_PROFILE", ""}})));
  EXPECT_EQ(settings_of(cfg.drills[0].checks[0])["tables"].as_array()->size(), 6u);
  EXPECT_EQ(cfg.drills[0].profile, DrillConfig::Profile::postgres);

  try {
    runbook_config(lookup(runbook_vars({{"DRILL_PROFILE", "oracle"}})));
    FAIL() << "DRILL_PROFILE=oracle was accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "runbook environment: DRILL_PROFILE=\"oracle\" is not allowed; expected one of "
              "\"postgres\", \"supabase\"");
  }
  try {
    runbook_config(lookup(runbook_vars({{"CRITICAL_TABLES", " , "}})));
    FAIL() << "CRITICAL_TABLES without a name was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("CRITICAL_TABLES=\" , \" names no table"),
              std::string::npos)
        << e.what();
  }
}

TEST(RunbookConfig, ErrorsNameTheVariable) {
  auto message = [](Env env) -> std::string {
    try {
      runbook_config(lookup(env));
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "(accepted)";
  };
  EXPECT_NE(message({{"SOURCE_DB_URL", "postgresql://a@h/src"}}).find("TARGET_DB_URL is not set"),
            std::string::npos);
  EXPECT_NE(message({{"TARGET_DB_URL", "postgresql://a@h/t"}, {"SOURCE_DB_URL", ""}})
                .find("SOURCE_DB_URL is not set"),
            std::string::npos);
  EXPECT_NE(message({}).find("SOURCE_DB_URL and TARGET_DB_URL are not set"), std::string::npos);
  std::string msg = message(runbook_vars({{"RTO_TARGET", "soon"}}));
  EXPECT_NE(msg.find("runbook environment: RTO_TARGET=\"soon\" is not a duration"),
            std::string::npos)
      << msg;
  msg = message(runbook_vars({{"TARGET_DB_URL", "mysql://a@h/tgt"}}));
  EXPECT_NE(msg.find("runbook environment: TARGET_DB_URL is a mysql:// URL"), std::string::npos)
      << msg;
  msg = message(runbook_vars({{"TARGET_DB_URL", "postgresql://a@h:5432/src"}}));
  EXPECT_NE(msg.find("runbook environment: TARGET_DB_URL names the same database as source_url"),
            std::string::npos)
      << msg;
}

}  // namespace
}  // namespace backupdrill
