#pragma once
#include <chrono>
#include <string>

namespace backupdrill {

using SystemTime = std::chrono::system_clock::time_point;

// "20261124T040000Z": the artifact name stamp of the runbook.
std::string compact_utc(SystemTime t);
// "2026-11-24T04:00:00.123Z": for logs, summaries and JSON.
std::string iso8601_utc(SystemTime t);
// Seconds since the epoch, with fractions, as Prometheus wants timestamps.
double unix_seconds(SystemTime t);
SystemTime from_unix_seconds(double s);
// Parses the compact stamp back; nullopt-like epoch on failure is avoided by
// returning false.
bool parse_compact_utc(const std::string& text, SystemTime& out);
// Parses iso8601_utc()'s form back (milliseconds optional); false on failure.
bool parse_iso8601_utc(const std::string& text, SystemTime& out);
// A time with its zone as PostgreSQL and pgBackRest take it:
// "2026-11-29 03:00:00+00", "...03:00:00.5+02:00", "...T03:00:00Z" (a zone is
// required: a recovery target without one would depend on the server's).
bool parse_timestamp_with_zone(const std::string& text, SystemTime& out);

}  // namespace backupdrill
