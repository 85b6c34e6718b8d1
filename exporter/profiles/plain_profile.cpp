#include "profiles/plain_profile.h"

#include <unistd.h>

#include "pg/restore_tool.h"

namespace backupdrill {

ArchiveRestoreOutcome PlainProfile::restore_archive(const PgSession& session,
                                                    const ArchiveRestoreRequest& request) {
  std::vector<std::string> args{"--jobs=" + std::to_string(request.jobs)};
  if (request.clean) {
    args.push_back("--clean");
    args.push_back("--if-exists");
  }
  args.push_back(request.dump.string());
  ::close(create_private_file(request.log));
  ExitStatus status = run_pg_restore_logged(session, args, request.log);
  ArchiveRestoreOutcome outcome;
  outcome.errors = count_restore_errors(request.log);
  outcome.tools_ok = status.ok();
  outcome.tool_status = "pg_restore " + status.describe();
  return outcome;
}

}  // namespace backupdrill
