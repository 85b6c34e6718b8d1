#include "drill/runner.h"

#include <memory>
#include <optional>
#include <span>

#include "artifacts/artifact_files.h"
#include "artifacts/run_history.h"
#include "backup/backup_source.h"
#include "config/resolved_drill.h"
#include "crypto/sha256.h"
#include "drill/drill_checks.h"
#include "drill/extension_check.h"
#include "drill/free_space.h"
#include "drill/guard.h"
#include "drill/physical_drill.h"
#include "drill/report.h"
#include "drill/restore.h"
#include "drill/run_journal.h"
#include "drill/target_lock.h"
#include "log/log.h"
#include "pg/passfile.h"
#include "plugin_host/plugin_dir.h"
#include "profiles/profile.h"
#include "util/byte_size.h"
#include "util/secrets.h"

namespace backupdrill {
namespace {

using Clock = std::chrono::system_clock;

// A failure of one phase, carrying the phase to the record.
struct PhaseFailure : std::runtime_error {
  PhaseFailure(Phase failed, const std::string& what) : std::runtime_error(what), phase(failed) {}
  Phase phase;
};

// The drill cannot start as configured (a bad URL, a check plugin that does
// not load): a usage error like a guard refusal, with its own message.
struct SetupRefusal : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// What the phases of one run share. Each phase reads what the earlier ones
// left here and adds its own.
struct DrillContext {
  DrillContext(const Config& config_in, const DrillConfig& drill_in, const RunOptions& options_in,
               RunRecord& rec_in, RunJournal& journal_in, std::filesystem::path folder_in,
               Deadline deadline_in)
      : config(config_in),
        drill(drill_in),
        options(options_in),
        rec(rec_in),
        journal(journal_in),
        folder(std::move(folder_in)),
        names(journal_in.names()),
        deadline(deadline_in) {}

  const Config& config;
  const DrillConfig& drill;
  const RunOptions& options;
  RunRecord& rec;
  RunJournal& journal;
  std::filesystem::path folder;
  RunArtifactNames names;
  Deadline deadline;

  std::unique_ptr<Profile> profile = make_profile(drill);
  std::unique_ptr<BackupSource> source_of_backup;
  std::optional<pg::ConnInfo> source, target;
  // One worker per check, started (and its config created) before anything
  // is touched, so a bad plugin refuses the drill.
  std::optional<DrillChecks> checks;
  std::optional<GuardReport> guard;
  std::optional<pg::PrivateDir> work;
  std::optional<TargetLock> target_lock;  // held until the run ends
  std::optional<BackupArchive> archive;
  PgSession session;
  std::optional<PhysicalDrill> physical;  // source = "pgbackrest"
  bool backup_started = false;            // from then on the run has files to list
  std::optional<std::string> skipped;     // why the run did not happen
};

void guard_phase(DrillContext& c) {
  const DrillConfig& drill = c.drill;
  RunRecord& rec = c.rec;
  try {
    // Parsed once with the configuration (config/resolved_drill.h). An
    // existing archive (source = file or s3) may come without source_url.
    const auto facts = resolved(drill, c.config.exporter);
    c.source = facts->source;
    c.target = facts->target;
    c.source_of_backup = make_backup_source(drill);
    c.checks.emplace(facts->plugin_dir, drill, c.options.cancel);
  } catch (const std::exception& e) {
    throw SetupRefusal(std::string("drill \"") + drill.name + "\" (" + drill.origin +
                       "): " + scrub(e.what()));
  }
  rec.source = c.source ? c.source->redacted() : "";
  rec.target = c.target->redacted();
  rec.backup_source = c.source_of_backup->name();
  c.checks->set_backup_facts(rec.backup_source, std::nullopt);
  if (c.source) c.session.source.conninfo = *c.source;
  c.session.target.conninfo = *c.target;
  c.guard = run_guard(drill, *c.profile, c.source ? &*c.source : nullptr, *c.target);
  const GuardReport& guard = *c.guard;
  rec.source_server_version = guard.source.version;
  rec.target_server_version = guard.target_server.version;
  try {
    c.source_of_backup->find_tools(drill, guard, c.session);
    c.session.pg_restore = pg::find_tool(
        "pg_restore", drill.pg_bin_dir,
        std::max({guard.source.major(), guard.target_server.major(), c.session.pg_dump.major}));
    c.profile->find_tools(drill, guard.source.major());
  } catch (const std::exception& e) {
    throw GuardRefusal(e.what());
  }
  rec.pg_dump_version = c.session.pg_dump.version;
  rec.pg_restore_version = c.session.pg_restore.version;
  const pg::ConnInfo maintenance = maintenance_conninfo(*c.target, guard.maintenance_db);
  // Issue 11: extensions the target cannot create are refused here (an
  // existing archive's are compared with the target in the restore phase).
  if (c.source) require_target_extensions(*c.source, maintenance, c.target->dbname());
  c.target_lock.emplace(maintenance, c.target->dbname());
  if (!c.target_lock->acquired()) {
    c.skipped = "target database \"" + c.target->dbname() + "\" is locked by " +
                c.target_lock->holder() +
                " (another exporter replica is running a drill on it); this run is skipped";
    return;
  }
  if (!guard.target_kind_reason.empty()) rec.notes.push_back(guard.target_kind_reason);
  if (guard.target_exists && !guard.target_empty && !guard.target_marked) {
    rec.notes.push_back("target was neither empty nor marked; adopted because adopt_target = true");
  }
  rec.source_size = static_cast<unsigned long long>(guard.source.database_size);
  // Free space first: a dump that would fill the disk fails now, with
  // nothing written, not after an hour at 95%.
  auto space = estimate_backup_space(c.folder, rec.source_size, drill.backup.compression,
                                     load_runs(c.folder, 20));
  if (c.source && drill.backup.source == BackupConfig::Source::pg_dump && !space.enough()) {
    throw std::runtime_error("not enough free space for the backup in " + c.folder.string() +
                             ": it needs about " + human_bytes(space.needed) + " (" + space.basis +
                             "), " + human_bytes(space.available) +
                             " are free; free some space or point [exporter] artifact_dir at a "
                             "larger disk");
  }
  c.work.emplace("backupdrill-" + drill.name);
  if (c.source) c.session.source.passfile = c.work->write_passfile("source", c.source->password());
  c.session.target.passfile = c.work->write_passfile("target", c.target->password());
  log::info("drill started", {{"drill", drill.name},
                              {"run", rec.run_id},
                              {"source", rec.source},
                              {"target", rec.target},
                              {"pg_dump", c.session.pg_dump.path.string()}});
}

void backup_phase(DrillContext& c) {
  c.backup_started = true;
  BackupRequest request{c.folder, c.names, [&](const std::string& snapshot) {
                          // The snapshot's transaction stays open until every
                          // source phase returned; their failures are their
                          // checks', never the backup's.
                          c.checks->source_phase(*c.source, snapshot, c.deadline);
                        }};
  c.archive = c.source_of_backup->produce(c.session, request);
  c.rec.snapshot_time = c.archive->recovery_point;
  c.checks->set_backup_facts(c.rec.backup_source, c.archive->recovery_point);
  c.rec.backup_sha256 = c.archive->sha256;
  c.rec.backup_size = c.archive->size;
  c.rec.backup_format = c.archive->format;
  if (!c.archive->description.empty()) c.rec.notes.push_back(c.archive->description);
  c.profile->after_backup(c.session, c.folder, c.names);
  log::info("backup written", {{"drill", c.drill.name},
                               {"file", c.archive->dump.string()},
                               {"bytes", std::to_string(c.archive->size)},
                               {"sha256", c.archive->sha256}});
}

void verify_phase(DrillContext& c) {
  auto result = c.source_of_backup->verify(c.session, c.folder, *c.archive);
  log::info("backup verified",
            {{"drill", c.drill.name}, {"toc_entries", std::to_string(result.toc_entries)}});
}

void restore_phase(DrillContext& c) {
  RestoreResult result;
  try {
    run_restore(c.session, c.drill, *c.profile, *c.guard, c.archive->dump,
                c.folder / c.names.restore_log(), c.rec.run_id, result);
  } catch (...) {
    c.rec.restore_errors = result.errors;
    c.rec.notes.insert(c.rec.notes.end(), result.notes.begin(), result.notes.end());
    throw;
  }
  c.rec.restore_errors = result.errors;
  c.rec.notes.insert(c.rec.notes.end(), result.notes.begin(), result.notes.end());
}

void checks_phase(DrillContext& c) {
  std::vector<std::string> failed;
  const pg::ConnInfo no_source = pg::ConnInfo::parse("");
  for (auto& outcome : c.checks->run(c.source ? *c.source : no_source, *c.target, c.deadline)) {
    log::write(
        outcome.success ? log::Level::info : log::Level::error,
        outcome.skipped ? "check skipped" : (outcome.success ? "check passed" : "check failed"),
        {{"drill", c.drill.name}, {"check", outcome.name}, {"detail", outcome.message}});
    if (!outcome.success && !outcome.skipped) {
      failed.push_back(outcome.name + ": " + outcome.message);
    }
    c.rec.checks.push_back(std::move(outcome));
  }
  if (!failed.empty()) {
    std::string what =
        std::to_string(failed.size()) + " check" + (failed.size() == 1 ? "" : "s") + " failed: ";
    for (size_t i = 0; i < failed.size(); ++i) what += (i ? "; " : "") + failed[i];
    throw std::runtime_error(what);
  }
}

// Physical sources (issue 14): the throwaway server is the target; the
// phases' work is PhysicalDrill's (drill/physical_drill.h).
void physical_guard_phase(DrillContext& c) {
  try {
    const auto facts = resolved(c.drill, c.config.exporter);
    c.source = facts->source;
    c.checks.emplace(facts->plugin_dir, c.drill, c.options.cancel);
  } catch (const std::exception& e) {
    throw SetupRefusal(std::string("drill \"") + c.drill.name + "\" (" + c.drill.origin +
                       "): " + scrub(e.what()));
  }
  c.rec.source = c.source ? c.source->redacted() : "";
  c.rec.backup_source = to_string(c.drill.backup.source);
  c.checks->set_backup_facts(c.rec.backup_source, std::nullopt);
  c.physical.emplace(c.drill, c.rec, c.folder, c.names.restore_log(),
                     "recover_" + c.names.stamp + ".log", c.deadline, c.options.cancel,
                     c.options.restore_watch);
  c.physical->guard();
}

void physical_restore_phase(DrillContext& c) {
  c.backup_started = true;
  c.physical->restore();
}

void recover_phase(DrillContext& c) {
  c.physical->recover();
  c.target = c.physical->target();
  c.rec.target = c.target->redacted();
  c.checks->set_backup_facts(c.rec.backup_source, c.rec.snapshot_time);
}

struct PhaseStep {
  Phase phase;
  void (*run)(DrillContext&);
};

// The drill, in order. Each phase depends on those before it: the first
// failure ends the run (the report is written whatever happened).
constexpr PhaseStep kPipeline[] = {
    {Phase::guard, guard_phase},     {Phase::backup, backup_phase}, {Phase::verify, verify_phase},
    {Phase::restore, restore_phase}, {Phase::checks, checks_phase},
};
constexpr PhaseStep kPhysicalPipeline[] = {
    {Phase::guard, physical_guard_phase},
    {Phase::restore, physical_restore_phase},
    {Phase::recover, recover_phase},
    {Phase::checks, checks_phase},
};

// Runs one phase: its timing in the record and the journal, its log lines,
// and its failure attributed to it (refusals pass through unchanged).
void run_phase(DrillContext& c, const PhaseStep& step) {
  const char* name = phase_name(step.phase);
  PhaseTiming timing{name, Clock::now(), {}};
  log::info("phase started", {{"drill", c.drill.name}, {"phase", name}});
  c.journal.phase_started(name);
  auto finish = [&] {
    timing.end = Clock::now();
    c.rec.phases.push_back(timing);
    log::info(
        "phase finished",
        {{"drill", c.drill.name}, {"phase", name}, {"seconds", std::to_string(timing.seconds())}});
  };
  try {
    step.run(c);
  } catch (const GuardRefusal&) {
    finish();
    throw;
  } catch (const SetupRefusal&) {
    finish();
    throw;
  } catch (const std::exception& e) {
    finish();
    throw PhaseFailure(step.phase, scrub(e.what()));
  }
  finish();
}

// The report phase runs whatever happened once the backup started: the
// run's files, then the profile's extra artifacts with their checksums.
void report_phase(DrillContext& c) {
  RunRecord& rec = c.rec;
  PhaseTiming report{kPhaseReport, Clock::now(), {}};
  try {
    write_run_files(c.folder, c.names, rec);
    std::vector<std::string> names = c.profile->artifact_names(c.names);
    if (c.physical) {
      for (auto& name : c.physical->artifact_names()) names.push_back(name);
    }
    for (const std::string& name : names) {
      std::error_code ec;
      if (!std::filesystem::exists(c.folder / name, ec)) continue;
      rec.artifacts.push_back({name, size_on_disk(c.folder / name), sha256_file(c.folder / name)});
    }
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
               {{"drill", c.drill.name}, {"phase", kPhaseReport}, {"error", what}});
  }
  report.end = Clock::now();
  rec.phases.push_back(report);
}

// RTO: from the restore's start until the restored data was checked (the
// checks' end, whether they passed or not); not measured when the run never
// restored (it stopped before, or the restore or recovery itself failed).
// RPO: a fresh dump's data is as old as its snapshot at the end of the run;
// an existing archive's was already that old when the drill started;
// measured whenever the snapshot is known. A measured figure is compliant or
// not by its target, whatever else failed; an unmeasured one is neither, so
// a failed run pages once, through BackupDrillFailed (docs/design.md,
// Metrics).
void measure_objectives(RunRecord& rec) {
  const PhaseTiming* restore = rec.phase(kPhaseRestore);
  const bool restored =
      restore != nullptr && rec.failed_phase != kPhaseRestore && rec.failed_phase != kPhaseRecover;
  if (restored) {
    const PhaseTiming* checks = rec.phase(kPhaseChecks);
    const SystemTime end = checks != nullptr ? checks->end : rec.finished;
    rec.rto_seconds = std::chrono::duration<double>(end - restore->start).count();
  }
  rec.rto_compliant = rec.rto_seconds && *rec.rto_seconds <= rec.rto_target_seconds;
  if (rec.snapshot_time) {
    const SystemTime from = rec.backup_source == "pg_dump" ? rec.finished : rec.started;
    rec.rpo_seconds = std::chrono::duration<double>(from - *rec.snapshot_time).count();
  }
  rec.rpo_compliant = rec.rpo_seconds && *rec.rpo_seconds <= rec.rpo_target_seconds;
}

// The record's first fields, before anything can fail.
void start_record(RunRecord& rec, const DrillConfig& drill, const RunOptions& options) {
  rec.drill = drill.name;
  rec.trigger = options.trigger;
  rec.started = Clock::now();
  rec.rto_target_seconds = std::chrono::duration<double>(drill.rto_target).count();
  rec.rpo_target_seconds = std::chrono::duration<double>(drill.rpo_target).count();
  rec.restore_mode = drill.restore.mode == RestoreConfig::Mode::recreate ? "recreate" : "clean";
}

// Without its folder a run can keep no record and write no backup.
void fail_without_folder(DrillRun& run, const DrillConfig& drill,
                         const std::filesystem::path& folder, const std::exception& e) {
  RunRecord& rec = run.record;
  run.status = DrillStatus::failed;
  rec.failed_phase = kPhaseGuard;
  rec.error = "cannot create the drill's artifact folder " + folder.string() + ": " +
              scrub(e.what()) + " (check [exporter] artifact_dir, its owner and free space)";
  rec.finished = Clock::now();
  log::error("drill failed", {{"drill", drill.name}, {"phase", kPhaseGuard}, {"error", rec.error}});
}

// The pipeline's phases in turn, a refusal or a failure recorded; false when
// the run was skipped (another replica is running this drill's target), and
// run is then complete.
bool run_phases(DrillContext& c, DrillRun& run) {
  RunRecord& rec = c.rec;
  try {
    const bool physical = c.drill.backup.source == BackupConfig::Source::pgbackrest;
    for (const PhaseStep& step : physical ? std::span<const PhaseStep>(kPhysicalPipeline)
                                          : std::span<const PhaseStep>(kPipeline)) {
      run_phase(c, step);
      if (c.skipped) {
        c.journal.discard();
        run.status = DrillStatus::skipped;
        run.refusal = *c.skipped;
        rec.in_progress = false;
        rec.finished = Clock::now();
        return false;
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
    run.refusal = "drill \"" + c.drill.name + "\" refused: " + scrub(e.what());
    rec.failed_phase = kPhaseGuard;
    rec.error = run.refusal;
  } catch (const PhaseFailure& e) {
    rec.success = false;
    rec.failed_phase = phase_name(e.phase);
    rec.error = e.what();
    log::error("drill failed",
               {{"drill", c.drill.name}, {"phase", rec.failed_phase}, {"error", e.what()}});
  }
  rec.in_progress = false;
  return true;
}

// After the phases: the physical server cleaned up, the report, the
// objectives measured and the summaries written; a summary that cannot be
// written fails a run that had passed.
void finish_run(DrillContext& c, DrillRun& run) {
  RunRecord& rec = c.rec;
  // A physical run's server is stopped and its directory removed (or kept)
  // before the report, which records how.
  if (c.physical) c.physical->cleanup(!rec.success);
  if (c.backup_started) report_phase(c);
  rec.finished = Clock::now();
  measure_objectives(rec);
  try {
    write_summaries(c.folder, c.names, rec);
  } catch (const std::exception& e) {
    const std::string what = scrub(e.what());
    if (rec.success) {
      rec.success = false;
      rec.failed_phase = kPhaseReport;
      rec.error = what;
    }
    log::error("writing the drill summary failed",
               {{"drill", c.drill.name}, {"phase", kPhaseReport}, {"error", what}});
  }
  if (run.status != DrillStatus::refused) {
    run.status = rec.success ? DrillStatus::passed : DrillStatus::failed;
  }
}

void log_result(const RunRecord& rec, const std::filesystem::path& folder) {
  auto seconds_field = [](const std::optional<double>& s) {
    return s ? std::to_string(*s) : std::string("not measured");
  };
  log::write(rec.success ? log::Level::info : log::Level::error,
             rec.success ? "drill passed" : "drill failed",
             {{"drill", rec.drill},
              {"run", rec.run_id},
              {"seconds", std::to_string(rec.phase_seconds(kPhaseTotal))},
              {"rto_seconds", seconds_field(rec.rto_seconds)},
              {"rpo_seconds", seconds_field(rec.rpo_seconds)},
              {"artifacts", folder.string()}});
}

}  // namespace

void validate_checks(const Config& config) {
  // Each check's plugin is loaded and its config created in a worker, as a
  // run would, then the workers are stopped (one worker per plugin).
  validate_check_configs(resolve_plugin_dir(config.exporter.plugin_dir), config.drills);
}

DrillRun run_drill(const Config& config, const DrillConfig& drill, const RunOptions& options) {
  DrillRun run;
  start_record(run.record, drill, options);
  const auto deadline = std::chrono::steady_clock::now() + drill.timeout;

  // The run's record exists from its first moment, so whatever happens next
  // (a refusal, a wrong password, a kill -9) leaves a summary.
  const std::filesystem::path folder = config.exporter.artifact_dir / drill.name;
  std::optional<RunJournal> journal;
  try {
    journal.emplace(folder, run.record, options.run_id);
  } catch (const std::exception& e) {
    fail_without_folder(run, drill, folder, e);
    return run;
  }

  DrillContext c(config, drill, options, run.record, *journal, folder, deadline);
  c.session.drill = drill.name;
  c.session.deadline = deadline;
  c.session.cancel = options.cancel;
  c.session.restore_watch = options.restore_watch;
  if (!run_phases(c, run)) return run;
  finish_run(c, run);
  log_result(run.record, folder);
  return run;
}

}  // namespace backupdrill
