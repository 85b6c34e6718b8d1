// util/: durations, ${VAR} expansion, the secrets registry, time formats.
#include <gtest/gtest.h>

#include "util/duration.h"
#include "util/env_expand.h"
#include "util/secrets.h"
#include "util/time_format.h"

namespace backupdrill {
namespace {

using namespace std::chrono_literals;

TEST(Duration, ParsesPrometheusForms) {
  EXPECT_EQ(parse_duration("90s"), 90s);
  EXPECT_EQ(parse_duration("2h"), 2h);
  EXPECT_EQ(parse_duration("1h30m"), 90min);
  EXPECT_EQ(parse_duration("1d"), 24h);
  EXPECT_EQ(parse_duration("1w"), 168h);
  EXPECT_EQ(parse_duration("250ms"), 250ms);
  EXPECT_EQ(parse_duration("1m500ms"), 60500ms);
}

TEST(Duration, RefusesEverythingElse) {
  for (const char* bad : {"", "2 hours", "5", "h", "1h1h", "30m1h", "-1h", "1.5h", "2H", "1hx"}) {
    EXPECT_FALSE(parse_duration(bad).has_value()) << bad;
  }
}

TEST(Duration, FormatsAndHumanizes) {
  EXPECT_EQ(format_duration(90min), "1h30m");
  EXPECT_EQ(format_duration(24h), "1d");
  EXPECT_EQ(format_duration(0ms), "0s");
  EXPECT_EQ(humanize_seconds(1.234), "1.23s");
  EXPECT_EQ(humanize_seconds(192), "3m12s");
  EXPECT_EQ(humanize_seconds(7200), "2h00m");
}

TEST(EnvExpand, ExpandsDefaultsAndRefusesUnset) {
  auto env = [](const std::string& n) -> std::optional<std::string> {
    if (n == "A") return "alpha";
    if (n == "EMPTY") return "";
    return std::nullopt;
  };
  EXPECT_EQ(expand_env("x${A}y", env), "xalphay");
  EXPECT_EQ(expand_env("${MISSING:-dflt}", env), "dflt");
  EXPECT_EQ(expand_env("${EMPTY:-dflt}", env), "dflt");
  EXPECT_EQ(expand_env("${A:-dflt}", env), "alpha");
  EXPECT_EQ(expand_env("cost $5 $$", env), "cost $5 $");
  EXPECT_THROW(expand_env("${MISSING}", env), EnvExpandError);
  EXPECT_THROW(expand_env("${A", env), EnvExpandError);
  EXPECT_THROW(expand_env("${1A}", env), EnvExpandError);
}

TEST(Secrets, ScrubMasksEveryRegisteredSecret) {
  register_secret("hunter2-secret");
  register_secret("abc");  // too short to mask safely: ignored
  EXPECT_EQ(scrub("pw=hunter2-secret and hunter2-secret"), "pw=*** and ***");
  EXPECT_EQ(scrub("abc"), "abc");
}

TEST(TimeFormat, CompactStampRoundTrips) {
  SystemTime t = std::chrono::sys_days{std::chrono::year{2026} / 11 / 22} + 4h + 5min + 6s;
  EXPECT_EQ(compact_utc(t), "20261122T040506Z");
  EXPECT_EQ(iso8601_utc(t + 7ms), "2026-11-22T04:05:06.007Z");
  SystemTime back;
  ASSERT_TRUE(parse_compact_utc("20261122T040506Z", back));
  EXPECT_EQ(back, t);
  EXPECT_FALSE(parse_compact_utc("2026-11-22", back));
}

// Issue 14: a recovery target time needs its zone; the zone moves the instant.
TEST(TimeFormat, TimestampWithZone) {
  SystemTime t;
  ASSERT_TRUE(parse_timestamp_with_zone("2026-11-29 03:00:00+00", t));
  EXPECT_EQ(iso8601_utc(t), "2026-11-29T03:00:00.000Z");
  ASSERT_TRUE(parse_timestamp_with_zone("2026-11-29 03:00:00.250+02:00", t));
  EXPECT_EQ(iso8601_utc(t), "2026-11-29T01:00:00.250Z");
  ASSERT_TRUE(parse_timestamp_with_zone("2026-11-29T03:00:00-0530", t));
  EXPECT_EQ(iso8601_utc(t), "2026-11-29T08:30:00.000Z");
  ASSERT_TRUE(parse_timestamp_with_zone("2026-11-29 03:00:00.123456Z", t));
  EXPECT_EQ(iso8601_utc(t), "2026-11-29T03:00:00.123Z");
  for (const char* bad : {"2026-11-29 03:00:00", "2026-11-29", "latest", "2026-11-29 03:00:00+",
                          "2026-11-29 03:00:00+00:00:00", "2026-11-29 03:00:00 UTC",
                          "2026-13-29 03:00:00+00", "2026-11-29 03:00:00.+00"}) {
    EXPECT_FALSE(parse_timestamp_with_zone(bad, t)) << bad;
  }
}

}  // namespace
}  // namespace backupdrill
