#pragma once
// Where check plugins are found, and what is there.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "plugin_host/check_worker.h"

namespace backupdrill::plugin_host {

// The folder itself is resolved once with the configuration
// (resolve_plugin_dir, config/resolved_drill.h).

// <dir>/<plugin>.so. Throws PluginError when the name is not a plain file
// name or the file does not exist, listing the plugins that do.
std::filesystem::path plugin_file(const std::filesystem::path& dir, const std::string& plugin);

// The *.so files of dir, sorted.
std::vector<std::filesystem::path> plugin_files(const std::filesystem::path& dir);

struct PluginListing {
  std::filesystem::path file;
  std::optional<PluginInfo> info;  // set when it loaded
  std::string error;               // why it did not
};

// Loads every plugin of dir (each in its own worker) for --list-checks.
std::vector<PluginListing> list_plugins(const std::filesystem::path& dir);

// Loads one plugin (in a worker) and returns its descriptor.
PluginInfo describe_plugin(const std::filesystem::path& file);

}  // namespace backupdrill::plugin_host
