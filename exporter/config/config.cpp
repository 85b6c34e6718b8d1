#include "config/config.h"

#include <fstream>
#include <set>
#include <sstream>

#include "config/name_rules.h"
#include "schedule/cron.h"
#include "util/duration.h"
#include "util/secrets.h"

namespace backupdrill {

const char* const kRunbookInvalidProgressQuery =
    "select count(*) from public.lms_subsection_progress "
    "where progress_percent < 0 or progress_percent > 100";

const std::vector<std::string>& runbook_tables() {
  static const std::vector<std::string> tables{"profiles",      "tasks",       "documents",
                                               "notifications", "lms_courses", "lms_subsections"};
  return tables;
}

const DrillConfig* Config::find_drill(const std::string& name) const {
  for (const auto& d : drills) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

namespace {

std::string read_secret_file(const std::string& path, const std::string& where) {
  std::ifstream in(path);
  if (!in) throw ConfigError(where + ": cannot read the file \"" + path + "\"");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string value = ss.str();
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
  return value;
}

// Reads the keys of one TOML table, remembering which were used so that an
// unknown (mistyped) key is refused instead of silently ignored.
class TableReader {
 public:
  TableReader(const toml::table& table, std::string file, std::string context, const EnvLookup& env)
      : table_(table), file_(std::move(file)), context_(std::move(context)), env_(env) {}

  [[noreturn]] void fail(const toml::node* node, const std::string& key,
                         const std::string& what) const {
    auto line = node ? node->source().begin.line : table_.source().begin.line;
    std::string where = file_ + ":" + std::to_string(line) + ": " + context_;
    if (!key.empty()) where += " key \"" + key + "\"";
    throw ConfigError(where + ": " + what);
  }

  std::string location(const std::string& key) const {
    const toml::node* node = table_.get(key);
    auto line = node ? node->source().begin.line : table_.source().begin.line;
    return file_ + ":" + std::to_string(line);
  }

  const toml::node* node(const std::string& key) {
    used_.insert(key);
    return table_.get(key);
  }

  std::string expand(const toml::node* n, const std::string& key, const std::string& raw) {
    try {
      return expand_env(raw, env_);
    } catch (const EnvExpandError& e) {
      fail(n, key, e.what());
    }
  }

  std::optional<std::string> string(const std::string& key) {
    const toml::node* n = node(key);
    if (!n) return std::nullopt;
    if (!n->is_string()) fail(n, key, "expected a string in double quotes");
    return expand(n, key, **n->as_string());
  }

  std::string required_string(const std::string& key, const std::string& example) {
    auto v = string(key);
    if (!v || v->empty()) {
      fail(table_.get(key), key,
           "is required and must not be empty, e.g. " + key + " = " + example);
    }
    return *v;
  }

  // key, or key_file holding the value; a secret either way.
  std::optional<std::string> secret(const std::string& key) {
    auto inline_value = string(key);
    auto file = string(key + "_file");
    if (inline_value && file) {
      fail(table_.get(key + "_file"), key + "_file",
           "give either " + key + " or " + key + "_file, not both");
    }
    std::optional<std::string> value = inline_value;
    if (file) value = read_secret_file(*file, location(key + "_file"));
    if (value) register_secret(*value);
    return value;
  }

  std::optional<long long> integer(const std::string& key, long long min, long long max) {
    const toml::node* n = node(key);
    if (!n) return std::nullopt;
    if (!n->is_integer()) fail(n, key, "expected a whole number");
    long long v = **n->as_integer();
    if (v < min || v > max) {
      fail(n, key,
           "expected a whole number from " + std::to_string(min) + " to " + std::to_string(max) +
               ", got " + std::to_string(v));
    }
    return v;
  }

  std::optional<bool> boolean(const std::string& key) {
    const toml::node* n = node(key);
    if (!n) return std::nullopt;
    if (!n->is_boolean()) fail(n, key, "expected true or false (without quotes)");
    return **n->as_boolean();
  }

  std::optional<std::chrono::milliseconds> duration(const std::string& key) {
    const toml::node* n = node(key);
    if (!n) return std::nullopt;
    if (!n->is_string())
      fail(n, key, "expected a duration in quotes, e.g. \"2h\", \"90m\", \"1h30m\"");
    std::string text = expand(n, key, **n->as_string());
    auto d = parse_duration(text);
    if (!d || d->count() <= 0) {
      fail(n, key,
           "\"" + text +
               "\" is not a duration; expected e.g. \"2h\", \"90m\", \"1h30m\" "
               "(units ms, s, m, h, d, w, y)");
    }
    return d;
  }

  std::optional<std::vector<std::string>> string_array(const std::string& key) {
    const toml::node* n = node(key);
    if (!n) return std::nullopt;
    if (!n->is_array()) fail(n, key, "expected an array of strings, e.g. [\"public\"]");
    std::vector<std::string> out;
    for (const auto& item : *n->as_array()) {
      if (!item.is_string()) fail(&item, key, "expected an array of strings, e.g. [\"public\"]");
      out.push_back(expand(&item, key, **item.as_string()));
    }
    return out;
  }

  std::string one_of(const std::string& key, const std::string& fallback,
                     const std::vector<std::string>& allowed) {
    auto v = string(key);
    if (!v) return fallback;
    for (const auto& a : allowed) {
      if (*v == a) return a;
    }
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "\"" : ", \"") + a + "\"";
    fail(table_.get(key), key, "\"" + *v + "\" is not allowed; expected one of " + list);
  }

  const toml::table* subtable(const std::string& key) {
    const toml::node* n = node(key);
    if (!n) return nullptr;
    if (!n->is_table()) fail(n, key, "expected a table [" + context_ + "." + key + "]");
    return n->as_table();
  }

  // Refuses keys that were never asked for.
  void finish(const std::vector<std::string>& known_hint) const {
    for (const auto& [k, v] : table_) {
      std::string key(k.str());
      if (!used_.contains(key)) {
        std::string list;
        for (const auto& h : known_hint) list += (list.empty() ? "" : ", ") + h;
        throw ConfigError(file_ + ":" + std::to_string(k.source().begin.line) + ": " + context_ +
                          " has an unknown key \"" + key + "\"; the keys here are " + list);
      }
    }
  }

  void set_context(std::string context) { context_ = std::move(context); }
  const std::string& file() const { return file_; }
  const toml::table& table() const { return table_; }

 private:
  const toml::table& table_;
  std::string file_;
  std::string context_;
  const EnvLookup& env_;
  std::set<std::string> used_;
};

// Expands ${VAR} in every string of a check's table; plugins get final values.
void expand_tree(toml::node& node, TableReader& reader, const std::string& key) {
  if (auto* s = node.as_string()) {
    std::string expanded = reader.expand(&node, key, **s);
    *s = expanded;
  } else if (auto* arr = node.as_array()) {
    for (auto& item : *arr) expand_tree(item, reader, key);
  } else if (auto* tbl = node.as_table()) {
    for (auto&& [k, v] : *tbl) expand_tree(v, reader, std::string(k.str()));
  }
}

// Refuses a drill, check or plugin name that is too long or holds other
// characters than name_rules.h allows, naming the file, line and key.
void check_name(TableReader& r, const toml::table& table, const std::string& key,
                const std::string& name, NameKind kind, const std::string& why = "") {
  if (auto problem = name_problem(name, kind); !problem.empty()) {
    r.fail(table.get(key), key, problem + why);
  }
}

// pg_dump's -Z forms: none, a level 0-9, gzip[:1-9], lz4[:0-99], zstd[:0-99].
bool is_compression(const std::string& v) {
  auto digits = [](std::string_view s, size_t max) {
    if (s.empty() || s.size() > max) return false;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
    }
    return true;
  };
  if (v == "none" || digits(v, 1)) return true;
  for (auto [method, max] :
       {std::pair<std::string_view, size_t>{"gzip", 1}, {"lz4", 2}, {"zstd", 2}}) {
    std::string_view s = v;
    if (!s.starts_with(method)) continue;
    s.remove_prefix(method.size());
    if (s.empty()) return true;
    return s[0] == ':' && digits(s.substr(1), max);
  }
  return false;
}

ExporterConfig read_exporter(const toml::table* table, const std::string& file,
                             const EnvLookup& env) {
  ExporterConfig cfg;
  if (!table) return cfg;
  TableReader r(*table, file, "[exporter]", env);
  if (auto v = r.string("artifact_dir")) cfg.artifact_dir = *v;
  if (auto v = r.string("plugin_dir")) cfg.plugin_dir = *v;
  if (auto v = r.integer("keep_runs", 1, 10000)) cfg.keep_runs = static_cast<int>(*v);
  if (auto v = r.secret("admin_token")) cfg.admin_token = *v;
  if (auto v = r.integer("max_concurrent_drills", 1, 1000)) {
    cfg.max_concurrent_drills = static_cast<int>(*v);
  }
  r.finish({"artifact_dir", "plugin_dir", "keep_runs", "admin_token", "admin_token_file",
            "max_concurrent_drills"});
  return cfg;
}

CheckConfig read_check(const toml::table& table, const std::string& file,
                       const std::string& drill_context, size_t index, const EnvLookup& env) {
  std::string context = drill_context + " [[drill.check]] #" + std::to_string(index + 1);
  TableReader r(table, file, context, env);
  CheckConfig check;
  check.origin = file + ":" + std::to_string(table.source().begin.line);
  check.plugin = r.required_string("plugin", "\"table_counts\"");
  check_name(r, table, "plugin", check.plugin, NameKind::plugin);
  check.name = r.string("name").value_or(check.plugin);
  check_name(r, table, table.get("name") ? "name" : "plugin", check.name, NameKind::check);
  if (auto t = r.duration("timeout")) check.timeout = *t;
  check.settings = table;
  expand_tree(check.settings, r, "");
  // Secrets of checks: register them so they are masked everywhere, and turn
  // <key>_file into <key> so a plugin sees one form.
  for (const std::string key : {"bearer_token", "password", "token"}) {
    if (auto v = r.secret(key)) {
      check.settings.erase(key + "_file");
      check.settings.insert_or_assign(key, *v);
    }
  }
  // The rest of the keys belong to the plugin, which validates them.
  return check;
}

void validate_unique_check_names(const DrillConfig& drill, const std::string& file) {
  std::set<std::string> seen;
  for (const auto& c : drill.checks) {
    if (!seen.insert(c.name).second) {
      throw ConfigError(c.origin + ": drill \"" + drill.name + "\" has two checks named \"" +
                        c.name + "\"; give each [[drill.check]] its own name");
    }
  }
  (void)file;
}

DrillConfig read_drill(const toml::table& table, const std::string& file, size_t index,
                       const EnvLookup& env) {
  DrillConfig drill;
  std::string context = "[[drill]] #" + std::to_string(index + 1);
  TableReader r(table, file, context, env);
  drill.origin = file + ":" + std::to_string(table.source().begin.line);
  drill.name = r.required_string("name", "\"supabase-main\"");
  check_name(r, table, "name", drill.name, NameKind::drill,
             ", since it names the artifact folder and a metric label");
  context = "[[drill]] \"" + drill.name + "\"";
  r.set_context(context);
  TableReader& named = r;
  drill.schedule = named.string("schedule").value_or("");
  if (!drill.schedule.empty()) {
    try {
      auto cron = schedule::CronExpression::parse(drill.schedule);
      auto now =
          std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
      if (!cron.next_after(now)) {
        named.fail(table.get("schedule"), "schedule",
                   "\"" + drill.schedule +
                       "\" never fires (e.g. 30 February); expected a "
                       "5-field cron expression in UTC such as \"0 4 * * 0\"");
      }
    } catch (const schedule::CronError& e) {
      named.fail(table.get("schedule"), "schedule",
                 std::string(e.what()) +
                     "; expected a 5-field cron expression in UTC such as "
                     "\"0 4 * * 0\" (Sunday 04:00) or @daily");
    }
  }
  auto source = named.secret("source_url");
  auto target = named.secret("target_url");
  if (!source || source->empty()) {
    named.fail(table.get("source_url"), "source_url",
               "is required: the database to back up, e.g. source_url = \"${SOURCE_DB_URL}\"");
  }
  if (!target || target->empty()) {
    named.fail(table.get("target_url"), "target_url",
               "is required: the database to restore into, e.g. target_url = \"${TARGET_DB_URL}\"");
  }
  drill.source_url = *source;
  drill.target_url = *target;
  if (auto d = named.duration("rpo_target")) drill.rpo_target = *d;
  if (auto d = named.duration("rto_target")) drill.rto_target = *d;
  if (auto d = named.duration("timeout")) drill.timeout = *d;
  drill.profile = named.one_of("profile", "postgres", {"postgres", "supabase"});
  drill.target_kind = named.one_of("target_kind", "auto", {"auto", "postgres", "supabase"});
  if (auto b = named.boolean("adopt_target")) drill.adopt_target = *b;
  drill.pg_bin_dir = named.string("pg_bin_dir").value_or("");

  if (const auto* backup = named.subtable("backup")) {
    TableReader b(*backup, file, context + " [drill.backup]", env);
    if (auto v = b.integer("jobs", 1, 64)) drill.backup.jobs = static_cast<int>(*v);
    if (auto v = b.string("compression")) {
      if (!is_compression(*v)) {
        b.fail(backup->get("compression"), "compression",
               "\"" + bounded_text(*v, 80) +
                   "\" is not a compression; expected \"none\", \"gzip:1\" .. \"gzip:9\", "
                   "a level \"0\"..\"9\", or (pg_dump 16+) \"lz4\", \"zstd:3\"");
      }
      drill.backup.compression = *v;
    }
    if (auto v = b.string_array("schemas")) drill.backup.schemas = *v;
    if (auto v = b.string_array("exclude_schemas")) drill.backup.exclude_schemas = *v;
    b.finish({"jobs", "compression", "schemas", "exclude_schemas"});
  }
  if (const auto* restore = named.subtable("restore")) {
    TableReader rr(*restore, file, context + " [drill.restore]", env);
    auto mode = rr.one_of("mode", "recreate", {"recreate", "clean"});
    drill.restore.mode =
        mode == "clean" ? RestoreConfig::Mode::clean : RestoreConfig::Mode::recreate;
    if (auto v = rr.integer("jobs", 1, 64)) drill.restore.jobs = static_cast<int>(*v);
    rr.finish({"mode", "jobs"});
  }
  if (const toml::node* checks = named.node("check")) {
    const auto* arr = checks->as_array();
    if (!arr || !arr->is_array_of_tables()) {
      named.fail(checks, "check", "expected [[drill.check]] tables");
    }
    for (size_t i = 0; i < arr->size(); ++i) {
      drill.checks.push_back(read_check(*arr->get(i)->as_table(), file, context, i, env));
    }
  }
  named.finish({"name", "schedule", "source_url", "source_url_file", "target_url",
                "target_url_file", "rpo_target", "rto_target", "timeout", "profile", "target_kind",
                "adopt_target", "pg_bin_dir", "backup", "restore", "check"});
  validate_unique_check_names(drill, file);
  return drill;
}

Config read_config(const toml::table& root, const std::string& file, const EnvLookup& env) {
  Config cfg;
  cfg.source = file;
  TableReader r(root, file, "top level", env);
  const toml::node* exporter = r.node("exporter");
  if (exporter && !exporter->is_table())
    r.fail(exporter, "exporter", "expected a table [exporter]");
  cfg.exporter = read_exporter(exporter ? exporter->as_table() : nullptr, file, env);
  const toml::node* drills = r.node("drill");
  r.finish({"exporter", "drill"});
  if (!drills) {
    throw ConfigError(file +
                      ": no [[drill]] is configured; add at least one [[drill]] table "
                      "with name, source_url and target_url");
  }
  const auto* arr = drills->as_array();
  if (!arr || !arr->is_array_of_tables()) {
    r.fail(drills, "drill", "expected [[drill]] tables (double brackets)");
  }
  std::set<std::string> names;
  for (size_t i = 0; i < arr->size(); ++i) {
    DrillConfig d = read_drill(*arr->get(i)->as_table(), file, i, env);
    if (!names.insert(d.name).second) {
      throw ConfigError(d.origin + ": a second [[drill]] is named \"" + d.name +
                        "\"; drill names must be unique");
    }
    cfg.drills.push_back(std::move(d));
  }
  return cfg;
}

// One check of the runbook's drill: plugin and name live both in the
// CheckConfig and in the settings the plugin receives, as from a file.
CheckConfig runbook_check(const std::string& plugin, const std::string& name,
                          toml::table settings) {
  CheckConfig check;
  check.plugin = plugin;
  check.name = name;
  check.origin = "runbook environment";
  settings.insert_or_assign("plugin", plugin);
  settings.insert_or_assign("name", name);
  check.settings = std::move(settings);
  return check;
}

}  // namespace

Config load_config_text(const std::string& text, const std::string& origin, const EnvLookup& env) {
  toml::table root;
  try {
    root = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    throw ConfigError(origin + ":" + std::to_string(where.line) + ":" +
                      std::to_string(where.column) +
                      ": not valid TOML: " + std::string(e.description()));
  }
  return read_config(root, origin, env);
}

Config load_config_file(const std::filesystem::path& file, const EnvLookup& env) {
  std::ifstream in(file);
  if (!in) {
    throw ConfigError(file.string() + ": cannot read the config file (check --config.file)");
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return load_config_text(ss.str(), file.string(), env);
}

Config runbook_config(const EnvLookup& env) {
  auto get = [&](const std::string& name) -> std::string {
    auto v = env(name);
    return v ? *v : "";
  };
  Config cfg;
  cfg.source = "runbook environment";
  DrillConfig drill;
  drill.name = "default";
  drill.origin = "runbook environment";
  drill.source_url = get("SOURCE_DB_URL");
  drill.target_url = get("TARGET_DB_URL");
  if (drill.source_url.empty() || drill.target_url.empty()) {
    const std::string missing = drill.source_url.empty() && drill.target_url.empty()
                                    ? "SOURCE_DB_URL and TARGET_DB_URL are"
                                : drill.source_url.empty() ? "SOURCE_DB_URL is"
                                                           : "TARGET_DB_URL is";
    throw ConfigError("runbook mode (no --config.file): " + missing +
                      " not set; SOURCE_DB_URL and TARGET_DB_URL must both be set, "
                      "e.g. SOURCE_DB_URL=postgresql://user@db.example.com:5432/postgres");
  }
  register_secret(get("API_BEARER_TOKEN"));
  cfg.exporter.artifact_dir = get("BACKUP_DIR").empty() ? "./.drills/backup" : get("BACKUP_DIR");
  for (auto [var, field] :
       {std::pair{"RPO_TARGET", &drill.rpo_target}, std::pair{"RTO_TARGET", &drill.rto_target}}) {
    std::string text = get(var);
    if (text.empty()) continue;
    auto d = parse_duration(text);
    if (!d || d->count() <= 0) {
      throw ConfigError(std::string("runbook environment: ") + var + "=\"" + text +
                        "\" is not a duration; expected e.g. \"24h\", \"90m\", \"1h30m\"");
    }
    *field = *d;
  }
  drill.pg_bin_dir = get("PG_BIN_DIR");

  toml::array tables;
  for (const auto& t : runbook_tables()) tables.push_back("public." + t);
  drill.checks.push_back(runbook_check("table_counts", "critical_tables",
                                       toml::table{{"tables", tables}, {"compare_source", true}}));
  drill.checks.push_back(
      runbook_check("sql_assert", "invalid_progress",
                    toml::table{{"query", kRunbookInvalidProgressQuery}, {"expect", 0}}));
  drill.checks.push_back(runbook_check("api_health", "api",
                                       toml::table{{"url", get("TARGET_API_URL")},
                                                   {"bearer_token", get("API_BEARER_TOKEN")},
                                                   {"expect_status", 200}}));

  cfg.drills.push_back(std::move(drill));
  return cfg;
}

}  // namespace backupdrill
