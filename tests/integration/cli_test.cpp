// The command line as a person meets it (issue 15): --help says how to run
// and what the exit codes mean, no arguments says how to start, a bad
// --web.listen-address is a usage error, --version names the build and the
// PostgreSQL clients it would drive. The real binary; no database.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "pg/tools.h"
#include "process/child_process.h"
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
  // A plain sentence on the terminal: the quotes around the drill and the key
  // as written (a log line would escape them).
  for (const char* needle : {"same.toml:4: [[drill]] \"main\" key \"target_url\"",
                             "names the same database as source_url (host db.invalid, port "
                             "5432, database app, user u)"}) {
    EXPECT_NE(run.output.find(needle), std::string::npos) << needle << "\n" << run.output;
  }
}

// What --once and --check-config print for the person at the terminal is a
// sentence, not a log line (issue 15): a bad config, an unknown --drill, a
// drill that fails.
TEST(Cli, OneShotErrorsArePlainSentences) {
  auto dir = fresh_dir("cli_plain");
  write_file(dir / "bad.toml", "[[drill]]\nname = \"x\"\nschedul = \"@daily\"\n");
  auto bad =
      run_exporter({"--config.file=" + (dir / "bad.toml").string(), "--check-config"}, {}, 30);
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_EQ(bad.output.rfind("backupdrill_exporter: invalid configuration: ", 0), 0) << bad.output;
  EXPECT_NE(bad.output.find("did you mean \"schedule\""), std::string::npos) << bad.output;
  EXPECT_EQ(bad.output.find("level="), std::string::npos) << bad.output;

  write_file(dir / "ok.toml", "[exporter]\nartifact_dir = \"" + (dir / "artifacts").string() +
                                  "\"\n[[drill]]\nname = \"unreachable\"\nsource_url = "
                                  "\"postgresql://u@127.0.0.1:1/src\"\ntarget_url = "
                                  "\"postgresql://u@127.0.0.1:1/tgt\"\n");
  auto unknown = run_exporter(
      {"--config.file=" + (dir / "ok.toml").string(), "--once", "--drill=nope"}, {}, 30);
  EXPECT_EQ(unknown.exit_code, 2) << unknown.output;
  EXPECT_NE(unknown.output.find("backupdrill_exporter: --drill=nope names no drill of "),
            std::string::npos)
      << unknown.output;
  EXPECT_NE(unknown.output.find("its drills are: unreachable."), std::string::npos)
      << unknown.output;

  auto failed = run_exporter({"--config.file=" + (dir / "ok.toml").string(), "--once"}, {}, 60);
  EXPECT_EQ(failed.exit_code, 1) << failed.output;
  EXPECT_NE(failed.output.find("backupdrill_exporter: drill \"unreachable\" failed in phase "
                               "guard: cannot connect to the source"),
            std::string::npos)
      << failed.output;
  EXPECT_NE(failed.output.find("drill_summary_"), std::string::npos) << failed.output;
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

// The first /usr/lib/postgresql/<N>/bin holding an executable pg_dump and
// pg_restore (Debian's layout; the test machine has one: postgresql-client).
std::filesystem::path a_postgresql_bin_dir() {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
    auto bin = entry.path() / "bin";
    if (::access((bin / "pg_dump").c_str(), X_OK) == 0 &&
        ::access((bin / "pg_restore").c_str(), X_OK) == 0)
      return bin;
  }
  return {};
}

TEST(Cli, VersionPrintsTheBuildAndThePostgresClientsOnThePath) {
  auto run = run_exporter({"--version"}, {{"PG_BIN_DIR", std::nullopt}}, 30);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  for (const char* needle : {"backupdrill_exporter, version 0.", "(revision: ",
                             "\n  build date:    20", "\n  compiler:      ", "(C++20)"}) {
    EXPECT_NE(run.output.find(needle), std::string::npos) << needle << "\n" << run.output;
  }
  // What a person gets from running the clients on PATH themselves.
  for (const char* name : {"pg_dump", "pg_restore"}) {
    auto on_path = find_in_path(name);
    ASSERT_TRUE(on_path) << name << " is not on PATH (install postgresql-client)";
    auto expected = pg::probe_tool(*on_path);
    EXPECT_NE(run.output.find("\n  " + std::string(name) + ":"), std::string::npos) << run.output;
    EXPECT_NE(run.output.find(expected.version + " (" + on_path->string() + ")"), std::string::npos)
        << name << " " << expected.version << "\n"
        << run.output;
  }
}

TEST(Cli, VersionLooksOnlyInPgBinDirWhenItIsSet) {
  auto bin = a_postgresql_bin_dir();
  ASSERT_FALSE(bin.empty()) << "no /usr/lib/postgresql/<N>/bin with pg_dump and pg_restore";
  auto run = run_exporter({"--version"}, {{"PG_BIN_DIR", bin.string()}}, 30);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  auto expected = pg::probe_tool(bin / "pg_restore");
  EXPECT_NE(run.output.find("  pg_restore:    " + expected.version + " (" +
                            (bin / "pg_restore").string() + ") [PG_BIN_DIR]\n"),
            std::string::npos)
      << run.output;
  EXPECT_EQ(run.output.find("/usr/bin/pg_dump"), std::string::npos) << run.output;

  auto empty = fresh_dir("cli_version_no_clients");
  run = run_exporter({"--version"}, {{"PG_BIN_DIR", empty.string()}}, 30);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("  pg_dump:       not found in " + empty.string() + " [PG_BIN_DIR]"),
            std::string::npos)
      << run.output;
}

TEST(Cli, VersionNamesTheClientsOfEachDrillsPgBinDir) {
  auto bin = a_postgresql_bin_dir();
  ASSERT_FALSE(bin.empty()) << "no /usr/lib/postgresql/<N>/bin with pg_dump and pg_restore";
  auto dir = fresh_dir("cli_version_config");
  auto config = dir / "drills.toml";
  auto drill = [](const std::string& name, const std::string& extra) {
    return "[[drill]]\nname = \"" + name +
           "\"\nsource_url = \"${SRC}\"\ntarget_url = \"postgresql://u@127.0.0.1:1/" + name +
           "\"\n" + extra;
  };
  write_file(config, "[exporter]\nartifact_dir = \"" + (dir / "artifacts").string() + "\"\n" +
                         drill("pinned", "pg_bin_dir = \"" + bin.string() + "\"\n") +
                         drill("pinned_too", "pg_bin_dir = \"" + bin.string() + "\"\n") +
                         drill("missing", "pg_bin_dir = \"" + (dir / "none").string() + "\"\n") +
                         drill("plain", ""));
  auto run = run_exporter({"--version", "--config.file=" + config.string()},
                          {{"SRC", "postgresql://u@127.0.0.1:1/src"}}, 30);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  auto expected = pg::probe_tool(bin / "pg_dump");
  for (std::string needle :
       {"  pg_dump:       " + expected.version + " (" + (bin / "pg_dump").string() +
            ") [pg_bin_dir of drills pinned, pinned_too]\n",
        "  pg_restore:    not found in " + (dir / "none").string() +
            " [pg_bin_dir of drill missing]\n",
        std::string(") [drill plain]\n")}) {
    EXPECT_NE(run.output.find(needle), std::string::npos) << needle << "\n" << run.output;
  }

  // A config it cannot read (a variable is not set) still gives the version, and says why.
  run =
      run_exporter({"--version", "--config.file=" + config.string()}, {{"SRC", std::nullopt}}, 30);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("(pg_bin_dir of " + config.string() + " not read: "), std::string::npos)
      << run.output;
}

}  // namespace
}  // namespace backupdrill::testing
