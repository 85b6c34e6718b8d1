// sql_assert: one number from a query in a read-only transaction, compared
// with expect, or with min/max.
#include <cmath>
#include <pqxx/pqxx>
#include <sstream>

#include "checks_builtin/builtin_checks.h"
#include "checks_builtin/settings_reader.h"
#include "util/secrets.h"

namespace backupdrill {
namespace {

std::string format_number(double v) {
  if (std::floor(v) == v && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  std::ostringstream ss;
  ss << v;
  return ss.str();
}

class SqlAssert : public Check {
 public:
  SqlAssert(const CheckConfig& config) : name_(config.name), timeout_(config.timeout) {
    CheckSettings s(config);
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

  void run(const CheckEnv& env, CheckOutcome& out) override {
    const pg::ConnInfo& where = database_ == "source" ? env.source : env.target;
    pqxx::connection conn(where.full());
    pqxx::work tx(conn);
    tx.exec("set transaction read only");
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::min(env.deadline - std::chrono::steady_clock::now(),
                             std::chrono::steady_clock::duration(timeout_)))
                    .count();
    tx.exec("set local statement_timeout = " + std::to_string(std::max<long long>(left, 1)));
    pqxx::result r = tx.exec(query_);
    if (r.empty() || r.columns() < 1 || r[0][0].is_null()) {
      out.message = "the query returned no value; it must return one number";
      return;
    }
    double value;
    try {
      value = r[0][0].as<double>();
    } catch (const std::exception&) {
      out.message = "the query returned \"" + scrub(r[0][0].c_str()) + "\", not a number";
      return;
    }
    out.lines.push_back({name_, format_number(value)});
    if (expect_) {
      out.success = value == *expect_;
      out.message = "value " + format_number(value) + (out.success ? " equals " : " but expected ") +
                    format_number(*expect_);
    } else {
      out.success = (!min_ || value >= *min_) && (!max_ || value <= *max_);
      out.message = "value " + format_number(value) + (out.success ? " within " : " outside ") +
                    "[" + (min_ ? format_number(*min_) : "-inf") + ", " +
                    (max_ ? format_number(*max_) : "+inf") + "]";
    }
  }

 private:
  std::string name_;
  std::chrono::milliseconds timeout_;
  std::string query_;
  std::optional<double> expect_, min_, max_;
  std::string database_;
};

}  // namespace

std::unique_ptr<Check> make_sql_assert(const CheckConfig& config) {
  return std::make_unique<SqlAssert>(config);
}

}  // namespace backupdrill
