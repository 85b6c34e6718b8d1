// backupdrill_exporter: the command line of docs/design.md (Command line).
// Exit codes: 0 every drill passed, 1 a drill failed, 2 usage, config, plugin
// or safety refusal (nothing was touched).
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>

#include "artifacts/artifact_files.h"
#include "artifacts/run_history.h"
#include "cli/pg_clients_report.h"
#include "cli/serve.h"
#include "config/config.h"
#include "config/resolved_drill.h"
#include "drill/run_journal.h"
#include "drill/runner.h"
#include "log/log.h"
#include "metrics/drill_state.h"
#include "metrics/push_gateway.h"
#include "pg/passfile.h"
#include "plugin_host/plugin_dir.h"
#include "plugin_host/worker_main.h"
#include "process/orphan_reaper.h"
#include "schedule/cron.h"
#include "util/build_info.h"
#include "util/secrets.h"

namespace bd = backupdrill;

namespace {

// What the one-shot modes (--once, --check-config, bad flags) tell the person
// at the terminal: a plain sentence on stderr. Log lines (logfmt or JSON)
// stay for what serve mode and the drills log.
void say(const std::string& sentence) {
  std::cerr << "backupdrill_exporter: " << bd::scrub(sentence) << "\n";
}

}  // namespace

namespace {

constexpr int kExitPassed = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

struct Options {
  std::string config_file;
  bool once = false;
  std::vector<std::string> drills;
  bool check_config = false;
  bool list_checks = false;
  std::string sample_config;
  std::string listen_address = ":10125";
  std::string web_config_file;
  std::string log_level = "info";
  std::string log_format = "logfmt";
  std::string push_gateway;
  std::string push_job = "backupdrill";
  bool version = false;
};

// --push.gateway, checked before any drill runs.
struct PushTarget {
  bd::PushGatewayAddress gateway;
  std::string job;
};

// The plugin folder for --list-checks and --sample-config: the config's
// [exporter] plugin_dir when a --config.file is given, else the default.
std::filesystem::path plugin_dir_for_listing(const std::string& config_file) {
  std::filesystem::path configured;
  if (!config_file.empty()) configured = bd::load_config_file(config_file).exporter.plugin_dir;
  return bd::resolve_plugin_dir(configured);
}

// --list-checks: one line per plugin (name, version, description); a plugin
// that does not load is reported on stderr and makes the exit code 2.
int list_checks(const std::filesystem::path& dir) {
  auto listing = bd::plugin_host::list_plugins(dir);
  if (listing.empty()) {
    std::cerr << "backupdrill_exporter: no check plugins (*.so) in " << dir.string()
              << "; set [exporter] plugin_dir or BACKUPDRILL_PLUGIN_DIR\n";
    return kExitUsage;
  }
  int rc = kExitPassed;
  for (const auto& l : listing) {
    if (l.info) {
      std::cout << l.info->name << "\t" << l.info->version << "\t" << l.info->description << "\n";
    } else {
      std::cerr << "backupdrill_exporter: " << l.error << "\n";
      rc = kExitUsage;
    }
  }
  return rc;
}

int print_sample_config(const std::filesystem::path& dir, const std::string& name) {
  auto info = bd::plugin_host::describe_plugin(bd::plugin_host::plugin_file(dir, name));
  if (info.sample_config.empty()) {
    std::cerr << "backupdrill_exporter: " << info.file.string() << " has no sample config\n";
    return kExitUsage;
  }
  std::cout << info.sample_config;
  if (info.sample_config.back() != '\n') std::cout << "\n";
  return kExitPassed;
}

// What a --once run of `drill` leaves for the metrics, as serve mode would
// show it after that one run (DrillService::run_worker records the same).
bd::DrillMetricsState once_state(const bd::DrillConfig& drill, const bd::DrillRun& run) {
  auto state = bd::DrillMetricsState::configured(drill);
  if (!drill.schedule.empty()) {
    state.schedule_interval_seconds = static_cast<double>(
        bd::schedule::CronExpression::parse(drill.schedule).longest_interval().count());
  }
  if (run.status == bd::DrillStatus::skipped) {
    state.history.record_skip(bd::kSkipLocked);
    return state;
  }
  bd::RunRecord record = run.record;
  if (run.status == bd::DrillStatus::refused) {
    record.drill = drill.name;
    record.failed_phase = bd::kPhaseGuard;
    if (record.finished == bd::SystemTime{}) record.finished = std::chrono::system_clock::now();
    if (record.started == bd::SystemTime{}) record.started = record.finished;
  }
  state.history.record_run(record);
  return state;
}

// One drill's series to push, and where its run is recorded on disk.
struct PushedDrill {
  bd::DrillMetricsState state;
  std::string recorded_in;  // the summary, or the drill's folder for a run without one
};

// Pushes each drill's series; a failed push is logged, told on the terminal
// (where the run is recorded all the same) and returns false.
bool push_drills(const PushTarget& target, const std::vector<PushedDrill>& drills) {
  bool ok = true;
  for (const auto& [state, recorded_in] : drills) {
    auto result = bd::push_drill_metrics(target.gateway, target.job, state);
    if (result.ok) {
      bd::log::info("pushed the drill's series",
                    {{"drill", state.drill}, {"gateway", target.gateway.url}, {"job", target.job}});
    } else {
      bd::log::error("cannot push the drill's series; its run and result are unaffected",
                     {{"drill", state.drill}, {"error", result.error}});
      say("cannot push drill \"" + state.drill + "\"'s series to the Pushgateway " +
          target.gateway.url + ": " + result.error + ". The run itself is recorded in " +
          recorded_in + "; the exit code is 1 when the drill passed but its push failed.");
      ok = false;
    }
  }
  return ok;
}

// Where a --once run is recorded: its Markdown summary, else its drill's folder.
std::string recorded_in(const bd::Config& config, const bd::DrillConfig& drill,
                        const bd::DrillRun& run) {
  auto folder = config.exporter.artifact_dir / drill.name;
  if (run.record.run_id.empty()) return folder.string();
  return (folder / bd::RunArtifactNames{run.record.run_id}.summary_md()).string();
}

int run_once(const bd::Config& config, const std::vector<std::string>& only,
             const std::optional<PushTarget>& push) {
  std::vector<const bd::DrillConfig*> selected;
  if (only.empty()) {
    for (const auto& d : config.drills) selected.push_back(&d);
  } else {
    for (const auto& name : only) {
      const auto* d = config.find_drill(name);
      if (!d) {
        std::string known;
        for (const auto& k : config.drills) known += (known.empty() ? "" : ", ") + k.name;
        say("--drill=" + name + " names no drill of " + config.source +
            "; its drills are: " + known + ".");
        return kExitUsage;
      }
      selected.push_back(d);
    }
  }
  int exit_code = kExitPassed;
  std::vector<PushedDrill> pushed;
  for (const auto* drill : selected) {
    // A run a killed exporter left unfinished is recorded before the next.
    bd::finalize_interrupted_runs(config.exporter.artifact_dir / drill->name);
    bd::RunOptions options;
    options.trigger = "once";
    bd::DrillRun run = bd::run_drill(config, *drill, options);
    if (run.status == bd::DrillStatus::refused) {
      say(run.refusal);
      exit_code = kExitUsage;
    } else if (run.status == bd::DrillStatus::skipped) {
      // Nothing was proven: for a one-shot run that is not a pass.
      say(run.refusal);
      if (exit_code == kExitPassed) exit_code = kExitFailed;
    } else if (run.status == bd::DrillStatus::failed) {
      say("drill \"" + drill->name + "\" failed in phase " + run.record.failed_phase + ": " +
          run.record.error +
          (run.record.run_id.empty() ? std::string()
                                     : " (see " + recorded_in(config, *drill, run) + ")"));
      if (exit_code == kExitPassed) exit_code = kExitFailed;
    } else if (run.status == bd::DrillStatus::passed) {
      bd::apply_retention(config.exporter.artifact_dir / drill->name, config.exporter.keep_runs);
    }
    if (push) pushed.push_back({once_state(*drill, run), recorded_in(config, *drill, run)});
  }
  // A failed push makes a passing run exit 1; a failed or refused drill keeps
  // its own exit code.
  if (push && !push_drills(*push, pushed) && exit_code == kExitPassed) exit_code = kExitFailed;
  return exit_code;
}

// The flags of docs/design.md (Command line), parsed into opt.
void add_flags(CLI::App& app, Options& opt) {
  app.option_defaults()->always_capture_default();
  app.add_option("--config.file", opt.config_file,
                 "TOML configuration; without it, the runbook's environment variables define "
                 "one drill named default");
  app.add_flag("--once", opt.once, "run the drills now, once each, then exit");
  app.add_option("--drill", opt.drills, "with --once: only this drill (repeatable)");
  app.add_flag("--check-config", opt.check_config,
               "parse the config, load every check it names, and exit");
  app.add_flag("--list-checks", opt.list_checks, "list the check plugins and exit");
  app.add_option("--sample-config", opt.sample_config,
                 "print the sample [[drill.check]] config of the plugin NAME and exit");
  app.add_option("--web.listen-address", opt.listen_address, "address to serve HTTP on");
  app.add_option("--web.config.file", opt.web_config_file,
                 "TLS and basic auth, in exporter-toolkit's web-config format");
  app.add_option("--log.level", opt.log_level, "debug, info, warn or error");
  app.add_option("--log.format", opt.log_format, "logfmt or json");
  app.add_option("--push.gateway", opt.push_gateway,
                 "with --once: push each drill's series to this Prometheus Pushgateway "
                 "(http://HOST:PORT), grouped by drill; a failed push makes the exit code 1");
  app.add_option("--push.job", opt.push_job, "with --push.gateway: the job label of the series");
  app.add_flag("--version", opt.version, "print version and build information");
  app.footer(
      "Runbook mode (no --config.file): one drill named default from the environment:\n"
      "  SOURCE_DB_URL     the database to back up (required)\n"
      "  TARGET_DB_URL     the database to restore into (required; never the source)\n"
      "  BACKUP_DIR        artifact folder (default ./.drills/backup)\n"
      "  TARGET_API_URL    optional smoke check: GET must answer 200\n"
      "  API_BEARER_TOKEN  its bearer token (optional)\n"
      "  RPO_TARGET        default 24h\n"
      "  RTO_TARGET        default 2h\n"
      "  PG_BIN_DIR        where pg_dump/pg_restore are (optional)\n"
      "  DRILL_PROFILE     postgres (default) or supabase\n"
      "  CRITICAL_TABLES   tables whose row counts must match the source, comma-separated\n"
      "                    (default the runbook's six: public.profiles, public.tasks, ...)\n"
      "  INVALID_PROGRESS_QUERY  the invalid_progress check's query, which must count 0\n"
      "                    (default: lms_subsection_progress rows outside 0..100);\n"
      "                    set but empty: no invalid_progress check\n"
      "\n"
      "Exit codes: 0 every drill passed; 1 a drill failed (its summary says in which phase\n"
      "and why); 2 usage, config, plugin or safety refusal (nothing was touched).");
}

// The commands that print something and exit without starting the exporter
// (--version, --list-checks, --sample-config): their exit code, or nullopt
// when none was asked for.
std::optional<int> answer_and_exit(const Options& opt) {
  if (opt.version) {
    std::cout << bd::version_text() << bd::pg_clients_report(opt.config_file);
    return kExitPassed;
  }
  if (!opt.list_checks && opt.sample_config.empty()) return std::nullopt;
  try {
    auto dir = plugin_dir_for_listing(opt.config_file);
    return opt.list_checks ? list_checks(dir) : print_sample_config(dir, opt.sample_config);
  } catch (const std::exception& e) {
    say(std::string("cannot list the check plugins: ") + e.what());
    return kExitUsage;
  }
}

// The flags only --once takes: false (having said why) when one is given
// without it or is invalid; push is set from --push.gateway and --push.job.
bool check_once_flags(const Options& opt, std::optional<PushTarget>& push) {
  if (!opt.drills.empty() && !opt.once) {
    say("--drill is only valid with --once.");
    return false;
  }
  if (opt.push_gateway.empty()) return true;
  if (!opt.once) {
    say("--push.gateway is only valid with --once (serve mode is scraped).");
    return false;
  }
  try {
    push = PushTarget{bd::parse_push_gateway_url(opt.push_gateway), opt.push_job};
    bd::check_push_job(opt.push_job);
  } catch (const std::invalid_argument& e) {
    say(std::string("invalid push flag: ") + e.what());
    return false;
  }
  return true;
}

// Before any thread exists: the reaper that kills our children's process
// groups (pg_restore --jobs workers...) if this process dies, and the
// PGPASSFILEs and worker logs of an exporter that was killed (kill -9, OOM)
// before it could remove them.
void clean_up_after_earlier_exporters() {
  bd::start_orphan_reaper();
  try {
    for (const auto& dir : bd::pg::sweep_abandoned_private_dirs()) {
      bd::log::info("removed the working folder of an exporter that is gone",
                    {{"folder", dir.string()}});
    }
  } catch (const std::exception& e) {
    bd::log::warn("cannot sweep the private working folders", {{"error", e.what()}});
  }
}

// The config of --config.file or of the runbook's environment, its checks
// loaded; nullopt (having said why) when there is none or it is invalid.
std::optional<bd::Config> load_config(const Options& opt) {
  if (opt.config_file.empty() && !std::getenv("SOURCE_DB_URL") && !std::getenv("TARGET_DB_URL")) {
    std::cerr << "backupdrill_exporter: nothing to run. Start it with --config.file=FILE (see "
                 "config/example.toml), or set the runbook's variables SOURCE_DB_URL and "
                 "TARGET_DB_URL (see --help).\n";
    return std::nullopt;
  }
  try {
    bd::Config config =
        opt.config_file.empty() ? bd::runbook_config() : bd::load_config_file(opt.config_file);
    bd::validate_checks(config);
    return config;
  } catch (const std::exception& e) {
    if (opt.once || opt.check_config) {
      say(std::string("invalid configuration: ") + e.what());
    } else {
      bd::log::error("invalid configuration", {{"error", bd::scrub(e.what())}});
    }
    return std::nullopt;
  }
}

}  // namespace

int main(int argc, char** argv) {
  // A tool that exits early must not kill the exporter through its pipe.
  ::signal(SIGPIPE, SIG_IGN);
  // A check worker (the hidden --plugin-worker=FILE): the exporter re-runs
  // itself to run one plugin in isolation; nothing else is parsed.
  if (bd::plugin_host::is_worker_invocation(argc, argv)) {
    return bd::plugin_host::worker_main(argc, argv);
  }

  Options opt;
  CLI::App app{"backupdrill_exporter: proves that PostgreSQL backups restore, on a schedule"};
  add_flags(app, opt);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitPassed : kExitUsage;
  }
  try {
    bd::log::setup(bd::log::parse_level(opt.log_level), bd::log::parse_format(opt.log_format));
  } catch (const std::invalid_argument& e) {
    std::cerr << "backupdrill_exporter: " << e.what() << "\n";
    return kExitUsage;
  }
  if (auto exit_code = answer_and_exit(opt)) return *exit_code;
  std::optional<PushTarget> push;
  if (!check_once_flags(opt, push)) return kExitUsage;

  clean_up_after_earlier_exporters();
  std::optional<bd::Config> config = load_config(opt);
  if (!config) return kExitUsage;
  if (opt.check_config) {
    std::cout << config->source << ": configuration is valid: " << config->drills.size() << " drill"
              << (config->drills.size() == 1 ? "" : "s") << "\n";
    return kExitPassed;
  }
  if (opt.once) return run_once(*config, opt.drills, push);
  return bd::serve(*config, {opt.listen_address, opt.web_config_file});
}
