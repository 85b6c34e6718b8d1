#include "plugin_host/check_worker.h"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "log/log.h"
#include "plugin_host/protocol.h"
#include "plugin_host/worker_main.h"
#include "util/secrets.h"

namespace backupdrill::plugin_host {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr auto kCancelGrace = std::chrono::seconds(5);
constexpr auto kQuitGrace = std::chrono::seconds(5);

std::string describe_exit(const ExitStatus& s) {
  if (s.signal) {
    return "crashed with signal " + std::to_string(s.signal) + " (" + strsignal(s.signal) + ")";
  }
  if (s.exited) return "exited with code " + std::to_string(s.code) + " before finishing";
  return s.describe();
}

log::Level level_of(int level) {
  switch (level) {
    case 0:
      return log::Level::debug;
    case 2:
      return log::Level::warn;
    case 3:
      return log::Level::error;
    default:
      return log::Level::info;
  }
}

// A timeout for people: the deadline was computed from it a moment before
// the call started, so round to 100 ms ("1500ms", "30s", "5m").
std::string ms_text(Clock::duration d) {
  auto ms = (std::chrono::duration_cast<std::chrono::milliseconds>(d).count() + 50) / 100 * 100;
  if (ms > 0 && ms % 60000 == 0) return std::to_string(ms / 60000) + "m";
  if (ms > 0 && ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

// Folds one "rows" value into the outcome's per-table row counts.
void record_rows(const json& labels, double value, CheckOutcome& out) {
  std::string table, side, fingerprint;
  for (const auto& l : labels) {
    if (!l.is_array() || l.size() != 2) continue;
    std::string k = l[0], v = l[1];
    if (k == "table") table = v;
    if (k == "side") side = v;
    if (k == "fingerprint") fingerprint = v;
  }
  if (table.empty() || (side != "source" && side != "target")) return;
  RowCount* row = nullptr;
  for (auto& r : out.rows) {
    if (r.table == table) row = &r;
  }
  if (!row) {
    out.rows.push_back(RowCount{table, {}, {}, {}, {}});
    row = &out.rows.back();
  }
  auto count = static_cast<long long>(value);
  if (side == "source") {
    row->source = count;
    if (!fingerprint.empty()) row->source_fingerprint = fingerprint;
  } else {
    row->target = count;
    if (!fingerprint.empty()) row->target_fingerprint = fingerprint;
  }
}

}  // namespace

long long default_worker_memory_mb() {
  if (const char* v = std::getenv("BACKUPDRILL_CHECK_MEMORY_MB"); v && *v) {
    return std::atoll(v);
  }
  return 4096;
}

CheckWorker::CheckWorker(const std::filesystem::path& file, WorkerOptions options) {
  info_.file = file;
  if (options.memory_mb < 0) options.memory_mb = default_worker_memory_mb();
  if (options.executable.empty()) options.executable = "/proc/self/exe";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    throw PluginError(file.string() + ": no such plugin file");
  }
  dir_ = std::make_unique<pg::PrivateDir>("backupdrill-check");
  ChildSpec spec;
  spec.program = options.executable;
  // Only the plugin's path and the limit: secrets go through the pipe.
  spec.args = {std::string(kWorkerFlag) + file.string(),
               std::string(kWorkerMemoryFlag) + std::to_string(options.memory_mb)};
  // Passwords reach the worker only through the pipe (see DrillChecks); its
  // environment is the children's allow-list plus what the exporter's own
  // binary needs to start the same way again: the dynamic linker's path and,
  // in sanitizer builds, the sanitizers' options. No secret is among them.
  for (const char* name : {"LD_LIBRARY_PATH", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"}) {
    if (const char* value = std::getenv(name)) spec.env[name] = value;
  }
  spec.in = ChildSpec::Stream::pipe;
  spec.out = ChildSpec::Stream::pipe;
  spec.err = ChildSpec::Stream::file;
  spec.err_file = dir_->path() / "worker.log";
  try {
    child_.emplace(ChildProcess::spawn(spec));
  } catch (const std::exception& e) {
    throw PluginError(file.string() + ": cannot start a check worker: " + e.what());
  }
  alive_ = true;
  std::optional<json> hello;
  try {
    hello = read_frame(child_->stdout_fd(), Clock::now() + options.load_timeout);
  } catch (const ProtocolError& e) {
    kill_now();
    throw PluginError(file.string() + ": loading it did not finish within " +
                      ms_text(options.load_timeout) + " (" + e.what() + ")");
  }
  if (!hello) {
    auto status = child_->wait();
    alive_ = false;
    throw PluginError(file.string() + ": the worker loading it " + describe_exit(status) +
                      output_tail());
  }
  if ((*hello)["op"] == "load_error") {
    std::string message = hello->value("message", "");
    stop();
    throw PluginError(file.string() + ": " + message);
  }
  if ((*hello)["op"] != "hello") {
    kill_now();
    throw PluginError(file.string() + ": unexpected first message from its worker");
  }
  info_.name = hello->value("name", "");
  info_.version = hello->value("version", "");
  info_.description = hello->value("description", "");
  info_.sample_config = hello->value("sample", "");
  info_.source_phase = hello->value("source_phase", false);
}

CheckWorker::~CheckWorker() { stop(); }

void CheckWorker::kill_now() {
  if (!child_ || !alive_) return;
  ::kill(-child_->pid(), SIGKILL);
  child_->wait();
  alive_ = false;
}

void CheckWorker::stop() {
  if (!child_ || !alive_) return;
  try {
    write_frame(child_->stdin_fd(), {{"op", "quit"}});
  } catch (const ProtocolError&) {
  }
  child_->close_stdin();
  child_->wait(Clock::now() + kQuitGrace);
  alive_ = false;
}

std::string CheckWorker::output_tail() const {
  if (!dir_) return "";
  std::ifstream in(dir_->path() / "worker.log");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  if (text.empty()) return "";
  if (text.size() > 500) text = "..." + text.substr(text.size() - 500);
  for (auto& c : text) {
    if (c == '\n') c = ' ';
  }
  return "; its last output: " + scrub(text);
}

CallResult CheckWorker::died(const std::string& context) {
  auto status = child_->wait(Clock::now() + kQuitGrace);
  alive_ = false;
  return {CallResult::Kind::crashed, describe_exit(status) + context + output_tail()};
}

CallResult CheckWorker::create(const std::string& config_toml, const std::string& drill,
                               const std::string& check, Deadline deadline, CheckOutcome& out) {
  auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  json request{{"op", "create"},
               {"config", config_toml},
               {"drill", drill},
               {"check", check},
               {"timeout_ms", std::max<long long>(1, timeout.count())}};
  return exchange(request, deadline, nullptr, out);
}

CallResult CheckWorker::call(const CallArgs& args, Deadline deadline,
                             const std::atomic<bool>* cancel, CheckOutcome& out) {
  auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  json request{{"op", "call"},
               {"phase", args.phase},
               {"drill", args.drill},
               {"check", args.check},
               {"source", args.source},
               {"target", args.target},
               {"snapshot", args.snapshot},
               {"timeout_ms", std::max<long long>(1, timeout.count())}};
  return exchange(request, deadline, cancel, out);
}

CallResult CheckWorker::exchange(const json& request, Deadline deadline,
                                 const std::atomic<bool>* cancel, CheckOutcome& out) {
  if (!alive_) return {CallResult::Kind::crashed, "is no longer running"};
  const auto started = Clock::now();
  try {
    write_frame(child_->stdin_fd(), request);
  } catch (const ProtocolError&) {
    return died("");
  }
  bool cancel_sent = false;
  Deadline kill_at = deadline;
  std::string fail_message;
  bool skipped = false;
  std::string skip_reason, summary;
  while (true) {
    auto now = Clock::now();
    if (cancel && cancel->load() && !cancel_sent) {
      try {
        write_frame(child_->stdin_fd(), {{"op", "cancel"}});
      } catch (const ProtocolError&) {
      }
      cancel_sent = true;
      kill_at = std::min(deadline, now + std::chrono::duration_cast<Clock::duration>(kCancelGrace));
    }
    if (now >= kill_at) {
      kill_now();
      if (cancel_sent && now < deadline) {
        return {CallResult::Kind::cancelled, "was cancelled with the drill"};
      }
      return {CallResult::Kind::timed_out, "did not finish within its timeout of " +
                                               ms_text(deadline - started) +
                                               "; its worker was killed"};
    }
    auto wait = std::min<Clock::duration>(kill_at - now, std::chrono::milliseconds(200));
    pollfd pfd{child_->stdout_fd(), POLLIN, 0};
    int pr = ::poll(
        &pfd, 1,
        static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(wait).count()) + 1);
    if (pr <= 0) continue;
    std::optional<json> frame;
    try {
      // A frame is written whole; a worker stuck mid-frame is a dead one.
      frame = read_frame(child_->stdout_fd(), kill_at);
    } catch (const ProtocolError& e) {
      kill_now();
      return {CallResult::Kind::crashed, std::string("broke the protocol: ") + e.what()};
    }
    if (!frame) return died("");
    const std::string op = (*frame)["op"];
    if (op == "done") {
      int status = frame->value("status", 1);
      if (cancel_sent) return {CallResult::Kind::cancelled, "was cancelled with the drill"};
      if (!fail_message.empty()) return {CallResult::Kind::failed, fail_message};
      if (status != 0) {
        return {CallResult::Kind::failed,
                "returned status " + std::to_string(status) + " without a message"};
      }
      if (skipped) {
        out.skipped = true;
        out.message = skip_reason;
      } else if (!summary.empty()) {
        out.message = summary;
      }
      return {};
    }
    if (op == "log") {
      log::write(level_of(frame->value("level", 1)), scrub(frame->value("message", "")),
                 {{"check", out.name}, {"plugin", info_.file.filename().string()}});
    } else if (op == "line") {
      out.lines.push_back({scrub(frame->value("name", "")), scrub(frame->value("value", ""))});
    } else if (op == "smoke") {
      out.smoke.push_back(std::string(frame->value("passed", false) ? "PASS " : "FAIL ") +
                          scrub(frame->value("text", "")));
    } else if (op == "emit") {
      if (frame->value("name", "") == "rows") {
        record_rows((*frame)["labels"], frame->value("value", 0.0), out);
      }
    } else if (op == "fail") {
      if (fail_message.empty()) fail_message = scrub(frame->value("message", ""));
      if (fail_message.empty()) fail_message = "failed without a message";
    } else if (op == "skip") {
      skipped = true;
      skip_reason = scrub(frame->value("reason", ""));
    } else if (op == "summary") {
      summary = scrub(frame->value("message", ""));
    } else if (op == "secret") {
      register_secret(frame->value("value", ""));
    }
  }
}

}  // namespace backupdrill::plugin_host
