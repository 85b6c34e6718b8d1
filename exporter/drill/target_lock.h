#pragma once
// One drill per target across replicas: a PostgreSQL session advisory lock on
// the target's server, held for the whole run. Two exporters with the same
// config (high availability) race for it; the loser records a skip.
#include <memory>
#include <pqxx/connection>
#include <string>

#include "pg/conninfo.h"

namespace backupdrill {

class TargetLock {
 public:
  // Connects to `maintenance` (the target server's maintenance database) and
  // tries the lock for `target_db`. Throws std::runtime_error when the server
  // cannot be reached.
  TargetLock(const pg::ConnInfo& maintenance, const std::string& target_db);
  ~TargetLock();
  TargetLock(const TargetLock&) = delete;
  TargetLock& operator=(const TargetLock&) = delete;

  bool acquired() const { return acquired_; }
  // Who holds it, when not acquired (application_name and address).
  const std::string& holder() const { return holder_; }

 private:
  std::unique_ptr<pqxx::connection> conn_;
  bool acquired_ = false;
  std::string holder_;
};

}  // namespace backupdrill
