// sql_assert: one number from a query, in a read-only transaction with a
// statement timeout (the check's remaining time), compared with expect, or
// with min and/or max. Writes "<name>|<value>" to the validation file.
#include <backupdrill/check.hpp>
#include <cmath>
#include <optional>
#include <pqxx/pqxx>
#include <sstream>

#include "common/settings.h"
#include "sql_assert_sample.h"

namespace {

using backupdrill::checks::Settings;
using backupdrill::sdk::Host;
using backupdrill::sdk::RunContext;

std::string format_number(double v) {
  if (std::floor(v) == v && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  std::ostringstream ss;
  ss << v;
  return ss.str();
}

class SqlAssert : public backupdrill::sdk::Check {
 public:
  SqlAssert(const std::string& config, Host&) {
    Settings s(config);
    name_ = s.name();
    query_ = s.string("query").value_or("");
    if (query_.empty()) s.fail("query", "is required: a query returning one number");
    expect_ = s.number("expect");
    min_ = s.number("min");
    max_ = s.number("max");
    database_ = s.string("database").value_or("target");
    if (database_ != "target" && database_ != "source") {
      s.fail("database", "expected \"target\" (default) or \"source\"");
    }
    s.finish();
    if (!expect_ && !min_ && !max_) s.fail("expect", "give expect, or min and/or max");
    if (expect_ && (min_ || max_)) s.fail("expect", "give expect, or min/max, not both");
  }

  void run(const RunContext& ctx, Host& host) override {
    pqxx::connection conn(database_ == "source" ? ctx.source : ctx.target);
    pqxx::work tx(conn);
    tx.exec("set transaction read only");
    long long left = std::max<long long>(1, std::min<long long>(host.remaining_ms(), INT32_MAX));
    tx.exec("set local statement_timeout = " + std::to_string(left));
    pqxx::result r = tx.exec(query_);
    if (r.empty() || r.columns() < 1 || r[0][0].is_null()) {
      host.fail("the query returned no value; it must return one number");
      return;
    }
    double value;
    try {
      value = r[0][0].as<double>();
    } catch (const std::exception&) {
      host.fail("the query returned \"" + std::string(r[0][0].c_str()) + "\", not a number");
      return;
    }
    host.line(name_, format_number(value));
    bool ok;
    std::string message;
    if (expect_) {
      ok = value == *expect_;
      message = "value " + format_number(value) + (ok ? " equals " : " but expected ") +
                format_number(*expect_);
    } else {
      ok = (!min_ || value >= *min_) && (!max_ || value <= *max_);
      message = "value " + format_number(value) + (ok ? " within " : " outside ") + "[" +
                (min_ ? format_number(*min_) : "-inf") + ", " +
                (max_ ? format_number(*max_) : "+inf") + "]";
    }
    if (ok) {
      host.summary(message);
    } else {
      host.fail(message);
    }
  }

 private:
  std::string name_;
  std::string query_;
  std::optional<double> expect_, min_, max_;
  std::string database_;
};

}  // namespace

BACKUPDRILL_CHECK(SqlAssert, "sql_assert", BACKUPDRILL_CHECKS_VERSION,
                  "a query returning one number, compared with expect or min/max (read-only, "
                  "with a statement timeout)",
                  BACKUPDRILL_SAMPLE_CONFIG, false)
