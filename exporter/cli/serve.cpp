#include "cli/serve.h"

#include <signal.h>

#include <atomic>

#include "http/server.h"
#include "http/web_config.h"
#include "log/log.h"
#include "metrics/drill_metrics.h"
#include "plugin_host/plugin_dir.h"
#include "service/drill_service.h"
#include "service/http_api.h"
#include "util/secrets.h"

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

  DrillMetrics metrics(config, loaded_plugins(config));
  DrillService service(config, metrics);
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
      log::warn("SIGHUP received: configuration reload is not supported yet; restart the "
                "exporter to apply a changed configuration");
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
