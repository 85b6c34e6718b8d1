#pragma once
// Durations in Prometheus' notation ("90s", "2h", "1h30m", "7d"), the form
// users already write in alert rules and scrape configs.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace backupdrill {

// Parses "<number><unit>" groups, units ms, s, m, h, d, w, y, largest first,
// each at most once. Returns nullopt for anything else ("2 hours", "", "5").
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// The inverse: the shortest Prometheus form, e.g. 5400000ms -> "1h30m".
std::string format_duration(std::chrono::milliseconds d);

// For people: "1.42s", "3m12s", "2h05m".
std::string humanize_seconds(double seconds);

}  // namespace backupdrill
