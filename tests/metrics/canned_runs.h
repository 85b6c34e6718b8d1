#pragma once
// A fixed exporter state for the /metrics golden test: three drills (one
// that failed after an earlier success and is running again, one that passed
// and waits in the queue, one that never ran), with every kind of series the
// contract has, at fixed times so the rendering never depends on the clock.
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "model/run_record.h"
#include "util/time_format.h"

namespace backupdrill::testing {

// 2026-11-19T08:53:20Z: every time below is this plus an offset.
SystemTime canned_epoch();
SystemTime canned_at(double seconds_after_epoch);

Config canned_config();  // drills nightly, weekly, fresh
std::vector<std::pair<std::string, std::string>> canned_plugins();

RunRecord nightly_success();  // the last success, reloaded from its summary
RunRecord nightly_failure();  // this process's run: failed in restore, RTO not measured
RunRecord weekly_crash();     // this process's run: no failed phase (a crash)
RunRecord weekly_success();   // this process's run: passed, with row counts

}  // namespace backupdrill::testing
