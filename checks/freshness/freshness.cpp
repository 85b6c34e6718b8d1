// freshness: the newest value of a timestamp column of the restored data must
// be within max_lag of the recovery point. The recovery point comes from the
// host (bd_run_context.recovery_point_ms) when it passes one; else, for a
// fresh dump, from the source phase: the source server's clock while pg_dump
// holds the backup's snapshot (at most the dump's duration after it).
#include <backupdrill/check.hpp>
#include <ctime>
#include <pqxx/pqxx>

#include "common/settings.h"
#include "freshness_sample.h"
#include "util/duration.h"

namespace {

using backupdrill::checks::kStableOutputSettings;
using backupdrill::checks::Settings;
using backupdrill::sdk::Host;
using backupdrill::sdk::RunContext;

std::string utc_text(double unix_seconds) {
  time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

class Freshness : public backupdrill::sdk::Check {
 public:
  Freshness(const std::string& config, Host&) {
    Settings s(config);
    std::string table = s.string("table").value_or("");
    column_ = s.string("column").value_or("");
    std::string lag = s.string("max_lag").value_or("");
    s.finish();
    if (table.empty() || table.find('.') != table.rfind('.')) {
      s.fail("table", "name the table whose newest row is checked: table = \"public.tasks\"");
    }
    auto dot = table.find('.');
    schema_ = dot == std::string::npos ? "public" : table.substr(0, dot);
    table_ = dot == std::string::npos ? table : table.substr(dot + 1);
    if (column_.empty()) {
      s.fail("column", "name a timestamp column that new rows set: column = \"created_at\"");
    }
    auto parsed = backupdrill::parse_duration(lag);
    if (!parsed || parsed->count() <= 0) {
      s.fail("max_lag", "\"" + lag + "\" is not a duration; write e.g. max_lag = \"26h\"");
    }
    max_lag_ = *parsed;
    max_lag_text_ = lag;
  }

  // A fresh dump: its recovery point is its snapshot, which is held open
  // while this runs; the source's clock now is within the dump's duration
  // of it (a lag is then overstated by at most that, never understated).
  void source_phase(const RunContext& ctx, Host&) override {
    pqxx::connection conn(ctx.source);
    pqxx::work tx(conn);
    tx.exec("set transaction isolation level repeatable read, read only");
    tx.exec("set transaction snapshot " + tx.quote(ctx.snapshot));
    snapshot_seconds_ =
        tx.exec1("select extract(epoch from clock_timestamp())::float8")[0].as<double>();
  }

  void run(const RunContext& ctx, Host& host) override {
    double recovery_point = 0;
    std::string from;
    if (ctx.recovery_point_ms > 0) {
      recovery_point = static_cast<double>(ctx.recovery_point_ms) / 1000.0;
      from = "the drill's recovery point";
    } else if (snapshot_seconds_ > 0) {
      recovery_point = snapshot_seconds_;
      from = "the backup's snapshot";
    } else {
      host.fail(
          "no recovery point to measure against: this exporter passes none to plugins "
          "(bd_run_context.recovery_point_ms) and the backup had no source phase");
      return;
    }
    pqxx::connection conn(ctx.target);
    pqxx::work tx(conn);
    tx.exec("set transaction read only");
    tx.exec(kStableOutputSettings);
    std::string shown = (schema_ == "public" ? "" : schema_ + ".") + table_ + "." + column_;
    auto type = tx.exec_params(
        "select format_type(a.atttypid, a.atttypmod) from pg_attribute a "
        "join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = $1 and c.relname = $2 and a.attname = $3 and a.attnum > 0 "
        "and not a.attisdropped",
        schema_, table_, column_);
    if (type.empty()) {
      host.fail(shown + ": no such column in the restored data");
      return;
    }
    std::string type_name = type[0][0].as<std::string>();
    if (type_name.rfind("timestamp", 0) != 0 && type_name != "date") {
      host.fail(shown + " is " + type_name + ", not a timestamp or date column");
      return;
    }
    std::string rel = tx.quote_name(schema_) + "." + tx.quote_name(table_);
    auto newest = tx.exec1("select extract(epoch from max(" + tx.quote_name(column_) +
                           ")::timestamptz)::float8 from " + rel)[0];
    if (newest.is_null()) {
      host.fail(shown + ": the restored table has no value in this column (no rows?)");
      return;
    }
    double newest_seconds = newest.as<double>();
    double lag = recovery_point - newest_seconds;
    host.emit("lag_seconds", lag, {{"table", schema_ + "." + table_}, {"column", column_}});
    host.line(ctx.check, std::to_string(static_cast<long long>(lag)));
    double max_seconds = static_cast<double>(max_lag_.count()) / 1000.0;
    std::string facts = "newest " + shown + " is " + utc_text(newest_seconds) + ", " +
                        backupdrill::humanize_seconds(lag < 0 ? 0 : lag) + " before " + from +
                        " (" + utc_text(recovery_point) + ")";
    if (lag > max_seconds) {
      host.fail(facts + ", over max_lag " + max_lag_text_ +
                ": the backup holds stale data (is the dumped server still written to, or a "
                "replica that stopped replicating?)");
      return;
    }
    host.summary(facts + ", within max_lag " + max_lag_text_);
  }

 private:
  std::string schema_, table_, column_;
  std::chrono::milliseconds max_lag_{0};
  std::string max_lag_text_;  // as the user wrote it, for messages
  double snapshot_seconds_ = 0;
};

}  // namespace

BACKUPDRILL_CHECK(Freshness, "freshness", BACKUPDRILL_CHECKS_VERSION,
                  "the newest value of a timestamp column is within max_lag of the recovery point",
                  BACKUPDRILL_SAMPLE_CONFIG, true)
