#include "pg/tools.h"

#include <unistd.h>

#include <algorithm>
#include <vector>

#include "process/child_process.h"

namespace backupdrill::pg {

Tool probe_tool(const std::filesystem::path& path) {
  ChildSpec spec;
  spec.program = path;
  spec.args = {"--version"};
  auto run = run_capture(spec, std::chrono::steady_clock::now() + std::chrono::seconds(20));
  // "pg_dump (PostgreSQL) 16.4 (Debian ...)": the digits after the marker,
  // read by hand (no regex over a child's output).
  auto digits_at = [&](size_t at) {
    size_t end = at;
    while (end < run.out.size() && end - at < 9 && run.out[end] >= '0' && run.out[end] <= '9')
      ++end;
    return run.out.substr(at, end - at);
  };
  constexpr std::string_view kMarker = "(PostgreSQL) ";
  size_t at = run.out.find(kMarker);
  std::string major = at == std::string::npos ? "" : digits_at(at + kMarker.size());
  if (!run.status.ok() || major.empty()) {
    throw ToolError(path.string() + " --version did not report a PostgreSQL version (" +
                    run.status.describe() + ")");
  }
  Tool tool;
  tool.path = path;
  tool.major = std::stoi(major);
  tool.version = major;
  size_t after = at + kMarker.size() + major.size();
  if (after < run.out.size() && run.out[after] == '.') {
    std::string minor = digits_at(after + 1);
    if (!minor.empty()) tool.version += "." + minor;
  }
  return tool;
}

namespace {

// The major versions Debian's packages installed under /usr/lib/postgresql,
// in ascending order.
std::vector<int> installed_majors() {
  std::vector<int> installed;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
    try {
      installed.push_back(std::stoi(entry.path().filename().string()));
    } catch (...) {
    }
  }
  std::sort(installed.begin(), installed.end());
  return installed;
}

}  // namespace

std::vector<Tool> installed_tools(const std::string& name, const std::string& pg_bin_dir) {
  std::vector<std::filesystem::path> candidates;
  if (!pg_bin_dir.empty()) {
    candidates.push_back(std::filesystem::path(pg_bin_dir) / name);
  } else {
    std::vector<int> installed = installed_majors();
    std::reverse(installed.begin(), installed.end());
    for (int v : installed) {
      candidates.push_back(std::filesystem::path("/usr/lib/postgresql") / std::to_string(v) /
                           "bin" / name);
    }
    if (auto on_path = find_in_path(name)) candidates.push_back(*on_path);
  }
  std::vector<Tool> found;
  std::vector<std::filesystem::path> seen;  // /usr/bin/pg_dump is often a link to one of the above
  for (const auto& path : candidates) {
    if (::access(path.c_str(), X_OK) != 0) continue;
    std::error_code ec;
    auto real = std::filesystem::canonical(path, ec);
    if (ec) real = path;
    if (std::find(seen.begin(), seen.end(), real) != seen.end()) continue;
    seen.push_back(real);
    try {
      found.push_back(probe_tool(path));
    } catch (const ToolError&) {
      found.push_back(Tool{path, 0, ""});
    }
  }
  return found;
}

Tool find_tool(const std::string& name, const std::string& pg_bin_dir, int server_major) {
  std::vector<std::filesystem::path> candidates;
  if (!pg_bin_dir.empty()) {
    candidates.push_back(std::filesystem::path(pg_bin_dir) / name);
  } else {
    const std::vector<int> installed = installed_majors();
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
