#include "config/schema.h"

#include <algorithm>
#include <functional>
#include <set>
#include <sstream>

#include "config/name_rules.h"
#include "config/sections.h"
#include "schedule/cron.h"
#include "util/bounded_text.h"
#include "util/duration.h"
#include "util/time_format.h"

namespace backupdrill::config {
namespace {

// One key of a section: what people read about it (info), how it is read
// into the section's struct, and how two values compare for the reload diff.
template <class T>
struct Field {
  KeyInfo info;
  std::function<void(TableReader&, T&)> read;
  std::function<bool(const T&, const T&)> same;
};

// "" when a value is fine; else why not, for the error message.
using Problem = std::function<std::string(const std::string&)>;

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

template <class T, class M>
Field<T> member_field(KeyInfo info, M T::*m, std::function<void(TableReader&, T&)> read) {
  return Field<T>{std::move(info), std::move(read),
                  [m](const T& a, const T& b) { return a.*m == b.*m; }};
}

// A string (or path) member.
template <class T, class S>
Field<T> text(std::string key, S T::*m, std::string doc, Problem problem = {}) {
  KeyInfo info{key, ValueType::string, quoted(std::string(T{}.*m)), {}, {}, false, true, doc};
  return member_field<T>(info, m, [key, m, problem](TableReader& r, T& t) {
    auto v = r.string(key);
    if (!v) return;
    if (problem) {
      if (auto p = problem(*v); !p.empty()) r.fail(r.table().get(key), key, p);
    }
    t.*m = *v;
  });
}

// A secret: the value, ${VAR}, or <key>_file; masked everywhere.
template <class T>
Field<T> secret(std::string key, std::string T::*m, std::string doc) {
  KeyInfo info{key, ValueType::secret, "\"\"", {}, {}, true, true, doc};
  return member_field<T>(info, m, [key, m](TableReader& r, T& t) {
    if (auto v = r.secret(key)) t.*m = *v;
  });
}

template <class T>
Field<T> integer(std::string key, int T::*m, long long min, long long max, std::string doc) {
  KeyInfo info{
      key, ValueType::integer, std::to_string(T{}.*m), {}, std::pair{min, max}, false, true, doc};
  return member_field<T>(info, m, [key, m, min, max](TableReader& r, T& t) {
    if (auto v = r.integer(key, min, max)) t.*m = static_cast<int>(*v);
  });
}

template <class T>
Field<T> flag(std::string key, bool T::*m, std::string doc) {
  KeyInfo info{key, ValueType::boolean, T{}.*m ? "true" : "false", {}, {}, false, true, doc};
  return member_field<T>(info, m, [key, m](TableReader& r, T& t) {
    if (auto v = r.boolean(key)) t.*m = *v;
  });
}

template <class T>
Field<T> duration(std::string key, std::chrono::milliseconds T::*m, std::string doc) {
  KeyInfo info{key, ValueType::duration, quoted(format_duration(T{}.*m)), {}, {}, false, true, doc};
  return member_field<T>(info, m, [key, m](TableReader& r, T& t) {
    if (auto v = r.duration(key)) t.*m = *v;
  });
}

template <class T>
Field<T> strings(std::string key, std::vector<std::string> T::*m, std::string doc) {
  KeyInfo info{key, ValueType::string_array, "[]", {}, {}, false, true, doc};
  return member_field<T>(info, m, [key, m](TableReader& r, T& t) {
    if (auto v = r.string_array(key)) t.*m = *v;
  });
}

// One of named values of an enum; the names are what the file says.
template <class T, class E>
Field<T> choice(std::string key, E T::*m, std::vector<std::pair<std::string, E>> values,
                std::string doc) {
  KeyInfo info{key, ValueType::choice, "", {}, {}, false, true, doc};
  for (const auto& [name, value] : values) {
    info.allowed.push_back(name);
    if (value == T{}.*m) info.default_value = quoted(name);
  }
  auto names = info.allowed;
  return member_field<T>(info, m, [key, m, values, names](TableReader& r, T& t) {
    if (auto i = r.one_of(key, names)) t.*m = values[*i].second;
  });
}

// Refuses a drill, check or plugin name that is too long or holds other
// characters than name_rules.h allows, naming the file, line and key.
void check_name(TableReader& r, const std::string& key, const std::string& name, NameKind kind,
                const std::string& why = "") {
  if (auto problem = name_problem(name, kind); !problem.empty()) {
    r.fail(r.table().get(key), key, problem + why);
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

std::string cron_problem(const std::string& expression) {
  if (expression.empty()) return "";
  try {
    auto cron = schedule::CronExpression::parse(expression);
    auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    if (!cron.next_after(now)) {
      return "\"" + expression +
             "\" never fires (e.g. 30 February); expected a 5-field cron expression in UTC such "
             "as \"0 4 * * 0\"";
    }
  } catch (const schedule::CronError& e) {
    return std::string(e.what()) +
           "; expected a 5-field cron expression in UTC such as \"0 4 * * 0\" (Sunday 04:00) or "
           "@daily";
  }
  return "";
}

// What is wrong with the authority ("host[:port]") of an http(s) URL, or "".
std::string authority_problem(std::string_view authority) {
  if (authority.find('@') != std::string_view::npos) {
    return "has credentials in it; give them in their own keys, never in a URL";
  }
  size_t host_end = 0;
  if (authority.starts_with("[")) {  // [::1]:9000
    host_end = authority.find(']');
    if (host_end == std::string_view::npos) return "has an IPv6 address without its closing ]";
    ++host_end;
  } else {
    host_end = std::min(authority.find(':'), authority.size());
  }
  if (host_end == 0) return "has no host";
  std::string_view rest = authority.substr(host_end);
  if (rest.empty()) return "";
  if (rest.front() != ':') return "has text after its host that is not a :port";
  std::string_view port = rest.substr(1);
  bool digits = !port.empty() && port.size() <= 5 &&
                port.find_first_not_of("0123456789") == std::string_view::npos;
  if (!digits || std::stoi(std::string(port)) < 1 || std::stoi(std::string(port)) > 65535) {
    return "has an empty or invalid port (after the ':', a number from 1 to 65535, or no ':' "
           "for the scheme's default)";
  }
  return "";
}

std::string http_url_problem(const std::string& url, const std::string& example) {
  if (url.empty()) return "";
  std::string_view rest = url;
  for (std::string_view scheme : {"http://", "https://"}) {
    if (rest.starts_with(scheme)) rest.remove_prefix(scheme.size());
  }
  if (rest.size() == url.size()) {
    return "\"" + bounded_text(url, 80) + "\" is not an http:// or https:// URL; expected e.g. " +
           example;
  }
  bool blank =
      std::any_of(url.begin(), url.end(), [](unsigned char c) { return c <= ' ' || c == 0x7f; });
  std::string why = blank ? "has a space or a control character"
                          : authority_problem(rest.substr(0, rest.find_first_of("/?#")));
  if (why.empty()) return "";
  // A URL with credentials is not quoted: its password would reach the error.
  std::string quoted = url.find('@') == std::string::npos ? "\"" + bounded_text(url, 80) + "\""
                                                          : std::string("the URL");
  return quoted + " " + why + "; expected e.g. " + example;
}

// s3://bucket/prefix/ (the prefix may be empty).
std::string s3_url_problem(const std::string& url) {
  const std::string_view scheme = "s3://";
  std::string_view rest = url;
  bool ok = rest.starts_with(scheme);
  if (ok) {
    rest.remove_prefix(scheme.size());
    std::string_view bucket = rest.substr(0, rest.find('/'));
    ok = !bucket.empty() && bucket.size() <= 63;
    for (char c : bucket) {
      ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.');
    }
  }
  if (ok) return "";
  return "\"" + bounded_text(url, 80) +
         "\" is not an S3 location; expected s3://bucket/prefix/ (a bucket name of lower-case "
         "letters, digits, - and ., then an optional prefix)";
}

// "latest", "immediate", or a timestamp with its zone.
std::string recovery_target_problem(const std::string& v) {
  SystemTime ignored;
  if (v == "latest" || v == "immediate" || parse_timestamp_with_zone(v, ignored)) return "";
  return "\"" + bounded_text(v, 80) +
         "\" is not a recovery target; expected \"latest\", \"immediate\", or a time with its "
         "zone such as \"2026-11-29 03:00:00+00\"";
}

const std::vector<Field<ExporterConfig>>& exporter_fields() {
  using E = ExporterConfig;
  static const std::vector<Field<E>> fields{
      text("artifact_dir", &E::artifact_dir,
           "where artifacts live: <artifact_dir>/<drill>/ (folders 0700, files 0600)"),
      text("plugin_dir", &E::plugin_dir,
           "where the check plugins (*.so) are; empty: next to the binary"),
      integer("keep_runs", &E::keep_runs, 1, 10000, "artifact sets kept per drill"),
      secret("admin_token", &E::admin_token,
             "bearer token of POST /api/v1/drills/{name}/run; empty: triggering over HTTP is off"),
      integer("max_concurrent_drills", &E::max_concurrent_drills, 1, 1000,
              "serve mode: drills that run at once; more wait in a queue"),
      text("grafana_url", &E::grafana_url, "optional link from the pages to the Grafana dashboard",
           [](const std::string& v) {
             return http_url_problem(v, "\"https://grafana.example.com/d/backupdrill\"");
           }),
  };
  return fields;
}

const std::vector<Field<BackupConfig>>& backup_fields() {
  using B = BackupConfig;
  using S = BackupConfig::Source;
  using C = BackupConfig::Checksum;
  static const std::vector<Field<B>> fields{
      choice("source", &B::source,
             {{"pg_dump", S::pg_dump},
              {"file", S::file},
              {"s3", S::s3},
              {"pgbackrest", S::pgbackrest}},
             "pg_dump: a fresh dump of source_url; file: the newest archive of path; s3: the "
             "newest object under url; pgbackrest: a physical backup restored into a throwaway "
             "server"),
      integer("jobs", &B::jobs, 1, 64, "pg_dump: >1 is a parallel directory-format dump"),
      text("compression", &B::compression, "pg_dump's -Z: none, gzip:N, lz4, zstd:N",
           [](const std::string& v) -> std::string {
             if (is_compression(v)) return "";
             return "\"" + bounded_text(v, 80) +
                    "\" is not a compression; expected \"none\", \"gzip:1\" .. \"gzip:9\", "
                    "a level \"0\"..\"9\", or (pg_dump 16+) \"lz4\", \"zstd:3\"";
           }),
      strings("schemas", &B::schemas, "pg_dump: only these schemas (empty: all)"),
      strings("exclude_schemas", &B::exclude_schemas, "pg_dump: never these schemas"),
      text("path", &B::path,
           "file: a custom-format file, a directory-format dump, or a glob (the newest is "
           "drilled)"),
      choice("checksum", &B::checksum,
             {{"auto", C::automatic}, {"required", C::required}, {"none", C::none}},
             "file, s3: auto verifies <archive>.sha256 when present; required; none"),
      text("url", &B::url, "s3: s3://bucket/prefix/", s3_url_problem),
      text("pattern", &B::pattern, "s3: the object names under the prefix that count"),
      text("endpoint", &B::endpoint, "s3: empty is AWS S3; else the service's https:// URL",
           [](const std::string& v) {
             return http_url_problem(v, "\"https://<account>.r2.cloudflarestorage.com\"");
           }),
      text("region", &B::region, "s3: the bucket's region (\"auto\" for R2)"),
      secret("access_key_id", &B::access_key_id, "s3: the access key id"),
      secret("secret_access_key", &B::secret_access_key, "s3: the secret access key"),
      text("stanza", &B::stanza, "pgbackrest: the stanza to restore"),
      text("config", &B::pgbackrest_config,
           "pgbackrest: its configuration file (--config); empty: pgBackRest's default"),
      text("set", &B::backup_set, "pgbackrest: a backup label; empty: the newest"),
      text("recovery_target", &B::recovery_target,
           "pgbackrest: \"latest\", \"immediate\" or a time with its zone",
           recovery_target_problem),
  };
  return fields;
}

const std::vector<Field<RestoreConfig>>& restore_fields() {
  using R = RestoreConfig;
  static const std::vector<Field<R>> fields{
      choice("mode", &R::mode, {{"recreate", R::Mode::recreate}, {"clean", R::Mode::clean}},
             "recreate: drop and create the target database; clean: pg_restore --clean into it"),
      integer("jobs", &R::jobs, 1, 64, "parallel pg_restore jobs"),
      text("work_dir", &R::work_dir,
           "pgbackrest: where each run's data directory and throwaway server live (0700)"),
      text("database", &R::database, "pgbackrest: the database the checks connect to"),
      text("run_as", &R::run_as,
           "pgbackrest: the OS user the restore and the server run as when the exporter is root"),
      flag("keep_failed", &R::keep_failed,
           "pgbackrest: keep a failed run's directory for inspection"),
  };
  return fields;
}

// A subsection ([drill.backup], [drill.restore]) read through its fields.
template <class S>
void read_section(TableReader& r, S& out, const std::vector<Field<S>>& fields) {
  std::vector<std::string> known;
  for (const auto& f : fields) {
    f.read(r, out);
    known.push_back(f.info.key);
    if (f.info.secret) known.push_back(f.info.key + "_file");
  }
  r.finish(known);
}

template <class S>
std::vector<std::string> differences(const S& a, const S& b, const std::vector<Field<S>>& fields,
                                     const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& f : fields) {
    if (!f.same(a, b)) out.push_back(prefix + f.info.key);
  }
  return out;
}

// The keys of [[drill.check]] the exporter reads itself; the rest belong to
// the plugin.
const std::vector<KeyInfo>& check_keys() {
  static const std::vector<KeyInfo> keys{
      {"plugin",
       ValueType::string,
       "",
       {},
       {},
       false,
       true,
       "the check plugin: the file <plugin_dir>/<plugin>.so"},
      {"name",
       ValueType::string,
       "the plugin's name",
       {},
       {},
       false,
       true,
       "the check's name in metrics and summaries; unique in the drill"},
      {"timeout",
       ValueType::duration,
       "\"5m\"",
       {},
       {},
       false,
       true,
       "the check is stopped (and fails) after this long"},
      {"bearer_token", ValueType::secret, "", {}, {}, true, true, "a secret the plugin receives"},
      {"password", ValueType::secret, "", {}, {}, true, true, "a secret the plugin receives"},
      {"token", ValueType::secret, "", {}, {}, true, true, "a secret the plugin receives"},
  };
  return keys;
}

CheckConfig read_check(const toml::table& table, TableReader& drill, size_t index) {
  TableReader r = drill.nested(table, "[[drill.check]] #" + std::to_string(index + 1));
  CheckConfig check;
  check.origin = r.file() + ":" + std::to_string(table.source().begin.line);
  check.plugin = r.required_string("plugin", "\"table_counts\"");
  check_name(r, "plugin", check.plugin, NameKind::plugin);
  check.name = r.string("name").value_or(check.plugin);
  check_name(r, table.get("name") ? "name" : "plugin", check.name, NameKind::check);
  if (auto t = r.duration("timeout")) check.timeout = *t;
  toml::table settings = table;
  expand_tree(settings, r, "");
  // Secrets of checks: register them so they are masked everywhere, and turn
  // <key>_file into <key> so a plugin sees one form.
  for (const auto& key : check_keys()) {
    if (!key.secret) continue;
    if (auto v = r.secret(key.key)) {
      settings.erase(key.key + "_file");
      settings.insert_or_assign(key.key, *v);
    }
  }
  // The rest of the keys belong to the plugin, which validates them.
  for (const auto& [key, node] : settings) {
    check.key_lines[std::string(key.str())] = static_cast<int>(node.source().begin.line);
  }
  std::ostringstream text;
  text << settings;
  check.settings_toml = text.str();
  return check;
}

bool same_checks(const DrillConfig& a, const DrillConfig& b) {
  if (a.checks.size() != b.checks.size()) return false;
  for (size_t i = 0; i < a.checks.size(); ++i) {
    const auto &x = a.checks[i], &y = b.checks[i];
    if (x.plugin != y.plugin || x.name != y.name || x.timeout != y.timeout ||
        x.settings_toml != y.settings_toml) {
      return false;
    }
  }
  return true;
}

KeyInfo section_key(std::string key, ValueType type, std::string doc) {
  return KeyInfo{std::move(key), type, "", {}, {}, false, true, std::move(doc)};
}

const std::vector<Field<DrillConfig>>& drill_fields() {
  using D = DrillConfig;
  using P = DrillConfig::Profile;
  using K = DrillConfig::TargetKind;
  static const std::vector<Field<D>> fields{
      {section_key("name", ValueType::string,
                   "names the artifact folder, the metrics' drill label and the API path"),
       [](TableReader& r, D& d) {
         d.name = r.required_string("name", "\"supabase-main\"");
         check_name(r, "name", d.name, NameKind::drill,
                    ", since it names the artifact folder and a metric label");
         r.set_context("[[drill]] \"" + d.name + "\"");
       },
       [](const D& a, const D& b) { return a.name == b.name; }},
      text("schedule", &D::schedule, "5-field cron in UTC; empty: on demand only", cron_problem),
      secret("source_url", &D::source_url, "the database to back up (required for source pg_dump)"),
      secret("target_url", &D::target_url, "the database to restore into; never the source"),
      duration("rpo_target", &D::rpo_target, "recovery point objective"),
      duration("rto_target", &D::rto_target, "recovery time objective"),
      duration("timeout", &D::timeout, "the whole drill is stopped (and fails) after this long"),
      choice("profile", &D::profile, {{"postgres", P::postgres}, {"supabase", P::supabase}},
             "postgres, or supabase: platform roles and schemas handled"),
      choice("target_kind", &D::target_kind,
             {{"auto", K::automatic}, {"postgres", K::postgres}, {"supabase", K::supabase}},
             "what the target server is: detected, or as configured"),
      flag("adopt_target", &D::adopt_target, "true: allow a non-empty target that no drill marked"),
      text("pg_bin_dir", &D::pg_bin_dir,
           "where pg_dump/pg_restore live; empty: by server version, then PATH"),
      {section_key("backup", ValueType::table, "where the drilled archive comes from"),
       [](TableReader& r, D& d) {
         if (const auto* t = r.subtable("backup")) {
           TableReader b = r.nested(*t, "[drill.backup]");
           read_section(b, d.backup, backup_fields());
         }
       },
       [](const D& a, const D& b) {
         return differences(a.backup, b.backup, backup_fields(), "").empty();
       }},
      {section_key("restore", ValueType::table, "how the archive is restored"),
       [](TableReader& r, D& d) {
         if (const auto* t = r.subtable("restore")) {
           TableReader rr = r.nested(*t, "[drill.restore]");
           read_section(rr, d.restore, restore_fields());
         }
       },
       [](const D& a, const D& b) {
         return differences(a.restore, b.restore, restore_fields(), "").empty();
       }},
      {section_key("check", ValueType::tables, "the checks run on the restored database"),
       [](TableReader& r, D& d) {
         const toml::node* checks = r.node("check");
         if (!checks) return;
         const auto* arr = checks->as_array();
         if (!arr || !arr->is_array_of_tables()) {
           r.fail(checks, "check", "expected [[drill.check]] tables");
         }
         for (size_t i = 0; i < arr->size(); ++i) {
           d.checks.push_back(read_check(*arr->get(i)->as_table(), r, i));
         }
       },
       same_checks},
  };
  return fields;
}

template <class T>
SectionInfo section_info(std::string name, const std::vector<Field<T>>& fields) {
  SectionInfo s{std::move(name), false, {}};
  for (const auto& f : fields) s.keys.push_back(f.info);
  return s;
}

}  // namespace

std::string_view to_string(ValueType type) {
  switch (type) {
    case ValueType::string:
      return "string";
    case ValueType::secret:
      return "secret string";
    case ValueType::integer:
      return "integer";
    case ValueType::boolean:
      return "boolean";
    case ValueType::duration:
      return "duration";
    case ValueType::string_array:
      return "array of strings";
    case ValueType::choice:
      return "one of";
    case ValueType::table:
      return "table";
    case ValueType::tables:
      return "array of tables";
  }
  return "?";
}

const std::vector<SectionInfo>& schema() {
  static const std::vector<SectionInfo> sections = [] {
    std::vector<SectionInfo> s{
        section_info("exporter", exporter_fields()),
        section_info("drill", drill_fields()),
        section_info("drill.backup", backup_fields()),
        section_info("drill.restore", restore_fields()),
        SectionInfo{"drill.check", true, check_keys()},
    };
    return s;
  }();
  return sections;
}

ExporterConfig read_exporter(TableReader& reader) {
  ExporterConfig cfg;
  read_section(reader, cfg, exporter_fields());
  return cfg;
}

DrillConfig read_drill(TableReader& reader) {
  DrillConfig drill;
  drill.origin = reader.file() + ":" + std::to_string(reader.table().source().begin.line);
  read_section(reader, drill, drill_fields());
  std::set<std::string> seen;
  for (const auto& c : drill.checks) {
    if (!seen.insert(c.name).second) {
      throw ConfigError(c.origin + ": drill \"" + drill.name + "\" has two checks named \"" +
                        c.name + "\"; give each [[drill.check]] its own name");
    }
  }
  validate_drill(reader, drill);
  return drill;
}

std::vector<std::string> drill_differences(const DrillConfig& a, const DrillConfig& b) {
  std::vector<std::string> out;
  for (const auto& f : drill_fields()) {
    if (f.info.key == "backup") {
      for (auto& k : differences(a.backup, b.backup, backup_fields(), "backup.")) out.push_back(k);
    } else if (f.info.key == "restore") {
      for (auto& k : differences(a.restore, b.restore, restore_fields(), "restore.")) {
        out.push_back(k);
      }
    } else if (!f.same(a, b)) {
      out.push_back(f.info.key);
    }
  }
  return out;
}

bool same_drill(const DrillConfig& a, const DrillConfig& b) {
  return drill_differences(a, b).empty();
}

}  // namespace backupdrill::config
