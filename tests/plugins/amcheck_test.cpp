// The amcheck check against real PostgreSQL servers: a clean restore passes
// through the real exporter; indexes and a table corrupted on disk (bytes
// overwritten while their own throwaway cluster is stopped) fail the check,
// naming each, while every other relation is still checked; running out of
// time stops it saying how far it got; a missing schema, a user who may not
// install amcheck and a bad config are refused with what to do.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "pg_support.h"
#include "plugin_host/check_worker.h"
#include "process/child_process.h"

namespace bd = backupdrill;
namespace ph = backupdrill::plugin_host;
using bd::testing::contains;
using bd::testing::pg;
using bd::testing::run_exporter;
using bd::testing::Scratch;
using bd::testing::sql_exec;
using bd::testing::sql_value;
using namespace std::chrono_literals;

namespace {

struct PluginRun {
  bool passed = false;
  std::string message;  // the failure, or the summary of a pass
  bd::CheckOutcome outcome;
  std::string line(const std::string& name) const {
    for (const auto& l : outcome.lines) {
      if (l.name == name) return l.value;
    }
    return "";
  }
};

// Runs amcheck.so the way a drill does (its own worker process, the C ABI)
// against `target`, with `settings` as the rest of its [[drill.check]] table.
PluginRun run_amcheck(const std::string& target, const std::string& settings = "",
                      std::chrono::milliseconds time = 2min) {
  ph::CheckWorker worker(std::filesystem::path(BD_CHECKS_DIR) / "amcheck.so");
  PluginRun run;
  run.outcome.name = "structure";
  auto deadline = std::chrono::steady_clock::now() + time;
  auto created = worker.create("plugin = \"amcheck\"\nname = \"structure\"\n" + settings, "d",
                               "structure", deadline, run.outcome);
  if (!created.ok()) {
    run.message = "create: " + created.message;
    return run;
  }
  ph::CallArgs args;
  args.drill = "d";
  args.check = "structure";
  args.target = target;
  auto result = worker.call(args, deadline, {}, run.outcome);
  worker.stop();
  run.passed = result.ok() && !run.outcome.skipped;
  run.message = result.ok() ? run.outcome.message : result.message;
  return run;
}

std::string url_for(const std::string& admin_url, const std::string& db) {
  return admin_url.substr(0, admin_url.rfind('/') + 1) + db;
}

// The amcheck extension and the check's own schema, as the database has them.
std::string amcheck_traces(const std::string& url) {
  pqxx::connection conn(url);
  pqxx::nontransaction tx(conn);
  return tx
      .exec1(
          "select coalesce((select n.nspname from pg_extension e join pg_namespace n on n.oid = "
          "e.extnamespace where e.extname = 'amcheck'), '-') || ' ' || "
          "(select count(*) from pg_namespace where nspname = 'backupdrill_amcheck')")[0]
      .as<std::string>();
}

// A cluster of this test's own (tests/support/pg_cluster.sh), since its
// files get corrupted: started in the constructor, stopped and removed in
// the destructor (and by the plugin_amcheck_cluster_cleanup ctest fixture
// should this process die first).
class OwnCluster {
 public:
  OwnCluster() : dir_(BD_AMCHECK_CLUSTER) {
    auto run = script("start");
    if (!run.status.ok()) throw std::runtime_error("pg_cluster.sh start failed: " + run.out);
    std::ifstream in(dir_ / "env");
    std::string line;
    while (std::getline(in, line)) {
      auto eq = line.find('=');
      if (eq != std::string::npos) env_[line.substr(0, eq)] = line.substr(eq + 1);
    }
  }
  ~OwnCluster() { script("stop"); }
  OwnCluster(const OwnCluster&) = delete;
  OwnCluster& operator=(const OwnCluster&) = delete;

  std::string url(const std::string& db) const { return url_for(env_.at("ADMIN_URL"), db); }
  std::filesystem::path data_dir() const { return env_.at("PG_DATA_DIR"); }

  // pg_ctl stop / start of the same data directory (as postgres when root).
  void stop_server() {
    pg_ctl({"-D", data_dir().string(), "-m", "fast", "-w", "-t", "60", "stop"});
  }
  void start_server() {
    pg_ctl({"-D", data_dir().string(), "-l", (data_dir().parent_path() / "postgres.log").string(),
            "-w", "-t", "60", "start"});
  }

 private:
  bd::CapturedRun script(const std::string& command) const {
    bd::ChildSpec spec;
    spec.program = std::string(BD_SOURCE_DIR) + "/tests/support/pg_cluster.sh";
    spec.args = {command, dir_.string()};
    return bd::run_capture(spec, std::chrono::steady_clock::now() + 2min);
  }
  void pg_ctl(std::vector<std::string> args) const {
    bd::ChildSpec spec;
    spec.program = env_.at("PG_BIN_DIR") + "/pg_ctl";
    spec.args = std::move(args);
    if (::geteuid() == 0) {
      spec.args.insert(spec.args.begin(), {"-u", "postgres", "--", spec.program.string()});
      spec.program = bd::find_in_path("runuser").value_or("/usr/sbin/runuser");
    }
    spec.env["LC_ALL"] = "C.UTF-8";
    auto run = bd::run_capture(spec, std::chrono::steady_clock::now() + 2min);
    if (!run.status.ok()) throw std::runtime_error("pg_ctl failed: " + run.out);
  }

  std::filesystem::path dir_;
  std::map<std::string, std::string> env_;
};

std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

void write_file(const std::filesystem::path& file, const std::string& bytes) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("could not write " + file.string());
}

}  // namespace

// The acceptance point of issue 14: an index whose file was changed while
// the server was down fails the check, naming it with amcheck's own verdict.
// The same database passes before the bytes are changed, so the failure is
// the corruption's. A table with a damaged tuple header (verify_heapam) is
// named as well, and both being found shows that one corrupt relation does
// not stop the others: every relation is still counted as checked.
TEST(Amcheck, IndexAndTableCorruptedOnDiskFailNamingEach) {
  OwnCluster cluster;
  {
    pqxx::connection conn(cluster.url("postgres"));
    pqxx::nontransaction tx(conn);
    tx.exec("create database amcheck_corrupt");
  }
  const std::string db = cluster.url("amcheck_corrupt");
  {
    pqxx::connection conn(db);
    pqxx::nontransaction tx(conn);
    tx.exec(
        "create table items (id int primary key, v text);"
        "insert into items select g, 'key-' || lpad(g::text, 6, '0') "
        "  from generate_series(1, 1000) g;"
        "create index items_v_idx on items (v);"
        "create table heap_only (v text);"
        "insert into heap_only select 'row ' || g from generate_series(1, 100) g;"
        "create table pairs (v text);"
        "insert into pairs select 'val-' || lpad(g::text, 6, '0') from generate_series(1, 500) g;"
        "create index pairs_v_idx on pairs (v);"
        "checkpoint");
  }

  auto clean = run_amcheck(db);
  ASSERT_TRUE(clean.passed) << clean.message;
  EXPECT_TRUE(contains(clean.message, "no corruption found in ")) << clean.message;
  const std::string checked = clean.line("structure.relations_checked");
  // items, heap_only, pairs, their TOAST tables and TOAST indexes, items_pkey,
  // items_v_idx, pairs_v_idx
  EXPECT_EQ(checked, "12") << clean.message;
  EXPECT_EQ(clean.line("structure.corrupt_relations"), "0");
  EXPECT_EQ(amcheck_traces(db), "- 0") << "the extension the check installed is gone";

  std::filesystem::path index_file, heap_file, pairs_file;
  {
    pqxx::connection conn(db);
    pqxx::nontransaction tx(conn);
    index_file = cluster.data_dir() /
                 tx.exec1("select pg_relation_filepath('items_v_idx')")[0].as<std::string>();
    heap_file = cluster.data_dir() /
                tx.exec1("select pg_relation_filepath('heap_only')")[0].as<std::string>();
    pairs_file =
        cluster.data_dir() / tx.exec1("select pg_relation_filepath('pairs')")[0].as<std::string>();
  }
  cluster.stop_server();
  // The index: one leaf key made larger than the keys after it on its page
  // (same length, so the tuple stays well-formed): an ordering violation.
  std::string index = read_file(index_file);
  auto at = index.find("key-000500");
  ASSERT_NE(at, std::string::npos);
  ASSERT_EQ(index.find("key-000500", at + 1), std::string::npos);
  index.replace(at, 10, "key-999999");
  write_file(index_file, index);
  // The table: the first tuple's xmin (the first 4 bytes of the tuple that
  // line pointer 1 of block 0 points to) set to a transaction that never was.
  std::string heap = read_file(heap_file);
  ASSERT_GE(heap.size(), 8192u);
  uint32_t line_pointer;
  std::memcpy(&line_pointer, heap.data() + 24, 4);
  uint32_t tuple = line_pointer & 0x7fff;
  ASSERT_GT(tuple, 24u);
  ASSERT_LT(tuple, 8192u - 24u);
  const uint32_t bogus_xmin = 0xFFFFFF00u;
  std::memcpy(heap.data() + tuple, &bogus_xmin, 4);
  write_file(heap_file, heap);
  // A value changed in a table but not in its index: the index itself is
  // well-formed, only heapallindexed sees the row without its entry.
  std::string pairs = read_file(pairs_file);
  at = pairs.find("val-000300");
  ASSERT_NE(at, std::string::npos);
  ASSERT_EQ(pairs.find("val-000300", at + 1), std::string::npos);
  pairs.replace(at, 10, "val-zzzzzz");
  write_file(pairs_file, pairs);
  cluster.start_server();

  auto corrupt = run_amcheck(db);
  EXPECT_FALSE(corrupt.passed);
  const std::string& m = corrupt.message;
  EXPECT_TRUE(contains(m, "3 relations are corrupt (of 12 relations checked)")) << m;
  EXPECT_TRUE(contains(m, "index public.items_v_idx (on public.items): ")) << m;
  EXPECT_TRUE(contains(m, "invariant violated for index \"items_v_idx\"")) << m;
  EXPECT_TRUE(contains(m, "table public.heap_only: block 0, offset 1: xmin 4294967040")) << m;
  EXPECT_TRUE(contains(m, "index public.pairs_v_idx (on public.pairs): heap tuple (")) << m;
  EXPECT_TRUE(contains(m, "lacks matching index tuple within index \"pairs_v_idx\"")) << m;
  EXPECT_FALSE(contains(m, "items_pkey")) << "the intact index of the same table passes: " << m;
  EXPECT_FALSE(contains(m, "table public.pairs")) << "its tuples are well-formed: " << m;
  EXPECT_EQ(corrupt.line("structure.relations_checked"), checked);
  EXPECT_EQ(corrupt.line("structure.corrupt_relations"), "3");
  EXPECT_EQ(amcheck_traces(db), "- 0");

  // heapallindexed = false and heap = false: the ordering violation is still
  // found by the structure check alone; the missing entry and the table's
  // damaged tuple are not.
  auto btree_only = run_amcheck(db, "heapallindexed = false\nheap = false\n");
  EXPECT_FALSE(btree_only.passed);
  EXPECT_TRUE(contains(btree_only.message, "1 relation is corrupt (of 6 relations checked)"))
      << btree_only.message;
  EXPECT_TRUE(contains(btree_only.message, "index public.items_v_idx (on public.items)"))
      << btree_only.message;
}

// A clean restore passes through the real binary: a pg_dump drill of the
// Supabase-shaped fixture with the check "amcheck"; its figures are in the
// validation file and the summary, and the restored target holds no trace
// of the extension afterwards.
TEST(Amcheck, CleanRestorePassesInADrillOfTheRealExporter) {
  Scratch s("amcheck_drill");
  auto cfg = s.config(s.plugin_dir({"amcheck"}),
                      "[[drill.check]]\nplugin = \"amcheck\"\nname = \"structure\"\n");
  auto run = run_exporter({"--config.file=" + cfg.string(), "--once"});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  auto text = s.artifact("drill_summary_", ".json");
  ASSERT_FALSE(text.empty()) << run.output;
  auto summary = nlohmann::json::parse(text);
  nlohmann::json check;
  for (const auto& c : summary["checks"]) {
    if (c["name"] == "structure") check = c;
  }
  ASSERT_FALSE(check.is_null()) << summary.dump();
  EXPECT_EQ(check["result"], "passed") << check;
  std::string message = check["message"];
  EXPECT_TRUE(contains(message, "no corruption found in ")) << message;
  EXPECT_TRUE(contains(message, "B-tree indexes (bt_index_check, heapallindexed)")) << message;
  EXPECT_TRUE(contains(message, "heap relations (verify_heapam")) << message;
  auto validation = s.artifact("validation_");
  auto pos = validation.find("structure.relations_checked|");
  ASSERT_NE(pos, std::string::npos) << validation;
  EXPECT_GT(std::stol(validation.substr(pos + 28)), 10) << validation;
  EXPECT_TRUE(contains(validation, "structure.corrupt_relations|0\n")) << validation;
  EXPECT_EQ(amcheck_traces(pg().url(s.target())), "- 0");
}

// Under 4 s left (the 3 s kept back to remove the extension, plus 1 s for a
// relation): the check stops before the first relation, says how far it got
// and still removes the extension in the time it kept back. Not timing
// dependent: any start-up under 3.9 s leads to the same path.
TEST(Amcheck, RunningOutOfTimeStopsSayingHowFarItGot) {
  Scratch s("amcheck_time");
  auto run = run_amcheck(pg().url(s.source()), "", 3900ms);
  EXPECT_FALSE(run.passed);
  EXPECT_TRUE(contains(run.message, "stopped after 0 of ")) << run.message;
  EXPECT_TRUE(contains(run.message,
                       "relations because its timeout ran out; raise the check's "
                       "timeout"))
      << run.message;
  EXPECT_EQ(run.line("structure.relations_checked"), "0");
  EXPECT_EQ(amcheck_traces(pg().url(s.source())), "- 0");
}

// An amcheck the database already has is used where it is and left there.
TEST(Amcheck, AnInstalledExtensionIsUsedAndKept) {
  Scratch s("amcheck_kept");
  sql_exec(s.source(), "create extension amcheck");
  auto run = run_amcheck(pg().url(s.source()), "schemas = [\"public\"]\n");
  EXPECT_TRUE(run.passed) << run.message;
  EXPECT_TRUE(contains(run.message, "in schema public: ")) << run.message;
  EXPECT_EQ(amcheck_traces(pg().url(s.source())), "public 0");
}

TEST(Amcheck, ASchemaTheDatabaseLacksFailsNamingIt) {
  Scratch s("amcheck_schema");
  auto run = run_amcheck(pg().url(s.source()), "schemas = [\"public\", \"pubic\"]\n");
  EXPECT_FALSE(run.passed);
  EXPECT_EQ(run.message,
            "key \"schemas\": \"pubic\" is not in the restored database; name schemas it has (or "
            "leave schemas empty for all)");
}

// amcheck is not a trusted extension: a user who is no superuser cannot
// install it, and is told what to install or grant instead.
TEST(Amcheck, AUserWhoMayNotInstallAmcheckIsToldWhatToDo) {
  Scratch s("amcheck_plain");
  const std::string role = "amcheck_plain_" + std::to_string(::getpid());
  sql_exec("postgres", "create role " + role + " login password 'plain-pw-1'");
  auto url =
      "postgresql://" + role + ":plain-pw-1@" + pg().host + ":" + pg().port + "/" + s.source();
  auto run = run_amcheck(url);
  sql_exec("postgres", "drop role " + role);
  EXPECT_FALSE(run.passed);
  EXPECT_TRUE(contains(run.message,
                       "the amcheck extension is not installed in the restored "
                       "database and the target's user \"" +
                           role + "\" may not create it"))
      << run.message;
  EXPECT_TRUE(contains(run.message, "connect to the target as a superuser")) << run.message;
}

// The exporter validates the check's config at --check-config (exit 2),
// naming the key and what is expected.
TEST(Amcheck, ConfigErrorsNameTheKeyAtCheckConfig) {
  Scratch s("amcheck_config");
  auto plugins = s.plugin_dir({"amcheck"});
  struct Case {
    std::string settings, expected;
  };
  for (const Case& c : {Case{"schemas = \"public\"", "expected an array of strings"},
                        Case{"heapallindexed = \"yes\"", "expected true or false"},
                        Case{"heap_all_indexed = true", "unknown key"},
                        Case{"schemas = [\"a\"]\nexclude_schemas = [\"a\"]", "also in schemas"}}) {
    auto cfg = s.config(plugins, "[[drill.check]]\nplugin = \"amcheck\"\nname = \"structure\"\n" +
                                     c.settings + "\n");
    auto run = run_exporter({"--config.file=" + cfg.string(), "--check-config"});
    EXPECT_EQ(run.exit_code, 2) << c.settings << "\n" << run.output;
    EXPECT_TRUE(contains(run.output, c.expected)) << c.settings << "\n" << run.output;
    auto key = c.settings.substr(0, c.settings.find(' '));
    if (c.expected == "also in schemas") key = "exclude_schemas";
    EXPECT_TRUE(contains(run.output, key)) << c.settings << "\n" << run.output;
  }
}
