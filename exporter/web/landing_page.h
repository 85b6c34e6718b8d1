#pragma once
// GET /: each drill, its schedule and next run, its last result (a link to
// that run's page; a failure's phase and the first line of its error), a
// running drill's phase, elapsed time and bytes so far (the dump written, or
// the archive restored out of its size) next to the previous result, the
// last runs as pass/fail marks, RTO/RPO against target, links.
#include <optional>
#include <string>
#include <vector>

#include "model/run_record.h"
#include "scheduler/drills_view.h"
#include "web/html_page.h"
#include "web/run_progress.h"

namespace backupdrill {

struct DrillView {
  DrillState state;
  std::vector<RunRecord> history;         // newest first, at most kHistoryRuns
  std::optional<RunRecord> current;       // the in-progress summary of a running drill
  std::optional<BytesProgress> progress;  // backup and restore: bytes so far
};

struct LandingPage {
  std::vector<DrillView> drills;
  std::string grafana_url;  // [exporter] grafana_url; a link when http(s)
  SystemTime now{};
};

inline constexpr size_t kHistoryRuns = 20;

// Reads each drill's last runs and, for a running drill, its in-progress
// summary from the artifact folder.
LandingPage collect_landing_page(const DrillsView& service);

std::string render_landing_page(const LandingPage& page);

}  // namespace backupdrill
