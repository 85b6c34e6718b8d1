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

bool parse_timestamp_with_zone(const std::string& text, SystemTime& out) {
  if (text.size() < 20 || text.size() > 40 || (text[10] != ' ' && text[10] != 'T')) return false;
  std::tm tm{};
  const std::string date_time = text.substr(0, 10) + "T" + text.substr(11);
  const char* start = date_time.c_str();
  const char* rest = strptime(start, "%Y-%m-%dT%H:%M:%S", &tm);
  if (rest == nullptr || rest - start != 19) return false;
  out = std::chrono::system_clock::from_time_t(timegm(&tm));
  if (*rest == '.') {
    ++rest;
    long long micros = 0;
    int digits = 0;
    for (; *rest >= '0' && *rest <= '9'; ++rest, ++digits) {
      if (digits < 6) micros = micros * 10 + (*rest - '0');
    }
    if (digits == 0) return false;
    for (int d = digits; d < 6; ++d) micros *= 10;
    out += std::chrono::microseconds(micros);
  }
  if (*rest == 'Z' && rest[1] == '\0') return true;
  if (*rest != '+' && *rest != '-') return false;
  const int sign = *rest == '+' ? -1 : 1;  // +02 is two hours ahead of UTC
  ++rest;
  auto two = [&](int& v) {
    if (rest[0] < '0' || rest[0] > '9' || rest[1] < '0' || rest[1] > '9') return false;
    v = (rest[0] - '0') * 10 + (rest[1] - '0');
    rest += 2;
    return true;
  };
  int hours = 0, minutes = 0;
  if (!two(hours) || hours > 15) return false;
  if (*rest == ':') ++rest;
  if (*rest != '\0' && (!two(minutes) || minutes > 59)) return false;
  if (*rest != '\0') return false;
  out += sign * (std::chrono::hours(hours) + std::chrono::minutes(minutes));
  return true;
}

}  // namespace backupdrill
