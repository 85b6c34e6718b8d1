#include "util/duration.h"

#include <array>
#include <cctype>
#include <cstdio>

namespace backupdrill {
namespace {

struct Unit {
  std::string_view suffix;
  long long millis;
};

// Order matters twice: parsing requires units largest first, and "ms" must be
// tried before "m" when matching a suffix.
constexpr std::array<Unit, 7> kUnits{{{"y", 365LL * 24 * 3600 * 1000},
                                      {"w", 7LL * 24 * 3600 * 1000},
                                      {"d", 24LL * 3600 * 1000},
                                      {"h", 3600LL * 1000},
                                      {"m", 60LL * 1000},
                                      {"s", 1000},
                                      {"ms", 1}}};

}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  long long total = 0;
  size_t pos = 0;
  int last_unit = -1;
  while (pos < text.size()) {
    size_t start = pos;
    long long value = 0;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
      value = value * 10 + (text[pos] - '0');
      if (value > 1'000'000'000LL) return std::nullopt;
      ++pos;
    }
    if (pos == start) return std::nullopt;
    int unit = -1;
    // "ms" before "m": check the two-letter suffix first.
    if (text.substr(pos, 2) == "ms") {
      unit = 6;
    } else if (pos < text.size()) {
      for (int i = 0; i < 6; ++i) {
        if (text[pos] == kUnits[i].suffix[0]) unit = i;
      }
    }
    if (unit < 0 || unit <= last_unit) return std::nullopt;
    pos += kUnits[unit].suffix.size();
    last_unit = unit;
    total += value * kUnits[unit].millis;
  }
  return std::chrono::milliseconds(total);
}

std::string format_duration(std::chrono::milliseconds d) {
  long long ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  for (const auto& unit : kUnits) {
    if (unit.suffix == "y" || unit.suffix == "w") continue;  // keep "30d", not "4w2d"
    if (ms >= unit.millis) {
      out += std::to_string(ms / unit.millis) + std::string(unit.suffix);
      ms %= unit.millis;
    }
  }
  return out;
}

std::string humanize_seconds(double seconds) {
  char buf[64];
  if (seconds < 60) {
    std::snprintf(buf, sizeof buf, "%.2fs", seconds);
  } else if (seconds < 3600) {
    auto s = static_cast<long long>(seconds + 0.5);
    std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
  } else {
    auto m = static_cast<long long>(seconds / 60 + 0.5);
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", m / 60, m % 60);
  }
  return buf;
}

}  // namespace backupdrill
