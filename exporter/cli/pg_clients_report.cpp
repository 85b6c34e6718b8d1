#include "cli/pg_clients_report.h"

#include <cstdlib>
#include <map>
#include <vector>

#include "config/config.h"
#include "pg/tools.h"
#include "util/secrets.h"

namespace backupdrill {
namespace {

constexpr const char* kDefaultPlaces = "in /usr/lib/postgresql/<N>/bin or on PATH";

// One line per client for one place to look; `why` names the drills that use
// a configured pg_bin_dir.
std::string client_lines(const std::string& pg_bin_dir, const std::string& why) {
  std::string text;
  for (std::string name : {"pg_dump", "pg_restore"}) {
    std::string line = "  " + name + ":";
    line.resize(17, ' ');
    auto tools = pg::installed_tools(name, pg_bin_dir);
    if (tools.empty()) {
      line +=
          "not found " + (pg_bin_dir.empty() ? std::string(kDefaultPlaces) : "in " + pg_bin_dir);
    }
    for (size_t i = 0; i < tools.size(); ++i) {
      line += (i ? ", " : "") + (tools[i].version.empty() ? "unknown version" : tools[i].version) +
              " (" + tools[i].path.string() + ")";
    }
    text += line + why + "\n";
  }
  return text;
}

}  // namespace

std::string pg_clients_report(const std::string& config_file) {
  if (config_file.empty()) {
    const char* env = std::getenv("PG_BIN_DIR");
    std::string dir = env ? env : "";
    return client_lines(dir, dir.empty() ? "" : " [PG_BIN_DIR]");
  }
  std::map<std::string, std::string> drills_by_dir;  // pg_bin_dir ("" = default places) -> names
  std::string note;
  try {
    for (const auto& drill : load_config_file(config_file).drills) {
      auto& names = drills_by_dir[drill.pg_bin_dir];
      names += (names.empty() ? "" : ", ") + drill.name;
    }
  } catch (const std::exception& e) {
    note = "  (pg_bin_dir of " + config_file + " not read: " + scrub(e.what()) + ")\n";
  }
  if (drills_by_dir.empty()) return client_lines("", "") + note;
  std::string text;
  for (const auto& [dir, names] : drills_by_dir) {
    std::string drills = (names.find(',') == std::string::npos ? "drill " : "drills ") + names;
    text +=
        client_lines(dir, dir.empty() ? " [" + drills + "]" : " [pg_bin_dir of " + drills + "]");
  }
  return text;
}

}  // namespace backupdrill
