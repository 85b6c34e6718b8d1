#include "config/config.h"

#include <fstream>
#include <set>
#include <sstream>

#include "config/resolved_drill.h"
#include "config/sections.h"

namespace backupdrill {

const DrillConfig* Config::find_drill(const std::string& name) const {
  for (const auto& d : drills) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

std::string_view to_string(BackupConfig::Source source) {
  switch (source) {
    case BackupConfig::Source::pg_dump:
      return "pg_dump";
    case BackupConfig::Source::file:
      return "file";
    case BackupConfig::Source::s3:
      return "s3";
    case BackupConfig::Source::pgbackrest:
      return "pgbackrest";
  }
  return "?";
}

std::string_view to_string(BackupConfig::Checksum checksum) {
  switch (checksum) {
    case BackupConfig::Checksum::automatic:
      return "auto";
    case BackupConfig::Checksum::required:
      return "required";
    case BackupConfig::Checksum::none:
      return "none";
  }
  return "?";
}

std::string_view to_string(RestoreConfig::Mode mode) {
  return mode == RestoreConfig::Mode::clean ? "clean" : "recreate";
}

std::string_view to_string(DrillConfig::Profile profile) {
  return profile == DrillConfig::Profile::supabase ? "supabase" : "postgres";
}

std::string_view to_string(DrillConfig::TargetKind kind) {
  switch (kind) {
    case DrillConfig::TargetKind::automatic:
      return "auto";
    case DrillConfig::TargetKind::postgres:
      return "postgres";
    case DrillConfig::TargetKind::supabase:
      return "supabase";
  }
  return "?";
}

namespace {

Config read_config(const toml::table& root, const std::string& file, const EnvLookup& env) {
  Config cfg;
  cfg.source = file;
  config::TableReader r(root, file, "top level", env);
  const toml::node* exporter = r.node("exporter");
  if (exporter && !exporter->is_table()) {
    r.fail(exporter, "exporter", "expected a table [exporter]");
  }
  if (exporter) {
    config::TableReader e(*exporter->as_table(), file, "[exporter]", env);
    cfg.exporter = config::read_exporter(e);
  }
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
    config::TableReader d_reader(*arr->get(i)->as_table(), file,
                                 "[[drill]] #" + std::to_string(i + 1), env);
    DrillConfig d = config::read_drill(d_reader);
    if (!names.insert(d.name).second) {
      throw ConfigError(d.origin + ": a second [[drill]] is named \"" + d.name +
                        "\"; drill names must be unique");
    }
    cfg.drills.push_back(std::move(d));
  }
  // The derived facts, once: every later stage reads these.
  cfg.exporter.plugin_dir = resolve_plugin_dir(cfg.exporter.plugin_dir);
  for (auto& d : cfg.drills)
    d.resolved = std::make_shared<ResolvedDrill>(resolve_drill(d, cfg.exporter));
  return cfg;
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

}  // namespace backupdrill
