// The rules between keys of one drill that no single key's entry in the
// schema can say: what each backup source needs and ignores (issue 13), and
// what the URLs must be before anything connects (issue 15).
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

void validate_urls(TableReader& r, const DrillConfig& drill) {
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
  validate_urls(reader, drill);
}

}  // namespace backupdrill::config
