#include "cli/serve.h"

#include <signal.h>

#include <atomic>

#include "config/config.h"
#include "drill/runner.h"
#include "http/listen_address.h"
#include "http/server.h"
#include "http/web_config.h"
#include "log/log.h"
#include "metrics/drill_metrics.h"
#include "plugin_host/plugin_dir.h"
#include "scheduler/drill_service.h"
#include "util/build_info.h"
#include "util/secrets.h"
#include "web/http_api.h"

namespace backupdrill {
namespace {

log::Level level_of(std::string_view level) {
  if (level == "debug") return log::Level::debug;
  if (level == "warn") return log::Level::warn;
  if (level == "error") return log::Level::error;
  return log::Level::info;
}

void http_log(std::string_view level, std::string_view msg) {
  log::write(level_of(level), msg, {{"component", "http"}});
}

std::vector<std::pair<std::string, std::string>> loaded_plugins(const Config& config) {
  std::vector<std::pair<std::string, std::string>> plugins;
  for (const auto& l : plugin_host::list_plugins(config.exporter.plugin_dir)) {
    if (l.info) plugins.emplace_back(l.info->name, l.info->version);
  }
  return plugins;
}

// Config::source of runbook_config().
constexpr std::string_view kRunbookSource = "runbook environment";

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ",") + n;
  return out.empty() ? "-" : out;
}

// SIGHUP: re-reads and validates the config file exactly as at start (every
// plugin it names is loaded); only a configuration that would start is
// applied. What reloads: [[drill]] tables (added, removed, changed: schedule,
// URLs, targets, checks, ...) and [exporter] artifact_dir, plugin_dir,
// keep_runs, admin_token. What does not: the command line (listen address,
// --web.config.file, logging) and the environment, read once at start, so a
// changed ${VAR} needs a restart. A running drill finishes with the
// configuration it started with.
void reload_config(const Config& initial, DrillService& service, DrillMetrics& metrics) {
  if (initial.source == kRunbookSource) {
    log::warn(
        "SIGHUP received: running from the runbook's environment variables, which "
        "cannot change in a running process; nothing to reload (restart instead)");
    return;
  }
  const std::string& file = initial.source;
  log::info("SIGHUP received: reloading the configuration", {{"config", file}});
  try {
    Config next = load_config_file(file);
    validate_checks(next);
    const size_t drills = next.drills.size();
    auto summary = service.reload(std::move(next));
    metrics.record_reload(true);
    log::info("configuration reloaded", {{"config", file},
                                         {"drills", std::to_string(drills)},
                                         {"added", joined(summary.added)},
                                         {"removed", joined(summary.removed)},
                                         {"changed", joined(summary.changed)}});
  } catch (const std::exception& e) {
    metrics.record_reload(false);
    // The message carries the file, line and key of the problem.
    log::error("configuration reload failed; the previous configuration stays in effect",
               {{"config", file}, {"error", scrub(e.what())}});
  }
}

}  // namespace

int serve(const Config& config, const ServeFlags& flags) {
  // Blocked before any thread starts, so every thread inherits the mask and
  // only sigwait() below sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // A malformed address is a usage error (exit 2: the systemd unit's
  // RestartPreventExitStatus=2 stops retrying it); a port in use is not.
  try {
    http::parse_listen_address(flags.listen_address);
  } catch (const std::invalid_argument& e) {
    log::error("invalid --web.listen-address", {{"error", e.what()}});
    return 2;
  }
  http::ServerOptions options;
  options.listen_address = flags.listen_address;
  options.log = http_log;
  if (!flags.web_config_file.empty()) {
    try {
      options.web = http::load_web_config(flags.web_config_file);
    } catch (const std::exception& e) {
      log::error("invalid web config", {{"error", scrub(e.what())}});
      return 2;
    }
  }

  DrillService service(config);
  // /metrics renders the service's state at each scrape.
  DrillMetrics metrics([&service] { return service.metrics_state(); },
                       {kVersion, kRevision, loaded_plugins(config)});
  service.restore_state();
  std::atomic<bool> ready{false};
  http::Router router(http_log);
  add_exporter_routes(router, service, metrics, ready);
  http::Server server(options, std::move(router));
  try {
    server.start();
  } catch (const std::exception& e) {
    log::error("cannot serve HTTP", {{"address", flags.listen_address}, {"error", e.what()}});
    return 1;
  }
  service.start_scheduler();
  ready = true;
  log::info("serving", {{"address", flags.listen_address},
                        {"port", std::to_string(server.port())},
                        {"tls", options.web && options.web->tls ? "true" : "false"},
                        {"drills", std::to_string(config.drills.size())},
                        {"config", config.source}});
  while (true) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) {
      reload_config(config, service, metrics);
      continue;
    }
    log::info("shutting down", {{"signal", strsignal(sig)}});
    break;
  }
  ready = false;
  server.stop();
  service.stop();  // cancels running drills: their children are stopped
  log::info("stopped");
  return 0;
}

}  // namespace backupdrill
