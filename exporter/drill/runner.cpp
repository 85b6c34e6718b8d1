#include "drill/runner.h"

#include <memory>
#include <mutex>
#include <thread>

#include "artifacts/artifact_files.h"
#include "artifacts/run_history.h"
#include "crypto/sha256.h"
#include "drill/backup.h"
#include "drill/extension_check.h"
#include "drill/free_space.h"
#include "drill/guard.h"
#include "drill/report.h"
#include "drill/restore.h"
#include "drill/run_journal.h"
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
  PhaseClock(RunRecord& record, RunJournal& journal, const char* phase)
      : record_(record), timing_{phase, Clock::now(), {}} {
    log::info("phase started", {{"drill", record.drill}, {"phase", phase}});
    journal.phase_started(phase);
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

// The drill cannot start as configured (a bad URL, a check plugin that does
// not load): a usage error like a guard refusal, with its own message.
struct SetupRefusal : std::runtime_error {
  using std::runtime_error::runtime_error;
};

template <class F>
auto in_phase(const char* phase, F&& body) {
  try {
    return body();
  } catch (const PhaseFailure&) {
    throw;
  } catch (const GuardRefusal&) {
    throw;
  } catch (const SetupRefusal&) {
    throw;
  } catch (const std::exception& e) {
    throw PhaseFailure(phase, scrub(e.what()));
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

  // The run's record exists from its first moment, so whatever happens next
  // (a refusal, a wrong password, a kill -9) leaves a summary.
  const std::filesystem::path folder = config.exporter.artifact_dir / drill.name;
  std::optional<RunJournal> journal;
  try {
    journal.emplace(folder, rec, options.run_id);
  } catch (const std::exception& e) {
    // Without its folder a run can keep no record and write no backup.
    run.status = DrillStatus::failed;
    rec.failed_phase = kPhaseGuard;
    rec.error = "cannot create the drill's artifact folder " + folder.string() + ": " +
                scrub(e.what()) + " (check [exporter] artifact_dir, its owner and free space)";
    rec.finished = Clock::now();
    log::error("drill failed",
               {{"drill", drill.name}, {"phase", kPhaseGuard}, {"error", rec.error}});
    return run;
  }
  const RunArtifactNames& names = journal->names();

  std::optional<pg::ConnInfo> source, target;
  // One worker per check, started (and its config created) before anything
  // is touched, so a bad plugin refuses the drill.
  std::optional<plugin_host::DrillChecks> checks;
  std::optional<GuardReport> guard;
  std::optional<pg::PrivateDir> work;
  PgSession session;
  session.drill = drill.name;
  session.deadline = deadline;
  session.cancel = options.cancel;
  std::optional<SystemTime> restore_started;
  std::optional<TargetLock> target_lock;  // held until the run ends
  std::optional<pg::Tool> pg_dumpall;     // profile supabase: the roles
  bool backup_started = false;            // from then on the run has files to list

  try {
    {
      PhaseClock clock(rec, *journal, kPhaseGuard);
      try {
        source = pg::ConnInfo::parse(drill.source_url);
        target = pg::ConnInfo::parse(drill.target_url);
        checks.emplace(plugin_host::effective_plugin_dir(config.exporter.plugin_dir), drill,
                       options.cancel);
      } catch (const std::exception& e) {
        throw SetupRefusal(std::string("drill \"") + drill.name + "\" (" + drill.origin +
                           "): " + scrub(e.what()));
      }
      rec.source = source->redacted();
      rec.target = target->redacted();
      session.source.conninfo = *source;
      session.target.conninfo = *target;
      guard = in_phase(kPhaseGuard, [&] { return run_guard(drill, *source, *target); });
      rec.source_server_version = guard->source.version;
      rec.target_server_version = guard->target_server.version;
      try {
        session.pg_dump = pg::find_tool("pg_dump", drill.pg_bin_dir, guard->source.major());
        session.pg_restore = pg::find_tool(
            "pg_restore", drill.pg_bin_dir,
            std::max({guard->source.major(), guard->target_server.major(), session.pg_dump.major}));
        compression_args(drill.backup.compression, session.pg_dump.major);
        if (drill.profile == DrillConfig::Profile::supabase) {
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
        // Not a run: another replica is running this drill's target.
        journal->discard();
        run.status = DrillStatus::skipped;
        run.refusal = "target database \"" + target->dbname() + "\" is locked by " +
                      target_lock->holder() +
                      " (another exporter replica is running a drill "
                      "on it); this run is skipped";
        rec.in_progress = false;
        rec.finished = Clock::now();
        return run;
      }
      if (!guard->target_kind_reason.empty()) rec.notes.push_back(guard->target_kind_reason);
      if (guard->target_exists && !guard->target_empty && !guard->target_marked) {
        rec.notes.push_back(
            "target was neither empty nor marked; adopted because adopt_target = "
            "true");
      }
      rec.source_size = static_cast<unsigned long long>(guard->source.database_size);
      in_phase(kPhaseGuard, [&] {
        // Free space first: a dump that would fill the disk fails now, with
        // nothing written, not after an hour at 95%.
        auto space = estimate_backup_space(folder, rec.source_size, drill.backup.compression,
                                           load_runs(folder, 20));
        if (!space.enough()) {
          throw std::runtime_error(
              "not enough free space for the backup in " + folder.string() + ": it needs about " +
              human_size(space.needed) + " (" + space.basis + "), " + human_size(space.available) +
              " are free; free some space or point [exporter] artifact_dir at a larger disk");
        }
      });
      in_phase(kPhaseGuard, [&] {
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

    BackupPaths paths{folder / names.dump(), folder / names.checksum(),
                      folder / ("backup_" + names.stamp + ".log"), names.dump()};
    {
      PhaseClock clock(rec, *journal, kPhaseBackup);
      backup_started = true;
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
          supabase::dump_roles(session, *pg_dumpall, folder / ("backup_" + names.stamp + ".roles"));
        });
      }
      log::info("backup written", {{"drill", drill.name},
                                   {"file", paths.dump.string()},
                                   {"bytes", std::to_string(result.size)},
                                   {"sha256", result.sha256}});
    }
    {
      PhaseClock clock(rec, *journal, kPhaseVerify);
      auto result = in_phase(
          kPhaseVerify, [&] { return run_verify(session, folder, paths.checksum, paths.dump); });
      log::info("backup verified",
                {{"drill", drill.name}, {"toc_entries", std::to_string(result.toc_entries)}});
    }
    {
      PhaseClock clock(rec, *journal, kPhaseRestore);
      restore_started = clock.start();
      RestoreResult result;
      try {
        in_phase(kPhaseRestore, [&] {
          run_restore(session, drill, *guard, paths.dump, folder / names.restore_log(), rec.run_id,
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
      PhaseClock clock(rec, *journal, kPhaseChecks);
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
  } catch (const SetupRefusal& e) {
    run.status = DrillStatus::refused;
    run.refusal = e.what();
    rec.failed_phase = kPhaseGuard;
    rec.error = run.refusal;
  } catch (const GuardRefusal& e) {
    run.status = DrillStatus::refused;
    run.refusal = "drill \"" + drill.name + "\" refused: " + scrub(e.what());
    rec.failed_phase = kPhaseGuard;
    rec.error = run.refusal;
  } catch (const PhaseFailure& e) {
    rec.success = false;
    rec.failed_phase = e.phase;
    rec.error = e.what();
    log::error("drill failed", {{"drill", drill.name}, {"phase", e.phase}, {"error", e.what()}});
  }
  rec.in_progress = false;

  if (backup_started) {
    PhaseTiming report{kPhaseReport, Clock::now(), {}};
    try {
      write_run_files(folder, names, rec);
      add_profile_artifacts(folder, names, rec);
    } catch (const std::exception& e) {
      // The phase that failed first is the run's failure; a report that
      // cannot be written after it (a full disk) is only a note.
      const std::string what = scrub(e.what());
      if (rec.success) {
        rec.success = false;
        rec.failed_phase = kPhaseReport;
        rec.error = what;
      } else {
        rec.notes.push_back("writing the run's files failed too: " + what);
      }
      log::error("writing the drill report failed",
                 {{"drill", drill.name}, {"phase", kPhaseReport}, {"error", what}});
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
  rec.rto_compliant = rec.success && rec.rto_seconds && *rec.rto_seconds <= rec.rto_target_seconds;
  if (rec.snapshot_time) {
    rec.rpo_seconds = std::chrono::duration<double>(rec.finished - *rec.snapshot_time).count();
  }
  rec.rpo_compliant = rec.success && rec.rpo_seconds && *rec.rpo_seconds <= rec.rpo_target_seconds;
  try {
    write_summaries(folder, names, rec);
  } catch (const std::exception& e) {
    const std::string what = scrub(e.what());
    if (rec.success) {
      rec.success = false;
      rec.failed_phase = kPhaseReport;
      rec.error = what;
    }
    log::error("writing the drill summary failed",
               {{"drill", drill.name}, {"phase", kPhaseReport}, {"error", what}});
  }
  if (run.status != DrillStatus::refused) {
    run.status = rec.success ? DrillStatus::passed : DrillStatus::failed;
  }
  auto seconds_field = [](const std::optional<double>& s) {
    return s ? std::to_string(*s) : std::string("not measured");
  };
  log::write(rec.success ? log::Level::info : log::Level::error,
             rec.success ? "drill passed" : "drill failed",
             {{"drill", drill.name},
              {"run", rec.run_id},
              {"seconds", std::to_string(rec.phase_seconds(kPhaseTotal))},
              {"rto_seconds", seconds_field(rec.rto_seconds)},
              {"rpo_seconds", seconds_field(rec.rpo_seconds)},
              {"artifacts", folder.string()}});
  return run;
}

}  // namespace backupdrill
