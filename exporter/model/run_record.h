#pragma once
// Everything a drill run found out: the source of the summaries, the metrics
// and the HTTP API. Serialised to drill_summary_<ts>.json, from which the
// exporter reloads the last state at start.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/phase.h"
#include "util/time_format.h"

namespace backupdrill {

struct PhaseTiming {
  std::string phase;
  SystemTime start{};
  SystemTime end{};
  double seconds() const { return std::chrono::duration<double>(end - start).count(); }
  bool operator==(const PhaseTiming&) const = default;
};

struct ReportLine {  // one "name|value" line of validation_<ts>.txt
  std::string name;
  std::string value;
  bool operator==(const ReportLine&) const = default;
};

struct RowCount {
  std::string table;
  std::optional<long long> source;
  std::optional<long long> target;
  std::optional<std::string> source_fingerprint;
  std::optional<std::string> target_fingerprint;
  bool operator==(const RowCount&) const = default;
};

struct CheckOutcome {
  std::string name;
  std::string plugin;
  bool success = false;
  bool skipped = false;
  double seconds = 0;
  std::string message;  // why it failed, or what it proved
  std::vector<ReportLine> lines;
  std::vector<std::string> smoke;  // "PASS ..." / "FAIL ..."
  std::vector<RowCount> rows;
  bool operator==(const CheckOutcome&) const = default;
};

struct ArtifactInfo {
  std::string name;
  unsigned long long size = 0;
  std::string sha256;
  bool operator==(const ArtifactInfo&) const = default;
};

struct RunRecord {
  std::string drill;
  std::string run_id;  // the artifact stamp, YYYYMMDDTHHMMSSZ
  std::string trigger = "manual";
  bool success = false;
  // The summary of a run still going: written when the run starts and at each
  // phase, so a run the exporter does not live to finish leaves a record.
  bool in_progress = false;
  std::string current_phase;      // in_progress: the phase under way
  long long exporter_pid = 0;     // in_progress: the process running it
  std::string exporter_identity;  // in_progress: that process's start, against pid reuse
  std::string failed_phase;       // empty when success
  std::string error;
  SystemTime started{};
  SystemTime finished{};
  std::vector<PhaseTiming> phases;
  std::optional<SystemTime> snapshot_time;
  // Absent when the run never measured them (it failed before the restore
  // started, or before a backup existed): never a made-up 0.
  std::optional<double> rto_seconds;
  double rto_target_seconds = 0;
  bool rto_compliant = false;
  std::optional<double> rpo_seconds;
  double rpo_target_seconds = 0;
  bool rpo_compliant = false;
  unsigned long long backup_size = 0;
  unsigned long long source_size = 0;  // pg_database_size of the source at the guard
  std::string backup_sha256;
  std::string backup_format;  // custom | directory
  // Where the archive came from: pg_dump (a fresh dump; snapshot_time is its
  // snapshot) | file | s3 (an existing archive; snapshot_time is its
  // creation time, the recovery point).
  std::string backup_source = "pg_dump";
  int restore_errors = 0;
  std::string restore_mode;
  std::string source;  // redacted
  std::string target;  // redacted
  std::string source_server_version;
  std::string target_server_version;
  std::string pg_dump_version;
  std::string pg_restore_version;
  std::vector<CheckOutcome> checks;
  std::vector<ArtifactInfo> artifacts;
  std::vector<std::string> notes;
  // Physical sources (pgBackRest): the backup label, its size, the WAL range
  // replayed, the tools' versions, the recovery target and point, the run's
  // directory and how it was cleaned up; name/value pairs in a fixed order.
  std::vector<std::pair<std::string, std::string>> physical;

  const PhaseTiming* phase(const std::string& name) const;
  double phase_seconds(const std::string& name) const;
  bool operator==(const RunRecord&) const = default;
};

// The summary JSON as text. Text from outside (server errors, plugin
// messages) may hold invalid UTF-8: it is replaced, never a failure to write.
// The JSON values themselves: model/run_record_json.h.
std::string summary_json_text(const RunRecord& record);

}  // namespace backupdrill
