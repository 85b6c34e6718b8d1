#include "drill/runner.h"

#include <memory>
#include <mutex>
#include <thread>

#include "artifacts/artifact_files.h"
#include "crypto/sha256.h"
#include "drill/backup.h"
#include "drill/extension_check.h"
#include "drill/guard.h"
#include "drill/report.h"
#include "drill/restore.h"
#include "drill/target_lock.h"
#include "drill/verify.h"
#include "log/log.h"
#include "plugin_host/drill_checks.h"
#include "plugin_host/plugin_dir.h"
#include "supabase/roles_dump.h"
#include "util/secrets.h"

namespace backupdrill {
namespace {

using Clock = std::chrono::system_clock;

// A failure of one phase, carrying the phase name to the record.
struct PhaseFailure : std::runtime_error {
  PhaseFailure(std::string phase_name, const std::string& what)
      : std::runtime_error(what), phase(std::move(phase_name)) {}
  std::string phase;
};

class PhaseClock {
 public:
  PhaseClock(RunRecord& record, const char* phase)
      : record_(record), timing_{phase, Clock::now(), {}} {
    log::info("phase started", {{"drill", record.drill}, {"phase", phase}});
  }
  ~PhaseClock() {
    timing_.end = Clock::now();
    record_.phases.push_back(timing_);
    log::info("phase finished", {{"drill", record_.drill},
                                 {"phase", timing_.phase},
                                 {"seconds", std::to_string(timing_.seconds())}});
  }
  SystemTime start() const { return timing_.start; }

 private:
  RunRecord& record_;
  PhaseTiming timing_;
};

template <class F>
auto in_phase(const char* phase, F&& body) {
  try {
    return body();
  } catch (const PhaseFailure&) {
    throw;
  } catch (const GuardRefusal&) {
    throw;
  } catch (const std::exception& e) {
    throw PhaseFailure(phase, scrub(e.what()));
  }
}

// The next free artifact stamp: two runs of a drill in the same second must
// not share files.
std::string unique_stamp(const std::filesystem::path& folder, SystemTime& started) {
  while (true) {
    RunArtifactNames names{compact_utc(started)};
    std::error_code ec;
    if (!std::filesystem::exists(folder / names.dump(), ec) &&
        !std::filesystem::exists(folder / names.summary_json(), ec)) {
      return names.stamp;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    started = Clock::now();
  }
}

// profile supabase: the roles script and the restore plan's lists, with
// their checksums, next to the contract's artifacts.
void add_profile_artifacts(const std::filesystem::path& folder, const RunArtifactNames& names,
                           RunRecord& rec) {
  for (const std::string& name :
       {"backup_" + names.stamp + ".roles", "restore_" + names.stamp + ".list",
        "restore_" + names.stamp + ".extlist"}) {
    std::error_code ec;
    if (!std::filesystem::exists(folder / name, ec)) continue;
    rec.artifacts.push_back({name, size_on_disk(folder / name), sha256_file(folder / name)});
  }
}

}  // namespace

void validate_checks(const Config& config) {
  // Each check's plugin is loaded and its config created in a worker, as a
  // run would, then the workers are stopped.
  const auto dir = plugin_host::effective_plugin_dir(config.exporter.plugin_dir);
  for (const auto& drill : config.drills) plugin_host::DrillChecks checks(dir, drill);
}

DrillRun run_drill(const Config& config, const DrillConfig& drill, const RunOptions& options) {
  DrillRun run;
  RunRecord& rec = run.record;
  rec.drill = drill.name;
  rec.trigger = options.trigger;
  rec.started = Clock::now();
  rec.rto_target_seconds = std::chrono::duration<double>(drill.rto_target).count();
  rec.rpo_target_seconds = std::chrono::duration<double>(drill.rpo_target).count();
  rec.restore_mode = drill.restore.mode == RestoreConfig::Mode::recreate ? "recreate" : "clean";
  const auto deadline = std::chrono::steady_clock::now() + drill.timeout;

  std::optional<pg::ConnInfo> source, target;
  // One worker per check, started (and its config created) before anything
  // is touched, so a bad plugin refuses the drill.
  std::optional<plugin_host::DrillChecks> checks;
  try {
    source = pg::ConnInfo::parse(drill.source_url);
    target = pg::ConnInfo::parse(drill.target_url);
    checks.emplace(plugin_host::effective_plugin_dir(config.exporter.plugin_dir), drill,
                   options.cancel);
  } catch (const std::exception& e) {
    run.status = DrillStatus::refused;
    run.refusal =
        std::string("drill \"") + drill.name + "\" (" + drill.origin + "): " + scrub(e.what());
    return run;
  }
  rec.source = source->redacted();
  rec.target = target->redacted();

  const std::filesystem::path folder = config.exporter.artifact_dir / drill.name;
  std::optional<GuardReport> guard;
  std::optional<RunArtifactNames> names;
  std::optional<pg::PrivateDir> work;
  PgSession session;
  session.drill = drill.name;
  session.deadline = deadline;
  session.cancel = options.cancel;
  session.source.conninfo = *source;
  session.target.conninfo = *target;
  std::optional<SystemTime> restore_started;
  std::optional<TargetLock> target_lock;  // held until the run ends
  std::optional<pg::Tool> pg_dumpall;     // profile supabase: the roles

  try {
    {
      PhaseClock clock(rec, kPhaseGuard);
      guard = in_phase(kPhaseGuard, [&] { return run_guard(drill, *source, *target); });
      rec.source_server_version = guard->source.version;
      rec.target_server_version = guard->target_server.version;
      try {
        session.pg_dump = pg::find_tool("pg_dump", drill.pg_bin_dir, guard->source.major());
        session.pg_restore = pg::find_tool(
            "pg_restore", drill.pg_bin_dir,
            std::max({guard->source.major(), guard->target_server.major(), session.pg_dump.major}));
        compression_args(drill.backup.compression, session.pg_dump.major);
        if (drill.profile == "supabase") {
          pg_dumpall = pg::find_tool("pg_dumpall", drill.pg_bin_dir, guard->source.major());
        }
      } catch (const std::exception& e) {
        throw GuardRefusal(e.what());
      }
      rec.pg_dump_version = session.pg_dump.version;
      rec.pg_restore_version = session.pg_restore.version;
      // Issue 11: extensions the target cannot create are refused here.
      in_phase(kPhaseGuard, [&] {
        require_target_extensions(*source, maintenance_conninfo(*target, guard->maintenance_db),
                                  target->dbname());
      });
      in_phase(kPhaseGuard, [&] {
        target_lock.emplace(maintenance_conninfo(*target, guard->maintenance_db), target->dbname());
      });
      if (!target_lock->acquired()) {
        run.status = DrillStatus::skipped;
        run.refusal = "target database \"" + target->dbname() + "\" is locked by " +
                      target_lock->holder() +
                      " (another exporter replica is running a drill "
                      "on it); this run is skipped";
        rec.finished = Clock::now();
        return run;
      }
      if (!guard->target_kind_reason.empty()) rec.notes.push_back(guard->target_kind_reason);
      if (guard->target_exists && !guard->target_empty && !guard->target_marked) {
        rec.notes.push_back(
            "target was neither empty nor marked; adopted because adopt_target = "
            "true");
      }
      in_phase(kPhaseGuard, [&] {
        ensure_private_dir(folder);
        rec.run_id = options.run_id.empty() ? unique_stamp(folder, rec.started) : options.run_id;
        names = RunArtifactNames{rec.run_id};
        work.emplace("backupdrill-" + drill.name);
        session.source.passfile = work->write_passfile("source", source->password());
        session.target.passfile = work->write_passfile("target", target->password());
      });
    }
    log::info("drill started", {{"drill", drill.name},
                                {"run", rec.run_id},
                                {"source", rec.source},
                                {"target", rec.target},
                                {"pg_dump", session.pg_dump.path.string()}});

    BackupPaths paths{folder / names->dump(), folder / names->checksum(),
                      folder / ("backup_" + names->stamp + ".log"), names->dump()};
    {
      PhaseClock clock(rec, kPhaseBackup);
      auto result = in_phase(kPhaseBackup, [&] {
        // The snapshot's transaction stays open until every source phase
        // returned; their failures are their checks', never the backup's.
        return run_backup(session, drill.backup, paths, [&](const std::string& snapshot) {
          checks->source_phase(*source, snapshot, deadline);
        });
      });
      rec.snapshot_time = result.snapshot_time;
      rec.backup_sha256 = result.sha256;
      rec.backup_size = result.size;
      rec.backup_format = result.format;
      if (pg_dumpall) {
        // Roles live in the cluster, not in the database's archive.
        in_phase(kPhaseBackup, [&] {
          supabase::dump_roles(session, *pg_dumpall,
                               folder / ("backup_" + names->stamp + ".roles"));
        });
      }
      log::info("backup written", {{"drill", drill.name},
                                   {"file", paths.dump.string()},
                                   {"bytes", std::to_string(result.size)},
                                   {"sha256", result.sha256}});
    }
    {
      PhaseClock clock(rec, kPhaseVerify);
      auto result = in_phase(
          kPhaseVerify, [&] { return run_verify(session, folder, paths.checksum, paths.dump); });
      log::info("backup verified",
                {{"drill", drill.name}, {"toc_entries", std::to_string(result.toc_entries)}});
    }
    {
      PhaseClock clock(rec, kPhaseRestore);
      restore_started = clock.start();
      RestoreResult result;
      try {
        in_phase(kPhaseRestore, [&] {
          run_restore(session, drill, *guard, paths.dump, folder / names->restore_log(), rec.run_id,
                      result);
        });
      } catch (...) {
        rec.restore_errors = result.errors;
        rec.notes.insert(rec.notes.end(), result.notes.begin(), result.notes.end());
        throw;
      }
      rec.restore_errors = result.errors;
      rec.notes.insert(rec.notes.end(), result.notes.begin(), result.notes.end());
    }
    {
      PhaseClock clock(rec, kPhaseChecks);
      std::vector<std::string> failed;
      for (auto& outcome : checks->run(*source, *target, deadline)) {
        log::write(
            outcome.success ? log::Level::info : log::Level::error,
            outcome.skipped ? "check skipped" : (outcome.success ? "check passed" : "check failed"),
            {{"drill", drill.name}, {"check", outcome.name}, {"detail", outcome.message}});
        if (!outcome.success && !outcome.skipped)
          failed.push_back(outcome.name + ": " + outcome.message);
        rec.checks.push_back(std::move(outcome));
      }
      if (!failed.empty()) {
        std::string what = std::to_string(failed.size()) + " check" +
                           (failed.size() == 1 ? "" : "s") + " failed: ";
        for (size_t i = 0; i < failed.size(); ++i) what += (i ? "; " : "") + failed[i];
        throw PhaseFailure(kPhaseChecks, what);
      }
    }
    rec.success = true;
  } catch (const GuardRefusal& e) {
    run.status = DrillStatus::refused;
    run.refusal = "drill \"" + drill.name + "\" refused: " + scrub(e.what());
    rec.failed_phase = kPhaseGuard;
    rec.error = run.refusal;
    rec.finished = Clock::now();
    return run;  // nothing was written: no report
  } catch (const PhaseFailure& e) {
    rec.success = false;
    rec.failed_phase = e.phase;
    rec.error = e.what();
    log::error("drill failed", {{"drill", drill.name}, {"phase", e.phase}, {"error", e.what()}});
  }

  if (names) {
    PhaseTiming report{kPhaseReport, Clock::now(), {}};
    try {
      write_run_files(folder, *names, rec);
      add_profile_artifacts(folder, *names, rec);
    } catch (const std::exception& e) {
      rec.success = false;
      rec.failed_phase = kPhaseReport;
      rec.error = scrub(e.what());
      log::error("writing the drill report failed",
                 {{"drill", drill.name}, {"phase", kPhaseReport}, {"error", rec.error}});
    }
    report.end = Clock::now();
    rec.phases.push_back(report);
  }
  rec.finished = Clock::now();
  if (restore_started) {
    // RTO ends when the checks passed; a failed run never met it, and its
    // figure is the time it spent before failing.
    SystemTime end = rec.success ? rec.phase(kPhaseChecks)->end : rec.finished;
    rec.rto_seconds = std::chrono::duration<double>(end - *restore_started).count();
  }
  rec.rto_compliant = rec.success && rec.rto_seconds <= rec.rto_target_seconds;
  if (rec.snapshot_time) {
    rec.rpo_seconds = std::chrono::duration<double>(rec.finished - *rec.snapshot_time).count();
    rec.rpo_compliant = rec.success && rec.rpo_seconds <= rec.rpo_target_seconds;
  }
  if (names) {
    try {
      write_summaries(folder, *names, rec);
    } catch (const std::exception& e) {
      rec.success = false;
      rec.failed_phase = kPhaseReport;
      rec.error = scrub(e.what());
      log::error("writing the drill summary failed",
                 {{"drill", drill.name}, {"phase", kPhaseReport}, {"error", rec.error}});
    }
  }
  run.status = rec.success ? DrillStatus::passed : DrillStatus::failed;
  log::write(rec.success ? log::Level::info : log::Level::error,
             rec.success ? "drill passed" : "drill failed",
             {{"drill", drill.name},
              {"run", rec.run_id},
              {"seconds", std::to_string(rec.phase_seconds(kPhaseTotal))},
              {"rto_seconds", std::to_string(rec.rto_seconds)},
              {"rpo_seconds", std::to_string(rec.rpo_seconds)},
              {"artifacts", folder.string()}});
  return run;
}

}  // namespace backupdrill
