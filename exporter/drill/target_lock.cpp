#include "drill/target_lock.h"

#include <pqxx/pqxx>

namespace backupdrill {
namespace {

// The lock key: stable across replicas and versions, distinct per target db.
constexpr const char* kKeyExpr = "hashtextextended('backupdrill target ' || $1, 0)";

}  // namespace

TargetLock::TargetLock(const pg::ConnInfo& maintenance, const std::string& target_db)
    : conn_(std::make_unique<pqxx::connection>(maintenance.full())) {
  pqxx::nontransaction tx(*conn_);
  acquired_ =
      tx.exec_params1(std::string("select pg_try_advisory_lock(") + kKeyExpr + ")", target_db)[0]
          .as<bool>();
  if (!acquired_) {
    auto rows = tx.exec_params(
        std::string("select coalesce(a.application_name, '') || ' pid ' || a.pid || "
                    "coalesce(' from ' || host(a.client_addr), '') from pg_locks l "
                    "join pg_stat_activity a on a.pid = l.pid where l.locktype = 'advisory' "
                    "and l.granted and (l.classid::bigint << 32 | l.objid::bigint) = ") +
            kKeyExpr + " limit 1",
        target_db);
    holder_ = rows.empty() ? "another session" : rows[0][0].as<std::string>();
  }
}

TargetLock::~TargetLock() {
  // Closing the session releases a session-level advisory lock.
  try {
    conn_.reset();
  } catch (...) {
  }
}

}  // namespace backupdrill
