#include "service/landing_page.h"

#include <sstream>

#include "util/build_info.h"
#include "util/duration.h"

namespace backupdrill {

std::string html_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

namespace {

// measured is absent when the run never got that far: "not measured", never 0.
std::string objective(const std::optional<double>& measured, double target, bool compliant,
                      bool ran) {
  if (!ran) return "<td>-</td>";
  return std::string("<td class=\"") + (compliant ? "ok" : "bad") + "\">" +
         (measured ? humanize_seconds(*measured) : std::string("not measured")) + " / " +
         humanize_seconds(target) + " " + (compliant ? "PASS" : "FAIL") + "</td>";
}

}  // namespace

std::string render_landing_page(const std::vector<DrillService::DrillState>& drills) {
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
       "<title>backupdrill exporter</title><style>"
       "body{font-family:system-ui,sans-serif;margin:2em;color:#222}"
       "table{border-collapse:collapse;margin:1em 0}"
       "th,td{border:1px solid #ccc;padding:.35em .7em;text-align:left;vertical-align:top}"
       "th{background:#f4f4f4}.ok{color:#1a7f37;font-weight:600}.bad{color:#cf222e;"
       "font-weight:600}.run{color:#9a6700;font-weight:600}code{font-size:.9em}"
       "</style></head><body>\n";
  h << "<h1>backupdrill exporter</h1>\n<p>Proves that PostgreSQL backups restore: each drill "
       "backs up its source, verifies the SHA-256, restores into an isolated target and "
       "validates the data.</p>\n";
  h << "<p><a href=\"/metrics\">Metrics</a> · <a href=\"/api/v1/drills\">API: drills</a> · "
       "<a href=\"/-/healthy\">Health</a> · <a href=\"/-/ready\">Readiness</a></p>\n";
  h << "<table><thead><tr><th>drill</th><th>schedule (UTC)</th><th>next run</th>"
       "<th>last result</th><th>finished</th><th>RTO / target</th><th>RPO / target</th>"
       "<th>links</th></tr></thead><tbody>\n";
  for (const auto& s : drills) {
    const DrillConfig& d = *s.config;
    const std::string name = html_escape(d.name);
    h << "<tr><td><code>" << name << "</code></td><td><code>"
      << html_escape(d.schedule.empty() ? "on demand" : d.schedule) << "</code></td><td>"
      << (s.next_run ? iso8601_utc(*s.next_run) : "-") << "</td>";
    if (s.running) {
      h << "<td class=\"run\">running (" << html_escape(s.current_run) << ")</td>";
    } else if (s.queued) {
      h << "<td class=\"run\">queued (" << html_escape(s.current_run)
        << "): waiting for a free slot</td>";
    } else if (!s.last) {
      h << "<td>never ran</td>";
    } else if (s.last->success) {
      h << "<td class=\"ok\">PASSED</td>";
    } else {
      h << "<td class=\"bad\">FAILED in " << html_escape(s.last->failed_phase) << ": "
        << html_escape(s.last->error) << "</td>";
    }
    h << "<td>" << (s.last ? iso8601_utc(s.last->finished) : "-") << "</td>";
    const RunRecord* r = s.last ? &*s.last : nullptr;
    double rto_target = std::chrono::duration<double>(d.rto_target).count();
    double rpo_target = std::chrono::duration<double>(d.rpo_target).count();
    h << objective(r ? r->rto_seconds : std::nullopt, rto_target, r && r->rto_compliant,
                   r != nullptr);
    h << objective(r ? r->rpo_seconds : std::nullopt, rpo_target, r && r->rpo_compliant,
                   r != nullptr);
    h << "<td><a href=\"/api/v1/drills/" << name << "/runs\">runs</a></td></tr>\n";
  }
  h << "</tbody></table>\n<p>Run a drill now: <code>curl -X POST -H 'Authorization: Bearer "
       "$TOKEN' http://HOST:PORT/api/v1/drills/NAME/run</code></p>\n";
  h << "<p><small>backupdrill_exporter " << kVersion << " (" << kRevision
    << ")</small></p>\n</body></html>\n";
  return h.str();
}

}  // namespace backupdrill
