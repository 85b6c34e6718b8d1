#include "drill/drill_checks.h"

#include <cstdlib>
#include <map>
#include <sstream>
#include <thread>

#include "plugin_host/plugin_dir.h"
#include "util/bounded_text.h"
#include "util/secrets.h"

namespace backupdrill {
namespace {

using plugin_host::CallArgs;
using plugin_host::kMaxNameBytes;
using plugin_host::plugin_file;
using plugin_host::PluginError;

using Clock = std::chrono::steady_clock;

// The connection string a plugin gets, with the password it needs: the
// URL's, else the exporter's PGPASSWORD. Workers inherit no PGPASSWORD (their
// environment is an allow-list): a password reaches them only through the
// pipe. ConnInfo::parse registered it as a secret.
std::string conninfo_for_worker(const pg::ConnInfo& c) {
  std::string text = c.full();
  const char* env = std::getenv("PGPASSWORD");
  if (!c.password() && env && *env) {
    text += (text.empty() ? "" : " ") + std::string("password=") + pg::quote_conninfo_value(env);
  }
  return text;
}

Deadline call_deadline(const CheckConfig& check, Deadline drill_deadline) {
  return std::min(drill_deadline, Clock::now() + check.timeout);
}

// The x of the first `key "x"` in a plugin's message; "" when there is none.
// A plain scan (the message is bounded, but no regex either way).
std::string_view key_named_in(std::string_view message) {
  constexpr std::string_view kOpen = "key \"";
  size_t at = message.find(kOpen);
  if (at == std::string_view::npos) return {};
  size_t from = at + kOpen.size();
  size_t end = message.find('"', from);
  // Keys are short: a long "key" is not one (TOML keys of a check config).
  if (end == std::string_view::npos || end == from || end - from > kMaxNameBytes) return {};
  return message.substr(from, end - from);
}

// "<file>:<line>" of a key a plugin's message names as `key "x"`, so errors
// point at the line to fix, as the exporter's own config errors do.
std::string origin_of(const CheckConfig& check, const std::string& message) {
  if (auto key = key_named_in(message); !key.empty()) {
    auto line = check.key_lines.find(std::string(key));
    if (line != check.key_lines.end() && line->second > 0) {
      auto colon = check.origin.rfind(':');
      if (colon != std::string::npos) {
        return check.origin.substr(0, colon) + ":" + std::to_string(line->second);
      }
    }
  }
  return check.origin;
}

// A check whose create() refused its config or failed: the error names the
// line of the key the plugin complained about when it can.
ConfigError create_failed(const DrillConfig& drill, const CheckConfig& check,
                          const CheckWorker& worker, const CallResult& result) {
  std::string why = result.kind == CallResult::Kind::failed
                        ? "rejected its config: " + result.message
                        : "create() " + result.message;
  return ConfigError(origin_of(check, result.message) + ": drill \"" + drill.name + "\" check \"" +
                     check.name + "\" (plugin " + worker.info().file.string() + ") " + scrub(why));
}

// The prefix of an error about loading a check's plugin.
std::string load_prefix(const DrillConfig& drill, const CheckConfig& check) {
  return check.origin + ": drill \"" + drill.name + "\" check \"" + check.name + "\" (plugin " +
         bounded_text(check.plugin, 80);
}

}  // namespace

void validate_check_configs(const std::filesystem::path& plugin_dir,
                            const std::vector<DrillConfig>& drills) {
  // One worker per plugin, whatever the number of drills: 100 drills with
  // the same three checks start three processes, not three hundred.
  std::map<std::filesystem::path, std::unique_ptr<CheckWorker>> workers;
  for (const auto& drill : drills) {
    for (const auto& check : drill.checks) {
      std::string prefix = load_prefix(drill, check);
      CheckWorker* worker = nullptr;
      try {
        auto file = plugin_file(plugin_dir, check.plugin);
        prefix += ", " + file.string();
        auto& slot = workers[file];
        if (!slot || !slot->alive()) slot = std::make_unique<CheckWorker>(file);
        worker = slot.get();
      } catch (const PluginError& e) {
        throw ConfigError(prefix + "): " + scrub(e.what()));
      }
      CheckOutcome scratch;
      scratch.name = check.name;
      auto result = worker->validate(check_config_toml(check), drill.name, check.name,
                                     Clock::now() + check.timeout, scratch);
      if (!result.ok()) throw create_failed(drill, check, *worker, result);
    }
  }
  std::vector<std::thread> stops;
  for (auto& [file, worker] : workers) stops.emplace_back([&w = worker] { w->stop(); });
  for (auto& t : stops) t.join();
}

std::string check_config_toml(const CheckConfig& check) { return check.settings_toml; }

DrillChecks::DrillChecks(const std::filesystem::path& plugin_dir, const DrillConfig& drill,
                         std::stop_token cancel, WorkerOptions options)
    : drill_(drill), cancel_(cancel) {
  for (const auto& check : drill.checks) {
    Slot slot{&check, nullptr, {}, false, 0};
    slot.outcome.name = check.name;
    slot.outcome.plugin = check.plugin;
    std::string prefix = load_prefix(drill, check);
    try {
      auto file = plugin_file(plugin_dir, check.plugin);
      prefix += ", " + file.string();
      slot.worker = std::make_unique<CheckWorker>(file, options);
    } catch (const PluginError& e) {
      throw ConfigError(prefix + "): " + scrub(e.what()));
    }
    CheckOutcome scratch;
    scratch.name = check.name;
    auto result = slot.worker->create(check_config_toml(check), drill.name, check.name,
                                      Clock::now() + check.timeout, scratch);
    if (!result.ok()) throw create_failed(drill, check, *slot.worker, result);
    slots_.push_back(std::move(slot));
  }
}

DrillChecks::~DrillChecks() {
  // Stop the workers in parallel: each may take its quit grace.
  std::vector<std::thread> stops;
  for (auto& s : slots_) {
    if (s.worker) stops.emplace_back([&s] { s.worker->stop(); });
  }
  for (auto& t : stops) t.join();
}

std::string DrillChecks::describe(const Slot& slot) const {
  return "check " + slot.config->name + " (plugin " + slot.worker->info().file.filename().string() +
         ")";
}

void DrillChecks::apply(Slot& slot, const CallResult& result, const char* phase_text) {
  if (result.ok()) return;
  slot.outcome.success = false;
  std::string text = result.kind == CallResult::Kind::failed
                         ? result.message
                         : describe(slot) + " " + result.message;
  if (phase_text && *phase_text) text = std::string(phase_text) + text;
  slot.outcome.message = text;
}

void DrillChecks::source_phase(const pg::ConnInfo& source, const std::string& snapshot_id,
                               Deadline drill_deadline) {
  std::vector<std::thread> threads;
  for (auto& slot : slots_) {
    if (!slot.worker->info().source_phase) continue;
    threads.emplace_back([&, snapshot_id] {
      CallArgs args;
      args.phase = 1;
      args.drill = drill_.name;
      args.check = slot.config->name;
      args.source = conninfo_for_worker(source);
      args.snapshot = snapshot_id;
      args.recovery_point_ms = recovery_point_ms_;
      args.backup_source = backup_source_;
      auto started = Clock::now();
      auto result = slot.worker->call(args, call_deadline(*slot.config, drill_deadline), cancel_,
                                      slot.outcome);
      slot.seconds += std::chrono::duration<double>(Clock::now() - started).count();
      if (!result.ok()) {
        apply(slot, result, "reading the source in the backup's snapshot failed: ");
        slot.source_failed = true;
      }
    });
  }
  for (auto& t : threads) t.join();
}

std::vector<CheckOutcome> DrillChecks::run(const pg::ConnInfo& source, const pg::ConnInfo& target,
                                           Deadline drill_deadline) {
  std::vector<CheckOutcome> out;
  for (auto& slot : slots_) {
    if (!slot.source_failed) {
      CallArgs args;
      args.phase = 2;
      args.drill = drill_.name;
      args.check = slot.config->name;
      args.source = conninfo_for_worker(source);
      args.target = conninfo_for_worker(target);
      args.recovery_point_ms = recovery_point_ms_;
      args.backup_source = backup_source_;
      auto started = Clock::now();
      // Success until the plugin says otherwise: messages and data arrive
      // as events, the verdict with "done".
      auto result = slot.worker->call(args, call_deadline(*slot.config, drill_deadline), cancel_,
                                      slot.outcome);
      slot.seconds += std::chrono::duration<double>(Clock::now() - started).count();
      slot.outcome.success = result.ok();
      apply(slot, result, "");
      if (result.ok()) slot.worker->stop();
    }
    slot.outcome.seconds = slot.seconds;
    out.push_back(slot.outcome);
  }
  return out;
}

}  // namespace backupdrill
