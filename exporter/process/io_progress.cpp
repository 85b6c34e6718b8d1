#include "process/io_progress.h"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

namespace backupdrill {
namespace {

// The process group of /proc/<pid>/stat's process: the fifth field, counted
// after the command name's closing parenthesis (the name may hold spaces and
// parentheses of its own).
std::optional<pid_t> process_group_of(const std::filesystem::path& proc_dir) {
  std::ifstream in(proc_dir / "stat");
  std::string stat;
  if (!std::getline(in, stat)) return std::nullopt;
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(stat.substr(close + 1));
  std::string state;
  long ppid = 0, pgrp = 0;
  if (!(rest >> state >> ppid >> pgrp)) return std::nullopt;
  return static_cast<pid_t>(pgrp);
}

// rchar or wchar of /proc/<pid>/io; nullopt when it cannot be read (the
// process has gone meanwhile, or belongs to someone else).
std::optional<unsigned long long> counter_of(const std::filesystem::path& proc_dir,
                                             IoCounter counter) {
  std::ifstream in(proc_dir / "io");
  std::string line;
  const std::string_view key = counter == IoCounter::read ? "rchar: " : "wchar: ";
  while (std::getline(in, line)) {
    if (!line.starts_with(key)) continue;
    unsigned long long value = 0;
    const char* begin = line.data() + key.size();
    const char* end = line.data() + line.size();
    auto [ptr, ec] = std::from_chars(begin, end, value);
    if (ec != std::errc() || ptr != end) return std::nullopt;
    return value;
  }
  return std::nullopt;
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

std::optional<unsigned long long> process_group_io(pid_t group, IoCounter counter) {
  if (group <= 0) return std::nullopt;
  std::error_code ec;
  std::filesystem::directory_iterator it("/proc", ec), end;
  if (ec) return std::nullopt;
  bool found = false;
  unsigned long long total = 0;
  // One pass over /proc: a few hundred small reads, on demand (a page view).
  for (; it != end; it.increment(ec)) {
    if (ec) break;
    const auto& dir = it->path();
    if (!all_digits(dir.filename().native())) continue;
    if (process_group_of(dir) != group) continue;
    if (auto bytes = counter_of(dir, counter)) {
      found = true;
      total += *bytes;
    }
  }
  if (!found) return std::nullopt;
  return total;
}

}  // namespace backupdrill
