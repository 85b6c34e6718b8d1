#pragma once
// GET /runbook: the alerts' runbook (dashboards/RUNBOOK.md, built into the
// binary), so every alert's runbook_url answers from the exporter that fired
// it, with one anchor per alert (#backupdrillfailed, ...).
#include <string>

namespace backupdrill {

// Markdown (GitHub flavour: tables) to an HTML page; raw HTML in the source
// is not passed through. Headings get GitHub-style ids ("If a drill fails"
// -> "if-a-drill-fails").
std::string render_markdown_page(const std::string& title, const std::string& markdown);

// The runbook built into this binary.
const std::string& runbook_markdown();

}  // namespace backupdrill
