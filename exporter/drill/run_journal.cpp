#include "drill/run_journal.h"

#include <unistd.h>

#include <fstream>
#include <thread>

#include "artifacts/run_history.h"
#include "drill/report.h"
#include "log/log.h"
#include "util/process_identity.h"
#include "util/secrets.h"

namespace backupdrill {
namespace {

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
    started = std::chrono::system_clock::now();
  }
}

// The in-progress summary is rewritten at each phase start: its time is the
// last moment the run was known to be alive.
SystemTime last_sign_of_life(const std::filesystem::path& file, SystemTime fallback) {
  std::error_code ec;
  auto written = std::filesystem::last_write_time(file, ec);
  if (ec) return fallback;
  return std::chrono::time_point_cast<SystemTime::duration>(
      std::chrono::file_clock::to_sys(written));
}

}  // namespace

RunJournal::RunJournal(const std::filesystem::path& folder, RunRecord& record,
                       const std::string& run_id)
    : folder_(folder), record_(record) {
  ensure_private_dir(folder_);
  record_.run_id = run_id.empty() ? unique_stamp(folder_, record_.started) : run_id;
  names_ = RunArtifactNames{record_.run_id};
  record_.in_progress = true;
  record_.exporter_pid = ::getpid();
  record_.exporter_identity = process_identity(::getpid());
  phase_started(kPhaseGuard);
}

void RunJournal::phase_started(const std::string& phase) {
  record_.current_phase = phase;
  write_in_progress();
}

void RunJournal::write_in_progress() {
  RunRecord snapshot = record_;
  snapshot.in_progress = true;
  snapshot.finished = std::chrono::system_clock::now();
  try {
    write_private_file(folder_ / names_.summary_json(), summary_json_text(snapshot));
  } catch (const std::exception& e) {
    if (!warned_) {
      log::warn("cannot write the in-progress summary; the run goes on",
                {{"drill", record_.drill}, {"run", record_.run_id}, {"error", scrub(e.what())}});
    }
    warned_ = true;
  }
}

void RunJournal::discard() {
  std::error_code ec;
  std::filesystem::remove(folder_ / names_.summary_json(), ec);
}

std::vector<std::string> finalize_interrupted_runs(const std::filesystem::path& folder) {
  std::vector<std::string> finalized;
  for (const auto& stamp : run_stamps(folder)) {
    RunArtifactNames names{stamp};
    const auto file = folder / names.summary_json();
    auto record = read_run_summary(file);  // load_runs() reports unreadable ones
    if (!record || !record->in_progress) continue;
    if (process_alive(static_cast<pid_t>(record->exporter_pid), record->exporter_identity)) {
      continue;  // another exporter is running it right now
    }
    const std::string phase = record->current_phase.empty() ? "unknown" : record->current_phase;
    record->in_progress = false;
    record->success = false;
    record->failed_phase = kPhaseInterrupted;
    record->error = "interrupted: the exporter (pid " + std::to_string(record->exporter_pid) +
                    ") stopped during the " + phase +
                    " phase of this run (killed, crashed or the host went down) before the run "
                    "finished; its outcome is unknown";
    record->finished = last_sign_of_life(file, record->started);
    record->rto_compliant = false;
    record->rpo_compliant = false;
    if (phase == kPhaseBackup) {
      // What the dump holds is cut short: it is not a backup (its log stays).
      std::error_code ec;
      std::filesystem::remove_all(folder / names.dump(), ec);
      std::filesystem::remove(folder / names.checksum(), ec);
      record->notes.push_back("the partial backup of the interrupted backup phase was removed");
    }
    try {
      write_summaries(folder, names, *record);
      finalized.push_back(stamp);
      log::warn("recorded an interrupted run as failed",
                {{"drill", record->drill},
                 {"run", stamp},
                 {"phase", phase},
                 {"pid", std::to_string(record->exporter_pid)}});
    } catch (const std::exception& e) {
      log::error("cannot record an interrupted run",
                 {{"drill", record->drill}, {"run", stamp}, {"error", scrub(e.what())}});
    }
  }
  return finalized;
}

}  // namespace backupdrill
