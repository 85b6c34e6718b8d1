// The command line as a person meets it (issue 15): --help says how to run
// and what the exit codes mean, no arguments says how to start, a bad
// --web.listen-address is a usage error. The real binary; no database.
#include <gtest/gtest.h>

#include "support.h"

namespace backupdrill::testing {
namespace {

TEST(Cli, HelpListsTheRunbookVariablesAndTheExitCodes) {
  auto run = run_exporter({"--help"}, {}, 30);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  for (const char* needle : {"SOURCE_DB_URL", "TARGET_DB_URL", "BACKUP_DIR", "TARGET_API_URL",
                             "API_BEARER_TOKEN", "RPO_TARGET", "RTO_TARGET", "DRILL_PROFILE",
                             "CRITICAL_TABLES", "Exit codes: 0", "1 a drill failed", "2 usage"}) {
    EXPECT_NE(run.output.find(needle), std::string::npos) << needle << "\n" << run.output;
  }
}

TEST(Cli, NoArgumentsAndNoRunbookVariablesSaysHowToStart) {
  auto run = run_exporter({}, {}, 30);
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("--config.file"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("SOURCE_DB_URL and TARGET_DB_URL"), std::string::npos) << run.output;
}

TEST(Cli, RunbookModeNamesTheMissingVariable) {
  auto run = run_exporter({"--once"}, {{"SOURCE_DB_URL", "postgresql://u@127.0.0.1:1/db"}}, 30);
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("TARGET_DB_URL is not set"), std::string::npos) << run.output;
}

// What --check-config can know without connecting (issue 15): a URL that is
// not PostgreSQL's, and a target that is the source, spelled another way.
TEST(Cli, CheckConfigRefusesForeignUrlsAndATargetThatIsTheSource) {
  auto run = run_exporter({"--check-config"},
                          {{"SOURCE_DB_URL", "mysql://u:cli-secret-77@127.0.0.1:1/src"},
                           {"TARGET_DB_URL", "postgresql://u@127.0.0.1:1/tgt"}},
                          30);
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("SOURCE_DB_URL is a mysql:// URL"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("cli-secret-77"), std::string::npos) << run.output;

  run = run_exporter({"--check-config"},
                     {{"SOURCE_DB_URL", "postgresql://u@localhost:5432/app"},
                      {"TARGET_DB_URL", "host=127.0.0.1 dbname=app user=u"}},
                     30);
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("TARGET_DB_URL names the same database as source_url"),
            std::string::npos)
      << run.output;

  auto dir = fresh_dir("cli_same_url");
  auto config = dir / "same.toml";
  write_file(config,
             "[[drill]]\nname = \"main\"\nsource_url = \"postgresql://u@db.invalid/app\"\n"
             "target_url = \"postgres://u@DB.invalid:5432/app\"\n");
  run = run_exporter({"--config.file=" + config.string(), "--check-config"}, {}, 30);
  EXPECT_EQ(run.exit_code, 2) << run.output;
  // The log line escapes the quotes around the drill and the key.
  for (const char* needle : {"same.toml:4: [[drill]] \\\"main\\\" key \\\"target_url\\\"",
                             "names the same database as source_url (host db.invalid, port "
                             "5432, database app, user u)"}) {
    EXPECT_NE(run.output.find(needle), std::string::npos) << needle << "\n" << run.output;
  }
}

TEST(Cli, MalformedListenAddressIsAUsageError) {
  auto dir = fresh_dir("cli_listen");
  for (const char* address : {"not-an-address", "127.0.0.1:99999", ":port"}) {
    auto run = run_exporter({std::string("--web.listen-address=") + address},
                            {{"SOURCE_DB_URL", "postgresql://u@127.0.0.1:1/src"},
                             {"TARGET_DB_URL", "postgresql://u@127.0.0.1:1/tgt"},
                             {"BACKUP_DIR", dir.string()}},
                            30);
    EXPECT_EQ(run.exit_code, 2) << address << "\n" << run.output;
    EXPECT_NE(run.output.find("invalid --web.listen-address"), std::string::npos) << run.output;
  }
}

}  // namespace
}  // namespace backupdrill::testing
