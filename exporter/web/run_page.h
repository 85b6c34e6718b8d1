#pragma once
// GET /drills/{name}/runs/{run_id}: one run for the person who got paged:
// why it failed, its timeline, RTO/RPO against targets, every check with its
// message, row counts source/target, the notes, pg_restore's first errors
// with their archive entries, the restore log's tail and links to the run's
// text files. And GET .../files/{file}: those files (run_files.h).
#include <optional>
#include <string>
#include <vector>

#include "http/router.h"
#include "model/run_record.h"
#include "scheduler/drills_view.h"
#include "web/restore_log_excerpt.h"

namespace backupdrill {

struct RunPageInput {
  const RunRecord* run = nullptr;
  std::vector<std::string> files;  // servable_files(*run)
  std::string restore_log_name;    // restore_<ts>.log
  std::optional<RestoreLogExcerpt> restore_log;
  SystemTime now{};  // for the elapsed time of a run in progress
};

std::string render_run_page(const RunPageInput& input);

// The handlers (same access rules as every route: the server's basic auth).
http::Response run_page_response(const DrillsView& service, const std::string& drill,
                                 const std::string& run_id);
http::Response run_file_response(const DrillsView& service, const std::string& drill,
                                 const std::string& run_id, const std::string& file);

}  // namespace backupdrill
