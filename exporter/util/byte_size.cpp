#include "util/byte_size.h"

#include <cstdio>

namespace backupdrill {

std::string human_bytes(unsigned long long bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int u = 0;
  while (value >= 1024 && u < 4) {
    value /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0) {
    std::snprintf(buf, sizeof buf, "%llu B", bytes);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f %s", value, units[u]);
  }
  return buf;
}

}  // namespace backupdrill
