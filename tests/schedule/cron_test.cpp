#include "schedule/cron.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace chr = std::chrono;
using backupdrill::schedule::CronError;
using backupdrill::schedule::CronExpression;
using backupdrill::schedule::kGregorianCycle;
using chr::sys_seconds;

sys_seconds at(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
  return chr::sys_days{chr::year{y} / mo / d} + chr::hours{h} + chr::minutes{mi} + chr::seconds{s};
}

std::string fmt(std::optional<sys_seconds> t) {
  if (!t) return "nullopt";
  const auto day = chr::floor<chr::days>(*t);
  const chr::year_month_day ymd{day};
  const chr::hh_mm_ss hms{*t - day};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02ld:%02ld:%02ld", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<long>(hms.hours().count()), static_cast<long>(hms.minutes().count()),
                static_cast<long>(hms.seconds().count()));
  return buf;
}

// Compares formatted times so a failure shows readable dates instead of epoch seconds.
#define EXPECT_NEXT(expr_text, from, expected) \
  EXPECT_EQ(fmt(CronExpression::parse(expr_text).next_after(from)), fmt(expected)) << (expr_text)

std::vector<sys_seconds> fires(const CronExpression& expr, sys_seconds from, int n) {
  std::vector<sys_seconds> out;
  for (int i = 0; i < n; ++i) {
    const auto next = expr.next_after(from);
    if (!next) break;
    out.push_back(*next);
    from = *next;
  }
  return out;
}

std::vector<std::string> fire_strings(std::string_view text, sys_seconds from, int n) {
  std::vector<std::string> out;
  for (sys_seconds t : fires(CronExpression::parse(text), from, n)) out.push_back(fmt(t));
  return out;
}

unsigned weekday_of(sys_seconds t) { return chr::weekday{chr::floor<chr::days>(t)}.c_encoding(); }

// ---------------------------------------------------------------------------------------------
// The runbook's schedule and basic stepping.

TEST(CronNextAfter, RunbookSundayAt0400) {
  const char* kRunbook = "0 4 * * 0";
  EXPECT_NEXT(kRunbook, at(2025, 1, 1), at(2025, 1, 5, 4));              // Wednesday -> Sunday
  EXPECT_NEXT(kRunbook, at(2025, 1, 4, 23, 59, 59), at(2025, 1, 5, 4));  // Saturday night
  EXPECT_NEXT(kRunbook, at(2025, 1, 5), at(2025, 1, 5, 4));              // Sunday, before 04:00
  EXPECT_NEXT(kRunbook, at(2025, 1, 5, 3, 59, 59), at(2025, 1, 5, 4));
  EXPECT_NEXT(kRunbook, at(2025, 1, 5, 4), at(2025, 1, 12, 4));  // strictly after
  EXPECT_NEXT(kRunbook, at(2025, 1, 5, 4, 0, 1), at(2025, 1, 12, 4));
  EXPECT_NEXT(kRunbook, at(2025, 1, 5, 4, 1), at(2025, 1, 12, 4));
  EXPECT_NEXT(kRunbook, at(2025, 12, 28, 4), at(2026, 1, 4, 4));  // across the year end
  EXPECT_NEXT(kRunbook, at(1969, 12, 27), at(1969, 12, 28, 4));   // before the Unix epoch
  EXPECT_NEXT(kRunbook, at(2000, 1, 1), at(2000, 1, 2, 4));

  const auto expr = CronExpression::parse(kRunbook);
  sys_seconds prev = at(2024, 3, 1);
  for (sys_seconds t : fires(expr, prev, 300)) {
    EXPECT_EQ(weekday_of(t), 0u) << fmt(t);
    EXPECT_EQ(chr::floor<chr::days>(t) + chr::hours{4}, t) << fmt(t);
    EXPECT_GT(t, prev);
    prev = t;
  }
  EXPECT_EQ(fires(expr, at(2024, 3, 1), 300).size(), 300u);
}

TEST(CronNextAfter, SubMinuteInputsRoundToTheNextWholeMinute) {
  EXPECT_NEXT("* * * * *", at(2025, 3, 1, 10, 0, 0), at(2025, 3, 1, 10, 1));
  EXPECT_NEXT("* * * * *", at(2025, 3, 1, 10, 0, 59), at(2025, 3, 1, 10, 1));
  EXPECT_NEXT("* * * * *", at(2025, 3, 1, 23, 59, 30), at(2025, 3, 2, 0, 0));
  EXPECT_NEXT("* * * * *", at(1960, 1, 1, 0, 0, 30), at(1960, 1, 1, 0, 1));
}

TEST(CronNextAfter, MonthEndsSkipShortMonths) {
  EXPECT_NEXT("0 0 31 * *", at(2025, 4, 1), at(2025, 5, 31));
  EXPECT_NEXT("0 0 31 * *", at(2025, 5, 31), at(2025, 7, 31));
  EXPECT_NEXT("0 0 31 * *", at(2025, 7, 31), at(2025, 8, 31));
  EXPECT_NEXT("0 0 31 * *", at(2025, 8, 31), at(2025, 10, 31));
  EXPECT_NEXT("0 0 31 * *", at(2025, 12, 31), at(2026, 1, 31));
  EXPECT_NEXT("0 0 31 * *", at(2026, 1, 31), at(2026, 3, 31));
  EXPECT_NEXT("30 12 30 * *", at(2025, 2, 1), at(2025, 3, 30, 12, 30));
  EXPECT_NEXT("0 0 31 4,6,9,11 *", at(2025, 1, 1), std::nullopt);
  EXPECT_NEXT("0 0 30 2 *", at(2025, 1, 1), std::nullopt);
  EXPECT_NEXT("0 0 31 2,4 *", at(2025, 1, 1), std::nullopt);
}

TEST(CronNextAfter, LeapYears) {
  EXPECT_NEXT("0 0 29 2 *", at(2025, 1, 1), at(2028, 2, 29));
  EXPECT_NEXT("0 0 29 2 *", at(2024, 2, 29), at(2028, 2, 29));
  EXPECT_NEXT("0 0 29 2 *", at(2024, 2, 28, 23, 59), at(2024, 2, 29));
  // 2100 is not a leap year, so the gap here is eight years.
  EXPECT_NEXT("0 0 29 2 *", at(2096, 3, 1), at(2104, 2, 29));
  EXPECT_NEXT("0 0 29 2 *", at(1999, 1, 1), at(2000, 2, 29));  // 2000 is (divisible by 400)
  EXPECT_NEXT("0 0 * 2 *", at(2024, 2, 28, 0, 0), at(2024, 2, 29));
  EXPECT_NEXT("0 0 * 2 *", at(2023, 2, 28, 0, 0), at(2024, 2, 1));
  EXPECT_NEXT("0 0 * 3 *", at(2024, 2, 28, 0, 0), at(2024, 3, 1));
}

TEST(CronNextAfter, YearRollover) {
  EXPECT_NEXT("0 0 1 1 *", at(2025, 12, 31, 23, 59, 59), at(2026, 1, 1));
  EXPECT_NEXT("0 0 1 1 *", at(2026, 1, 1), at(2027, 1, 1));
  EXPECT_NEXT("59 23 31 12 *", at(2025, 12, 31, 23, 59), at(2026, 12, 31, 23, 59));
  EXPECT_NEXT("59 23 31 12 *", at(2025, 12, 31, 23, 58, 59), at(2025, 12, 31, 23, 59));
  EXPECT_NEXT("*/30 * * * *", at(2025, 12, 31, 23, 45), at(2026, 1, 1, 0, 0));
}

TEST(CronNextAfter, DayOfMonthOrDayOfWeekWhenBothRestricted) {
  EXPECT_EQ(
      fire_strings("0 0 13 * 5", at(2025, 1, 1), 8),
      (std::vector<std::string>{"2025-01-03 00:00:00", "2025-01-10 00:00:00", "2025-01-13 00:00:00",
                                "2025-01-17 00:00:00", "2025-01-24 00:00:00", "2025-01-31 00:00:00",
                                "2025-02-07 00:00:00", "2025-02-13 00:00:00"}));
  // The same with names and with 7 for Sunday in the mix.
  const auto expr = CronExpression::parse("0 0 13 * 5");
  for (sys_seconds t : fires(expr, at(2024, 1, 1), 500)) {
    const chr::year_month_day ymd{chr::floor<chr::days>(t)};
    EXPECT_TRUE(static_cast<unsigned>(ymd.day()) == 13 || weekday_of(t) == 5) << fmt(t);
  }
  // A plain 1-31 counts as restricted, so OR makes this fire every day.
  EXPECT_EQ(CronExpression::parse("0 0 1-31 * 1").longest_interval(), chr::days{1});
}

TEST(CronNextAfter, StarPrefixedDayFieldsUseAndLikeVixieCron) {
  // Day-of-week alone restricts when day-of-month is '*'.
  EXPECT_EQ(fire_strings("0 0 * * 1", at(2025, 1, 1), 2),
            (std::vector<std::string>{"2025-01-06 00:00:00", "2025-01-13 00:00:00"}));
  // Day-of-month alone restricts when day-of-week is '*'.
  EXPECT_EQ(fire_strings("0 0 15 * *", at(2025, 1, 1), 2),
            (std::vector<std::string>{"2025-01-15 00:00:00", "2025-02-15 00:00:00"}));
  // "*/2" starts with '*': odd days AND Mondays, not odd days OR Mondays.
  EXPECT_EQ(fire_strings("0 0 */2 * 1", at(2025, 1, 1), 6),
            (std::vector<std::string>{"2025-01-13 00:00:00", "2025-01-27 00:00:00",
                                      "2025-02-03 00:00:00", "2025-02-17 00:00:00",
                                      "2025-03-03 00:00:00", "2025-03-17 00:00:00"}));
  // Likewise a stepped day-of-week: 13ths that fall on Sun/Tue/Thu/Sat.
  for (sys_seconds t : fires(CronExpression::parse("0 0 13 * */2"), at(2025, 1, 1), 40)) {
    const chr::year_month_day ymd{chr::floor<chr::days>(t)};
    EXPECT_EQ(static_cast<unsigned>(ymd.day()), 13u) << fmt(t);
    EXPECT_EQ(weekday_of(t) % 2, 0u) << fmt(t);
  }
}

TEST(CronNextAfter, NamesAreCaseInsensitiveAndEqualToNumbers) {
  const sys_seconds from = at(2025, 5, 17, 13, 7);
  const std::vector<std::pair<std::string, std::string>> same = {
      {"0 12 * * mon-fri", "0 12 * * 1-5"},  {"0 12 * * MON-FRI", "0 12 * * 1-5"},
      {"0 12 * * Sun,wEd", "0 12 * * 0,3"},  {"0 0 1 jan,JUL *", "0 0 1 1,7 *"},
      {"0 0 1 Feb-Apr *", "0 0 1 2-4 *"},    {"0 0 * * sat-sun", "0 0 * * 6,0"},
      {"0 0 1 jan/3 *", "0 0 1 1,4,7,10 *"}, {"0 0 * * mon/2", "0 0 * * 1,3,5"},
  };
  for (const auto& [named, numeric] : same) {
    EXPECT_EQ(fire_strings(named, from, 30), fire_strings(numeric, from, 30)) << named;
  }
  EXPECT_NEXT("0 12 * * mon-fri", at(2025, 1, 4), at(2025, 1, 6, 12));  // Sat -> Mon
  EXPECT_NEXT("0 0 1 dec *", at(2025, 1, 1), at(2025, 12, 1));
}

TEST(CronNextAfter, MacrosMatchTheirExpansion) {
  const sys_seconds from = at(2025, 7, 19, 8, 30);
  const std::vector<std::pair<std::string, std::string>> same = {
      {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
      {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
      {"@hourly", "0 * * * *"}, {"@DAILY", "0 0 * * *"},    {"  @Weekly\t", "0 0 * * 0"},
  };
  for (const auto& [macro, expansion] : same) {
    EXPECT_EQ(fire_strings(macro, from, 20), fire_strings(expansion, from, 20)) << macro;
  }
  EXPECT_NEXT("@hourly", at(2025, 7, 19, 8, 30), at(2025, 7, 19, 9));
  EXPECT_NEXT("@daily", at(2025, 7, 19, 8, 30), at(2025, 7, 20));
  EXPECT_NEXT("@weekly", at(2025, 7, 19, 8, 30), at(2025, 7, 20));  // Saturday -> Sunday
  EXPECT_NEXT("@monthly", at(2025, 7, 19, 8, 30), at(2025, 8, 1));
  EXPECT_NEXT("@yearly", at(2025, 7, 19, 8, 30), at(2026, 1, 1));
  EXPECT_EQ(CronExpression::parse("  @Weekly\t").text(), "  @Weekly\t");
}

TEST(CronNextAfter, Steps) {
  EXPECT_EQ(
      fire_strings("*/15 * * * *", at(2025, 1, 1, 10, 50), 5),
      (std::vector<std::string>{"2025-01-01 11:00:00", "2025-01-01 11:15:00", "2025-01-01 11:30:00",
                                "2025-01-01 11:45:00", "2025-01-01 12:00:00"}));
  EXPECT_EQ(fire_strings("5/20 * * * *", at(2025, 1, 1, 10, 50), 4),
            (std::vector<std::string>{"2025-01-01 11:05:00", "2025-01-01 11:25:00",
                                      "2025-01-01 11:45:00", "2025-01-01 12:05:00"}));
  EXPECT_EQ(fire_strings("10-30/10 * * * *", at(2025, 1, 1, 10, 25), 4),
            (std::vector<std::string>{"2025-01-01 10:30:00", "2025-01-01 11:10:00",
                                      "2025-01-01 11:20:00", "2025-01-01 11:30:00"}));
  EXPECT_EQ(fire_strings("0 */6 * * *", at(2025, 1, 1, 1), 4),
            (std::vector<std::string>{"2025-01-01 06:00:00", "2025-01-01 12:00:00",
                                      "2025-01-01 18:00:00", "2025-01-02 00:00:00"}));
  EXPECT_EQ(fire_strings("0 0 */10 * *", at(2025, 1, 1, 1), 4),
            (std::vector<std::string>{"2025-01-11 00:00:00", "2025-01-21 00:00:00",
                                      "2025-01-31 00:00:00", "2025-02-01 00:00:00"}));
  EXPECT_EQ(fire_strings("0 0 1 */5 *", at(2025, 1, 1, 1), 3),
            (std::vector<std::string>{"2025-06-01 00:00:00", "2025-11-01 00:00:00",
                                      "2026-01-01 00:00:00"}));
  // Weekday steps start at Sunday: Sun, Tue, Thu, Sat.
  std::vector<unsigned> weekdays;
  for (sys_seconds t : fires(CronExpression::parse("0 0 * * */2"), at(2025, 1, 5), 8)) {
    weekdays.push_back(weekday_of(t));
  }
  EXPECT_EQ(weekdays, (std::vector<unsigned>{2, 4, 6, 0, 2, 4, 6, 0}));
  // A step as large as the field is allowed and selects only the start.
  EXPECT_EQ(fire_strings("*/60 * * * *", at(2025, 1, 1, 10, 50), 2),
            fire_strings("0 * * * *", at(2025, 1, 1, 10, 50), 2));
  // Lists mix every element form.
  EXPECT_EQ(fire_strings("1,2-3,*/20,50/5 * * * *", at(2025, 1, 1, 10, 0), 9),
            (std::vector<std::string>{
                "2025-01-01 10:01:00", "2025-01-01 10:02:00", "2025-01-01 10:03:00",
                "2025-01-01 10:20:00", "2025-01-01 10:40:00", "2025-01-01 10:50:00",
                "2025-01-01 10:55:00", "2025-01-01 11:00:00", "2025-01-01 11:01:00"}));
}

TEST(CronNextAfter, SevenIsSunday) {
  const sys_seconds from = at(2025, 2, 3);
  const auto sunday = fire_strings("0 0 * * 0", from, 20);
  EXPECT_EQ(fire_strings("0 0 * * 7", from, 20), sunday);
  EXPECT_EQ(fire_strings("0 0 * * sun", from, 20), sunday);
  EXPECT_EQ(fire_strings("0 0 * * 0,7", from, 20), sunday);
  EXPECT_EQ(fire_strings("0 0 * * 7/3", from, 20), sunday);
  EXPECT_EQ(fire_strings("0 0 * * 5-7", from, 30), fire_strings("0 0 * * 0,5,6", from, 30));
  EXPECT_EQ(fire_strings("0 0 * * 0-7", from, 30), fire_strings("0 0 * * *", from, 30));
}

TEST(CronNextAfter, WhitespaceBetweenFieldsIsFlexible) {
  EXPECT_EQ(fire_strings(" \t0   4\t* *  0 ", at(2025, 1, 1), 5),
            fire_strings("0 4 * * 0", at(2025, 1, 1), 5));
}

TEST(CronNextAfter, ExtremeInputTimes) {
  const auto every = CronExpression::parse("* * * * *");
  EXPECT_EQ(fmt(every.next_after(sys_seconds::min())), "0001-01-01 00:00:00");
  EXPECT_EQ(every.next_after(sys_seconds::max()), std::nullopt);
  EXPECT_EQ(every.next_after(at(9999, 12, 31, 23, 59)), std::nullopt);
  EXPECT_EQ(fmt(every.next_after(at(9999, 12, 31, 23, 58))), "9999-12-31 23:59:00");
  EXPECT_EQ(CronExpression::parse("0 0 1 1 *").next_after(at(9999, 6, 1)), std::nullopt);
  EXPECT_EQ(fmt(CronExpression::parse("0 0 1 1 *").next_after(at(-5000, 1, 1))),
            "0001-01-01 00:00:00");
}

TEST(CronNextAfter, PathologicalExpressionsStayBounded) {
  // Each call scans at most one Gregorian cycle a month at a time; 2,000 calls of the slowest
  // kinds must finish quickly even unoptimised (the ctest timeout catches a regression).
  const std::vector<std::string> slow = {"0 0 30 2 *", "0 0 */29 2 1", "59 23 31 12 6",
                                         "0 0 29 2 */7", "0 0 31 4,6,9,11 *"};
  for (const auto& text : slow) {
    const auto expr = CronExpression::parse(text);
    sys_seconds t = at(1990, 1, 1);
    for (int i = 0; i < 400; ++i) {
      const auto next = expr.next_after(t);
      if (next) {
        ASSERT_GT(*next, t);
        t = *next;
      } else {
        t += chr::days{1000};
      }
    }
  }
  // "*/7" is Sunday only but starts with '*', so this is Feb 29 AND Sunday: 28 years apart,
  // 40 across 2100, which is not a leap year.
  EXPECT_NEXT("0 0 29 2 */7", at(2089, 3, 1), at(2128, 2, 29));
}

// ---------------------------------------------------------------------------------------------
// longest_interval

TEST(CronLongestInterval, CommonSchedules) {
  using chr::days;
  using chr::hours;
  using chr::minutes;
  const std::vector<std::pair<std::string, chr::seconds>> cases = {
      {"0 4 * * 0", days{7}},
      {"@weekly", days{7}},
      {"@daily", days{1}},
      {"0 3 * * *", days{1}},
      {"@hourly", hours{1}},
      {"* * * * *", minutes{1}},
      {"*/7 * * * *", minutes{7}},  // 56 -> 0 is only 4 minutes
      {"0,50 * * * *", minutes{50}},
      {"0 9,17 * * 1-5", hours{64}},  // Friday 17:00 -> Monday 09:00
      {"0 0 13 * 5", days{7}},
      {"@monthly", days{31}},
      {"0 0 31 * *", days{61}},  // Aug 31 -> Oct 31
      {"0 0 29 * *", days{59}},  // Jan 29 -> Mar 29 in common years
      {"@yearly", days{366}},
      {"0 0 29 2 *", days{8 * 365 + 1}},  // 2096-02-29 -> 2104-02-29
      {"30 2 * * 6,0", days{6}},          // Sunday -> Saturday
      {"0 22 * * *", days{1}},
      {"0 1,23 * * *", hours{22}},
      {"0 0 30 2 *", kGregorianCycle},  // never fires
  };
  for (const auto& [text, expected] : cases) {
    EXPECT_EQ(CronExpression::parse(text).longest_interval().count(), expected.count()) << text;
  }
}

// ---------------------------------------------------------------------------------------------
// Errors

struct BadCase {
  std::string text;
  std::string field;
  std::string message_part;
};

TEST(CronParse, RejectsInvalidExpressionsNamingTheField) {
  const std::vector<BadCase> cases = {
      // Shape of the whole expression.
      {"", "expression", "empty"},
      {" \t ", "expression", "empty"},
      {"* * * *", "expression", "has 4 fields; expected 5"},
      {"*", "expression", "has 1 field;"},
      {"* * * * * *", "expression", "seconds and year fields are not supported"},
      {"0 0 0 * * * 2025", "expression", "has 7 fields"},
      {"0 0 * * *\n", "expression", "invalid character '\\x0a' at offset 9"},
      {std::string("0 0 * * *\0", 10), "expression", "invalid character '\\x00'"},
      {"0 0 * * \xc3\xa9", "expression", "invalid character '\\xc3'"},
      {"0\r0 * * *", "expression", "'\\x0d'"},
      {std::string(600, '*'), "expression", "600 bytes long; at most 512"},
      {"@reboot", "expression", "@reboot is not supported"},
      {"@REBOOT", "expression", "not supported"},
      {"@fortnightly", "expression", "unknown macro \"@fortnightly\""},
      {"@", "expression", "unknown macro"},
      {"@daily 0", "expression", "takes no further fields"},
      {"@1 * * * *", "expression", "unknown macro"},
      {"0 @daily", "expression", "has 2 fields"},
      // Out of range.
      {"60 * * * *", "minute", "value 60 out of range 0-59"},
      {"* 24 * * *", "hour", "value 24 out of range 0-23"},
      {"* * 0 * *", "day-of-month", "value 0 out of range 1-31"},
      {"* * 32 * *", "day-of-month", "value 32 out of range 1-31"},
      {"* * * 0 *", "month", "value 0 out of range 1-12"},
      {"* * * 13 *", "month", "value 13 out of range 1-12"},
      {"* * * * 8", "day-of-week", "value 8 out of range 0-7"},
      {"0-60 * * * *", "minute", "value 60 out of range"},
      {"99999999999999999999 * * * *", "minute", "value 99999999999999999999 out of range"},
      {"1,2,3,77 * * * *", "minute", "value 77"},
      // Reversed ranges.
      {"5-1 * * * *", "minute", "range 5-1 is reversed"},
      {"* 23-1 * * *", "hour", "range 23-1 is reversed"},
      {"* * * dec-jan *", "month", "range dec-jan is reversed"},
      {"* * * * 7-0", "day-of-week", "reversed"},
      {"* * * * fri-mon", "day-of-week", "wrap-around ranges are not supported"},
      {"* * * * 6-0", "day-of-week", "range 6-0 is reversed"},
      // Steps.
      {"*/0 * * * *", "minute", "step 0 is invalid"},
      {"1-5/0 * * * *", "minute", "step 0"},
      {"* */00 * * *", "hour", "step 00 is invalid"},
      {"*/61 * * * *", "minute", "step 61 out of range 1-60"},
      {"* */25 * * *", "hour", "step 25 out of range 1-24"},
      {"* * */32 * *", "day-of-month", "step 32 out of range 1-31"},
      {"* * * */13 *", "month", "step 13 out of range 1-12"},
      {"* * * * */8", "day-of-week", "step 8 out of range 1-7"},
      {"*/ * * * *", "minute", "missing step after '/'"},
      {"*/x * * * *", "minute", "unexpected character 'x' after '/'"},
      {"*/-1 * * * *", "minute", "after '/'"},
      {"1/2/3 * * * *", "minute", "unexpected character '/'"},
      {"* * * jan/feb *", "month", "after '/'"},
      // Lists.
      {"1, * * * *", "minute", "trailing comma"},
      {",1 * * * *", "minute", "leading comma"},
      {"1,,2 * * * *", "minute", "consecutive commas"},
      {", * * * *", "minute", "leading comma"},
      {"* * * * mon,", "day-of-week", "trailing comma"},
      // Garbage and unsupported syntax from other cron dialects.
      {"1x * * * *", "minute", "unexpected character 'x'"},
      {"? * * * *", "minute", "unexpected character '?'"},
      {"* mon * * *", "hour", "unexpected \"mon\"; expected a number 0-23"},
      {"* * L * *", "day-of-month", "unexpected \"L\""},
      {"* * 15W * *", "day-of-month", "unexpected character 'W'"},
      {"* * * * 5#3", "day-of-week", "unexpected character '#'"},
      {"* * * * 5L", "day-of-week", "unexpected character 'L'"},
      {"* * * foo *", "month", "unknown name \"foo\"; expected a number 1-12 or a name jan-dec"},
      {"* * * january *", "month", "unknown name \"january\""},
      {"* * * * monday", "day-of-week", "unknown name \"monday\""},
      {"* * * * mon1", "day-of-week", "unexpected character '1'"},
      {"*-5 * * * *", "minute", "unexpected character '-' after '*'"},
      {"** * * * *", "minute", "after '*'"},
      {"5- * * * *", "minute", "missing value after '-'"},
      {"-5 * * * *", "minute", "unexpected character '-' at the start of a list element"},
      {"1-2-3 * * * *", "minute", "unexpected character '-'"},
      {"1--3 * * * *", "minute", "unexpected character '-' after '-'"},
      {"+1 * * * *", "minute", "unexpected character '+'"},
      {"1.5 * * * *", "minute", "unexpected character '.'"},
      {"* * * * 1-", "day-of-week", "missing value after '-'"},
  };
  for (const auto& c : cases) {
    try {
      CronExpression::parse(c.text);
      ADD_FAILURE() << "accepted: \"" << c.text << "\"";
    } catch (const CronError& e) {
      EXPECT_EQ(e.field, c.field) << c.text << " -> " << e.what();
      EXPECT_NE(std::string(e.what()).find(c.message_part), std::string::npos)
          << c.text << " -> " << e.what();
      if (c.field != "expression") {
        EXPECT_EQ(std::string(e.what()).rfind(c.field + " field \"", 0), 0u) << e.what();
      }
    }
  }
}

TEST(CronParse, ExactMessages) {
  const auto message = [](std::string_view text) -> std::string {
    try {
      CronExpression::parse(text);
    } catch (const CronError& e) {
      return e.what();
    }
    return "accepted";
  };
  EXPECT_EQ(message("0 25 * * *"), "hour field \"25\": value 25 out of range 0-23");
  EXPECT_EQ(message("0 1,25 * * *"), "hour field \"1,25\": value 25 out of range 0-23");
  EXPECT_EQ(message("*/0 * * * *"),
            "minute field \"*/0\": step 0 is invalid; expected a step 1-60");
  EXPECT_EQ(message("0 0 * * 1,"), "day-of-week field \"1,\": empty list element (trailing comma)");
  EXPECT_EQ(message("0 0 * *"),
            "cron expression \"0 0 * *\" has 4 fields; expected 5 (minute hour day-of-month "
            "month day-of-week)");
  EXPECT_EQ(message("@reboot"),
            "@reboot is not supported: drills need a recurring schedule (use e.g. @daily or "
            "\"0 4 * * 0\")");
}

TEST(CronParse, ErrorIsARuntimeError) {
  EXPECT_THROW(CronExpression::parse("bogus"), std::runtime_error);
  EXPECT_THROW(CronExpression::parse("0 4 * * 0 0"), CronError);
}

TEST(CronParse, AcceptsBoundaryValuesAndKeepsText) {
  for (const char* text :
       {"59 23 31 12 7", "0 0 1 1 0", "0-59 0-23 1-31 1-12 0-7", "*/1 */1 */1 */1 */1",
        "*/60 */24 */31 */12 */7", "00 04 01 01 00", "0 4 * * SUN", "0\t4\t*\t*\t0"}) {
    EXPECT_NO_THROW(CronExpression::parse(text)) << text;
    EXPECT_EQ(CronExpression::parse(text).text(), text);
  }
  std::string long_but_ok = "0";
  for (int i = 1; i < 60; ++i) long_but_ok += "," + std::to_string(i);
  long_but_ok += " * * * *";
  ASSERT_LE(long_but_ok.size(), backupdrill::schedule::kMaxExpressionLength);
  EXPECT_EQ(CronExpression::parse(long_but_ok).longest_interval(), chr::minutes{1});
}

// ---------------------------------------------------------------------------------------------
// Brute-force reference: an independent parser for valid expressions and a scan that checks
// every minute of each day whose date matches.

struct Reference {
  std::array<bool, 60> minute{};
  std::array<bool, 24> hour{};
  std::array<bool, 32> dom{};
  std::array<bool, 13> month{};
  std::array<bool, 7> dow{};
  bool dom_star = false;
  bool dow_star = false;
};

int reference_value(const std::string& s, const std::vector<std::string>& names, int base) {
  if (std::isdigit(static_cast<unsigned char>(s[0]))) return std::stoi(s);
  std::string lower;
  for (char c : s) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const auto it = std::find(names.begin(), names.end(), lower);
  return base + static_cast<int>(it - names.begin());
}

template <std::size_t N>
void reference_field(const std::string& field, int min, int wildcard_max,
                     const std::vector<std::string>& names, std::array<bool, N>& out,
                     bool fold_seven) {
  std::stringstream list(field);
  std::string element;
  while (std::getline(list, element, ',')) {
    std::string range = element;
    int step = 1;
    const auto slash = element.find('/');
    if (slash != std::string::npos) {
      range = element.substr(0, slash);
      step = std::stoi(element.substr(slash + 1));
    }
    int lo = min;
    int hi = wildcard_max;
    if (range != "*") {
      const auto dash = range.find('-');
      if (dash == std::string::npos) {
        lo = reference_value(range, names, min);
        hi = slash == std::string::npos ? lo : std::max(lo, wildcard_max);
      } else {
        lo = reference_value(range.substr(0, dash), names, min);
        hi = reference_value(range.substr(dash + 1), names, min);
        if (fold_seven && hi == 0 && lo > 0) hi = 7;  // only reachable through "sun"
      }
    }
    // at(): a value outside the field is a broken reference, not memory to
    // write (GCC 12 at -O3 rightly could not prove the bound: -Warray-bounds).
    for (int v = lo; v <= hi; v += step) out.at(fold_seven && v == 7 ? 0 : v) = true;
  }
}

Reference reference_parse(std::string text) {
  static const std::map<std::string, std::string> kMacros = {
      {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
      {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
      {"@hourly", "0 * * * *"}};
  if (auto it = kMacros.find(text); it != kMacros.end()) text = it->second;
  std::stringstream in(text);
  std::string f[5];
  in >> f[0] >> f[1] >> f[2] >> f[3] >> f[4];
  const std::vector<std::string> months = {"jan", "feb", "mar", "apr", "may", "jun",
                                           "jul", "aug", "sep", "oct", "nov", "dec"};
  const std::vector<std::string> weekdays = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
  Reference r;
  reference_field(f[0], 0, 59, {}, r.minute, false);
  reference_field(f[1], 0, 23, {}, r.hour, false);
  reference_field(f[2], 1, 31, {}, r.dom, false);
  reference_field(f[3], 1, 12, months, r.month, false);
  reference_field(f[4], 0, 6, weekdays, r.dow, true);
  r.dom_star = f[2][0] == '*';
  r.dow_star = f[4][0] == '*';
  return r;
}

bool reference_day_matches(const Reference& r, chr::sys_days day) {
  const chr::year_month_day ymd{day};
  if (!r.month[static_cast<unsigned>(ymd.month())]) return false;
  const bool dom = r.dom[static_cast<unsigned>(ymd.day())];
  const bool dow = r.dow[chr::weekday{day}.c_encoding()];
  return (r.dom_star || r.dow_star) ? (dom && dow) : (dom || dow);
}

std::optional<sys_seconds> reference_next(const Reference& r, sys_seconds t, chr::days horizon) {
  chr::sys_time<chr::minutes> m = chr::floor<chr::minutes>(t) + chr::minutes{1};
  const auto end = m + horizon;
  chr::sys_days cached_day{};
  bool cached_match = false;
  bool have_cache = false;
  for (; m < end; m += chr::minutes{1}) {
    const auto day = chr::floor<chr::days>(m);
    if (!have_cache || day != cached_day) {
      cached_day = day;
      cached_match = reference_day_matches(r, day);
      have_cache = true;
    }
    if (!cached_match) {
      m = day + chr::days{1} - chr::minutes{1};  // the loop's increment lands on midnight
      continue;
    }
    const auto minute_of_day = (m - day).count();
    if (r.hour[minute_of_day / 60] && r.minute[minute_of_day % 60]) return m;
  }
  return std::nullopt;
}

chr::minutes reference_longest(const Reference& r) {
  std::vector<int> times;
  for (int h = 0; h < 24; ++h) {
    for (int m = 0; m < 60; ++m) {
      if (r.hour[h] && r.minute[m]) times.push_back(h * 60 + m);
    }
  }
  const chr::sys_days start{chr::year{1600} / 1 / 1};
  std::vector<chr::sys_days> days;
  for (auto d = start; d < start + kGregorianCycle; d += chr::days{1}) {
    if (reference_day_matches(r, d)) days.push_back(d);
  }
  if (days.empty()) return kGregorianCycle;
  days.push_back(days.front() + kGregorianCycle);
  long long best = 0;
  for (std::size_t i = 1; i < times.size(); ++i)
    best = std::max<long long>(best, times[i] - times[i - 1]);
  for (std::size_t i = 1; i < days.size(); ++i) {
    best = std::max<long long>(
        best, (days[i] - days[i - 1]).count() * 1440 + times.front() - times.back());
  }
  return chr::minutes{best};
}

// 10 years covers the longest possible gap of a fixed date (Feb 29: 8 years).
constexpr chr::days kReferenceHorizon{3653};

// Returns how many start times had a fire time within the reference's horizon, so callers can
// check that the comparison was not vacuous.
int compare_with_reference(const std::string& text, const std::vector<sys_seconds>& starts) {
  SCOPED_TRACE(text);
  int found = 0;
  const auto expr = CronExpression::parse(text);
  const Reference ref = reference_parse(text);
  for (sys_seconds start : starts) {
    const auto want = reference_next(ref, start, kReferenceHorizon);
    const auto got = expr.next_after(start);
    if (want) {
      EXPECT_EQ(fmt(got), fmt(want)) << "from " << fmt(start);
      ++found;
    } else if (got) {
      // Beyond the reference's horizon: it must still be a real fire time.
      EXPECT_GE(*got, start + kReferenceHorizon) << "from " << fmt(start);
      EXPECT_EQ(fmt(reference_next(ref, *got - chr::minutes{1}, chr::days{1})), fmt(got));
    }
  }
  return found;
}

std::vector<sys_seconds> start_times(std::mt19937& rng, int random_count) {
  std::vector<sys_seconds> starts = {
      at(2024, 2, 28, 23, 59, 59),  at(2024, 2, 29, 12),     at(2025, 2, 28, 23, 59),
      at(2025, 12, 31, 23, 59, 59), at(2026, 1, 1),          at(2099, 12, 31, 23, 59),
      at(2100, 2, 28, 23, 59),      at(2025, 4, 30, 23, 59), at(2025, 6, 30, 12, 34, 56),
      at(1999, 12, 31, 23, 59),
  };
  const auto lo = at(1990, 1, 1).time_since_epoch().count();
  const auto hi = at(2110, 1, 1).time_since_epoch().count();
  std::uniform_int_distribution<std::int64_t> dist(lo, hi);
  for (int i = 0; i < random_count; ++i) starts.push_back(sys_seconds{chr::seconds{dist(rng)}});
  return starts;
}

TEST(CronReference, FixedExpressionsMatchBruteForce) {
  std::mt19937 rng(20250101);
  const auto starts = start_times(rng, 30);
  for (const char* text :
       {"0 4 * * 0",   "* * * * *",    "*/15 * * * *",  "0 0 13 * 5",
        "0 0 */2 * 1", "0 0 13 * */2", "0 0 31 * *",    "0 0 29 2 *",
        "30 2 29 2 1", "0 0 30 2 *",   "59 23 31 12 *", "5/20 3-10/3 */10 jan,jul-sep mon-fri",
        "0 12 * * 7",  "0 0 1-31 * 1", "@daily",        "@hourly",
        "@weekly",     "@monthly",     "@yearly",       "15 3,9,21 1,15 * *"}) {
    compare_with_reference(text, starts);
  }
}

std::string random_element(std::mt19937& rng, int min, int max, int wildcard_max,
                           const std::vector<std::string>& names) {
  const auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const auto value_text = [&](int v) {
    if (!names.empty() && v - min < static_cast<int>(names.size()) && pick(0, 2) == 0) {
      std::string name = names[v - min];
      for (char& c : name) {
        if (pick(0, 1)) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      }
      return name;
    }
    return std::to_string(v);
  };
  // A named Sunday may end a day-of-week range, where it means 7.
  const auto end_text = [&](int v) {
    return names.size() == 7 && v == 7 && pick(0, 1) ? std::string("sun") : value_text(v);
  };
  const int span = wildcard_max - min + 1;
  switch (pick(0, 5)) {
    case 0:
      return "*";
    case 1:
      return "*/" + std::to_string(pick(1, span));
    case 2:
      return value_text(pick(min, max));
    case 3: {
      const int a = pick(min, max);
      return value_text(a) + "-" + end_text(pick(a, max));
    }
    case 4: {
      const int a = pick(min, max);
      return value_text(a) + "-" + end_text(pick(a, max)) + "/" + std::to_string(pick(1, span));
    }
    default:
      return value_text(pick(min, max)) + "/" + std::to_string(pick(1, span));
  }
}

std::string random_field(std::mt19937& rng, int min, int max, int wildcard_max,
                         const std::vector<std::string>& names, int star_odds) {
  if (std::uniform_int_distribution<int>(0, 99)(rng) < star_odds) return "*";
  const int count = std::uniform_int_distribution<int>(1, 3)(rng);
  std::string out;
  for (int i = 0; i < count; ++i) {
    if (i) out += ',';
    out += random_element(rng, min, max, wildcard_max, names);
  }
  return out;
}

std::string random_expression(std::mt19937& rng) {
  const std::vector<std::string> months = {"jan", "feb", "mar", "apr", "may", "jun",
                                           "jul", "aug", "sep", "oct", "nov", "dec"};
  const std::vector<std::string> weekdays = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
  return random_field(rng, 0, 59, 59, {}, 10) + " " + random_field(rng, 0, 23, 23, {}, 20) + " " +
         random_field(rng, 1, 31, 31, {}, 50) + " " + random_field(rng, 1, 12, 12, months, 60) +
         " " + random_field(rng, 0, 7, 6, weekdays, 50);
}

TEST(CronReference, RandomExpressionsMatchBruteForce) {
  std::mt19937 rng(424242);
  int compared = 0;
  int found = 0;
  for (int i = 0; i < 250; ++i) {
    const std::string text = random_expression(rng);
    found += compare_with_reference(text, start_times(rng, 6));
    if (HasFailure()) return;  // one expression's report is enough to debug
    ++compared;
  }
  EXPECT_EQ(compared, 250);
  EXPECT_GT(found, 250 * 16 * 3 / 4);
}

TEST(CronReference, LongestIntervalMatchesBruteForce) {
  std::mt19937 rng(777);
  std::vector<std::string> texts = {"0 4 * * 0",    "0 0 29 2 *",     "0 0 13 * 5", "0 0 */2 * 1",
                                    "0 0 31 * *",   "0 9,17 * * 1-5", "0 0 30 2 *", "30 2 29 2 1",
                                    "0 0 29 2 */7", "*/7 1-3 * * *"};
  for (int i = 0; i < 60; ++i) texts.push_back(random_expression(rng));
  for (const auto& text : texts) {
    EXPECT_EQ(CronExpression::parse(text).longest_interval().count(),
              chr::duration_cast<chr::seconds>(reference_longest(reference_parse(text))).count())
        << text;
  }
}

TEST(CronReference, ConsecutiveFiresNeverExceedLongestInterval) {
  std::mt19937 rng(99);
  for (int i = 0; i < 100; ++i) {
    const auto expr = CronExpression::parse(random_expression(rng));
    const auto list = fires(expr, at(2020, 1, 1), 200);
    for (std::size_t j = 1; j < list.size(); ++j) {
      ASSERT_LE(list[j] - list[j - 1], expr.longest_interval()) << expr.text();
    }
  }
}

}  // namespace
