#include "physical/pgbackrest_restore.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace backupdrill::physical {

RecoveryTarget parse_recovery_target(const std::string& text) {
  RecoveryTarget target;
  target.text = text;
  if (text == "latest" || text.empty()) return target;
  if (text == "immediate") {
    target.kind = RecoveryTarget::Kind::immediate;
    return target;
  }
  if (!parse_timestamp_with_zone(text, target.time)) {
    throw std::runtime_error("recovery_target \"" + text +
                             "\" is not \"latest\", \"immediate\" or a time with its zone");
  }
  target.kind = RecoveryTarget::Kind::time;
  return target;
}

std::vector<std::string> restore_options(const std::filesystem::path& data_dir,
                                         const std::filesystem::path& tablespace_dir,
                                         const std::string& set, const RecoveryTarget& target) {
  std::vector<std::string> options{
      "--pg1-path=" + data_dir.string(), "--tablespace-map-all=" + tablespace_dir.string(),
      "--archive-mode=off", "--log-level-console=info", "--log-level-stderr=off"};
  if (!set.empty()) options.push_back("--set=" + set);
  switch (target.kind) {
    case RecoveryTarget::Kind::latest:
      options.push_back("--type=default");
      break;
    case RecoveryTarget::Kind::immediate:
      options.push_back("--type=immediate");
      options.push_back("--target-action=promote");
      break;
    case RecoveryTarget::Kind::time:
      options.push_back("--type=time");
      options.push_back("--target=" + target.text);
      options.push_back("--target-action=promote");
      break;
  }
  return options;
}

void restore_backup(const PgBackRest& pgbackrest, const std::filesystem::path& data_dir,
                    const std::filesystem::path& tablespace_dir, const std::string& set,
                    const RecoveryTarget& target, const std::filesystem::path& log_file,
                    Deadline deadline, std::stop_token cancel, WatchedChild* progress) {
  ChildSpec spec =
      pgbackrest.spec("restore", restore_options(data_dir, tablespace_dir, set, target));
  spec.out = ChildSpec::Stream::file;
  spec.out_file = log_file;
  spec.err = ChildSpec::Stream::to_stdout;
  auto child = ChildProcess::spawn(spec);
  ExitStatus status;
  {
    // What it has written into the data directory (its log lines are small
    // next to the files), while it runs: reaped, its pid may be another's.
    ScopedWatch watch(progress, child.pid(), IoCounter::written);
    status = child.wait(deadline, cancel);
  }
  if (status.ok()) return;
  std::ifstream in(log_file);
  std::stringstream out;
  out << in.rdbuf();
  throw std::runtime_error("pgbackrest restore of " + (set.empty() ? "the newest backup" : set) +
                           " (stanza \"" + pgbackrest.stanza + "\") " + status.describe() + ": " +
                           pgbackrest_error(out.str()) + " (whole output in " +
                           log_file.filename().string() + ")");
}

}  // namespace backupdrill::physical
