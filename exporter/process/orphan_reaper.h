#pragma once
// The process groups of the exporter's children die with the exporter.
//
// PR_SET_PDEATHSIG (see ChildProcess) kills each child the exporter started
// when the exporter dies, but not the child's own children: pg_restore
// --jobs and pg_dump --jobs fork workers, which only notice that their leader
// is gone once their current table or index is done (minutes, on a big one),
// and a killed exporter cannot kill their group itself. So the exporter
// starts, before any thread, a small copy of itself (shown as
// "backupdrill-reap") that is told each child's process group and, once the
// pipe to the exporter closes (the exporter ended, normally or by kill -9),
// kills every group still listed, then exits.
//
// Thread safety: track/forget may be called from any thread.
#include <sys/types.h>

namespace backupdrill {

// Forks the reaper. Call once, while the process has a single thread (early
// in main). Without it, track/forget do nothing (tests, tools).
void start_orphan_reaper();

// A child's process group to kill if the exporter dies; forget it once the
// group has been reaped and killed.
void reaper_track(pid_t group);
void reaper_forget(pid_t group);

}  // namespace backupdrill
