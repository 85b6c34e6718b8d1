#include "artifacts/run_history.h"

#include <algorithm>
#include <fstream>
#include <regex>
#include <set>

#include "log/log.h"

namespace backupdrill {
namespace {

// backup_<ts>.dump, restore_<ts>.log, drill_summary_<ts>.json, ...
const std::regex kArtifact(
    R"(^(backup|restore|validation|smoke|drill_summary)_(\d{8}T\d{6}Z)\.[a-z0-9]+$)");

std::optional<std::string> stamp_of(const std::string& name) {
  std::smatch m;
  if (std::regex_match(name, m, kArtifact)) return m[2].str();
  return std::nullopt;
}

std::optional<RunRecord> load_summary(const std::filesystem::path& file) {
  try {
    std::ifstream in(file);
    if (!in) return std::nullopt;
    return run_record_from_json(nlohmann::json::parse(in));
  } catch (const std::exception& e) {
    log::warn("skipping an unreadable drill summary",
              {{"file", file.string()}, {"error", e.what()}});
    return std::nullopt;
  }
}

}  // namespace

std::vector<std::string> run_stamps(const std::filesystem::path& folder) {
  std::set<std::string, std::greater<>> stamps;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(folder, ec)) {
    if (auto s = stamp_of(entry.path().filename().string())) stamps.insert(*s);
  }
  return {stamps.begin(), stamps.end()};
}

std::vector<RunRecord> load_runs(const std::filesystem::path& folder, size_t limit) {
  std::vector<RunRecord> runs;
  for (const auto& stamp : run_stamps(folder)) {
    if (runs.size() >= limit) break;
    auto file = folder / ("drill_summary_" + stamp + ".json");
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) continue;
    if (auto r = load_summary(file)) runs.push_back(std::move(*r));
  }
  return runs;
}

std::optional<RunRecord> load_newest_run(const std::filesystem::path& folder) {
  auto runs = load_runs(folder, 1);
  if (runs.empty()) return std::nullopt;
  return runs.front();
}

std::vector<std::string> apply_retention(const std::filesystem::path& folder, int keep) {
  auto stamps = run_stamps(folder);
  std::optional<std::string> newest_success;
  for (const auto& stamp : stamps) {
    auto r = load_summary(folder / ("drill_summary_" + stamp + ".json"));
    if (r && r->success) {
      newest_success = stamp;
      break;
    }
  }
  std::vector<std::string> deleted;
  for (size_t i = static_cast<size_t>(std::max(keep, 1)); i < stamps.size(); ++i) {
    if (stamps[i] == newest_success) continue;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(folder, ec)) {
      if (stamp_of(entry.path().filename().string()) == stamps[i]) {
        std::filesystem::remove_all(entry.path(), ec);
      }
    }
    deleted.push_back(stamps[i]);
  }
  return deleted;
}

}  // namespace backupdrill
