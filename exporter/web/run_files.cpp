#include "web/run_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "util/contained_file.h"

namespace backupdrill {
namespace {

bool is_dump(const RunRecord& run, const std::string& name) {
  return name == "backup_" + run.run_id + ".dump" || name.ends_with(".dump");
}

ServedFile refused(int status, std::string why) { return {status, std::move(why) + "\n"}; }

}  // namespace

bool is_plain_file_name(std::string_view name) {
  if (name.empty() || name.size() > 255 || name.front() == '.') return false;
  if (name.find("..") != std::string_view::npos) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

std::vector<std::string> servable_files(const RunRecord& run) {
  std::vector<std::string> names;
  auto add = [&](const std::string& name) {
    if (!is_plain_file_name(name) || is_dump(run, name)) return;
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  };
  for (const auto& a : run.artifacts) add(a.name);
  if (!run.in_progress) add("drill_summary_" + run.run_id + ".md");
  add("drill_summary_" + run.run_id + ".json");
  return names;
}

ServedFile read_run_file(const std::filesystem::path& folder, const RunRecord& run,
                         const std::string& name, size_t max_bytes) {
  const auto names = servable_files(run);
  if (!is_plain_file_name(name) || std::find(names.begin(), names.end(), name) == names.end()) {
    return refused(404, "run " + run.run_id + " has no text file of that name");
  }
  // O_NOFOLLOW and the S_ISREG test: a link or a folder planted under a
  // listed name is not followed.
  const auto path = folder / name;
  UniqueFd fd = open_own_regular_file(path);
  if (!fd) {
    std::error_code ec;
    if (std::filesystem::exists(std::filesystem::symlink_status(path, ec))) {
      return refused(404, "run " + run.run_id + " has no text file of that name");
    }
    return refused(404, "the file " + name + " is no longer there (retention?)");
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return refused(404, "the file " + name + " cannot be read");
  if (static_cast<unsigned long long>(st.st_size) > max_bytes) {
    return refused(413, "the file " + name + " has " + std::to_string(st.st_size) +
                            " bytes, more than the " + std::to_string(max_bytes) +
                            " served over HTTP: read it in the drill's artifact folder");
  }
  ServedFile out;
  try {
    out.body = read_all(fd.get(), max_bytes, name);
  } catch (const std::runtime_error&) {
    return refused(413, "the file " + name + " grew past the " + std::to_string(max_bytes) +
                            " bytes served over HTTP: read it in the drill's artifact folder");
  }
  return out;
}

}  // namespace backupdrill
