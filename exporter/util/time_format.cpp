#include "util/time_format.h"

#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace backupdrill {
namespace {

std::tm utc_tm(SystemTime t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return tm;
}

}  // namespace

std::string compact_utc(SystemTime t) {
  std::tm tm = utc_tm(t);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string iso8601_utc(SystemTime t) {
  std::tm tm = utc_tm(t);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
  if (ms < 0) ms += 1000;
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03lldZ", buf, static_cast<long long>(ms));
  return out;
}

double unix_seconds(SystemTime t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

SystemTime from_unix_seconds(double s) {
  return SystemTime(
      std::chrono::duration_cast<SystemTime::duration>(std::chrono::duration<double>(s)));
}

bool parse_compact_utc(const std::string& text, SystemTime& out) {
  std::tm tm{};
  if (text.size() != 16 || strptime(text.c_str(), "%Y%m%dT%H%M%SZ", &tm) == nullptr) return false;
  out = std::chrono::system_clock::from_time_t(timegm(&tm));
  return true;
}

bool parse_iso8601_utc(const std::string& text, SystemTime& out) {
  std::tm tm{};
  const char* rest = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (rest == nullptr) return false;
  out = std::chrono::system_clock::from_time_t(timegm(&tm));
  if (*rest == '.') out += std::chrono::milliseconds(std::atoi(rest + 1));
  return true;
}

}  // namespace backupdrill
