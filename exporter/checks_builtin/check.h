#pragma once
// The interface a validation check implements. The drill runner calls
// on_source_snapshot() while pg_dump runs, inside the backup's exported
// snapshot (so source-side figures match the backup exactly), and run() after
// the restore. The check plugins of plugins/ take this interface over.
#include <atomic>
#include <memory>
#include <string>

#include "config/config.h"
#include "drill/run_record.h"
#include "pg/conninfo.h"
#include "process/child_process.h"

namespace backupdrill {

struct CheckEnv {
  const pg::ConnInfo& source;
  const pg::ConnInfo& target;
  Deadline deadline;
  const std::atomic<bool>* cancel = nullptr;
};

class Check {
 public:
  virtual ~Check() = default;

  // Source-side work in the backup's snapshot; exceptions are recorded as
  // the check's failure, never the backup's.
  virtual void on_source_snapshot(const pg::ConnInfo& /*source*/,
                                  const std::string& /*snapshot_id*/, CheckOutcome& /*out*/) {}
  virtual bool wants_source_snapshot() const { return false; }

  // Validates the restored target; sets out.success and out.message.
  virtual void run(const CheckEnv& env, CheckOutcome& out) = 0;
};

// Built-in checks by plugin name: table_counts, sql_assert, api_health.
// Throws ConfigError naming the check's file and line for bad settings.
std::unique_ptr<Check> make_builtin_check(const CheckConfig& config);

// A session on `conn` with stable text output for everything a check
// compares across servers (time zone, date style, float digits).
inline constexpr const char* kStableOutputSettings =
    "set timezone = 'UTC'; set datestyle = 'ISO, YMD'; set intervalstyle = 'postgres'; "
    "set extra_float_digits = 3; set bytea_output = 'hex'";

}  // namespace backupdrill
