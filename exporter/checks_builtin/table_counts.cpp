// table_counts: row counts of the restored tables, optionally equal to the
// source's at the backup's exact snapshot, optionally with a content
// fingerprint (an order-independent sum of 64-bit hashes of each row's text).
#include <pqxx/pqxx>

#include "checks_builtin/builtin_checks.h"
#include "checks_builtin/settings_reader.h"
#include "util/secrets.h"

namespace backupdrill {
namespace {

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

struct Measure {
  long long rows = 0;
  std::string fingerprint;
};

class TableCounts : public Check {
 public:
  explicit TableCounts(const CheckConfig& config) {
    CheckSettings s(config);
    for (const auto& t : s.strings("tables").value_or(std::vector<std::string>{})) {
      if (t.empty() || t.find('.') != t.rfind('.')) {
        s.fail("tables", "\"" + t + "\" is not a table name; write \"schema.table\" or \"table\"");
      }
      tables_.push_back(split_table(t));
    }
    schemas_ = s.strings("schemas").value_or(std::vector<std::string>{});
    compare_source_ = s.boolean("compare_source").value_or(false);
    fingerprint_ = s.boolean("fingerprint").value_or(false);
    s.finish();
    if (tables_.empty() && schemas_.empty()) {
      s.fail("tables", "list at least one table (tables = [\"public.profiles\"]) or schema "
                       "(schemas = [\"public\"])");
    }
  }

  bool wants_source_snapshot() const override { return compare_source_; }

  void on_source_snapshot(const pg::ConnInfo& source, const std::string& snapshot_id,
                          CheckOutcome& out) override {
    pqxx::connection conn(source.full());
    pqxx::work tx(conn);
    tx.exec("set transaction isolation level repeatable read, read only");
    tx.exec("set transaction snapshot " + tx.quote(snapshot_id));
    tx.exec(kStableOutputSettings);
    source_tables_ = resolve(tx);
    for (const auto& t : source_tables_) source_[t.display()] = measure(tx, t);
    source_done_ = true;
    (void)out;
  }

  void run(const CheckEnv& env, CheckOutcome& out) override {
    pqxx::connection conn(env.target.full());
    pqxx::work tx(conn);
    tx.exec("set transaction read only");
    tx.exec(kStableOutputSettings);
    std::vector<TableName> tables = resolve(tx);
    if (compare_source_ && source_done_) {
      // Tables of listed schemas come from the source: one missing on the
      // target is a failure, not something to skip.
      for (const auto& t : source_tables_) {
        bool found = false;
        for (const auto& have : tables) found |= have.schema == t.schema && have.table == t.table;
        if (!found) tables.push_back(t);
      }
    }
    std::vector<std::string> problems;
    for (const auto& t : tables) {
      RowCount row;
      row.table = t.display();
      Measure m;
      try {
        pqxx::subtransaction sub(tx, "count");
        m = measure(sub, t);
        sub.commit();
      } catch (const std::exception& e) {
        problems.push_back(t.display() + ": cannot be read on the target (" +
                           first_line(e.what()) + ")");
        out.rows.push_back(row);
        continue;
      }
      row.target = m.rows;
      if (fingerprint_) row.target_fingerprint = m.fingerprint;
      out.lines.push_back({t.display(), std::to_string(m.rows)});
      if (compare_source_) {
        auto it = source_.find(t.display());
        if (!source_done_) {
          problems.push_back("the source counts were not taken");
        } else if (it == source_.end()) {
          problems.push_back(t.display() + ": not found on the source");
        } else {
          row.source = it->second.rows;
          if (fingerprint_) row.source_fingerprint = it->second.fingerprint;
          if (it->second.rows != m.rows) {
            problems.push_back(t.display() + ": source has " + std::to_string(it->second.rows) +
                               " rows, target has " + std::to_string(m.rows));
          } else if (fingerprint_ && it->second.fingerprint != m.fingerprint) {
            problems.push_back(t.display() + ": same row count (" + std::to_string(m.rows) +
                               ") but the content fingerprint differs (source " +
                               it->second.fingerprint + ", target " + m.fingerprint + ")");
          }
        }
      }
      out.rows.push_back(row);
    }
    out.success = problems.empty();
    if (out.success) {
      out.message = std::to_string(tables.size()) + " tables counted" +
                    (compare_source_ ? ", equal to the source at the backup's snapshot" : "");
    } else {
      for (const auto& p : problems) out.message += (out.message.empty() ? "" : "; ") + p;
    }
  }

 private:
  static std::string first_line(const std::string& text) {
    return scrub(text.substr(0, text.find('\n')));
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
      // Sum of per-row 64-bit hashes as numeric: order-independent, and an
      // update that keeps the count still changes the sum.
      auto row = tx.exec1("select count(*), coalesce(sum(hashtextextended(r::text, 0)::numeric), 0)"
                          "::text from " + rel + " as r");
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
  std::vector<TableName> source_tables_;
  std::map<std::string, Measure> source_;
};

}  // namespace

std::unique_ptr<Check> make_table_counts(const CheckConfig& config) {
  return std::make_unique<TableCounts>(config);
}

}  // namespace backupdrill
