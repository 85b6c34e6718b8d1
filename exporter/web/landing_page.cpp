#include "web/landing_page.h"

#include <sstream>

#include "artifacts/run_history.h"
#include "util/build_info.h"
#include "util/duration.h"

namespace backupdrill {
namespace {

using std::chrono::duration;

// measured is absent when the run never got that far: "not measured", never 0.
std::string objective(const std::optional<double>& measured, double target, bool compliant,
                      bool ran) {
  if (!ran) return "<td>-</td>";
  // A figure not measured is neither met nor missed (the failure says why).
  if (!measured) return "<td>not measured / " + humanize_seconds(target) + "</td>";
  return std::string("<td class=\"") + (compliant ? "ok" : "bad") + "\">" +
         humanize_seconds(*measured) + " / " + humanize_seconds(target) + " " +
         (compliant ? "PASS" : "FAIL") + "</td>";
}

std::string run_link(const RunRecord& r, const std::string& text, const std::string& cls) {
  return "<a class=\"" + cls + "\" href=\"" + html_escape(run_page_path(r.drill, r.run_id)) +
         "\">" + text + "</a>";
}

// A finished run in a few words: PASSED, or FAILED in <phase>: <first line>.
std::string result_text(const RunRecord& r) {
  if (r.success) return run_link(r, "PASSED", "ok");
  return run_link(r, "FAILED in " + html_escape(r.failed_phase), "bad") + ": " +
         html_escape(first_line(r.error));
}

std::string marks(const DrillView& v) {
  if (v.history.empty()) return "<span class=\"muted\">no runs yet</span>";
  std::string out = "<div class=\"marks\">";
  // Oldest first, so the row reads left to right like a timeline.
  for (auto it = v.history.rbegin(); it != v.history.rend(); ++it) {
    const RunRecord& r = *it;
    std::string cls = r.in_progress ? "run" : (r.success ? "ok" : "bad");
    std::string sign =
        r.in_progress ? "\xe2\x80\xa6" : (r.success ? "\xe2\x9c\x93" : "\xe2\x9c\x97");
    std::string title =
        r.run_id + ": " +
        (r.in_progress ? std::string("running")
                       : (r.success ? std::string("passed") : "failed in " + r.failed_phase)) +
        (r.in_progress ? "" : ", " + humanize_seconds(r.phase_seconds(kPhaseTotal)));
    out += "<a class=\"mark " + cls + "\" href=\"" + html_escape(run_page_path(r.drill, r.run_id)) +
           "\" title=\"" + html_escape(title) + "\">" + sign +
           (r.in_progress ? "" : " " + humanize_seconds(r.phase_seconds(kPhaseTotal))) + "</a>";
  }
  return out + "</div>";
}

bool is_web_url(const std::string& url) {
  return url.starts_with("https://") || url.starts_with("http://");
}

}  // namespace

LandingPage collect_landing_page(const DrillsView& service) {
  LandingPage page;
  page.now = std::chrono::system_clock::now();
  const auto snapshot = service.config();
  const Config& config = *snapshot;
  page.grafana_url = config.exporter.grafana_url;
  for (auto& s : service.states()) {
    DrillView v;
    v.state = std::move(s);
    const std::string& name = v.state.config->name;
    v.history = service.runs(name, kHistoryRuns);
    if (v.state.running && !v.state.current_run.empty()) {
      const auto folder = config.exporter.artifact_dir / name;
      v.current = load_run(folder, v.state.current_run);
      if (v.current) v.progress = bytes_progress(service, folder, *v.current);
    }
    page.drills.push_back(std::move(v));
  }
  return page;
}

std::string render_landing_page(const LandingPage& page) {
  std::ostringstream h;
  h << page_start("backupdrill exporter");
  h << "<h1>backupdrill exporter</h1>\n<p>Proves that PostgreSQL backups restore: each drill "
       "backs up its source, verifies the SHA-256, restores into an isolated target and "
       "validates the data.</p>\n";
  h << "<p><a href=\"/metrics\">Metrics</a> · <a href=\"/api/v1/drills\">API: drills</a> · "
       "<a href=\"/-/healthy\">Health</a> · <a href=\"/-/ready\">Readiness</a>";
  if (is_web_url(page.grafana_url)) {
    h << " · <a href=\"" << html_escape(page.grafana_url) << "\">Grafana dashboard</a>";
  }
  h << "</p>\n";
  h << "<table id=\"drills\"><colgroup><col style=\"width:10%\"><col style=\"width:9%\">"
       "<col style=\"width:9%\"><col style=\"width:23%\"><col style=\"width:9%\">"
       "<col style=\"width:8%\"><col style=\"width:8%\"><col style=\"width:17%\">"
       "<col style=\"width:7%\"></colgroup>"
       "<thead><tr><th>drill</th><th>schedule (UTC)</th><th>next run</th>"
       "<th>last result</th><th>finished</th><th>RTO / target</th><th>RPO / target</th>"
       "<th>last "
    << kHistoryRuns << " runs</th><th>links</th></tr></thead><tbody>\n";
  for (const auto& v : page.drills) {
    const DrillState& s = v.state;
    const DrillConfig& d = *s.config;
    const std::string name = html_escape(d.name);
    h << "<tr data-drill=\"" << name << "\"><td><code>" << name << "</code></td><td><code>"
      << html_escape(d.schedule.empty() ? "on demand" : d.schedule) << "</code></td><td>"
      << (s.next_run ? iso8601_utc(*s.next_run) : "-") << "</td><td class=\"result\">";
    if (s.running) {
      h << "<div class=\"run\">running";
      if (v.current) {
        h << ": " << run_link(*v.current, html_escape(v.current->current_phase), "run") << ", for "
          << humanize_seconds(duration<double>(page.now - v.current->started).count());
        if (v.progress) {
          h << ", " << describe_progress(*v.progress);
        } else if (v.current->current_phase != kPhaseBackup && v.current->backup_size > 0) {
          h << ", archive of " << human_bytes(v.current->backup_size);
        }
      } else {
        h << " (" << html_escape(s.current_run) << ")";
      }
      h << "</div>";
    } else if (s.queued) {
      h << "<div class=\"run\">queued (" << html_escape(s.current_run)
        << "): waiting for a free slot</div>";
    }
    if (s.last) {
      if (s.running || s.queued) h << "<div class=\"muted\">previous: </div>";
      h << result_text(*s.last);
    } else if (!s.running && !s.queued) {
      h << "never ran";
    }
    h << "</td><td>" << (s.last ? iso8601_utc(s.last->finished) : "-") << "</td>";
    const RunRecord* r = s.last ? &*s.last : nullptr;
    double rto_target = duration<double>(d.rto_target).count();
    double rpo_target = duration<double>(d.rpo_target).count();
    h << objective(r ? r->rto_seconds : std::nullopt, rto_target, r && r->rto_compliant,
                   r != nullptr);
    h << objective(r ? r->rpo_seconds : std::nullopt, rpo_target, r && r->rpo_compliant,
                   r != nullptr);
    h << "<td class=\"history\">" << marks(v) << "</td>";
    h << "<td><a href=\"/api/v1/drills/" << name << "/runs\">runs (JSON)</a></td></tr>\n";
  }
  h << "</tbody></table>\n<p>Run a drill now: <code>curl -X POST -H 'Authorization: Bearer "
       "$TOKEN' http://HOST:PORT/api/v1/drills/NAME/run</code></p>\n";
  h << "<p><small>backupdrill_exporter " << kVersion << " (" << kRevision << ")</small></p>\n";
  h << page_end();
  return h.str();
}

}  // namespace backupdrill
