#pragma once
// The exporter's side of one check worker: starts the worker process for a
// plugin file, reads its descriptor, creates the check from its config, and
// runs its phases with a deadline. Whatever the plugin does ends as a
// CallResult; the exporter process is never at risk.
//
// Thread safety: one CheckWorker is used by one thread at a time; different
// workers may be driven from different threads at once.
#include <atomic>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>

#include "model/run_record.h"
#include "pg/passfile.h"
#include "plugin_host/output_limits.h"
#include "process/child_process.h"

namespace backupdrill::plugin_host {

// A plugin file that cannot be used; what() names the file and why.
struct PluginError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct PluginInfo {
  std::filesystem::path file;
  std::string name;
  std::string version;
  std::string description;
  std::string sample_config;
  bool source_phase = false;
};

struct WorkerOptions {
  // RLIMIT_AS of the worker; 0: unlimited. Default: $BACKUPDRILL_CHECK_MEMORY_MB
  // or 4096.
  long long memory_mb = -1;
  // Loading the plugin and handing over its descriptor.
  std::chrono::milliseconds load_timeout{std::chrono::seconds(30)};
  // The executable re-run as the worker; default /proc/self/exe.
  std::filesystem::path executable;
};

struct CallResult {
  // over_limit: it sent more than output_limits.h allows; message says
  // which limit and by how much.
  enum class Kind { ok, failed, crashed, timed_out, cancelled, over_limit };
  Kind kind = Kind::ok;
  // failed: the plugin's own message; otherwise what happened to the worker,
  // e.g. "crashed with signal 11 (Segmentation fault)".
  std::string message;
  bool ok() const { return kind == Kind::ok; }
};

struct CallArgs {
  int phase = 2;  // BD_PHASE_SOURCE (1) or BD_PHASE_TARGET (2)
  std::string drill;
  std::string check;
  std::string source;  // full libpq connection strings (with passwords)
  std::string target;
  std::string snapshot;
  // What the restored data represents: ms since the epoch (0: unknown) and
  // where the archive came from ("pg_dump", "file", "s3"; empty: not said).
  long long recovery_point_ms = 0;
  std::string backup_source;
};

class CheckWorker {
 public:
  // Starts the worker and waits for the plugin's descriptor. Throws
  // PluginError "<file>: <reason>" (missing entry, ABI mismatch, crash...).
  explicit CheckWorker(const std::filesystem::path& file, WorkerOptions options = {});
  ~CheckWorker();
  CheckWorker(const CheckWorker&) = delete;
  CheckWorker& operator=(const CheckWorker&) = delete;

  const PluginInfo& info() const { return info_; }
  bool alive() const { return alive_; }

  // create() with the check's TOML. Events (fail messages) go to `out`.
  CallResult create(const std::string& config_toml, const std::string& drill,
                    const std::string& check, Deadline deadline, CheckOutcome& out);
  // Creates and destroys a check with this config, leaving the worker ready
  // for the next one: many configs of one plugin checked by one process.
  // Only before create().
  CallResult validate(const std::string& config_toml, const std::string& drill,
                      const std::string& check, Deadline deadline, CheckOutcome& out);
  // One phase call; records lines, smoke, rows and messages into `out`,
  // within the output limits of output_limits.h (counted over every call of
  // this worker: they are per check). A check that goes over them keeps
  // none of its lines, smoke lines and rows.
  // Past the deadline the worker is killed; on *cancel it is asked to stop
  // and killed after a short grace.
  CallResult call(const CallArgs& args, Deadline deadline, std::stop_token cancel,
                  CheckOutcome& out);
  // Asks the worker to destroy the check and exit; kills it if it does not.
  void stop();

 private:
  CallResult exchange(const nlohmann::json& request, Deadline deadline, std::stop_token cancel,
                      CheckOutcome& out);
  struct Call;  // one call's deadline and cancel (check_worker.cpp)
  // The next frame of a call into `frame`, or how the call ended without one
  // (timed out, cancelled, the worker gone or broken).
  std::optional<CallResult> next_frame(Call& call, std::stop_token cancel,
                                       std::optional<nlohmann::json>& frame);
  CallResult cut_off(const Call& call, Deadline now);
  // Warns of the log lines the worker dropped since it last said so.
  void note_dropped_logs(const nlohmann::json& done, const std::string& check);
  CallResult died(const std::string& context);
  CallResult over_limit(CheckOutcome& out);
  void kill_now();
  std::string output_tail() const;

  PluginInfo info_;
  OutputBudget budget_;                  // what the plugin sent, over all its calls
  size_t dropped_logs_ = 0;              // log lines the worker dropped, as last reported
  std::unique_ptr<pg::PrivateDir> dir_;  // the worker's stderr log
  std::optional<ChildProcess> child_;
  bool alive_ = false;
};

// The memory limit workers get by default (see WorkerOptions::memory_mb).
long long default_worker_memory_mb();

}  // namespace backupdrill::plugin_host
