// Cron schedule expressions for drill scheduling.
//
// Grammar: standard 5-field cron, "minute hour day-of-month month day-of-week", evaluated in UTC.
// Fields are separated by spaces or tabs. Each field is a comma-separated list of elements:
//   *        every value of the field
//   N        a single value
//   A-B      an inclusive range (A <= B; wrap-around ranges such as "fri-mon" are rejected)
//   */S      every S-th value starting at the field's minimum
//   A-B/S    every S-th value from A to B
//   A/S      every S-th value from A to the field's maximum (Saturday for day-of-week)
// Months accept jan..dec and weekdays sun..sat, case-insensitively, anywhere a value may appear.
// Day-of-week accepts 0-7, with both 0 and 7 meaning Sunday; a range ending in the name "sun"
// ("fri-sun") ends at 7.
// Macros: @yearly/@annually, @monthly, @weekly, @daily/@midnight, @hourly. @reboot is rejected
// because a drill schedule has to recur.
//
// Day rule (as in Vixie cron): when both day-of-month and day-of-week are restricted, a day
// matches if EITHER matches ("0 0 13 * 5" fires on every 13th and every Friday). When either of
// them starts with '*', the two are combined with AND instead, which also applies to stepped
// wildcards: "0 0 */2 * 1" fires on odd-numbered days that are Mondays, not on every odd day and
// every Monday.
//
// Steps larger than the field's span (e.g. "*/90" in the minute field) are rejected, because
// they almost always mean an interval that cron cannot express.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace backupdrill::schedule {

// Longer input is rejected before any parsing: schedules come from config files, and
// a bound keeps error messages (which quote the input) and parse time small.
inline constexpr std::size_t kMaxExpressionLength = 512;

// The proleptic Gregorian calendar (weekdays included) repeats exactly every 400 years, so any
// pattern that cron can express is periodic with this length.
inline constexpr std::chrono::days kGregorianCycle{146097};

struct CronError : std::runtime_error {
  // One of "minute", "hour", "day-of-month", "month", "day-of-week" or "expression" (for errors
  // that are not confined to one field: length, characters, field count, macros).
  std::string field;

  CronError(std::string field_name, const std::string& message)
      : std::runtime_error(message), field(std::move(field_name)) {}
};

class CronExpression {
 public:
  // Throws CronError whose message names the field and what was expected, e.g.
  //   hour field "25": value 25 out of range 0-23
  static CronExpression parse(std::string_view text);

  // The first fire time strictly after t, in UTC, on a whole minute. Returns nullopt only when the
  // expression never fires at all (e.g. "0 0 30 2 *") or the next fire time would fall after
  // 9999-12-31. Times before 0001-01-01 are treated as 0001-01-01. Runs in time bounded by
  // a 400-year scan at month granularity, whatever the expression.
  std::optional<std::chrono::sys_seconds> next_after(std::chrono::sys_seconds t) const;

  // The longest gap between two consecutive fire times, over all time (computed exactly over one
  // 400-year Gregorian cycle, including the gap that wraps into the next cycle). For example
  // "0 4 * * 0" -> 7 days, "@daily" -> 1 day, "0 0 31 * *" -> 61 days, and "0 0 29 2 *" -> 8 years
  // (2096-02-29 to 2104-02-29, as 2100 is not a leap year). An expression that never fires
  // reports kGregorianCycle; check next_after() to tell it apart.
  std::chrono::seconds longest_interval() const { return longest_interval_; }

  // The text exactly as passed to parse().
  const std::string& text() const { return text_; }

 private:
  CronExpression() = default;

  void precompute();
  // Minute of the day (0-1439) of the first fire time at or after `minute_of_day` on a day that
  // matches; nullopt when there is none left that day.
  std::optional<int> first_time_at_or_after(int minute_of_day) const;
  std::uint32_t day_mask(std::chrono::year y, std::chrono::month m) const;

  std::string text_;
  std::uint64_t minutes_ = 0;        // bit n: minute n (0-59)
  std::uint32_t hours_ = 0;          // bit n: hour n (0-23)
  std::uint32_t days_of_month_ = 0;  // bit n: day n (1-31)
  std::uint16_t months_ = 0;         // bit n: month n (1-12)
  std::uint8_t days_of_week_ = 0;    // bit n: weekday n (0-6, Sunday = 0)
  bool dom_star_ = false;            // day-of-month field starts with '*'
  bool dow_star_ = false;            // day-of-week field starts with '*'

  // Matching days of a month, as bit n for day n, indexed by [month length - 28][weekday of the
  // 1st]. These 28 combinations are all a month can be, so the day rule is evaluated only here
  // and scans move a month at a time.
  std::array<std::array<std::uint32_t, 7>, 4> day_masks_{};
  int first_time_ = 0;  // minute of the day of a matching day's first fire time
  int last_time_ = 0;   // ... and of its last
  bool never_fires_ = true;
  std::chrono::seconds longest_interval_{};
};

}  // namespace backupdrill::schedule
