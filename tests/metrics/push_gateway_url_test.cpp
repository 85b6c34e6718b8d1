// --push.gateway and --push.job are checked before any drill runs.
#include <gtest/gtest.h>

#include <stdexcept>

#include "metrics/push_gateway.h"

namespace backupdrill {
namespace {

TEST(PushGatewayUrl, HostAndPortAsTheClientWantsThem) {
  auto a = parse_push_gateway_url("http://127.0.0.1:9091");
  EXPECT_EQ(a.host, "http://127.0.0.1");
  EXPECT_EQ(a.port, "9091");
  auto b = parse_push_gateway_url("https://push.example.org/");
  EXPECT_EQ(b.host, "https://push.example.org");
  EXPECT_EQ(b.port, "443");
  auto c = parse_push_gateway_url("http://[::1]:9091");
  EXPECT_EQ(c.host, "http://[::1]");
  EXPECT_EQ(c.port, "9091");
  EXPECT_EQ(parse_push_gateway_url("http://gw").port, "80");
}

TEST(PushGatewayUrl, RefusesWhatItCannotUse) {
  for (const char* bad :
       {"127.0.0.1:9091", "ftp://gw:9091", "http://", "http://:9091", "http://gw:0",
        "http://gw:65536", "http://gw:x", "http://gw/prefix", "http://[::1", "http://[::1]x"}) {
    EXPECT_THROW(parse_push_gateway_url(bad), std::invalid_argument) << bad;
  }
}

TEST(PushGatewayUrl, CredentialsAreRefusedAndNeverRepeated) {
  try {
    parse_push_gateway_url("http://user:s3cret@gw:9091");
    FAIL() << "credentials accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).find("s3cret"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("credentials"), std::string::npos) << e.what();
  }
}

TEST(PushJob, OnePathSegment) {
  EXPECT_NO_THROW(check_push_job("backupdrill"));
  EXPECT_NO_THROW(check_push_job("nightly-ci.v2:prod"));
  for (const char* bad : {"", "a/b", "a b", "job%2F", "ü"}) {
    EXPECT_THROW(check_push_job(bad), std::invalid_argument) << bad;
  }
}

}  // namespace
}  // namespace backupdrill
