#include "drill/report.h"

#include <sstream>

#include "crypto/sha256.h"
#include "util/duration.h"

namespace backupdrill {
namespace {

std::string pass_fail(bool ok) { return ok ? "PASS" : "FAIL"; }

// An objective's verdict: a figure not measured is neither met nor missed.
std::string verdict(const std::optional<double>& measured, bool compliant) {
  return measured ? pass_fail(compliant) : "-";
}

std::string seconds_text(double s) { return humanize_seconds(s); }

std::string measured_text(const std::optional<double>& s) {
  return s ? humanize_seconds(*s) : std::string("not measured");
}

}  // namespace

std::string render_validation(const RunRecord& record) {
  std::string out;
  for (const auto& check : record.checks) {
    for (const auto& line : check.lines) out += line.name + "|" + line.value + "\n";
  }
  return out;
}

std::string render_smoke(const RunRecord& record) {
  std::string out;
  for (const auto& check : record.checks) {
    for (const auto& line : check.smoke) out += line + "\n";
  }
  return out;
}

std::string render_summary_markdown(const RunRecord& r) {
  std::ostringstream md;
  md << "# Backup/restore drill `" << r.drill << "`: " << (r.success ? "PASSED" : "FAILED")
     << "\n\n";
  md << "- Run: `" << r.run_id << "` (" << r.trigger << ")\n";
  md << "- Source: `" << r.source << "` (PostgreSQL " << r.source_server_version << ")\n";
  md << "- Target: `" << r.target << "` (PostgreSQL " << r.target_server_version
     << "), restore mode `" << r.restore_mode << "`\n";
  md << "- Tools: pg_dump " << r.pg_dump_version << ", pg_restore " << r.pg_restore_version << "\n";
  if (!r.success) {
    md << "- **Failed in phase `" << r.failed_phase << "`**: " << r.error << "\n";
  }
  md << "\n## Timeline (UTC)\n\n| phase | start | end | duration |\n|---|---|---|---|\n";
  for (const auto& p : r.phases) {
    md << "| " << p.phase << " | " << iso8601_utc(p.start) << " | " << iso8601_utc(p.end) << " | "
       << seconds_text(p.seconds()) << " |\n";
  }
  md << "| total | " << iso8601_utc(r.started) << " | " << iso8601_utc(r.finished) << " | "
     << seconds_text(r.phase_seconds(kPhaseTotal)) << " |\n";
  if (r.snapshot_time)
    md << "\nBackup snapshot taken at " << iso8601_utc(*r.snapshot_time) << ".\n";

  md << "\n## Recovery objectives\n\n| objective | measured | target | result "
        "|\n|---|---|---|---|\n";
  md << "| RTO (restore start to checks passed) | " << measured_text(r.rto_seconds) << " | "
     << seconds_text(r.rto_target_seconds) << " | " << verdict(r.rto_seconds, r.rto_compliant)
     << " |\n";
  md << "| RPO (run end minus backup snapshot) | " << measured_text(r.rpo_seconds) << " | "
     << seconds_text(r.rpo_target_seconds) << " | " << verdict(r.rpo_seconds, r.rpo_compliant)
     << " |\n";

  md << "\n## Restore\n\npg_restore reported " << r.restore_errors << " error"
     << (r.restore_errors == 1 ? "" : "s") << ".\n";

  md << "\n## Checks\n\n";
  if (r.checks.empty()) md << "No check ran.\n";
  if (!r.checks.empty())
    md << "| check | plugin | result | duration | detail |\n|---|---|---|---|---|\n";
  for (const auto& c : r.checks) {
    std::string result = c.skipped ? "SKIPPED" : pass_fail(c.success);
    std::string detail = c.message;
    for (auto& ch : detail) {
      if (ch == '|' || ch == '\n') ch = ' ';
    }
    md << "| " << c.name << " | " << c.plugin << " | " << result << " | " << seconds_text(c.seconds)
       << " | " << detail << " |\n";
  }
  bool any_rows = false;
  for (const auto& c : r.checks) any_rows |= !c.rows.empty();
  if (any_rows) {
    md << "\n### Row counts\n\n| check | table | source | target |\n|---|---|---|---|\n";
    for (const auto& c : r.checks) {
      for (const auto& row : c.rows) {
        md << "| " << c.name << " | " << row.table << " | "
           << (row.source ? std::to_string(*row.source) : "-") << " | "
           << (row.target ? std::to_string(*row.target) : "-") << " |\n";
      }
    }
  }
  if (!r.physical.empty()) {
    md << "\n## Physical restore\n\n| | |\n|---|---|\n";
    for (const auto& [key, value] : r.physical) md << "| " << key << " | " << value << " |\n";
  }
  if (!r.notes.empty()) {
    md << "\n## Notes\n\n";
    for (const auto& n : r.notes) md << "- " << n << "\n";
  }
  md << "\n## Artifacts\n\n| file | size (bytes) | SHA-256 |\n|---|---|---|\n";
  for (const auto& a : r.artifacts) {
    md << "| " << a.name << " | " << a.size << " | `" << a.sha256 << "` |\n";
  }
  md << "\nVerify the backup with `sha256sum -c backup_" << r.run_id
     << ".sha256` from this folder.\n";
  return md.str();
}

void write_run_files(const std::filesystem::path& folder, const RunArtifactNames& names,
                     RunRecord& record) {
  write_private_file(folder / names.validation(), render_validation(record));
  std::string smoke = render_smoke(record);
  if (!smoke.empty()) write_private_file(folder / names.smoke(), smoke);

  record.artifacts.clear();
  std::string backup_log = names.backup_log();
  for (const std::string& name : {names.dump(), names.checksum(), backup_log, names.restore_log(),
                                  names.validation(), names.smoke()}) {
    auto path = folder / name;
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) continue;
    ArtifactInfo info{name, size_on_disk(path), ""};
    if (name == names.dump()) {
      // A directory dump's files are listed in the .sha256 file; the single
      // file's digest was computed while it streamed.
      info.sha256 = std::filesystem::is_directory(path) ? "" : record.backup_sha256;
    } else {
      info.sha256 = sha256_file(path);
    }
    record.artifacts.push_back(info);
  }
}

void write_summaries(const std::filesystem::path& folder, const RunArtifactNames& names,
                     const RunRecord& record) {
  // The JSON first: the API, the pages and the next start read it.
  write_private_file(folder / names.summary_json(), summary_json_text(record));
  write_private_file(folder / names.summary_md(), render_summary_markdown(record));
}

}  // namespace backupdrill
