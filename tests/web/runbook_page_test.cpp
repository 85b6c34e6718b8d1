// GET /runbook: every alert's runbook_url anchor exists in the page the
// exporter serves, and the markdown is rendered without passing HTML through.
#include "web/runbook_page.h"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

namespace backupdrill {
namespace {

TEST(RunbookPage, EveryAlertOfTheRulesHasItsAnchor) {
  const std::string page = render_markdown_page("runbook", runbook_markdown());
  std::ifstream rules(std::string(BD_SOURCE_DIR) + "/dashboards/prometheus/backupdrill.rules.yml");
  std::stringstream text;
  text << rules.rdbuf();
  const std::string yaml = text.str();
  std::regex alert_line("- alert: ([A-Za-z]+)");
  int alerts = 0;
  for (std::sregex_iterator it(yaml.begin(), yaml.end(), alert_line), end; it != end; ++it) {
    std::string id = (*it)[1];
    for (auto& c : id) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_NE(page.find("id=\"" + id + "\""), std::string::npos) << id;
    ++alerts;
  }
  EXPECT_GE(alerts, 5);
  EXPECT_NE(page.find("id=\"if-a-drill-fails\""), std::string::npos);
  EXPECT_NE(page.find("<table>"), std::string::npos);  // the alert table is a table
}

TEST(RunbookPage, RawHtmlIsNotPassedThrough) {
  const std::string page =
      render_markdown_page("t<", "# A <b>x</b>\n\n<script>alert(1)</script>\n\n[l](javascript:x)");
  EXPECT_EQ(page.find("<script>"), std::string::npos);
  EXPECT_EQ(page.find("javascript:"), std::string::npos);
  EXPECT_NE(page.find("<title>t&lt;</title>"), std::string::npos);
  EXPECT_NE(page.find("<h1 id=\"a-x\">"), std::string::npos) << page;
}

}  // namespace
}  // namespace backupdrill
