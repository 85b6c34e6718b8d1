// table_counts: row counts of the restored tables; with compare_source, equal
// to the source's at the backup's exact snapshot (the source is counted in
// the source phase, inside the snapshot pg_dump used); with fingerprint, an
// order-independent content hash of every row must match too.
#include <backupdrill/check.hpp>
#include <map>
#include <optional>
#include <pqxx/pqxx>

#include "common/settings.h"
#include "table_counts_sample.h"

namespace {

using backupdrill::checks::first_line;
using backupdrill::checks::kStableOutputSettings;
using backupdrill::checks::Settings;
using backupdrill::sdk::Host;
using backupdrill::sdk::RunContext;

struct TableName {
  std::string schema;
  std::string table;
  std::string display() const { return schema == "public" ? table : schema + "." + table; }
};

TableName split_table(const std::string& text) {
  auto dot = text.find('.');
  if (dot == std::string::npos) return {"public", text};
  return {text.substr(0, dot), text.substr(dot + 1)};
}

// How far the target's count may be from the source's: "2%" of the
// source's count, or "100 rows". For existing backups the source moved on
// after the archive was made, so exact parity cannot be measured.
struct Tolerance {
  bool percent = false;
  double amount = 0;
  std::string text;

  long long allowed(long long source_rows) const {
    if (!percent) return static_cast<long long>(amount);
    return static_cast<long long>(static_cast<double>(source_rows) * amount / 100.0);
  }
};

std::optional<Tolerance> parse_tolerance(const std::string& text) {
  Tolerance t;
  t.text = text;
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  std::string rest = text.substr(used);
  if (used == 0 || value < 0 || text[0] == ' ') return std::nullopt;
  if (rest == "%") {
    if (value > 100) return std::nullopt;
    t.percent = true;
  } else if (rest == " rows" || rest == " row") {
    if (value != static_cast<double>(static_cast<long long>(value))) return std::nullopt;
  } else {
    return std::nullopt;
  }
  t.amount = value;
  return t;
}

struct Measure {
  long long rows = 0;
  std::string fingerprint;
};

class TableCounts : public backupdrill::sdk::Check {
 public:
  TableCounts(const std::string& config, Host&) {
    Settings s(config);
    for (const auto& t : s.strings("tables").value_or(std::vector<std::string>{})) {
      if (t.empty() || t.find('.') != t.rfind('.')) {
        s.fail("tables", "\"" + t + "\" is not a table name; write \"schema.table\" or \"table\"");
      }
      tables_.push_back(split_table(t));
    }
    schemas_ = s.strings("schemas").value_or(std::vector<std::string>{});
    compare_source_ = s.boolean("compare_source").value_or(false);
    fingerprint_ = s.boolean("fingerprint").value_or(false);
    if (auto text = s.string("tolerance")) {
      tolerance_ = parse_tolerance(*text);
      if (!tolerance_) {
        s.fail("tolerance", "\"" + *text + "\" is not a tolerance; write \"2%\" or \"100 rows\"");
      }
    }
    s.finish();
    if (tolerance_ && !compare_source_) {
      s.fail("tolerance", "only means something with compare_source = true");
    }
    if (tolerance_ && fingerprint_) {
      s.fail("tolerance",
             "cannot go with fingerprint = true: contents are compared exactly or not at all");
    }
    if (tables_.empty() && schemas_.empty()) {
      s.fail("tables",
             "list at least one table (tables = [\"public.profiles\"]) or schema "
             "(schemas = [\"public\"])");
    }
  }

  void source_phase(const RunContext& ctx, Host& host) override {
    if (!compare_source_) return;
    pqxx::connection conn(ctx.source);
    pqxx::work tx(conn);
    tx.exec("set transaction isolation level repeatable read, read only");
    tx.exec("set transaction snapshot " + tx.quote(ctx.snapshot));
    tx.exec(kStableOutputSettings);
    source_tables_ = resolve(tx);
    for (const auto& t : source_tables_) {
      if (host.cancelled()) throw std::runtime_error("cancelled");
      Measure m = measure(tx, t);
      source_[t.display()] = m;
      emit(host, t, "source", m);
    }
    source_done_ = true;
  }

  void run(const RunContext& ctx, Host& host) override {
    bool existing_backup = !ctx.backup_source.empty() && ctx.backup_source != "pg_dump";
    if (compare_source_ && existing_backup && !tolerance_) {
      host.fail("compare_source = true with a " + ctx.backup_source +
                " backup needs a tolerance (\"2%\" or \"100 rows\"): the source moved on after "
                "the archive was made, so exact parity with it cannot be measured");
      return;
    }
    if (compare_source_ && !source_done_ && tolerance_ && !ctx.source.empty()) {
      // No snapshot of the backup to count in: count the source as it is now.
      count_source_now(ctx, host);
    }
    pqxx::connection conn(ctx.target);
    pqxx::work tx(conn);
    tx.exec("set transaction read only");
    tx.exec(kStableOutputSettings);
    const std::vector<TableName> tables = target_tables(tx);
    std::vector<std::string> problems;
    for (const auto& t : tables) {
      if (host.cancelled()) throw std::runtime_error("cancelled");
      Measure m;
      try {
        pqxx::subtransaction sub(tx, "count");
        m = measure(sub, t);
        sub.commit();
      } catch (const std::exception& e) {
        problems.push_back(t.display() + ": cannot be read on the target (" + first_line(e.what()) +
                           ")");
        continue;
      }
      emit(host, t, "target", m);
      host.line(t.display(), std::to_string(m.rows));
      if (compare_source_ && !compare(t, m, problems)) break;
    }
    report(host, problems, tables.size());
  }

 private:
  // The tables to count on the target. Tables of listed schemas come from
  // the source: one missing on the target is a failure, not something to
  // skip.
  std::vector<TableName> target_tables(pqxx::transaction_base& tx) const {
    std::vector<TableName> tables = resolve(tx);
    if (compare_source_ && source_done_) {
      for (const auto& t : source_tables_) {
        bool found = false;
        for (const auto& have : tables) found |= have.schema == t.schema && have.table == t.table;
        if (!found) tables.push_back(t);
      }
    }
    return tables;
  }

  // The target's measure of t against the source's, a problem when they
  // differ (beyond the tolerance); false when the source was not counted in
  // the backup's snapshot, which ends the comparison.
  bool compare(const TableName& t, const Measure& m, std::vector<std::string>& problems) {
    auto it = source_.find(t.display());
    if (!source_done_) {
      problems.push_back("the source counts were not taken in the backup's snapshot");
      return false;
    }
    if (it == source_.end()) {
      problems.push_back(t.display() + ": not found on the source");
    } else if (tolerance_) {
      long long diff = m.rows - it->second.rows;
      long long off = diff < 0 ? -diff : diff;
      std::string both = t.display() + ": source has " + std::to_string(it->second.rows) +
                         " rows, target has " + std::to_string(m.rows);
      if (off > tolerance_->allowed(it->second.rows)) {
        problems.push_back(both + ", " + std::to_string(off) + " apart, over the tolerance of " +
                           tolerance_->text);
      } else if (off != 0) {
        within_.push_back(both);
      }
    } else if (it->second.rows != m.rows) {
      problems.push_back(t.display() + ": source has " + std::to_string(it->second.rows) +
                         " rows, target has " + std::to_string(m.rows));
    } else if (fingerprint_ && it->second.fingerprint != m.fingerprint) {
      problems.push_back(t.display() + ": same row count (" + std::to_string(m.rows) +
                         ") but the content fingerprint differs (source " + it->second.fingerprint +
                         ", target " + m.fingerprint + ")");
    }
    return true;
  }

  // The verdict: every problem, or what was counted and compared.
  void report(Host& host, const std::vector<std::string>& problems, size_t table_count) const {
    if (!problems.empty()) {
      std::string message;
      for (const auto& p : problems) message += (message.empty() ? "" : "; ") + p;
      host.fail(message);
      return;
    }
    if (tolerance_) {
      std::string differing;
      for (const auto& w : within_) differing += "; " + w;
      host.summary(std::to_string(table_count) + " tables counted, within " + tolerance_->text +
                   " of the source " +
                   (source_now_ ? "as it is now (not at the backup's snapshot)"
                                : "at the backup's snapshot") +
                   differing);
      return;
    }
    host.summary(std::to_string(table_count) + " tables counted" +
                 (compare_source_ ? ", equal to the source at the backup's snapshot" : "") +
                 (fingerprint_ ? ", content fingerprints equal" : ""));
  }

  void count_source_now(const RunContext& ctx, Host& host) {
    pqxx::connection conn(ctx.source);
    pqxx::work tx(conn);
    tx.exec("set transaction isolation level repeatable read, read only");
    tx.exec(kStableOutputSettings);
    source_tables_ = resolve(tx);
    for (const auto& t : source_tables_) {
      if (host.cancelled()) throw std::runtime_error("cancelled");
      Measure m = measure(tx, t);
      source_[t.display()] = m;
      emit(host, t, "source", m);
    }
    source_done_ = true;
    source_now_ = true;
  }

  void emit(Host& host, const TableName& t, const char* side, const Measure& m) const {
    std::vector<std::pair<std::string, std::string>> labels{{"table", t.display()}, {"side", side}};
    if (fingerprint_) labels.emplace_back("fingerprint", m.fingerprint);
    host.emit("rows", static_cast<double>(m.rows), labels);
  }

  std::vector<TableName> resolve(pqxx::transaction_base& tx) const {
    std::vector<TableName> out = tables_;
    for (const auto& schema : schemas_) {
      auto rows = tx.exec_params(
          "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
          "where n.nspname = $1 and c.relkind in ('r', 'p') and not c.relispartition "
          "order by c.relname",
          schema);
      for (const auto& r : rows) out.push_back({schema, r[0].as<std::string>()});
    }
    return out;
  }

  Measure measure(pqxx::transaction_base& tx, const TableName& t) const {
    std::string rel = tx.quote_name(t.schema) + "." + tx.quote_name(t.table);
    Measure m;
    if (fingerprint_) {
      // Every row's text form hashed to 64 bits and summed: order-independent,
      // duplicates count (unlike xor), and an update that keeps the count
      // changes the sum. sum(int8) accumulates in 128-bit integers (no
      // numeric arithmetic per row), and the aggregate is parallel-safe.
      auto row = tx.exec1(
          "select count(*), coalesce(sum(hashtextextended(r::text, 0)), 0)::text "
          "from " +
          rel + " as r");
      m.rows = row[0].as<long long>();
      m.fingerprint = row[1].as<std::string>();
    } else {
      m.rows = tx.exec1("select count(*) from " + rel)[0].as<long long>();
    }
    return m;
  }

  std::vector<TableName> tables_;
  std::vector<std::string> schemas_;
  bool compare_source_ = false;
  bool fingerprint_ = false;
  bool source_done_ = false;
  bool source_now_ = false;
  std::optional<Tolerance> tolerance_;
  std::vector<std::string> within_;
  std::vector<TableName> source_tables_;
  std::map<std::string, Measure> source_;
};

}  // namespace

BACKUPDRILL_CHECK(TableCounts, "table_counts", BACKUPDRILL_CHECKS_VERSION,
                  "row counts of tables, equal to the source at the backup's exact snapshot, "
                  "optionally with a content fingerprint",
                  BACKUPDRILL_SAMPLE_CONFIG, true)
