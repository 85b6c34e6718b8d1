// log/: logfmt and JSON lines, secrets scrubbed.
#include "log/log.h"

#include <gtest/gtest.h>

#include "util/secrets.h"

namespace backupdrill {
namespace {

using namespace std::chrono_literals;

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
