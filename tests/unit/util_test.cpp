#include <gtest/gtest.h>

#include "crypto/sha256.h"
#include "log/log.h"
#include "pg/conninfo.h"
#include "pg/passfile.h"
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

TEST(ConnInfo, UrlAndKeywordFormsSeparateThePassword) {
  auto url =
      pg::ConnInfo::parse("postgresql://app:p%40ss-w0rd!@db.example.com:6543/prod?sslmode=require");
  EXPECT_EQ(url.password(), "p@ss-w0rd!");
  EXPECT_EQ(url.dbname(), "prod");
  EXPECT_EQ(url.without_password().find("p@ss"), std::string::npos);
  EXPECT_NE(url.without_password().find("host='db.example.com'"), std::string::npos);
  EXPECT_EQ(url.redacted(), "postgresql://app:***@db.example.com:6543/prod?sslmode=require");
  EXPECT_NE(url.full().find("password='p@ss-w0rd!'"), std::string::npos);

  auto kv = pg::ConnInfo::parse("host=h port=5433 user=u password='it\\'s x' dbname=d");
  EXPECT_EQ(kv.password(), "it's x");
  EXPECT_EQ(kv.redacted(), "postgresql://u:***@h:5433/d");
  EXPECT_EQ(kv.with_dbname("postgres").dbname(), "postgres");

  EXPECT_THROW(pg::ConnInfo::parse("postgresql://u:pw@h:notaport/x?bogus=1"), pg::ConnInfoError);
  try {
    pg::ConnInfo::parse("host=h password=leak-me-9 nonsense");
  } catch (const pg::ConnInfoError& e) {
    EXPECT_EQ(std::string(e.what()).find("leak-me-9"), std::string::npos);
  }
}

// Issue 10: a password is masked in every form it can be written in: as the
// URL has it (percent-encoded), decoded, quoted with escapes, and the URL
// itself.
TEST(ConnInfo, EveryFormOfAPasswordIsASecret) {
  const std::string url =
      "postgresql://spec:p%40ss%3Aw%2Frd%3F%23%25%27%22%5C%20@127.0.0.1:5/db?sslmode=disable";
  auto info = pg::ConnInfo::parse(url);
  EXPECT_EQ(info.password(), "p@ss:w/rd?#%'\"\\ ");
  EXPECT_EQ(scrub("raw p%40ss%3Aw%2Frd%3F%23%25%27%22%5C%20 end"), "raw *** end");
  EXPECT_EQ(scrub("decoded p@ss:w/rd?#%'\"\\  end"), "decoded *** end");
  EXPECT_EQ(scrub("url " + url), "url ***");
  EXPECT_EQ(info.redacted(), "postgresql://spec:***@127.0.0.1:5/db?sslmode=disable");

  pg::ConnInfo::parse("postgresql://u@h/d?password=q%26uery-pw&sslmode=disable");
  EXPECT_EQ(scrub("q%26uery-pw q&uery-pw"), "*** ***");
  pg::ConnInfo::parse("host=h password = 'kv\\'pw\\\\x' dbname=d");
  EXPECT_EQ(scrub("kv\\'pw\\\\x kv'pw\\x"), "*** ***");
  register_secret("tok%2Fen-42");
  EXPECT_EQ(scrub("tok/en-42"), "***");
}

TEST(PassFile, Mode0600AndEscaped) {
  pg::PrivateDir dir("bd-unit");
  auto file = dir.write_passfile("x", std::string("a:b\\c"));
  ASSERT_TRUE(file);
  EXPECT_EQ(std::filesystem::status(*file).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  EXPECT_EQ(pg::pgpass_escape("a:b\\c"), "a\\:b\\\\c");
  EXPECT_FALSE(dir.write_passfile("none", std::nullopt));
  auto path = dir.path();
  EXPECT_TRUE(std::filesystem::exists(path));
}

TEST(Sha256, KnownVectors) {
  Sha256 empty;
  EXPECT_EQ(empty.hex_digest(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Sha256 abc;
  abc.update("a", 1);
  abc.update("bc", 2);
  EXPECT_EQ(abc.hex_digest(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
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

TEST(Log, LogfmtAndJsonAreScrubbed) {
  register_secret("tok-zz-999");
  std::string line = log::render(log::Format::logfmt, log::Level::info, "connect failed",
                                 {{"url", "postgresql://u:tok-zz-999@h/db"}, {"drill", "main"}});
  EXPECT_NE(line.find("level=info msg=\"connect failed\""), std::string::npos) << line;
  EXPECT_NE(line.find("url=postgresql://u:***@h/db"), std::string::npos) << line;
  EXPECT_NE(line.find("drill=main"), std::string::npos);
  std::string json = log::render(log::Format::json, log::Level::error, "x", {{"k", "tok-zz-999"}});
  EXPECT_NE(json.find("\"level\":\"error\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"k\":\"***\""), std::string::npos) << json;
  EXPECT_THROW(log::parse_level("verbose"), std::invalid_argument);
  EXPECT_THROW(log::parse_format("text"), std::invalid_argument);
}

}  // namespace
}  // namespace backupdrill

namespace backupdrill {
namespace {

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
