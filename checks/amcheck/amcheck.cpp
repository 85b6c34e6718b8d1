// amcheck: the restored data's physical structure is sound. Every B-tree
// index of the chosen schemas is checked with amcheck's bt_index_check
// (with heapallindexed: every heap tuple has its index entry), and on
// PostgreSQL 14+ every table, materialized view and TOAST table with
// verify_heapam. A corrupt relation does not stop the others: the check
// fails naming each one (schema-qualified) with the server's first message.
// amcheck is installed for the check when the database lacks it, and
// removed afterwards.
#include <backupdrill/check.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <pqxx/pqxx>
#include <thread>

#include "amcheck/amcheck_config.h"
#include "amcheck/catalog.h"
#include "amcheck/extension.h"
#include "amcheck/findings.h"
#include "amcheck/pg_errors.h"
#include "amcheck_sample.h"
#include "common/settings.h"

namespace {

namespace am = backupdrill::checks::amcheck;
using backupdrill::checks::amcheck::server_message;
using backupdrill::checks::amcheck::sqlstate_of;
using backupdrill::sdk::Host;
using backupdrill::sdk::RunContext;
using Clock = std::chrono::steady_clock;

// Time kept back from the deadline to remove the extension again.
constexpr long long kReserveMs = 3000;
// How long to wait for a server that restarted after a crash while checking.
constexpr auto kReconnectWait = std::chrono::seconds(60);

std::unique_ptr<pqxx::connection> connect(const std::string& conninfo) {
  auto conn = std::make_unique<pqxx::connection>(conninfo);
  pqxx::nontransaction tx(*conn);
  tx.exec("set search_path = pg_catalog, pg_temp; set application_name = 'backupdrill amcheck'");
  return conn;
}

// Why the loop over relations stopped early, for the failure message.
struct Stop {
  std::string why;
};

class Amcheck : public backupdrill::sdk::Check {
 public:
  Amcheck(const std::string& config, Host&) : config_(am::parse_amcheck_config(config)) {}

  void run(const RunContext& ctx, Host& host) override {
    auto conn = connect(ctx.target);
    auto missing = am::missing_schemas(*conn, config_);
    if (!missing.empty()) {
      std::string names;
      for (const auto& m : missing) names += (names.empty() ? "\"" : ", \"") + m + "\"";
      host.fail("key \"schemas\": " + names + (missing.size() == 1 ? " is" : " are") +
                " not in the restored database; name schemas it has (or leave schemas empty "
                "for all)");
      return;
    }
    int server_version = 0;
    {
      pqxx::nontransaction tx(*conn);
      server_version = tx.exec("show server_version_num")[0][0].as<int>();
    }
    am::Extension ext;
    try {
      ext = am::ensure_extension(*conn);
    } catch (const am::ExtensionError& e) {
      host.fail(e.what());
      return;
    }
    if (ext.ours) host.debug("amcheck installed in schema " + ext.schema + " for the check");
    try {
      check(ctx, host, conn, ext, server_version);
    } catch (...) {
      remove(*conn, ext, host);
      throw;
    }
    remove(*conn, ext, host);
  }

 private:
  // What checking the relations found, and why it stopped early if it did.
  struct Tally {
    std::vector<am::Finding> findings;
    size_t indexes = 0, heaps = 0;
    std::optional<Stop> stop;
    size_t checked() const { return indexes + heaps; }
  };

  // The statements that check one relation, its oid as $1.
  struct Statements {
    std::string index_check;
    std::string heap_check;
  };

  void check(const RunContext& ctx, Host& host, std::unique_ptr<pqxx::connection>& conn,
             const am::Extension& ext, int server_version) {
    bool heaps = config_.heap && server_version >= 140000;
    if (!has_functions(host, *conn, ext, heaps)) return;
    const auto relations = am::relations_to_check(*conn, config_, heaps);
    if (relations.empty()) {
      host.skip("nothing to check: no B-tree index or table in " +
                am::schemas_text(config_.schemas));
      return;
    }
    const Statements statements{
        "select " + ext.function(*conn, "bt_index_check") +
            (config_.heapallindexed ? "($1::oid::regclass, true)" : "($1::oid::regclass)"),
        "select blkno, offnum, attnum, msg from " + ext.function(*conn, "verify_heapam") +
            "($1::oid::regclass, on_error_stop => true, check_toast => true, skip => 'none') "
            "limit 1"};
    Tally tally;
    if (!check_relations(ctx, host, conn, ext, relations, statements, tally)) return;
    report(ctx, host, tally, relations.size(), heaps, server_version);
  }

  // The functions the configured checks call, in the installed amcheck's
  // version: false (the check failed, naming the upgrade) when one is missing.
  bool has_functions(Host& host, pqxx::connection& conn, const am::Extension& ext, bool heaps) {
    if (config_.heapallindexed &&
        !am::has_function(conn, ext, "bt_index_check(regclass,boolean)")) {
      host.fail("the amcheck extension in the restored database is version " + ext.version +
                ", without heapallindexed (bt_index_check(regclass, boolean), version 1.1+): "
                "ALTER EXTENSION amcheck UPDATE on the source, or set heapallindexed = false");
      return false;
    }
    if (heaps && !am::has_function(conn, ext,
                                   "verify_heapam(regclass,boolean,boolean,text,bigint,bigint)")) {
      host.fail("the amcheck extension in the restored database is version " + ext.version +
                ", without verify_heapam (version 1.3+, PostgreSQL 14+): ALTER EXTENSION amcheck "
                "UPDATE on the source, or set heap = false");
      return false;
    }
    return true;
  }

  // Each relation in turn, until the last, a cancel or the check's time
  // running out; false when the check must end at once (it failed).
  bool check_relations(const RunContext& ctx, Host& host, std::unique_ptr<pqxx::connection>& conn,
                       const am::Extension& ext, const std::vector<am::Relation>& relations,
                       const Statements& statements, Tally& tally) {
    auto progress_at = Clock::now() + std::chrono::seconds(30);
    for (size_t i = 0; i < relations.size() && !tally.stop; ++i) {
      if (host.cancelled()) {
        tally.stop =
            Stop{"it was cancelled (the drill was cancelled or the check's timeout passed)"};
        break;
      }
      long long left = host.remaining_ms() - kReserveMs;
      if (left < 1000) {
        tally.stop = Stop{"its timeout ran out; raise the check's timeout (e.g. timeout = \"1h\")"};
        break;
      }
      if (Clock::now() >= progress_at) {
        host.info("amcheck: " + std::to_string(i) + " of " + std::to_string(relations.size()) +
                  " relations checked");
        progress_at = Clock::now() + std::chrono::seconds(30);
      }
      if (!check_relation(ctx, host, conn, ext, relations[i], statements, left, tally)) {
        return false;
      }
    }
    return true;
  }

  // One relation, within `left_ms`: a finding, a stop, or nothing wrong.
  // False when the check must end at once (it failed).
  static bool check_relation(const RunContext& ctx, Host& host,
                             std::unique_ptr<pqxx::connection>& conn, const am::Extension& ext,
                             const am::Relation& rel, const Statements& statements,
                             long long left_ms, Tally& tally) {
    std::optional<am::Finding> finding;
    try {
      pqxx::nontransaction tx(*conn);
      tx.exec("set statement_timeout = " + std::to_string(std::min<long long>(left_ms, INT32_MAX)));
      if (rel.is_index()) {
        tx.exec_params(statements.index_check, rel.oid);
      } else {
        auto r = tx.exec_params(statements.heap_check, rel.oid);
        if (!r.empty()) finding = am::Finding{am::describe(rel), true, heap_problem(r[0])};
      }
    } catch (const pqxx::sql_error& e) {
      switch (am::classify_sqlstate(sqlstate_of(e))) {
        case am::ErrorKind::corruption:
          finding = am::Finding{am::describe(rel), true, server_message(e)};
          break;
        case am::ErrorKind::not_checkable:
          finding = am::Finding{am::describe(rel), false,
                                server_message(e) + " (SQLSTATE " + sqlstate_of(e) + ")"};
          break;
        case am::ErrorKind::out_of_time:
          tally.stop = Stop{"its timeout ran out while checking " + am::describe(rel) +
                            "; raise the check's timeout (e.g. timeout = \"1h\")"};
          return true;
        case am::ErrorKind::no_privilege:
          host.fail("the target's user may not run amcheck (" + server_message(e) +
                    "): connect to the target as a superuser, or GRANT EXECUTE ON FUNCTION " +
                    ext.function(*conn, "bt_index_check(regclass, boolean)") + ", " +
                    ext.function(*conn, "verify_heapam") + " to that user on the source");
          return false;
      }
    } catch (const pqxx::broken_connection& e) {
      finding = am::Finding{am::describe(rel), false,
                            "the server closed the connection while checking it (did it crash "
                            "on a damaged page? see its log): " +
                                server_message(e)};
      if (!reconnect(ctx.target, host, conn)) {
        tally.stop = Stop{"the server did not accept connections again after that"};
      }
    }
    (rel.is_index() ? tally.indexes : tally.heaps) += 1;
    if (finding) {
      host.warn("amcheck: " + finding->relation + (finding->corrupt ? " is corrupt: " : ": ") +
                finding->message);
      tally.findings.push_back(std::move(*finding));
    }
    return true;
  }

  // The series, the summary lines and the verdict.
  void report(const RunContext& ctx, Host& host, const Tally& tally, size_t relation_count,
              bool heaps, int server_version) {
    size_t checked = tally.checked();
    host.emit("relations_checked", static_cast<double>(tally.indexes), {{"kind", "btree_index"}});
    host.emit("relations_checked", static_cast<double>(tally.heaps), {{"kind", "heap"}});
    host.emit("corrupt_relations", static_cast<double>(tally.findings.size()));
    host.line(ctx.check + ".relations_checked", std::to_string(checked));
    host.line(ctx.check + ".corrupt_relations", std::to_string(tally.findings.size()));

    std::string heap_note;
    if (config_.heap && !heaps) {
      heap_note = "; no heap checks: verify_heapam needs PostgreSQL 14+ (the target runs " +
                  std::to_string(server_version / 10000) + ")";
    }
    if (tally.stop) {
      std::string text = "stopped after " + std::to_string(checked) + " of " +
                         std::to_string(relation_count) + " relations because " + tally.stop->why;
      if (!tally.findings.empty())
        text += "; so far " + am::failure_message(tally.findings, checked);
      host.fail(text);
      return;
    }
    if (!tally.findings.empty()) {
      host.fail(am::failure_message(tally.findings, checked) + heap_note);
      return;
    }
    host.summary(
        "no corruption found in " +
        am::checked_text(tally.indexes, tally.heaps, config_.heapallindexed, config_.schemas) +
        heap_note);
  }

  // "block 0, offset 3, attribute 2: <verify_heapam's message>"
  static std::string heap_problem(const pqxx::row& row) {
    std::string where;
    const char* names[] = {"block ", "offset ", "attribute "};
    for (int c = 0; c < 3; ++c) {
      if (row[c].is_null()) continue;
      where += (where.empty() ? "" : ", ") + std::string(names[c]) + row[c].c_str();
    }
    std::string msg = row[3].is_null() ? "corrupt" : row[3].as<std::string>();
    return where.empty() ? msg : where + ": " + msg;
  }

  // After the server dropped the connection (a backend crash restarts it):
  // connect again within kReconnectWait and the check's time.
  static bool reconnect(const std::string& conninfo, Host& host,
                        std::unique_ptr<pqxx::connection>& conn) {
    auto until = Clock::now() + kReconnectWait;
    while (Clock::now() < until && host.remaining_ms() > kReserveMs && !host.cancelled()) {
      try {
        conn = connect(conninfo);
        return true;
      } catch (const pqxx::broken_connection&) {
        std::this_thread::sleep_for(std::chrono::seconds(1));
      }
    }
    return false;
  }

  static void remove(pqxx::connection& conn, const am::Extension& ext, Host& host) {
    if (!ext.ours) return;
    try {
      if (!conn.is_open()) return;
      am::remove_extension(conn, ext);
    } catch (const std::exception& e) {
      host.warn("amcheck: could not remove the amcheck extension the check installed (schema " +
                ext.schema + "): " + server_message(e));
    }
  }

  am::AmcheckConfig config_;
};

}  // namespace

BACKUPDRILL_CHECK(Amcheck, "amcheck", BACKUPDRILL_CHECKS_VERSION,
                  "B-tree (bt_index_check, heapallindexed) and heap (verify_heapam, PostgreSQL "
                  "14+) structure checks of the restored data",
                  BACKUPDRILL_SAMPLE_CONFIG, false)
