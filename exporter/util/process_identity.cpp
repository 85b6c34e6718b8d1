#include "util/process_identity.h"

#include <signal.h>

#include <cerrno>
#include <fstream>
#include <sstream>

namespace backupdrill {
namespace {

std::string first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// Field 22 of /proc/<pid>/stat; the command name (field 2) may hold spaces
// and parentheses, so fields are counted from the last ')'.
std::string start_ticks(pid_t pid) {
  std::string stat = first_line("/proc/" + std::to_string(pid) + "/stat");
  auto close = stat.rfind(')');
  if (close == std::string::npos) return "";
  std::istringstream rest(stat.substr(close + 1));
  std::string field;
  for (int i = 3; i <= 22; ++i) {
    if (!(rest >> field)) return "";
  }
  return field;
}

}  // namespace

std::string process_identity(pid_t pid) {
  std::string ticks = start_ticks(pid);
  if (ticks.empty()) return "";
  return first_line("/proc/sys/kernel/random/boot_id") + ":" + ticks;
}

bool process_alive(pid_t pid, const std::string& identity) {
  if (pid <= 0) return false;
  if (::kill(pid, 0) != 0 && errno != EPERM) return false;
  return identity.empty() || process_identity(pid) == identity;
}

}  // namespace backupdrill
