#include "plugin_host/plugin_dir.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "config/name_rules.h"

namespace backupdrill::plugin_host {

std::vector<std::filesystem::path> plugin_files(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".so" && e.is_regular_file(ec)) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::filesystem::path plugin_file(const std::filesystem::path& dir, const std::string& plugin) {
  // Checked before the name reaches a path or a message: any length, any bytes.
  if (auto problem = name_problem(plugin, NameKind::plugin); !problem.empty()) {
    throw PluginError("plugin " + problem);
  }
  auto file = dir / (plugin + ".so");
  std::error_code ec;
  if (std::filesystem::is_regular_file(file, ec)) return file;
  std::string known;
  for (const auto& f : plugin_files(dir)) {
    known += (known.empty() ? "" : ", ") + f.stem().string();
  }
  if (!std::filesystem::is_directory(dir, ec)) {
    throw PluginError("plugin \"" + plugin + "\": the plugin folder " + dir.string() +
                      " does not exist; set [exporter] plugin_dir (or BACKUPDRILL_PLUGIN_DIR) to "
                      "the folder holding the check plugins (*.so)");
  }
  throw PluginError("plugin \"" + plugin + "\": no " + file.string() + "; the plugins in " +
                    dir.string() + " are: " + (known.empty() ? "(none)" : known));
}

PluginInfo describe_plugin(const std::filesystem::path& file) {
  CheckWorker worker(file);
  PluginInfo info = worker.info();
  worker.stop();
  return info;
}

std::vector<PluginListing> list_plugins(const std::filesystem::path& dir) {
  std::vector<PluginListing> out;
  for (const auto& file : plugin_files(dir)) {
    PluginListing l;
    l.file = file;
    try {
      l.info = describe_plugin(file);
    } catch (const std::exception& e) {
      l.error = e.what();
    }
    out.push_back(std::move(l));
  }
  return out;
}

}  // namespace backupdrill::plugin_host
