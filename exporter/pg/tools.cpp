#include "pg/tools.h"

#include <unistd.h>

#include <algorithm>
#include <regex>
#include <vector>

#include "process/child_process.h"

namespace backupdrill::pg {

Tool probe_tool(const std::filesystem::path& path) {
  ChildSpec spec;
  spec.program = path;
  spec.args = {"--version"};
  auto run = run_capture(spec, std::chrono::steady_clock::now() + std::chrono::seconds(20));
  static const std::regex kVersion(R"(\(PostgreSQL\) ([0-9]+)(\.[0-9]+)?)");
  std::smatch m;
  if (!run.status.ok() || !std::regex_search(run.out, m, kVersion)) {
    throw ToolError(path.string() + " --version did not report a PostgreSQL version (" +
                    run.status.describe() + ")");
  }
  Tool tool;
  tool.path = path;
  tool.major = std::stoi(m[1]);
  tool.version = m[1].str() + m[2].str();
  return tool;
}

Tool find_tool(const std::string& name, const std::string& pg_bin_dir, int server_major) {
  std::vector<std::filesystem::path> candidates;
  if (!pg_bin_dir.empty()) {
    candidates.push_back(std::filesystem::path(pg_bin_dir) / name);
  } else {
    std::vector<int> installed;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
      try {
        installed.push_back(std::stoi(entry.path().filename().string()));
      } catch (...) {
      }
    }
    std::sort(installed.begin(), installed.end());
    for (int v : installed) {
      if (v >= server_major) {
        candidates.push_back(std::filesystem::path("/usr/lib/postgresql") / std::to_string(v) /
                             "bin" / name);
      }
    }
    if (auto on_path = find_in_path(name)) candidates.push_back(*on_path);
  }
  std::string seen;
  for (const auto& path : candidates) {
    if (::access(path.c_str(), X_OK) != 0) continue;
    Tool tool = probe_tool(path);
    if (tool.major >= server_major) return tool;
    seen += (seen.empty() ? "" : ", ") + path.string() + " is " + tool.version;
  }
  std::string where = pg_bin_dir.empty() ? "in /usr/lib/postgresql/<N>/bin or on PATH"
                                         : "in pg_bin_dir \"" + pg_bin_dir + "\"";
  throw ToolError("no " + name + " of PostgreSQL " + std::to_string(server_major) +
                  " or newer was found " + where + (seen.empty() ? "" : " (" + seen + ")") +
                  "; the server runs PostgreSQL " + std::to_string(server_major) +
                  ": install postgresql-client-" + std::to_string(server_major) +
                  " or set pg_bin_dir");
}

}  // namespace backupdrill::pg
