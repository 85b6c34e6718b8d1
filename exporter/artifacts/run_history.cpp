#include "artifacts/run_history.h"

#include <algorithm>
#include <set>

#include "artifacts/artifact_files.h"
#include "log/log.h"
#include "model/run_record_json.h"
#include "util/contained_file.h"

namespace backupdrill {
namespace {

// The <ts> of backup_<ts>.dump, restore_<ts>.log, drill_summary_<ts>.json,
// ... (<ts>: 20260101T040000Z; extension: [a-z0-9]+). Checked character by
// character: file names in the folder are not ours to trust.
std::optional<std::string> stamp_of(const std::string& name) {
  std::string_view rest = name;
  bool known = false;
  for (std::string_view kind : {"backup_", "restore_", "validation_", "smoke_", "drill_summary_"}) {
    if (rest.starts_with(kind)) {
      rest.remove_prefix(kind.size());
      known = true;
      break;
    }
  }
  constexpr std::string_view kShape = "########T######Z.";  // #: a digit
  if (!known || rest.size() <= kShape.size()) return std::nullopt;
  for (size_t i = 0; i < kShape.size(); ++i) {
    bool digit = rest[i] >= '0' && rest[i] <= '9';
    if (kShape[i] == '#' ? !digit : rest[i] != kShape[i]) return std::nullopt;
  }
  for (char c : rest.substr(kShape.size())) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return std::nullopt;
  }
  return std::string(rest.substr(0, kShape.size() - 1));
}

std::optional<RunRecord> load_summary(const std::filesystem::path& file) {
  std::string why;
  auto record = read_run_summary(file, &why);
  if (!record && !why.empty()) {
    log::warn("skipping an unreadable drill summary", {{"file", file.string()}, {"error", why}});
  }
  return record;
}

}  // namespace

std::optional<RunRecord> read_run_summary(const std::filesystem::path& file, std::string* why) {
  // Opened as the files route opens a file: no link, a regular file only.
  UniqueFd fd = open_own_regular_file(file);
  if (!fd) return std::nullopt;
  try {
    auto json = nlohmann::json::parse(read_all(fd.get(), kMaxSummaryBytes, file.string()));
    return run_record_from_json(json);
  } catch (const nlohmann::json::parse_error& e) {
    // nlohmann's message quotes the bytes it last read: say where, not what.
    if (why) *why = "not JSON (a syntax error at byte " + std::to_string(e.byte) + ")";
  } catch (const std::exception& e) {
    if (why) *why = e.what();
  }
  return std::nullopt;
}

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
    auto file = folder / RunArtifactNames{stamp}.summary_json();
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) continue;
    if (auto r = load_summary(file)) runs.push_back(std::move(*r));
  }
  return runs;
}

bool is_run_stamp(std::string_view text) {
  constexpr std::string_view kShape = "########T######Z";  // #: a digit
  if (text.size() != kShape.size()) return false;
  for (size_t i = 0; i < kShape.size(); ++i) {
    bool digit = text[i] >= '0' && text[i] <= '9';
    if (kShape[i] == '#' ? !digit : text[i] != kShape[i]) return false;
  }
  return true;
}

std::optional<RunRecord> load_run(const std::filesystem::path& folder, const std::string& stamp) {
  if (!is_run_stamp(stamp)) return std::nullopt;
  auto file = folder / ("drill_summary_" + stamp + ".json");
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return std::nullopt;
  return load_summary(file);
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
    auto r = load_summary(folder / RunArtifactNames{stamp}.summary_json());
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
