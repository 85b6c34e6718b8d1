// The rules between keys of one drill that no single key's entry in the
// schema can say: what each backup source needs and ignores (issue 13), and
// what the URLs must be before anything connects (issue 15).
#include <pwd.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "config/sections.h"
#include "config/url_rules.h"

namespace backupdrill::config {
namespace {

using Source = BackupConfig::Source;

// The [drill.backup] keys that only mean something for some sources; a key
// set for another source would be silently ignored, so it is refused.
struct SourceOnlyKey {
  const char* key;
  std::vector<Source> sources;
};
const std::vector<SourceOnlyKey>& source_only_keys() {
  static const std::vector<SourceOnlyKey> keys{
      {"jobs", {Source::pg_dump}},
      {"compression", {Source::pg_dump}},
      {"schemas", {Source::pg_dump}},
      {"exclude_schemas", {Source::pg_dump}},
      {"path", {Source::file}},
      {"checksum", {Source::file, Source::s3}},
      {"url", {Source::s3}},
      {"pattern", {Source::s3}},
      {"endpoint", {Source::s3}},
      {"region", {Source::s3}},
      {"access_key_id", {Source::s3}},
      {"access_key_id_file", {Source::s3}},
      {"secret_access_key", {Source::s3}},
      {"secret_access_key_file", {Source::s3}},
      {"stanza", {Source::pgbackrest}},
      {"config", {Source::pgbackrest}},
      {"set", {Source::pgbackrest}},
      {"recovery_target", {Source::pgbackrest}},
  };
  return keys;
}

std::string source_list(const std::vector<Source>& sources) {
  std::string out;
  for (size_t i = 0; i < sources.size(); ++i) {
    if (i > 0) out += i + 1 == sources.size() ? " or " : ", ";
    out += "\"" + std::string(to_string(sources[i])) + "\"";
  }
  return out;
}

void validate_backup_source(TableReader& drill_reader, const DrillConfig& drill) {
  const toml::table* table = drill_reader.table().get_as<toml::table>("backup");
  if (!table) return;  // pg_dump, the default, needs nothing there
  TableReader r = drill_reader.nested(*table, "[drill.backup]");
  const Source source = drill.backup.source;
  const std::string named = "source = \"" + std::string(to_string(source)) + "\"";
  for (const auto& k : source_only_keys()) {
    if (!table->contains(k.key)) continue;
    bool applies = false;
    for (auto s : k.sources) applies = applies || s == source;
    if (!applies) {
      r.fail(table->get(k.key), k.key,
             "only applies with source = " + source_list(k.sources) + ", not with " + named +
                 "; remove it or set source");
    }
  }
  if (source == Source::file && drill.backup.path.empty()) {
    r.fail(table->get("path"), "path",
           "is required with source = \"file\": the archive to drill, e.g. "
           "path = \"/srv/backups/app/*.dump\"");
  }
  if (source == Source::s3) {
    if (drill.backup.url.empty()) {
      r.fail(table->get("url"), "url",
             "is required with source = \"s3\": the bucket and prefix, e.g. "
             "url = \"s3://backups/app/\"");
    }
    const bool id = !drill.backup.access_key_id.empty();
    const bool key = !drill.backup.secret_access_key.empty();
    if (id != key) {
      const char* missing = id ? "secret_access_key" : "access_key_id";
      r.fail(table, missing,
             "is missing: give access_key_id and secret_access_key together (or neither, for "
             "a public bucket)");
    }
  }
}

// [drill.restore] keys of one kind of restore: logical (pg_restore into
// target_url) or physical (a throwaway server under work_dir).
void validate_restore_keys(TableReader& drill_reader, const DrillConfig& drill) {
  const bool physical = drill.backup.source == Source::pgbackrest;
  const toml::table* table = drill_reader.table().get_as<toml::table>("restore");
  if (table) {
    TableReader r = drill_reader.nested(*table, "[drill.restore]");
    for (const char* key : {"mode", "jobs"}) {
      if (physical && table->contains(key)) {
        r.fail(table->get(key), key,
               "only applies to logical restores (pg_restore into target_url), not with "
               "source = \"pgbackrest\"; remove it");
      }
    }
    for (const char* key : {"work_dir", "database", "run_as", "keep_failed"}) {
      if (!physical && table->contains(key)) {
        r.fail(table->get(key), key,
               "only applies with source = \"pgbackrest\" (a throwaway server), not with "
               "source = \"" +
                   std::string(to_string(drill.backup.source)) + "\"; remove it or set source");
      }
    }
  }
  if (!physical) return;
  const std::string context = "[drill.restore]";
  static const toml::table empty;
  TableReader r = drill_reader.nested(table ? *table : empty, context);
  const auto& restore = drill.restore;
  if (restore.work_dir.empty() || !std::filesystem::path(restore.work_dir).is_absolute()) {
    r.fail(table ? table->get("work_dir") : nullptr, "work_dir",
           "is required with source = \"pgbackrest\" as an absolute path: the private "
           "directory each run's data directory and throwaway server live in, e.g. "
           "work_dir = \"/var/lib/backupdrill/restore\"");
  }
  if (restore.database.empty()) {
    r.fail(table ? table->get("database") : nullptr, "database",
           "is empty; the checks need a database of the restored server, e.g. "
           "database = \"postgres\"");
  }
  // PostgreSQL refuses to run as root: an exporter running as root restores
  // and starts the server as run_as.
  if (::geteuid() == 0) {
    const toml::node* node = table ? table->get("run_as") : nullptr;
    if (restore.run_as.empty() || restore.run_as == "root") {
      r.fail(node, "run_as",
             restore.run_as.empty()
                 ? "is required when the exporter runs as root (PostgreSQL refuses to run as "
                   "root): name the unprivileged OS user the restore and the throwaway server "
                   "run as, e.g. run_as = \"postgres\""
                 : "cannot be root (PostgreSQL refuses to run as root): name an unprivileged OS "
                   "user, e.g. run_as = \"postgres\"");
    }
    const passwd* user = ::getpwnam(restore.run_as.c_str());
    if (!user) {
      r.fail(node, "run_as",
             "names \"" + restore.run_as + "\", which is not a user of this machine");
    }
    if (user->pw_uid == 0) r.fail(node, "run_as", "names a user with uid 0 (root)");
  }
}

void validate_pgbackrest(TableReader& drill_reader, const DrillConfig& drill) {
  if (drill.backup.source != Source::pgbackrest) return;
  const toml::table* backup = drill_reader.table().get_as<toml::table>("backup");
  TableReader b = drill_reader.nested(*backup, "[drill.backup]");
  if (drill.backup.stanza.empty()) {
    b.fail(backup->get("stanza"), "stanza",
           "is required with source = \"pgbackrest\": the stanza to restore, e.g. "
           "stanza = \"main\"");
  }
  // The target is the throwaway server the drill starts; a target_url would
  // look like it mattered, so it is refused rather than ignored.
  for (const char* key : {"target_url", "target_url_file"}) {
    if (const toml::node* n = drill_reader.table().get(key)) {
      drill_reader.fail(n, key,
                        "is not used with source = \"pgbackrest\": the drill restores into a "
                        "throwaway server under [drill.restore] work_dir and checks that; remove "
                        "it");
    }
  }
}

void validate_urls(TableReader& r, const DrillConfig& drill) {
  if (drill.backup.source == Source::pgbackrest) {
    if (!drill.source_url.empty()) {
      if (auto problem = connection_string_problem(drill.source_url); !problem.empty()) {
        const toml::node* node = r.table().get("source_url");
        if (!node) node = r.table().get("source_url_file");
        r.fail(node, "source_url", problem);
      }
    }
    return;
  }
  const bool fresh_dump = drill.backup.source == Source::pg_dump;
  if (drill.source_url.empty() && fresh_dump) {
    r.fail(r.table().get("source_url"), "source_url",
           "is required: the database to back up, e.g. source_url = \"${SOURCE_DB_URL}\"");
  }
  if (drill.target_url.empty()) {
    r.fail(r.table().get("target_url"), "target_url",
           "is required: the database to restore into, e.g. target_url = \"${TARGET_DB_URL}\"");
  }
  for (const auto& [key, url] :
       {std::pair<std::string, const std::string&>{"source_url", drill.source_url},
        {"target_url", drill.target_url}}) {
    if (url.empty()) continue;
    if (auto problem = connection_string_problem(url); !problem.empty()) {
      const toml::node* node = r.table().get(key);
      if (!node) node = r.table().get(key + "_file");
      r.fail(node, key, problem);
    }
  }
  if (drill.source_url.empty()) return;
  auto source = database_address(drill.source_url, r.env());
  auto target = database_address(drill.target_url, r.env());
  if (source && target && *source == *target) {
    const toml::node* node = r.table().get("target_url");
    if (!node) node = r.table().get("target_url_file");
    r.fail(node, "target_url",
           "names the same database as source_url (" + target->describe() +
               "): a drill never restores into its source, which it would overwrite; give the "
               "drill a database of its own, e.g. postgresql://user@host:5432/drill_target");
  }
}

}  // namespace

void validate_drill(TableReader& reader, const DrillConfig& drill) {
  validate_backup_source(reader, drill);
  validate_pgbackrest(reader, drill);
  validate_restore_keys(reader, drill);
  validate_urls(reader, drill);
}

}  // namespace backupdrill::config
