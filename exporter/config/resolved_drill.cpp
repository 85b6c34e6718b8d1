#include "config/resolved_drill.h"

#include <cstdlib>
#include <memory>

namespace backupdrill {
namespace {

pg::ConnInfo parsed(const DrillConfig& drill, const char* key, const std::string& url) {
  try {
    return pg::ConnInfo::parse(url);
  } catch (const pg::ConnInfoError& e) {
    throw ConfigError(drill.origin + ": [[drill]] \"" + drill.name + "\" key \"" + key +
                      "\": " + e.what());
  }
}

}  // namespace

ResolvedDrill resolve_drill(const DrillConfig& drill, const ExporterConfig& exporter) {
  ResolvedDrill r;
  if (!drill.source_url.empty()) {
    r.source = parsed(drill, "source_url", drill.source_url);
  }
  const bool physical = drill.backup.source == BackupConfig::Source::pgbackrest;
  r.target = parsed(drill, "target_url", physical ? "" : drill.target_url);
  r.target_key = physical ? "physical:" + drill.name : pg::address_key(r.target);
  r.plugin_dir = resolve_plugin_dir(exporter.plugin_dir);
  return r;
}

std::shared_ptr<const ResolvedDrill> resolved(const DrillConfig& drill,
                                              const ExporterConfig& exporter) {
  if (drill.resolved) return drill.resolved;
  return std::make_shared<const ResolvedDrill>(resolve_drill(drill, exporter));
}

std::filesystem::path resolve_plugin_dir(const std::filesystem::path& configured) {
  if (!configured.empty()) return configured;
  if (const char* env = std::getenv("BACKUPDRILL_PLUGIN_DIR"); env && *env) return env;
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "checks";
  auto bin = exe.parent_path();
  auto installed = bin / ".." / "lib" / "backupdrill" / "checks";
  if (std::filesystem::is_directory(installed, ec)) return installed.lexically_normal();
  return (bin / ".." / "checks").lexically_normal();
}

}  // namespace backupdrill
