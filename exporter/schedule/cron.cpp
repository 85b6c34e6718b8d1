#include "schedule/cron.h"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <span>
#include <vector>

namespace backupdrill::schedule {
namespace {

namespace chr = std::chrono;

constexpr std::array<std::string_view, 12> kMonthNames = {"jan", "feb", "mar", "apr", "may", "jun",
                                                          "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<std::string_view, 7> kWeekdayNames = {"sun", "mon", "tue", "wed",
                                                           "thu", "fri", "sat"};

struct FieldSpec {
  std::string_view name;
  int min;
  int max;
  // Upper end of '*' and of "A/S". Below max only for day-of-week, where 7 merely aliases 0.
  int wildcard_max;
  std::span<const std::string_view> names;  // names[i] stands for value min + i
  std::string_view expected;
};

constexpr FieldSpec kMinuteSpec{"minute", 0, 59, 59, {}, "a number 0-59"};
constexpr FieldSpec kHourSpec{"hour", 0, 23, 23, {}, "a number 0-23"};
constexpr FieldSpec kDayOfMonthSpec{"day-of-month", 1, 31, 31, {}, "a number 1-31"};
constexpr FieldSpec kMonthSpec{"month", 1, 12, 12, kMonthNames, "a number 1-12 or a name jan-dec"};
constexpr FieldSpec kDayOfWeekSpec{
    "day-of-week", 0, 7, 6, kWeekdayNames, "a number 0-7 (0 and 7 are Sunday) or a name sun-sat"};

// Values are only compared against small bounds, so saturating keeps absurdly long digit runs
// from overflowing while still reporting them as out of range.
constexpr int kSaturated = 1'000'000;

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lowercase(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), to_lower);
  return out;
}

std::string quote_char(char c) { return std::string("'") + c + "'"; }

class FieldParser {
 public:
  FieldParser(const FieldSpec& spec, std::string_view text) : spec_(spec), text_(text) {}

  // Bit n set for each value n the field selects (for day-of-week, bit 7 may be set).
  std::uint64_t parse() const {
    std::uint64_t bits = 0;
    std::size_t start = 0;
    for (;;) {
      const std::size_t comma = text_.find(',', start);
      const std::string_view element = text_.substr(
          start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
      if (element.empty()) {
        if (comma == std::string_view::npos) {
          fail(start == 0 ? "empty field" : "empty list element (trailing comma)");
        }
        fail(start == 0 ? "empty list element (leading comma)"
                        : "empty list element (consecutive commas)");
      }
      bits |= parse_element(element);
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    return bits;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw CronError(std::string(spec_.name),
                    std::string(spec_.name) + " field \"" + std::string(text_) + "\": " + what);
  }

  int span() const { return spec_.wildcard_max - spec_.min + 1; }

  std::uint64_t parse_element(std::string_view el) const {
    std::size_t pos = 0;
    int lo = 0;
    int hi = 0;
    bool single = false;
    if (el[0] == '*') {
      lo = spec_.min;
      hi = spec_.wildcard_max;
      pos = 1;
      if (pos < el.size() && el[pos] != '/') {
        fail("unexpected character " + quote_char(el[pos]) +
             " after '*'; expected '/' and a step, ',' or the end of the field");
      }
    } else {
      lo = parse_value(el, pos, "at the start of a list element");
      if (pos < el.size() && el[pos] == '-') {
        ++pos;
        const bool named_end = pos < el.size() && is_alpha(el[pos]);
        hi = parse_value(el, pos, "after '-'");
        // "fri-sun" reads naturally as Friday through Sunday, so a named Sunday ending a range
        // stands for 7 rather than 0.
        if (named_end && &spec_ == &kDayOfWeekSpec && hi == 0 && lo > 0) hi = 7;
        if (lo > hi) {
          fail("range " + std::string(el.substr(0, pos)) +
               " is reversed; the start must not be greater than the end (wrap-around ranges "
               "are not supported, use a list instead)");
        }
      } else {
        hi = lo;
        single = true;
      }
    }

    int step = 1;
    if (pos < el.size() && el[pos] == '/') {
      ++pos;
      const std::string range_text = "1-" + std::to_string(span());
      if (pos == el.size()) fail("missing step after '/'; expected a number " + range_text);
      if (!is_digit(el[pos])) {
        fail("unexpected character " + quote_char(el[pos]) + " after '/'; expected a step " +
             range_text);
      }
      const std::size_t begin = pos;
      step = scan_number(el, pos);
      const std::string token(el.substr(begin, pos - begin));
      if (step == 0) fail("step " + token + " is invalid; expected a step " + range_text);
      if (step > span()) {
        fail("step " + token + " out of range " + range_text +
             " (cron cannot express intervals longer than the field)");
      }
      if (single) hi = std::max(lo, spec_.wildcard_max);
    }

    if (pos < el.size()) {
      fail("unexpected character " + quote_char(el[pos]) + "; expected " +
           std::string(spec_.expected) + " with optional '-', '/' or ','");
    }

    std::uint64_t bits = 0;
    for (int v = lo; v <= hi; v += step) bits |= std::uint64_t{1} << v;
    return bits;
  }

  static int scan_number(std::string_view el, std::size_t& pos) {
    int value = 0;
    while (pos < el.size() && is_digit(el[pos])) {
      value = std::min(kSaturated, value * 10 + (el[pos] - '0'));
      ++pos;
    }
    return value;
  }

  int parse_value(std::string_view el, std::size_t& pos, std::string_view where) const {
    if (pos == el.size()) {
      fail("missing value " + std::string(where) + "; expected " + std::string(spec_.expected));
    }
    const std::size_t begin = pos;
    if (is_digit(el[pos])) {
      const int value = scan_number(el, pos);
      if (value < spec_.min || value > spec_.max) {
        fail("value " + std::string(el.substr(begin, pos - begin)) + " out of range " +
             std::to_string(spec_.min) + "-" + std::to_string(spec_.max));
      }
      return value;
    }
    if (is_alpha(el[pos])) {
      while (pos < el.size() && is_alpha(el[pos])) ++pos;
      const std::string token(el.substr(begin, pos - begin));
      if (spec_.names.empty()) {
        fail("unexpected \"" + token + "\"; expected " + std::string(spec_.expected));
      }
      const std::string lower = lowercase(token);
      for (std::size_t i = 0; i < spec_.names.size(); ++i) {
        if (spec_.names[i] == lower) return spec_.min + static_cast<int>(i);
      }
      fail("unknown name \"" + token + "\"; expected " + std::string(spec_.expected));
    }
    fail("unexpected character " + quote_char(el[pos]) + " " + std::string(where) + "; expected " +
         std::string(spec_.expected));
  }

  const FieldSpec& spec_;
  std::string_view text_;
};

[[noreturn]] void fail_expression(const std::string& what) { throw CronError("expression", what); }

constexpr std::string_view kFieldList = "minute hour day-of-month month day-of-week";

struct Macro {
  std::string_view name;
  std::string_view expansion;
};
constexpr std::array<Macro, 7> kMacros = {{
    {"@yearly", "0 0 1 1 *"},
    {"@annually", "0 0 1 1 *"},
    {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"},
    {"@daily", "0 0 * * *"},
    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
}};

std::vector<std::string_view> split_fields(std::string_view text) {
  std::vector<std::string_view> fields;
  std::size_t pos = 0;
  while (pos < text.size()) {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
    const std::size_t begin = pos;
    while (pos < text.size() && text[pos] != ' ' && text[pos] != '\t') ++pos;
    if (pos > begin) fields.push_back(text.substr(begin, pos - begin));
  }
  return fields;
}

std::string_view expand_macro(const std::vector<std::string_view>& fields) {
  const std::string name = lowercase(fields[0]);
  if (name == "@reboot") {
    fail_expression(
        "@reboot is not supported: drills need a recurring schedule (use e.g. @daily or "
        "\"0 4 * * 0\")");
  }
  for (const Macro& macro : kMacros) {
    if (macro.name != name) continue;
    if (fields.size() > 1) {
      fail_expression("macro \"" + std::string(fields[0]) + "\" takes no further fields, got " +
                      std::to_string(fields.size() - 1));
    }
    return macro.expansion;
  }
  fail_expression("unknown macro \"" + std::string(fields[0]) +
                  "\"; expected one of @yearly, @annually, @monthly, @weekly, @daily, "
                  "@midnight, @hourly");
}

// Days 1..len of a month as bits 1..len.
std::uint32_t days_in_month_bits(unsigned len) {
  return static_cast<std::uint32_t>((std::uint64_t{1} << (len + 1)) - 2);
}

std::uint32_t weekday_index(chr::sys_days d) { return chr::weekday{d}.c_encoding(); }

}  // namespace

CronExpression CronExpression::parse(std::string_view text) {
  if (text.size() > kMaxExpressionLength) {
    fail_expression("cron expression is " + std::to_string(text.size()) + " bytes long; at most " +
                    std::to_string(kMaxExpressionLength) + " are allowed");
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == ' ' || c == '\t' || (c > 0x20 && c < 0x7f)) continue;
    char hex[8];
    std::snprintf(hex, sizeof hex, "\\x%02x", c);
    fail_expression("cron expression contains invalid character '" + std::string(hex) +
                    "' at offset " + std::to_string(i) +
                    "; only printable ASCII, spaces and tabs are allowed");
  }

  std::vector<std::string_view> fields = split_fields(text);
  if (fields.empty()) {
    fail_expression("cron expression is empty; expected 5 fields (" + std::string(kFieldList) +
                    ") or a macro such as @daily");
  }
  if (fields[0][0] == '@') fields = split_fields(expand_macro(fields));
  if (fields.size() != 5) {
    std::string what = "cron expression \"" + std::string(text) + "\" has " +
                       std::to_string(fields.size()) + " field" + (fields.size() == 1 ? "" : "s") +
                       "; expected 5 (" + std::string(kFieldList) + ")";
    if (fields.size() == 6 || fields.size() == 7)
      what += "; seconds and year fields are not supported";
    fail_expression(what);
  }

  CronExpression expr;
  expr.text_ = std::string(text);
  expr.minutes_ = FieldParser(kMinuteSpec, fields[0]).parse();
  expr.hours_ = static_cast<std::uint32_t>(FieldParser(kHourSpec, fields[1]).parse());
  expr.days_of_month_ = static_cast<std::uint32_t>(FieldParser(kDayOfMonthSpec, fields[2]).parse());
  expr.months_ = static_cast<std::uint16_t>(FieldParser(kMonthSpec, fields[3]).parse());
  const std::uint64_t dow = FieldParser(kDayOfWeekSpec, fields[4]).parse();
  expr.days_of_week_ = static_cast<std::uint8_t>((dow | (dow >> 7)) & 0x7f);
  // Vixie cron decides between AND and OR by the field's first character, not by what it
  // selects, so "*/2" counts as unrestricted here.
  expr.dom_star_ = fields[2][0] == '*';
  expr.dow_star_ = fields[4][0] == '*';
  expr.precompute();
  return expr;
}

void CronExpression::precompute() {
  // Largest distance between consecutive matching days inside each kind of month.
  std::array<std::array<int, 7>, 4> internal_gap{};
  for (unsigned len = 28; len <= 31; ++len) {
    for (unsigned first_weekday = 0; first_weekday < 7; ++first_weekday) {
      const std::uint32_t dom = days_of_month_ & days_in_month_bits(len);
      std::uint32_t dow = 0;
      for (unsigned d = 1; d <= len; ++d) {
        if ((days_of_week_ >> ((first_weekday + d - 1) % 7)) & 1u) dow |= std::uint32_t{1} << d;
      }
      const std::uint32_t mask = (dom_star_ || dow_star_) ? (dom & dow) : (dom | dow);
      day_masks_[len - 28][first_weekday] = mask;
      int gap = 0;
      int prev = -1;
      for (std::uint32_t rest = mask; rest != 0; rest &= rest - 1) {
        const int d = std::countr_zero(rest);
        if (prev >= 0) gap = std::max(gap, d - prev);
        prev = d;
      }
      internal_gap[len - 28][first_weekday] = gap;
    }
  }

  first_time_ = std::countr_zero(hours_) * 60 + std::countr_zero(minutes_);
  last_time_ = (std::bit_width(hours_) - 1) * 60 + (std::bit_width(minutes_) - 1);
  int intra_day_gap = 0;
  int prev_time = -1;
  for (std::uint32_t h = hours_; h != 0; h &= h - 1) {
    for (std::uint64_t m = minutes_; m != 0; m &= m - 1) {
      const int t = std::countr_zero(h) * 60 + std::countr_zero(m);
      if (prev_time >= 0) intra_day_gap = std::max(intra_day_gap, t - prev_time);
      prev_time = t;
    }
  }

  // One full cycle from an arbitrary start sees every gap; the one wrapping into the next cycle
  // is added at the end.
  const chr::year cycle_start{2000};
  std::optional<chr::sys_days> first_day;
  chr::sys_days prev_day{};
  int day_gap = 0;
  for (chr::year y = cycle_start; y < cycle_start + chr::years{400}; ++y) {
    for (unsigned mi = 1; mi <= 12; ++mi) {
      if (((months_ >> mi) & 1u) == 0) continue;
      const chr::month m{mi};
      const chr::sys_days month_start{y / m / 1};
      const unsigned len = static_cast<unsigned>((y / m / chr::last).day());
      const unsigned wd = weekday_index(month_start);
      const std::uint32_t mask = day_masks_[len - 28][wd];
      if (mask == 0) continue;
      const chr::sys_days first_here = month_start + chr::days{std::countr_zero(mask) - 1};
      const chr::sys_days last_here = month_start + chr::days{std::bit_width(mask) - 2};
      if (first_day) {
        day_gap = std::max(day_gap, static_cast<int>((first_here - prev_day).count()));
      } else {
        first_day = first_here;
      }
      day_gap = std::max(day_gap, internal_gap[len - 28][wd]);
      prev_day = last_here;
    }
  }
  if (!first_day) {
    never_fires_ = true;
    longest_interval_ = kGregorianCycle;
    return;
  }
  never_fires_ = false;
  day_gap = std::max(day_gap, static_cast<int>((*first_day + kGregorianCycle - prev_day).count()));
  const long long across_days = static_cast<long long>(day_gap) * 1440 + first_time_ - last_time_;
  longest_interval_ = chr::minutes{std::max<long long>(across_days, intra_day_gap)};
}

std::optional<int> CronExpression::first_time_at_or_after(int minute_of_day) const {
  const int h = minute_of_day / 60;
  const int m = minute_of_day % 60;
  if ((hours_ >> h) & 1u) {
    const std::uint64_t later = minutes_ & (~std::uint64_t{0} << m);
    if (later != 0) return h * 60 + std::countr_zero(later);
  }
  const std::uint32_t later_hours = hours_ & (~std::uint32_t{0} << (h + 1));
  if (later_hours != 0) return std::countr_zero(later_hours) * 60 + std::countr_zero(minutes_);
  return std::nullopt;
}

std::uint32_t CronExpression::day_mask(chr::year y, chr::month m) const {
  const unsigned len = static_cast<unsigned>((y / m / chr::last).day());
  return day_masks_[len - 28][weekday_index(chr::sys_days{y / m / 1})];
}

std::optional<chr::sys_seconds> CronExpression::next_after(chr::sys_seconds t) const {
  if (never_fires_) return std::nullopt;
  // chrono's calendar covers years -32767..32767; staying within 1..9999 keeps every
  // conversion below far from its limits and from int64 overflow for extreme t.
  constexpr chr::sys_days kFirstDay{chr::year{1} / chr::January / 1};
  constexpr chr::sys_days kEndDay{chr::year{10000} / chr::January / 1};
  if (t >= kEndDay) return std::nullopt;
  const chr::sys_time<chr::minutes> start = t < kFirstDay
                                                ? chr::sys_time<chr::minutes>{kFirstDay}
                                                : chr::floor<chr::minutes>(t) + chr::minutes{1};
  if (start >= kEndDay) return std::nullopt;

  const chr::sys_days start_day = chr::floor<chr::days>(start);
  const int start_time = static_cast<int>((start - start_day).count());
  const chr::year_month_day ymd{start_day};
  chr::year y = ymd.year();
  chr::month m = ymd.month();
  unsigned first_day = static_cast<unsigned>(ymd.day());
  // The pattern repeats every 400 years, so a fire time exists within one cycle of start.
  const chr::year last_year = std::min(y + chr::years{401}, chr::year{9999});
  while (y <= last_year) {
    if ((months_ >> static_cast<unsigned>(m)) & 1u) {
      std::uint32_t mask = day_mask(y, m) & (~std::uint32_t{0} << first_day);
      for (; mask != 0; mask &= mask - 1) {
        const chr::sys_days date{y / m / chr::day{static_cast<unsigned>(std::countr_zero(mask))}};
        if (auto time = first_time_at_or_after(date == start_day ? start_time : 0)) {
          return date + chr::minutes{*time};
        }
      }
    }
    first_day = 1;
    if (m == chr::December) {
      m = chr::January;
      ++y;
    } else {
      ++m;
    }
  }
  return std::nullopt;
}

}  // namespace backupdrill::schedule
