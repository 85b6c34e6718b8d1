#pragma once
// Who runs a drill, so a later exporter can tell a run that is still going
// (another process, e.g. `--once` beside a serving exporter) from one whose
// process died. A pid alone is not enough: pids are reused, so the identity
// is the boot and the process's start time (Linux /proc).
#include <sys/types.h>

#include <string>

namespace backupdrill {

// "<boot id>:<start time in clock ticks>" of a process; empty if unknown.
std::string process_identity(pid_t pid);

// True while the process that wrote (pid, identity) is alive; with an empty
// identity (no /proc), any live process with that pid counts.
bool process_alive(pid_t pid, const std::string& identity);

}  // namespace backupdrill
