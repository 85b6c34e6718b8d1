#pragma once
#include <string>
#include <vector>

#include "service/drill_service.h"

namespace backupdrill {

// The HTML of GET /: each drill, its schedule and next run, its last result,
// RTO/RPO against target, and links to /metrics and the API.
std::string render_landing_page(const std::vector<DrillService::DrillState>& drills);

std::string html_escape(const std::string& text);

}  // namespace backupdrill
