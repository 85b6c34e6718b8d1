#include "plugin_host/worker_main.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "backupdrill/plugin.h"
#include "plugin_host/output_limits.h"
#include "plugin_host/protocol.h"
#include "util/bounded_text.h"

namespace backupdrill::plugin_host {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// The host API as the worker implements it: bd_host_api first, so the
// `self` pointer a plugin passes back is this object.
struct WorkerHost {
  bd_host_api api{};
  int in_fd = -1;
  int out_fd = -1;
  Clock::time_point deadline = Clock::time_point::max();
  bool cancelled = false;
  bool failed = false;
  // The check's output so far: past a limit nothing more is sent (so no
  // frame ever outgrows the protocol), and the call ends with a "limit"
  // frame saying which limit and by how much.
  OutputBudget budget;
};

WorkerHost& self_of(const bd_host_api* api) {
  return *reinterpret_cast<WorkerHost*>(const_cast<bd_host_api*>(api));
}

std::string_view view(const char* s) { return s ? std::string_view(s) : std::string_view(); }

// A string as sent, once its size passed the budget: valid UTF-8 of the
// same size, so that the exporter's budget counts exactly what this one did.
std::string text(std::string_view s) { return utf8_or_replaced(s); }

// A message as sent: cut, so that a plugin's 100 MB message is a clear,
// bounded one instead of a frame too large to send.
std::string message(const char* s) {
  return utf8_or_replaced(bounded_text(view(s), kMaxWireMessageBytes));
}

// The pipe to the host failed (it is gone, or a frame cannot be sent): say
// why in the worker's log, whose tail the host shows, and stop.
[[noreturn]] void protocol_failed(const char* what, const ProtocolError& e) {
  std::string why = std::string("backupdrill check worker: ") + what + ": " + e.what() + "\n";
  if (::write(2, why.data(), why.size()) < 0) {
    // Nothing left to report to.
  }
  _exit(4);
}

void send(const bd_host_api* api, const json& j) {
  try {
    write_frame(self_of(api).out_fd, j);
  } catch (const ProtocolError& e) {
    protocol_failed("cannot send to the exporter", e);
  }
}

void cb_log(const bd_host_api* api, int level, const char* line) {
  if (!self_of(api).budget.log()) return;
  send(api, {{"op", "log"}, {"level", level}, {"message", message(line)}});
}

void cb_emit(const bd_host_api* api, const char* name, double value, const bd_label* labels,
             size_t count) {
  if (!labels) count = 0;
  std::array<Label, kMaxLabels> l;
  for (size_t i = 0; count <= kMaxLabels && i < count; ++i) {
    l[i] = {view(labels[i].name), view(labels[i].value)};
  }
  if (!self_of(api).budget.value(view(name), count <= kMaxLabels ? l.data() : nullptr, count)) {
    return;
  }
  json pairs = json::array();
  for (size_t i = 0; i < count; ++i) {
    pairs.push_back(json::array({text(l[i].name), text(l[i].value)}));
  }
  send(api, {{"op", "emit"}, {"name", text(view(name))}, {"value", value}, {"labels", pairs}});
}

void cb_line(const bd_host_api* api, const char* name, const char* value) {
  if (!self_of(api).budget.line(view(name), view(value))) return;
  send(api, {{"op", "line"}, {"name", text(view(name))}, {"value", text(view(value))}});
}

void cb_smoke(const bd_host_api* api, int passed, const char* line) {
  if (!self_of(api).budget.smoke(view(line))) return;
  send(api, {{"op", "smoke"}, {"passed", passed != 0}, {"text", text(view(line))}});
}

void cb_fail(const bd_host_api* api, const char* why) {
  self_of(api).failed = true;
  send(api, {{"op", "fail"}, {"message", message(why)}});
}

void cb_skip(const bd_host_api* api, const char* reason) {
  send(api, {{"op", "skip"}, {"reason", message(reason)}});
}

void cb_summary(const bd_host_api* api, const char* what) {
  send(api, {{"op", "summary"}, {"message", message(what)}});
}

void cb_secret(const bd_host_api* api, const char* value) {
  if (!self_of(api).budget.secret(view(value))) return;
  send(api, {{"op", "secret"}, {"value", text(view(value))}});
}

// Reads a pending cancel frame without blocking.
int cb_cancelled(const bd_host_api* api) {
  WorkerHost& h = self_of(api);
  pollfd pfd{h.in_fd, POLLIN, 0};
  while (!h.cancelled && ::poll(&pfd, 1, 0) > 0) {
    try {
      auto frame = read_frame(h.in_fd, Clock::now() + std::chrono::seconds(5));
      if (!frame || (*frame)["op"] == "cancel" || (*frame)["op"] == "quit") h.cancelled = true;
    } catch (const ProtocolError&) {
      h.cancelled = true;
    }
  }
  return h.cancelled || h.budget.over() || Clock::now() >= h.deadline;
}

int64_t cb_remaining(const bd_host_api* api) {
  const WorkerHost& h = self_of(api);
  if (h.deadline == Clock::time_point::max()) return INT64_MAX;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(h.deadline - Clock::now());
  return std::max<int64_t>(0, ms.count());
}

[[noreturn]] void load_error(int out_fd, const std::string& message) {
  try {
    write_frame(out_fd, {{"op", "load_error"}, {"message", message}});
  } catch (const ProtocolError&) {
  }
  _exit(3);
}

// Loads the plugin and validates its descriptor: struct_size and
// abi_version are read before anything else in it.
const bd_check_descriptor* load(const std::string& file, int out_fd) {
  void* handle = ::dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) load_error(out_fd, std::string("cannot be loaded: ") + ::dlerror());
  ::dlerror();
  void* sym = ::dlsym(handle, BACKUPDRILL_ENTRY_SYMBOL);
  if (!sym) {
    load_error(out_fd, "does not export " BACKUPDRILL_ENTRY_SYMBOL
                       "(); build it with backupdrill_add_check() or mark the entry "
                       "BACKUPDRILL_EXPORT (see plugins/README.md)");
  }
  auto entry = reinterpret_cast<bd_entry_fn>(sym);
  const bd_check_descriptor* d = entry(BACKUPDRILL_ABI_VERSION);
  if (!d) {
    load_error(out_fd, "returned no descriptor: it does not support this exporter's ABI version " +
                           std::to_string(BACKUPDRILL_ABI_VERSION));
  }
  if (d->abi_version != BACKUPDRILL_ABI_VERSION) {
    load_error(out_fd, "was built for plugin ABI version " + std::to_string(d->abi_version) +
                           "; this exporter speaks ABI version " +
                           std::to_string(BACKUPDRILL_ABI_VERSION) +
                           ": rebuild it against this exporter's backupdrill/plugin.h");
  }
  if (d->struct_size < BD_CHECK_DESCRIPTOR_V1_SIZE) {
    load_error(out_fd, "has a descriptor of struct_size " + std::to_string(d->struct_size) +
                           " bytes, smaller than ABI version 1's " +
                           std::to_string(BD_CHECK_DESCRIPTOR_V1_SIZE) +
                           ": set struct_size = sizeof(bd_check_descriptor) and rebuild");
  }
  if (!d->name || !d->create || !d->run || !d->destroy) {
    load_error(out_fd, "has an incomplete descriptor: name, create, run and destroy are required");
  }
  return d;
}

void limit_memory(long long megabytes) {
  if (megabytes <= 0) return;
  rlimit lim{};
  lim.rlim_cur = lim.rlim_max = static_cast<rlim_t>(megabytes) << 20;
  ::setrlimit(RLIMIT_AS, &lim);
}

// The worker's command line: the plugin's file and its memory limit.
struct WorkerArgs {
  std::string file;
  long long memory_mb = 0;
};

WorkerArgs parse_worker_args(int argc, char** argv) {
  WorkerArgs args;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a.starts_with(kWorkerFlag)) args.file = a.substr(std::strlen(kWorkerFlag));
    if (a.starts_with(kWorkerMemoryFlag)) {
      args.memory_mb = std::atoll(std::string(a.substr(std::strlen(kWorkerMemoryFlag))).c_str());
    }
  }
  return args;
}

// The protocol moves off stdin/stdout, so a plugin that prints to stdout
// writes to the worker's log file instead of corrupting the frames.
void move_protocol_off_stdio(WorkerHost& host) {
  host.in_fd = ::fcntl(0, F_DUPFD_CLOEXEC, 3);
  host.out_fd = ::fcntl(1, F_DUPFD_CLOEXEC, 3);
  int devnull = ::open("/dev/null", O_RDONLY);
  ::dup2(devnull, 0);
  ::close(devnull);
  ::dup2(2, 1);
}

void fill_host_api(bd_host_api& api) {
  api.struct_size = sizeof(bd_host_api);
  api.abi_version = BACKUPDRILL_ABI_VERSION;
  api.log = cb_log;
  api.emit_value = cb_emit;
  api.report_line = cb_line;
  api.smoke_line = cb_smoke;
  api.fail = cb_fail;
  api.skip = cb_skip;
  api.summary = cb_summary;
  api.secret = cb_secret;
  api.cancelled = cb_cancelled;
  api.remaining_ms = cb_remaining;
}

// The plugin's descriptor, the first frame the exporter reads.
void send_hello(WorkerHost& host, const bd_check_descriptor& d) {
  send(&host.api, {{"op", "hello"},
                   {"name", text(bounded_text(view(d.name), kMaxNameBytes))},
                   {"version", text(bounded_text(view(d.version), kMaxNameBytes))},
                   {"description", text(bounded_text(view(d.description), kMaxMessageBytes))},
                   {"sample", text(bounded_text(view(d.sample_config), kMaxSampleBytes))},
                   {"source_phase", d.source_phase != nullptr}});
}

// The loaded plugin and the one check it runs once created.
struct LoadedCheck {
  const bd_check_descriptor* d = nullptr;
  void* instance = nullptr;
  bool created = false;
};

// --check-config and start-up: one worker per plugin creates and destroys
// each of that plugin's check configs in turn, so the cost is one process
// per plugin, not one per check. Each validation starts with a fresh output
// budget, as a worker of its own would.
int validate_config(const json& frame, const LoadedCheck& check, WorkerHost& host) {
  host.budget = OutputBudget{};
  std::string config = frame.value("config", "");
  void* probe = nullptr;
  int status = check.d->create(config.c_str(), &host.api, &probe);
  if (status == BD_OK && probe != nullptr) check.d->destroy(probe);
  return status;
}

int create_check(const json& frame, LoadedCheck& check, WorkerHost& host) {
  std::string config = frame.value("config", "");
  int status = check.d->create(config.c_str(), &host.api, &check.instance);
  check.created = status == BD_OK;
  return status;
}

// One phase of the created check.
int call_check(const json& frame, const LoadedCheck& check, WorkerHost& host) {
  std::string drill = frame.value("drill", ""), name = frame.value("check", "");
  std::string source = frame.value("source", ""), target = frame.value("target", "");
  std::string snapshot = frame.value("snapshot", "");
  bd_run_context ctx{};
  ctx.struct_size = sizeof ctx;
  ctx.phase = frame.value("phase", BD_PHASE_TARGET);
  ctx.drill_name = drill.c_str();
  ctx.check_name = name.c_str();
  ctx.source_conninfo = source.c_str();
  ctx.target_conninfo = target.c_str();
  ctx.snapshot_id = snapshot.empty() ? nullptr : snapshot.c_str();
  // Backup sources (issue 13): what the drill knows of the restored data.
  std::string backup_source = frame.value("backup_source", "");
  ctx.recovery_point_ms = frame.value("recovery_point_ms", int64_t{0});
  ctx.backup_source = backup_source.empty() ? nullptr : backup_source.c_str();
  const bd_check_descriptor* d = check.d;
  int status;
  if (ctx.phase == BD_PHASE_SOURCE) {
    status = d->source_phase ? d->source_phase(check.instance, &ctx, &host.api) : BD_OK;
  } else {
    status = d->run(check.instance, &ctx, &host.api);
  }
  // Wipe the password-bearing strings as soon as the call is over.
  std::fill(source.begin(), source.end(), '\0');
  std::fill(target.begin(), target.end(), '\0');
  return status;
}

// A request's status; a request out of order is a protocol error the
// check fails with.
int handle_request(const std::string& op, const json& frame, LoadedCheck& check, WorkerHost& host) {
  if (op == "validate" && !check.created) return validate_config(frame, check, host);
  if (op == "create" && !check.created) return create_check(frame, check, host);
  if (op == "call" && check.created) return call_check(frame, check, host);
  cb_fail(&host.api, ("protocol error: unexpected \"" + op + "\"").c_str());
  return BD_ERROR;
}

// The exporter's requests, each answered with "done", until "quit" or the
// end of the pipe.
void serve_requests(WorkerHost& host, LoadedCheck& check) {
  while (true) {
    std::optional<json> frame;
    try {
      frame = read_frame(host.in_fd);
    } catch (const ProtocolError& e) {
      protocol_failed("cannot read from the exporter", e);
    }
    if (!frame) break;
    const std::string op = (*frame)["op"];
    if (op == "quit") break;
    if (op == "cancel") {
      host.cancelled = true;
      continue;
    }
    long long timeout_ms = frame->value("timeout_ms", 0LL);
    host.deadline = timeout_ms > 0 ? Clock::now() + std::chrono::milliseconds(timeout_ms)
                                   : Clock::time_point::max();
    host.failed = false;
    int status = handle_request(op, *frame, check, host);
    // Once over a limit, every call says so: the check fails with the limit.
    if (host.budget.over()) send(&host.api, {{"op", "limit"}, {"message", host.budget.verdict()}});
    send(&host.api,
         {{"op", "done"}, {"status", status}, {"dropped_logs", host.budget.dropped_logs()}});
  }
}

}  // namespace

bool is_worker_invocation(int argc, char** argv) {
  return argc >= 2 && std::string_view(argv[1]).starts_with(kWorkerFlag);
}

int worker_main(int argc, char** argv) {
  const WorkerArgs args = parse_worker_args(argc, argv);
  // The worker dies with the exporter, whatever the plugin does.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  ::signal(SIGPIPE, SIG_IGN);

  WorkerHost host;
  move_protocol_off_stdio(host);
  limit_memory(args.memory_mb);
  LoadedCheck check{load(args.file, host.out_fd)};
  fill_host_api(host.api);
  send_hello(host, *check.d);
  serve_requests(host, check);
  if (check.created) check.d->destroy(check.instance);
  // No static destructors of plugin code after this point: nothing to gain.
  _exit(0);
}

}  // namespace backupdrill::plugin_host
