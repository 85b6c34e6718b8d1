#include "drill/physical_drill.h"

#include <cstdio>

#include "log/log.h"
#include "model/guard_report.h"
#include "pg/tools.h"
#include "physical/pgbackrest_source.h"
#include "physical/recovery_wait.h"
#include "physical/server_log.h"
#include "util/byte_size.h"
#include "util/secrets.h"

namespace backupdrill {
namespace fs = std::filesystem;
namespace {

// The WAL segment (16 MB, the default size) holding the last byte before an
// LSN "X/Y" on a timeline: the file name pgBackRest and the server use.
// `ahead` segments later: the next one after the last replayed.
std::string segment_of(const std::string& lsn, const std::string& timeline_of, int ahead = 0) {
  const auto slash = lsn.find('/');
  if (slash == std::string::npos || timeline_of.size() < 8) return "";
  try {
    const unsigned long long hi = std::stoull(lsn.substr(0, slash), nullptr, 16);
    unsigned long long lo = std::stoull(lsn.substr(slash + 1), nullptr, 16);
    // The segment of the last byte replayed: an LSN on a boundary is the
    // start of the next, not yet read, segment.
    if (lo % (16ULL << 20) == 0 && lo > 0) --lo;
    char name[25];
    std::snprintf(name, sizeof name, "%s%08llX%08llX", timeline_of.substr(0, 8).c_str(), hi,
                  lo / (16ULL << 20) + ahead);
    return name;
  } catch (const std::exception&) {
    return "";
  }
}

// The physical sources; Barman and WAL-G get a line here.
std::unique_ptr<physical::PhysicalSource> make_physical_source(const DrillConfig& drill,
                                                               const physical::OsUser& user) {
  return std::make_unique<physical::PgBackRestSource>(drill.backup, user);
}

}  // namespace

std::vector<fs::path> remove_leftover_run_dirs(const DrillConfig& drill) {
  if (drill.backup.source != BackupConfig::Source::pgbackrest) return {};
  const fs::path& work_dir = drill.restore.work_dir;
  std::vector<fs::path> removed;
  try {
    removed = physical::remove_leftover_runs(work_dir);
  } catch (const std::exception& e) {
    log::warn("cannot look for leftover run directories",
              {{"drill", drill.name}, {"work_dir", work_dir.string()}, {"error", e.what()}});
  }
  for (const fs::path& left : removed) {
    log::warn("removed a leftover run directory", {{"drill", drill.name}, {"path", left.string()}});
  }
  return removed;
}

PhysicalDrill::PhysicalDrill(const DrillConfig& drill, RunRecord& rec, fs::path folder,
                             std::string restore_log, std::string server_log, Deadline deadline,
                             std::stop_token cancel, std::shared_ptr<WatchedChild> progress)
    : drill_(drill),
      rec_(rec),
      folder_(std::move(folder)),
      restore_log_(std::move(restore_log)),
      server_log_(std::move(server_log)),
      deadline_(deadline),
      cancel_(cancel),
      progress_(std::move(progress)) {}

PhysicalDrill::~PhysicalDrill() {
  if (!cleaned_) cleanup(true);
}

void PhysicalDrill::fact(const std::string& key, const std::string& value) {
  for (auto& [k, v] : rec_.physical) {
    if (k == key) {
      v = value;
      return;
    }
  }
  rec_.physical.emplace_back(key, value);
}

void PhysicalDrill::guard() {
  const fs::path work_dir = drill_.restore.work_dir;
  try {
    user_ = physical::restore_user(drill_.restore.run_as);
    target_ = physical::parse_recovery_target(drill_.backup.recovery_target);
    source_ = make_physical_source(drill_, user_);
  } catch (const std::exception& e) {
    throw GuardRefusal(e.what());
  }
  facts_ = source_->describe(deadline_);
  archive_before_ = facts_.archive_min + "-" + facts_.archive_max;
  fact("backup_label", facts_.label);
  fact("backup_size_bytes", std::to_string(facts_.size));
  fact("pgbackrest_version", facts_.tool_version);
  fact("backup_wal", facts_.wal_start + "-" + facts_.wal_stop);
  fact("archive_range_before", archive_before_);
  fact("recovery_target", target_.text);
  fact("run_as", user_.name);
  rec_.backup_size = facts_.size;
  rec_.backup_format = "physical";
  rec_.source_server_version = std::to_string(facts_.pg_major);
  try {
    // The server must be of the backup's major version exactly.
    const pg::Tool postgres = pg::find_tool("postgres", drill_.pg_bin_dir, facts_.pg_major);
    if (postgres.major != facts_.pg_major) {
      throw std::runtime_error("the backup " + facts_.label + " is PostgreSQL " +
                               std::to_string(facts_.pg_major) + " but the server found (" +
                               postgres.path.string() + ") is " + postgres.version +
                               "; install the PostgreSQL " + std::to_string(facts_.pg_major) +
                               " server or set pg_bin_dir to its bin directory");
    }
    postgres_ = postgres.path;
    rec_.target_server_version = postgres.version;
    physical::prepare_work_dir(work_dir, user_);
    physical::refuse_unsafe_location(
        work_dir, {{"the pgBackRest repository", facts_.repository},
                   {"the backed-up cluster's data directory", facts_.source_data_dir}});
    // The run directory's socket path must fit a unix socket address.
    const fs::path socket = work_dir / (rec_.run_id + "-99") / ".s.PGSQL.5432";
    if (socket.string().size() > 107) {
      throw std::runtime_error("[drill.restore] work_dir " + work_dir.string() +
                               " is too long: the server's socket " + socket.string() +
                               " exceeds the 107 bytes of a unix socket path; use a shorter one");
    }
  } catch (const std::exception& e) {
    throw GuardRefusal(e.what());
  }
  for (const fs::path& left : remove_leftover_run_dirs(drill_)) {
    rec_.notes.push_back("removed the run directory " + left.string() +
                         " that an interrupted run left behind");
  }
  // The restored data directory plus the WAL it replays (a tenth more).
  const auto space = fs::space(work_dir);
  const unsigned long long needed = facts_.size + facts_.size / 10;
  if (space.available < needed) {
    throw std::runtime_error("not enough free space in [drill.restore] work_dir " +
                             work_dir.string() + " for backup " + facts_.label +
                             ": it needs about " + human_bytes(needed) + ", " +
                             human_bytes(space.available) + " are free");
  }
  log::info("physical drill started", {{"drill", drill_.name},
                                       {"run", rec_.run_id},
                                       {"backup", facts_.label},
                                       {"size", human_bytes(facts_.size)},
                                       {"target", target_.text},
                                       {"postgres", postgres_.string()}});
}

void PhysicalDrill::restore() {
  run_ = physical::create_run_dir(drill_.restore.work_dir, rec_.run_id, user_);
  fact("run_dir", run_->root.string());
  source_->restore(run_->data, run_->tablespaces, folder_ / restore_log_, deadline_, cancel_,
                   progress_.get());
}

void PhysicalDrill::recover() {
  physical::ServerSettings settings{
      postgres_, run_->data, run_->root, run_->root / "pg_hba.conf", folder_ / server_log_,
      user_,     5432};
  // Libraries the backup preloads must exist here, or the server would not
  // start: refuse before starting it, naming them.
  const auto missing =
      physical::missing_libraries(physical::preloaded_libraries(settings, deadline_),
                                  postgres_.parent_path().parent_path() / "lib");
  if (!missing.empty()) {
    std::string names;
    for (const auto& m : missing) names += (names.empty() ? "" : ", ") + m;
    throw std::runtime_error(
        "the backup's shared_preload_libraries name " + names + ", which this machine lacks in " +
        (postgres_.parent_path().parent_path() / "lib").string() +
        "; install the extension's package for PostgreSQL " + std::to_string(facts_.pg_major));
  }
  server_.emplace(settings);
  std::vector<std::string> roles{user_.name};
  if (user_.name != "postgres") roles.push_back("postgres");
  const auto outcome = physical::wait_for_promotion(*server_, drill_.restore.database, roles,
                                                    deadline_, cancel_, drill_.name);
  role_ = outcome.role;
  rec_.target_server_version = outcome.server_version;
  fact("postgresql_version", outcome.server_version);
  const std::string timeline = facts_.wal_start.substr(0, 8);
  const std::string end_segment = segment_of(outcome.end_lsn, timeline);
  fact("wal_replayed", facts_.wal_start + "-" + end_segment + " (to LSN " + outcome.end_lsn + ")");
  fact("recovery_seconds", std::to_string(outcome.seconds));
  // "latest" replays until the archive has no next segment: ending before
  // the archive's last one means a segment in between is missing.
  if (target_.kind == physical::RecoveryTarget::Kind::latest && !end_segment.empty() &&
      facts_.archive_max.size() == 24 && facts_.archive_max.substr(0, 8) == timeline &&
      end_segment.substr(8) < facts_.archive_max.substr(8)) {
    // The next segment is the one the restore_command could not get; the
    // server's own lines say where redo ended and what it had replayed.
    const std::string next = segment_of(outcome.end_lsn, timeline, 1);
    std::string said = physical::server_lines_with(settings.log_file, "redo done", 1);
    const std::string last = physical::server_lines_with(settings.log_file, "last completed", 1);
    if (!last.empty()) said += (said.empty() ? "" : " / ") + last;
    throw std::runtime_error("recovery stopped at LSN " + outcome.end_lsn + " after segment " +
                             end_segment + ", but the repository's archive goes to " +
                             facts_.archive_max + ": segment " + next +
                             " could not be restored (missing or unreadable), so \"latest\" was "
                             "not reached; the server said: " +
                             (said.empty() ? physical::server_failure(settings.log_file) : said));
  }
  // The moment the restored data represents: the requested time, else the
  // last replayed commit, else the end of the backup.
  SystemTime point = facts_.stopped;
  if (target_.kind == physical::RecoveryTarget::Kind::time) {
    point = target_.time;
  } else if (outcome.last_commit) {
    point = *outcome.last_commit;
  }
  rec_.snapshot_time = point;
  fact("recovery_point", iso8601_utc(point));
  fact("last_replayed_commit", outcome.last_commit ? iso8601_utc(*outcome.last_commit) : "");
  log::info("recovery finished", {{"drill", drill_.name},
                                  {"lsn", outcome.end_lsn},
                                  {"recovery_point", iso8601_utc(point)},
                                  {"seconds", std::to_string(outcome.seconds)}});
}

pg::ConnInfo PhysicalDrill::target() const {
  return pg::ConnInfo::parse(
      physical::socket_conninfo(server_->settings(), drill_.restore.database, role_));
}

std::vector<std::string> PhysicalDrill::artifact_names() const {
  std::vector<std::string> out;
  std::error_code ec;
  if (fs::exists(folder_ / server_log_, ec)) out.push_back(server_log_);
  return out;
}

void PhysicalDrill::cleanup(bool failed) {
  if (cleaned_) return;
  cleaned_ = true;
  std::string outcome;
  try {
    if (server_) {
      outcome = "server " + server_->stop();
      server_.reset();
    } else {
      outcome = "no server was started";
    }
    if (source_ && !facts_.label.empty()) {
      const std::string after = source_->archive_range(deadline_ + std::chrono::minutes(1));
      fact("archive_range_after", after);
    }
    if (run_) {
      if (failed && drill_.restore.keep_failed) {
        // Kept for inspection: no longer a leftover for the next start.
        fs::rename(run_->root / physical::kRunMarker, run_->root / ".backupdrill-kept");
        outcome += "; " + run_->root.string() + " kept for inspection (keep_failed = true)";
        rec_.notes.push_back("the failed run's directory is kept for inspection: " +
                             run_->root.string() + " (remove it when done)");
      } else {
        physical::remove_run_dir(*run_);
        outcome += "; " + run_->root.string() + " removed";
      }
    }
  } catch (const std::exception& e) {
    outcome += "; cleanup failed: " + scrub(e.what());
    rec_.notes.push_back("cleaning up the physical restore failed: " + scrub(e.what()));
    log::error("physical cleanup failed", {{"drill", drill_.name}, {"error", scrub(e.what())}});
  }
  fact("cleanup", outcome);
  log::info("physical cleanup", {{"drill", drill_.name}, {"outcome", outcome}});
}

}  // namespace backupdrill
