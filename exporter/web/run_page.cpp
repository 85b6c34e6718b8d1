#include "web/run_page.h"

#include <sstream>

#include "artifacts/artifact_files.h"
#include "artifacts/run_history.h"
#include "util/duration.h"
#include "web/html_page.h"
#include "web/run_files.h"

namespace backupdrill {
namespace {

using std::chrono::duration;

std::string result_word(const RunRecord& r) {
  return r.in_progress ? "RUNNING" : (r.success ? "PASSED" : "FAILED");
}

std::string result_class(const RunRecord& r) {
  return r.in_progress ? "run" : (r.success ? "ok" : "bad");
}

std::string objective_row(const char* what, const std::optional<double>& measured, double target,
                          bool compliant, bool finished) {
  // A figure not measured is neither met nor missed (the failure says why).
  const bool judged = finished && measured;
  std::string verdict = !judged ? "-" : (compliant ? "PASS" : "FAIL");
  std::string cls = !judged ? "" : (compliant ? "ok" : "bad");
  return std::string("<tr><td>") + what + "</td><td>" +
         (measured ? humanize_seconds(*measured) : std::string("not measured")) + "</td><td>" +
         humanize_seconds(target) + "</td><td class=\"" + cls + "\">" + verdict + "</td></tr>\n";
}

void facts(std::ostringstream& h, const RunRecord& r) {
  auto row = [&](const char* key, const std::string& value) {
    if (value.empty()) return;
    h << "<tr><th>" << key << "</th><td>" << html_escape(value) << "</td></tr>\n";
  };
  h << "<table class=\"facts\"><colgroup><col style=\"width:14em\"><col></colgroup><tbody>\n";
  row("trigger", r.trigger);
  row("source",
      r.source +
          (r.source_server_version.empty() ? "" : " (PostgreSQL " + r.source_server_version + ")"));
  row("target",
      r.target +
          (r.target_server_version.empty() ? "" : " (PostgreSQL " + r.target_server_version + ")"));
  row("restore mode", r.restore_mode);
  if (!r.pg_dump_version.empty() || !r.pg_restore_version.empty()) {
    row("tools", "pg_dump " + r.pg_dump_version + ", pg_restore " + r.pg_restore_version);
  }
  if (r.backup_size > 0) {
    row("backup", human_bytes(r.backup_size) + " (" + std::to_string(r.backup_size) + " bytes" +
                      (r.backup_format.empty() ? "" : ", " + r.backup_format + " format") + ")");
  }
  row("backup SHA-256", r.backup_sha256);
  if (r.snapshot_time) row("recovery point", iso8601_utc(*r.snapshot_time));
  // Physical sources: the backup label, WAL replayed, versions, cleanup.
  for (const auto& [key, value] : r.physical) row(key.c_str(), value);
  h << "</tbody></table>\n";
}

void timeline(std::ostringstream& h, const RunRecord& r, SystemTime now) {
  h << "<h2>Timeline (UTC)</h2>\n<table><thead><tr><th>phase</th><th>start</th><th>end</th>"
       "<th>duration</th></tr></thead><tbody>\n";
  for (const auto& p : r.phases) {
    bool failed = !r.success && !r.in_progress && p.phase == r.failed_phase;
    h << "<tr" << (failed ? " class=\"bad\"" : "") << "><td>" << html_escape(p.phase)
      << (failed ? " (failed)" : "") << "</td><td>" << iso8601_utc(p.start) << "</td><td>"
      << iso8601_utc(p.end) << "</td><td>" << humanize_seconds(p.seconds()) << "</td></tr>\n";
  }
  if (r.in_progress) {
    h << "<tr class=\"run\"><td>" << html_escape(r.current_phase)
      << " (under way)</td><td></td><td></td><td></td></tr>\n";
    h << "<tr><td>total so far</td><td>" << iso8601_utc(r.started) << "</td><td></td><td>"
      << humanize_seconds(duration<double>(now - r.started).count()) << "</td></tr>\n";
  } else {
    h << "<tr><th>total</th><td>" << iso8601_utc(r.started) << "</td><td>"
      << iso8601_utc(r.finished) << "</td><td>" << humanize_seconds(r.phase_seconds(kPhaseTotal))
      << "</td></tr>\n";
  }
  h << "</tbody></table>\n";
}

void checks(std::ostringstream& h, const RunRecord& r) {
  h << "<h2>Checks</h2>\n";
  if (r.checks.empty()) {
    h << "<p>No check ran" << (r.success ? "" : " (the run failed before its checks)") << ".</p>\n";
    return;
  }
  h << "<table><colgroup><col style=\"width:14%\"><col style=\"width:12%\"><col "
       "style=\"width:9%\"><col style=\"width:9%\"><col></colgroup><thead><tr><th>check</th>"
       "<th>plugin</th><th>result</th><th>duration</th><th>message</th></tr></thead><tbody>\n";
  for (const auto& c : r.checks) {
    std::string result = c.skipped ? "SKIPPED" : (c.success ? "PASS" : "FAIL");
    std::string cls = c.skipped ? "muted" : (c.success ? "ok" : "bad");
    h << "<tr><td><code>" << html_escape(c.name) << "</code></td><td>" << html_escape(c.plugin)
      << "</td><td class=\"" << cls << "\">" << result << "</td><td>" << humanize_seconds(c.seconds)
      << "</td><td>" << html_escape(c.message) << "</td></tr>\n";
  }
  h << "</tbody></table>\n";
  bool any_rows = false;
  for (const auto& c : r.checks) any_rows |= !c.rows.empty();
  if (!any_rows) return;
  h << "<h3>Row counts</h3>\n<table><thead><tr><th>check</th><th>table</th><th>source</th>"
       "<th>target</th><th>match</th></tr></thead><tbody>\n";
  auto count = [](const std::optional<long long>& n) {
    return n ? std::to_string(*n) : std::string("-");
  };
  for (const auto& c : r.checks) {
    for (const auto& row : c.rows) {
      std::string match = "-", cls;
      if (row.source && row.target) {
        bool same = *row.source == *row.target;
        match = same ? "equal" : "differ";
        cls = same ? "ok" : "bad";
      }
      h << "<tr><td><code>" << html_escape(c.name) << "</code></td><td><code>"
        << html_escape(row.table) << "</code></td><td>" << count(row.source) << "</td><td>"
        << count(row.target) << "</td><td class=\"" << cls << "\">" << match << "</td></tr>\n";
    }
  }
  h << "</tbody></table>\n";
}

void restore_section(std::ostringstream& h, const RunPageInput& in) {
  const RunRecord& r = *in.run;
  h << "<h2>Restore</h2>\n<p>pg_restore reported " << r.restore_errors << " error"
    << (r.restore_errors == 1 ? "" : "s") << " (failed archive entries).</p>\n";
  if (!in.restore_log) {
    h << "<p class=\"muted\">No restore log for this run (the run ended before its "
         "restore).</p>\n";
    return;
  }
  const RestoreLogExcerpt& log = *in.restore_log;
  if (!log.first_errors.empty()) {
    h << "<h3 id=\"restore-errors\">First " << log.first_errors.size() << " of " << log.errors_seen
      << " error" << (log.errors_seen == 1 ? "" : "s")
      << " in the restore log, verbatim</h3>\n<table><colgroup><col style=\"width:30%\"><col>"
         "</colgroup><thead><tr><th>archive entry</th><th>error</th></tr></thead><tbody>\n";
    for (const auto& e : log.first_errors) {
      h << "<tr><td><code>"
        << (e.entry.empty() ? std::string("(outside any entry)") : html_escape(e.entry))
        << "</code></td><td><pre>" << html_escape(e.text) << "</pre></td></tr>\n";
    }
    h << "</tbody></table>\n";
  }
  h << "<h3 id=\"restore-log\">Last " << log.tail.size() << " of " << log.lines
    << " lines of the restore log";
  if (!in.restore_log_name.empty()) {
    h << " (<a href=\"" << html_escape(run_file_path(r.drill, r.run_id, in.restore_log_name))
      << "\">" << html_escape(in.restore_log_name) << "</a>)";
  }
  h << "</h3>\n<pre>";
  for (const auto& line : log.tail) h << html_escape(line) << "\n";
  h << "</pre>\n";
}

void files_section(std::ostringstream& h, const RunPageInput& in) {
  const RunRecord& r = *in.run;
  h << "<h2>Files</h2>\n<table><colgroup><col style=\"width:30%\"><col style=\"width:12%\">"
       "<col></colgroup><thead><tr><th>file</th><th>size</th><th>SHA-256</th></tr></thead>"
       "<tbody>\n";
  auto servable = [&](const std::string& name) {
    return std::find(in.files.begin(), in.files.end(), name) != in.files.end();
  };
  std::vector<std::string> listed;
  for (const auto& a : r.artifacts) {
    listed.push_back(a.name);
    h << "<tr><td>";
    if (servable(a.name)) {
      h << "<a href=\"" << html_escape(run_file_path(r.drill, r.run_id, a.name)) << "\">"
        << html_escape(a.name) << "</a>";
    } else {
      h << html_escape(a.name) << " <span class=\"muted\">(not served over HTTP)</span>";
    }
    h << "</td><td>" << human_bytes(a.size) << "</td><td><code>" << html_escape(a.sha256)
      << "</code></td></tr>\n";
  }
  for (const auto& name : in.files) {
    if (std::find(listed.begin(), listed.end(), name) != listed.end()) continue;
    h << "<tr><td><a href=\"" << html_escape(run_file_path(r.drill, r.run_id, name)) << "\">"
      << html_escape(name) << "</a></td><td></td><td></td></tr>\n";
  }
  h << "</tbody></table>\n";
}

}  // namespace

std::string render_run_page(const RunPageInput& in) {
  const RunRecord& r = *in.run;
  std::ostringstream h;
  h << page_start("backupdrill: " + r.drill + " run " + r.run_id + " " + result_word(r));
  h << "<p><a href=\"/\">All drills</a> · <a href=\"/api/v1/drills/" << html_escape(r.drill)
    << "/runs\">API: runs of " << html_escape(r.drill) << "</a></p>\n";
  h << "<h1>Drill <code>" << html_escape(r.drill) << "</code>, run <code>" << html_escape(r.run_id)
    << "</code>: <span class=\"" << result_class(r) << "\">" << result_word(r) << "</span></h1>\n";
  if (r.in_progress) {
    h << "<p class=\"run\" id=\"status\">Running: phase " << html_escape(r.current_phase)
      << ", for " << humanize_seconds(duration<double>(in.now - r.started).count()) << ".</p>\n";
  } else if (!r.success) {
    h << "<div id=\"failure\"><p class=\"bad\">Failed in phase <code>"
      << html_escape(r.failed_phase) << "</code>:</p><pre>" << html_escape(r.error)
      << "</pre></div>\n";
  }
  facts(h, r);
  timeline(h, r, in.now);
  h << "<h2>Recovery objectives</h2>\n<table><thead><tr><th>objective</th><th>measured</th>"
       "<th>target</th><th>result</th></tr></thead><tbody>\n";
  h << objective_row("RTO (restore start to checks passed)", r.rto_seconds, r.rto_target_seconds,
                     r.rto_compliant, !r.in_progress);
  h << objective_row("RPO (recovery point to run end)", r.rpo_seconds, r.rpo_target_seconds,
                     r.rpo_compliant, !r.in_progress);
  h << "</tbody></table>\n";
  checks(h, r);
  if (!r.notes.empty()) {
    h << "<h2>Notes</h2>\n<ul>\n";
    for (const auto& n : r.notes) h << "<li>" << html_escape(n) << "</li>\n";
    h << "</ul>\n";
  }
  restore_section(h, in);
  files_section(h, in);
  h << page_end();
  return h.str();
}

namespace {

http::Response html(int status, std::string body) {
  http::Response r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.body = std::move(body);
  add_page_headers(r);
  return r;
}

http::Response not_found(const std::string& what) {
  return html(404, page_start("backupdrill: not found") + "<h1>Not found</h1><p>" +
                       html_escape(what) + "</p><p><a href=\"/\">All drills</a></p>" + page_end());
}

struct Located {
  std::filesystem::path folder;
  std::optional<RunRecord> run;
};

Located locate(const DrillsView& service, const std::string& drill, const std::string& run_id) {
  Located out;
  const auto snapshot = service.config();
  const Config& config = *snapshot;
  if (!config.find_drill(drill) || !is_run_stamp(run_id)) return out;
  out.folder = config.exporter.artifact_dir / drill;
  out.run = load_run(out.folder, run_id);
  return out;
}

}  // namespace

http::Response run_page_response(const DrillsView& service, const std::string& drill,
                                 const std::string& run_id) {
  if (!service.config()->find_drill(drill)) return not_found("No drill named \"" + drill + "\".");
  Located at = locate(service, drill, run_id);
  if (!at.run) {
    return not_found("Drill \"" + drill + "\" has no run \"" + run_id +
                     "\" (run ids look like 20260101T040000Z; old runs are removed by "
                     "keep_runs).");
  }
  RunPageInput in;
  in.run = &*at.run;
  in.files = servable_files(*at.run);
  in.now = std::chrono::system_clock::now();
  RunArtifactNames names{at.run->run_id};
  in.restore_log_name = names.restore_log();
  if (std::find(in.files.begin(), in.files.end(), in.restore_log_name) == in.files.end()) {
    in.restore_log_name.clear();  // not listed (yet): shown, not linked
  }
  in.restore_log = read_restore_log(at.folder / names.restore_log());
  return html(200, render_run_page(in));
}

http::Response run_file_response(const DrillsView& service, const std::string& drill,
                                 const std::string& run_id, const std::string& file) {
  http::Response r;
  r.content_type = "text/plain; charset=utf-8";
  // A log holding "<html>" is still shown as text, never run as a page.
  add_page_headers(r);
  Located at = locate(service, drill, run_id);
  if (!at.run) {
    r.status = 404;
    r.body = "no such run of drill \"" + drill + "\" (run ids look like 20260101T040000Z)\n";
    return r;
  }
  ServedFile f = read_run_file(at.folder, *at.run, file);
  r.status = f.status;
  r.body = std::move(f.body);
  return r;
}

}  // namespace backupdrill
