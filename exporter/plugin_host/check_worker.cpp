#include "plugin_host/check_worker.h"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <unordered_map>

#include "log/log.h"
#include "plugin_host/protocol.h"
#include "plugin_host/worker_main.h"
#include "util/bounded_text.h"
#include "util/secrets.h"
#include "util/text.h"

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

// The members of a frame from the worker, whatever their JSON type: a
// frame is plugin-controlled input, and a wrong type must not throw.
std::string_view text_of(const json& frame, const char* key) {
  auto it = frame.find(key);
  if (it == frame.end() || !it->is_string()) return {};
  return it->get_ref<const std::string&>();
}

double number_of(const json& frame, const char* key, double fallback) {
  auto it = frame.find(key);
  return it != frame.end() && it->is_number() ? it->get<double>() : fallback;
}

// A whole number member, clamped to int (a cast of 1e300 would be undefined).
int int_of(const json& frame, const char* key, int fallback) {
  double v = number_of(frame, key, fallback);
  if (!(v > -1e9 && v < 1e9)) return fallback;
  return static_cast<int>(v);
}

// A message from a plugin, as kept: secrets masked first (so the cut never
// splits one), then bounded.
std::string message_of(const json& frame, const char* key) {
  return bounded_text(scrub(text_of(frame, key)), kMaxMessageBytes);
}

// The labels of an "emit" frame as [name, value] pairs; label_count is the
// number sent, which may be more than fit in `into` (then it is not filled).
size_t labels_of(const json& frame, std::array<Label, kMaxLabels>& into) {
  auto it = frame.find("labels");
  if (it == frame.end() || !it->is_array()) return 0;
  if (it->size() > kMaxLabels) return it->size();
  size_t n = 0;
  for (const auto& l : *it) {
    Label label;
    if (l.is_array() && l.size() == 2 && l[0].is_string() && l[1].is_string()) {
      label = {l[0].get_ref<const std::string&>(), l[1].get_ref<const std::string&>()};
    }
    into[n++] = label;
  }
  return n;
}

// Where each table's RowCount is in out.rows, so that folding a value in is
// constant time whatever the number of tables.
using RowIndex = std::unordered_map<std::string, size_t>;

// Folds one "rows" value into the outcome's per-table row counts.
void record_rows(const Label* labels, size_t label_count, double value, CheckOutcome& out,
                 RowIndex& index) {
  std::string_view table, side, fingerprint;
  for (size_t i = 0; i < label_count; ++i) {
    if (labels[i].name == "table") table = labels[i].value;
    if (labels[i].name == "side") side = labels[i].value;
    if (labels[i].name == "fingerprint") fingerprint = labels[i].value;
  }
  if (table.empty() || (side != "source" && side != "target")) return;
  auto [it, added] = index.try_emplace(scrub(table), out.rows.size());
  if (added) out.rows.push_back(RowCount{it->first, {}, {}, {}, {}});
  RowCount* row = &out.rows[it->second];
  // A count is a whole number; NaN, infinities and absurd values are not.
  long long count =
      std::isfinite(value) && std::fabs(value) < 9e18 ? static_cast<long long>(value) : -1;
  if (side == "source") {
    row->source = count;
    if (!fingerprint.empty()) row->source_fingerprint = scrub(fingerprint);
  } else {
    row->target = count;
    if (!fingerprint.empty()) row->target_fingerprint = scrub(fingerprint);
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
    std::string message = message_of(*hello, "message");
    stop();
    throw PluginError(file.string() + ": " + message);
  }
  if ((*hello)["op"] != "hello") {
    kill_now();
    throw PluginError(file.string() + ": unexpected first message from its worker");
  }
  info_.name = bounded_text(text_of(*hello, "name"), kMaxNameBytes);
  info_.version = bounded_text(text_of(*hello, "version"), kMaxNameBytes);
  info_.description = bounded_text(text_of(*hello, "description"), kMaxMessageBytes);
  info_.sample_config = bounded_text(text_of(*hello, "sample"), kMaxSampleBytes);
  auto source_phase = hello->find("source_phase");
  info_.source_phase =
      source_phase != hello->end() && source_phase->is_boolean() && source_phase->get<bool>();
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
  // Only the end of the log: a plugin may have written gigabytes to it.
  constexpr std::streamoff kRead = 4096;
  std::ifstream in(dir_->path() / "worker.log", std::ios::binary);
  in.seekg(0, std::ios::end);
  std::streamoff size = in ? static_cast<std::streamoff>(in.tellg()) : 0;
  std::string text(static_cast<size_t>(std::min(size, kRead)), '\0');
  in.seekg(size - static_cast<std::streamoff>(text.size()));
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(std::max<std::streamsize>(0, in.gcount())));
  // Mask before cutting, so that the cut never leaves part of a secret.
  text = scrub(text);
  trim_right(text);
  if (text.empty()) return "";
  if (text.size() > 500) {
    size_t from = text.size() - 500;
    while (from < text.size() && (static_cast<unsigned char>(text[from]) & 0xC0) == 0x80) ++from;
    text = "..." + text.substr(from);
  }
  for (auto& c : text) {
    if (c == '\n') c = ' ';
  }
  return "; its last output: " + text;
}

CallResult CheckWorker::died(const std::string& context) {
  auto status = child_->wait(Clock::now() + kQuitGrace);
  alive_ = false;
  return {CallResult::Kind::crashed, describe_exit(status) + context + output_tail()};
}

namespace {

// What a check that went over its output limits sent is not kept: it is
// incomplete, and it would only weigh on the summary and the exporter.
void drop_output(CheckOutcome& out) {
  std::vector<ReportLine>().swap(out.lines);
  std::vector<std::string>().swap(out.smoke);
  std::vector<RowCount>().swap(out.rows);
}

}  // namespace

CallResult CheckWorker::over_limit(CheckOutcome& out) {
  kill_now();
  drop_output(out);
  return {CallResult::Kind::over_limit, budget_.verdict() + "; its worker was killed"};
}

CallResult CheckWorker::create(const std::string& config_toml, const std::string& drill,
                               const std::string& check, Deadline deadline, CheckOutcome& out) {
  if (config_toml.size() > kMaxConfigBytes) {
    return {CallResult::Kind::failed, "its config table is " + std::to_string(config_toml.size()) +
                                          " bytes, over the limit of " +
                                          std::to_string(kMaxConfigBytes) + " bytes by " +
                                          std::to_string(config_toml.size() - kMaxConfigBytes)};
  }
  auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  json request{{"op", "create"},
               {"config", config_toml},
               {"drill", drill},
               {"check", check},
               {"timeout_ms", std::max<long long>(1, timeout.count())}};
  return exchange(request, deadline, {}, out);
}

CallResult CheckWorker::validate(const std::string& config_toml, const std::string& drill,
                                 const std::string& check, Deadline deadline, CheckOutcome& out) {
  if (config_toml.size() > kMaxConfigBytes) {
    return {CallResult::Kind::failed, "its config table is " + std::to_string(config_toml.size()) +
                                          " bytes, over the limit of " +
                                          std::to_string(kMaxConfigBytes) + " bytes by " +
                                          std::to_string(config_toml.size() - kMaxConfigBytes)};
  }
  budget_ = OutputBudget{};  // the worker starts each validation afresh too
  auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  json request{{"op", "validate"},
               {"config", config_toml},
               {"drill", drill},
               {"check", check},
               {"timeout_ms", std::max<long long>(1, timeout.count())}};
  return exchange(request, deadline, {}, out);
}

CallResult CheckWorker::call(const CallArgs& args, Deadline deadline, std::stop_token cancel,
                             CheckOutcome& out) {
  auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  json request{{"op", "call"},
               {"phase", args.phase},
               {"drill", args.drill},
               {"check", args.check},
               {"source", args.source},
               {"target", args.target},
               {"snapshot", args.snapshot},
               {"recovery_point_ms", args.recovery_point_ms},
               {"backup_source", args.backup_source},
               {"timeout_ms", std::max<long long>(1, timeout.count())}};
  return exchange(request, deadline, cancel, out);
}

namespace {

// What the frames of one call gathered before its "done", and where they
// go: the outcome, within the worker's budget.
struct Gathered {
  Gathered(OutputBudget& budget_in, CheckOutcome& out_in, log::Fields log_fields_in)
      : budget(budget_in), out(out_in), log_fields(std::move(log_fields_in)) {
    for (size_t i = 0; i < out.rows.size(); ++i) row_index.emplace(out.rows[i].table, i);
  }

  OutputBudget& budget;
  CheckOutcome& out;
  const log::Fields log_fields;
  RowIndex row_index;  // where each table's RowCount is in out.rows
  std::string fail_message, limit_message, skip_reason, summary;
  bool skipped = false;
};

// Takes one frame of a call; false when it went over the output budget.
// Every kept item passes the budget first (the worker's own budget stops a
// plugin before this one does; passing this one means the plugin wrote to
// the pipe itself, so its worker is killed).
using FrameHandler = bool (*)(const json& frame, Gathered& g);

bool take_log(const json& frame, Gathered& g) {
  if (g.budget.log()) {
    log::write(level_of(int_of(frame, "level", 1)), message_of(frame, "message"), g.log_fields);
  }
  return true;
}

bool take_line(const json& frame, Gathered& g) {
  auto name = text_of(frame, "name"), value = text_of(frame, "value");
  if (!g.budget.line(name, value)) return false;
  g.out.lines.push_back({scrub(name), scrub(value)});
  return true;
}

bool take_smoke(const json& frame, Gathered& g) {
  auto text = text_of(frame, "text");
  if (!g.budget.smoke(text)) return false;
  auto passed = frame.find("passed");
  bool ok = passed != frame.end() && passed->is_boolean() && passed->get<bool>();
  g.out.smoke.push_back(std::string(ok ? "PASS " : "FAIL ") + scrub(text));
  return true;
}

bool take_emit(const json& frame, Gathered& g) {
  std::array<Label, kMaxLabels> labels;
  size_t count = labels_of(frame, labels);
  auto name = text_of(frame, "name");
  if (!g.budget.value(name, count <= kMaxLabels ? labels.data() : nullptr, count)) return false;
  if (name == "rows") {
    record_rows(labels.data(), count, number_of(frame, "value", 0), g.out, g.row_index);
  }
  return true;
}

bool take_fail(const json& frame, Gathered& g) {
  if (g.fail_message.empty()) g.fail_message = message_of(frame, "message");
  if (g.fail_message.empty()) g.fail_message = "failed without a message";
  return true;
}

bool take_skip(const json& frame, Gathered& g) {
  g.skipped = true;
  g.skip_reason = message_of(frame, "reason");
  return true;
}

bool take_summary(const json& frame, Gathered& g) {
  g.summary = message_of(frame, "message");
  return true;
}

bool take_secret(const json& frame, Gathered& g) {
  auto value = text_of(frame, "value");
  if (!g.budget.secret(value)) return false;
  register_secret(value);
  return true;
}

bool take_limit(const json& frame, Gathered& g) {
  g.limit_message = message_of(frame, "message");
  if (g.limit_message.empty()) g.limit_message = "went over its output limits";
  return true;
}

// The frames a call may send before "done", by "op"; others are ignored.
const std::unordered_map<std::string_view, FrameHandler>& frame_handlers() {
  static const std::unordered_map<std::string_view, FrameHandler> handlers{
      {"log", take_log},         {"line", take_line},     {"smoke", take_smoke},
      {"emit", take_emit},       {"fail", take_fail},     {"skip", take_skip},
      {"summary", take_summary}, {"secret", take_secret}, {"limit", take_limit}};
  return handlers;
}

// The result of a call whose worker sent "done", from what it gathered.
CallResult call_result(const json& done, Gathered& g, bool cancel_sent) {
  int status = int_of(done, "status", 1);
  if (cancel_sent) return {CallResult::Kind::cancelled, "was cancelled with the drill"};
  if (!g.limit_message.empty()) {
    drop_output(g.out);
    return {CallResult::Kind::over_limit, g.limit_message};
  }
  if (!g.fail_message.empty()) return {CallResult::Kind::failed, g.fail_message};
  if (status != 0) {
    return {CallResult::Kind::failed,
            "returned status " + std::to_string(status) + " without a message"};
  }
  if (g.skipped) {
    g.out.skipped = true;
    g.out.message = g.skip_reason;
  } else if (!g.summary.empty()) {
    g.out.message = g.summary;
  }
  return {};
}

}  // namespace

// One call's time: its deadline, and kill_at, which a cancel brings forward
// to the end of its grace.
struct CheckWorker::Call {
  Deadline deadline;
  Clock::time_point started = Clock::now();
  Deadline kill_at = deadline;
  bool cancel_sent = false;
};

CallResult CheckWorker::exchange(const json& request, Deadline deadline, std::stop_token cancel,
                                 CheckOutcome& out) {
  if (!alive_) return {CallResult::Kind::crashed, "is no longer running"};
  Call call{deadline};
  try {
    write_frame(child_->stdin_fd(), request);
  } catch (const ProtocolError&) {
    return died("");
  }
  Gathered g(budget_, out, {{"check", out.name}, {"plugin", info_.file.filename().string()}});
  while (true) {
    std::optional<json> frame;
    if (auto ended = next_frame(call, cancel, frame)) return *ended;
    const std::string& op = (*frame)["op"].get_ref<const std::string&>();
    if (op == "done") {
      note_dropped_logs(*frame, out.name);
      return call_result(*frame, g, call.cancel_sent);
    }
    auto handler = frame_handlers().find(op);
    if (handler != frame_handlers().end() && !handler->second(*frame, g)) return over_limit(out);
  }
}

std::optional<CallResult> CheckWorker::next_frame(Call& call, std::stop_token cancel,
                                                  std::optional<json>& frame) {
  while (true) {
    auto now = Clock::now();
    if (cancel.stop_requested() && !call.cancel_sent) {
      try {
        write_frame(child_->stdin_fd(), {{"op", "cancel"}});
      } catch (const ProtocolError&) {
      }
      call.cancel_sent = true;
      call.kill_at =
          std::min(call.deadline, now + std::chrono::duration_cast<Clock::duration>(kCancelGrace));
    }
    if (now >= call.kill_at) return cut_off(call, now);
    auto wait = std::min<Clock::duration>(call.kill_at - now, std::chrono::milliseconds(200));
    pollfd pfd{child_->stdout_fd(), POLLIN, 0};
    int pr = ::poll(
        &pfd, 1,
        static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(wait).count()) + 1);
    if (pr <= 0) continue;
    try {
      // A frame is written whole; a worker stuck mid-frame is a dead one.
      frame = read_frame(child_->stdout_fd(), call.kill_at);
    } catch (const ProtocolError& e) {
      // The deadline passing inside a frame is a timeout, not a broken protocol.
      if (Clock::now() >= call.kill_at) return cut_off(call, Clock::now());
      kill_now();
      return CallResult{CallResult::Kind::crashed, std::string("broke the protocol: ") + e.what()};
    }
    if (!frame) return died("");
    return std::nullopt;
  }
}

CallResult CheckWorker::cut_off(const Call& call, Deadline now) {
  kill_now();
  if (call.cancel_sent && now < call.deadline) {
    return {CallResult::Kind::cancelled, "was cancelled with the drill"};
  }
  return {CallResult::Kind::timed_out, "did not finish within its timeout of " +
                                           ms_text(call.deadline - call.started) +
                                           "; its worker was killed"};
}

void CheckWorker::note_dropped_logs(const json& done, const std::string& check) {
  auto dropped = static_cast<size_t>(std::max(0, int_of(done, "dropped_logs", 0)));
  if (dropped <= dropped_logs_) return;
  log::warn("a check's log lines over its limit were dropped",
            {{"check", check},
             {"plugin", info_.file.filename().string()},
             {"dropped", std::to_string(dropped - dropped_logs_)},
             {"limit", std::to_string(kMaxLogLines) + " log lines per check"}});
  dropped_logs_ = dropped;
}

}  // namespace backupdrill::plugin_host
