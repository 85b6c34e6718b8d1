// pg/: connection strings (the password kept apart) and passfiles.
#include <gtest/gtest.h>

#include "pg/conninfo.h"
#include "pg/passfile.h"
#include "util/secrets.h"

namespace backupdrill {
namespace {

using namespace std::chrono_literals;

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

}  // namespace
}  // namespace backupdrill
