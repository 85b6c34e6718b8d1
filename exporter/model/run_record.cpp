#include "model/run_record.h"

#include "model/run_record_json.h"

namespace backupdrill {

const PhaseTiming* RunRecord::phase(const std::string& name) const {
  for (const auto& p : phases) {
    if (p.phase == name) return &p;
  }
  return nullptr;
}

double RunRecord::phase_seconds(const std::string& name) const {
  if (name == kPhaseTotal) return std::chrono::duration<double>(finished - started).count();
  const auto* p = phase(name);
  return p ? p->seconds() : 0.0;
}

namespace {

SystemTime parse_iso(const std::string& text) {
  SystemTime t;
  if (!parse_iso8601_utc(text, t)) throw std::invalid_argument("bad timestamp " + text);
  return t;
}

}  // namespace

nlohmann::ordered_json objective_json(std::optional<double> seconds, double target_seconds,
                                      bool compliant) {
  return {{"seconds", seconds ? nlohmann::ordered_json(*seconds) : nlohmann::ordered_json(nullptr)},
          {"target_seconds", target_seconds},
          {"compliant", compliant}};
}

std::string summary_json_text(const RunRecord& record) {
  return to_json(record).dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) +
         "\n";
}

nlohmann::ordered_json to_json(const RunRecord& r) {
  nlohmann::ordered_json j;
  j["format_version"] = 1;
  j["drill"] = r.drill;
  j["run_id"] = r.run_id;
  j["trigger"] = r.trigger;
  j["result"] = r.in_progress ? "running" : (r.success ? "passed" : "failed");
  if (r.in_progress) {
    j["current_phase"] = r.current_phase;
    j["exporter"] = {{"pid", r.exporter_pid}, {"identity", r.exporter_identity}};
  }
  j["failed_phase"] = r.failed_phase;
  j["error"] = r.error;
  j["started_at"] = iso8601_utc(r.started);
  j["finished_at"] = iso8601_utc(r.finished);
  j["duration_seconds"] = r.phase_seconds(kPhaseTotal);
  auto& phases = j["phases"] = nlohmann::ordered_json::array();
  for (const auto& p : r.phases) {
    phases.push_back({{"phase", p.phase},
                      {"start", iso8601_utc(p.start)},
                      {"end", iso8601_utc(p.end)},
                      {"seconds", p.seconds()}});
  }
  j["snapshot_time"] = r.snapshot_time ? nlohmann::ordered_json(iso8601_utc(*r.snapshot_time))
                                       : nlohmann::ordered_json(nullptr);
  j["rto"] = objective_json(r.rto_seconds, r.rto_target_seconds, r.rto_compliant);
  j["rpo"] = objective_json(r.rpo_seconds, r.rpo_target_seconds, r.rpo_compliant);
  j["backup"] = {{"size_bytes", r.backup_size},
                 {"sha256", r.backup_sha256},
                 {"format", r.backup_format},
                 {"source", r.backup_source},
                 {"source_database_bytes", r.source_size}};
  j["restore"] = {{"mode", r.restore_mode}, {"errors", r.restore_errors}};
  j["source"] = r.source;
  j["target"] = r.target;
  j["versions"] = {{"source_server", r.source_server_version},
                   {"target_server", r.target_server_version},
                   {"pg_dump", r.pg_dump_version},
                   {"pg_restore", r.pg_restore_version}};
  auto& checks = j["checks"] = nlohmann::ordered_json::array();
  for (const auto& c : r.checks) {
    nlohmann::ordered_json cj;
    cj["name"] = c.name;
    cj["plugin"] = c.plugin;
    cj["result"] = c.skipped ? "skipped" : (c.success ? "passed" : "failed");
    cj["seconds"] = c.seconds;
    cj["message"] = c.message;
    auto& lines = cj["values"] = nlohmann::ordered_json::array();
    for (const auto& l : c.lines) lines.push_back({{"name", l.name}, {"value", l.value}});
    cj["smoke"] = c.smoke;
    auto& rows = cj["rows"] = nlohmann::ordered_json::array();
    for (const auto& row : c.rows) {
      nlohmann::ordered_json rj{{"table", row.table}};
      rj["source"] = row.source ? nlohmann::ordered_json(*row.source) : nullptr;
      rj["target"] = row.target ? nlohmann::ordered_json(*row.target) : nullptr;
      if (row.source_fingerprint) rj["source_fingerprint"] = *row.source_fingerprint;
      if (row.target_fingerprint) rj["target_fingerprint"] = *row.target_fingerprint;
      rows.push_back(rj);
    }
    checks.push_back(cj);
  }
  auto& artifacts = j["artifacts"] = nlohmann::ordered_json::array();
  for (const auto& a : r.artifacts) {
    artifacts.push_back({{"name", a.name}, {"size_bytes", a.size}, {"sha256", a.sha256}});
  }
  j["notes"] = r.notes;
  if (!r.physical.empty()) {
    auto& physical = j["physical"] = nlohmann::ordered_json::object();
    for (const auto& [key, value] : r.physical) physical[key] = value;
  }
  return j;
}

namespace {

RowCount row_count_from_json(const nlohmann::json& rj) {
  RowCount row;
  row.table = rj.at("table").get<std::string>();
  if (rj.contains("source") && rj["source"].is_number()) row.source = rj["source"].get<long long>();
  if (rj.contains("target") && rj["target"].is_number()) row.target = rj["target"].get<long long>();
  return row;
}

CheckOutcome check_from_json(const nlohmann::json& cj) {
  CheckOutcome c;
  c.name = cj.at("name").get<std::string>();
  c.plugin = cj.value("plugin", "");
  std::string result = cj.at("result").get<std::string>();
  c.success = result == "passed";
  c.skipped = result == "skipped";
  c.seconds = cj.value("seconds", 0.0);
  c.message = cj.value("message", "");
  for (const auto& l : cj.value("values", nlohmann::json::array())) {
    c.lines.push_back({l.at("name").get<std::string>(), l.at("value").get<std::string>()});
  }
  c.smoke = cj.value("smoke", std::vector<std::string>{});
  for (const auto& rj : cj.value("rows", nlohmann::json::array())) {
    c.rows.push_back(row_count_from_json(rj));
  }
  return c;
}

// "rto" and "rpo": the seconds measured (null: not measured), the target and
// whether it was met.
void objectives_from_json(const nlohmann::json& j, RunRecord& r) {
  auto measured = [](const nlohmann::json& v) {
    return v.is_number() ? std::optional<double>(v.get<double>()) : std::nullopt;
  };
  r.rto_seconds = measured(j.at("rto").at("seconds"));
  r.rto_target_seconds = j.at("rto").at("target_seconds").get<double>();
  r.rto_compliant = j.at("rto").at("compliant").get<bool>();
  r.rpo_seconds = measured(j.at("rpo").at("seconds"));
  r.rpo_target_seconds = j.at("rpo").at("target_seconds").get<double>();
  r.rpo_compliant = j.at("rpo").at("compliant").get<bool>();
}

}  // namespace

RunRecord run_record_from_json(const nlohmann::json& j) {
  RunRecord r;
  r.drill = j.at("drill").get<std::string>();
  r.run_id = j.at("run_id").get<std::string>();
  r.trigger = j.value("trigger", "manual");
  const std::string result = j.at("result").get<std::string>();
  r.success = result == "passed";
  r.in_progress = result == "running";
  if (r.in_progress) {
    r.current_phase = j.value("current_phase", "");
    if (j.contains("exporter") && j["exporter"].is_object()) {
      r.exporter_pid = j["exporter"].value("pid", 0LL);
      r.exporter_identity = j["exporter"].value("identity", "");
    }
  }
  r.failed_phase = j.value("failed_phase", "");
  r.error = j.value("error", "");
  r.started = parse_iso(j.at("started_at").get<std::string>());
  r.finished = parse_iso(j.at("finished_at").get<std::string>());
  for (const auto& p : j.value("phases", nlohmann::json::array())) {
    r.phases.push_back(
        {p.at("phase").get<std::string>(), parse_iso(p.at("start")), parse_iso(p.at("end"))});
  }
  if (j.contains("snapshot_time") && j["snapshot_time"].is_string()) {
    r.snapshot_time = parse_iso(j["snapshot_time"].get<std::string>());
  }
  objectives_from_json(j, r);
  r.backup_size = j.at("backup").at("size_bytes").get<unsigned long long>();
  r.backup_sha256 = j.at("backup").value("sha256", "");
  r.backup_format = j.at("backup").value("format", "");
  r.backup_source = j.at("backup").value("source", "pg_dump");
  r.source_size = j.at("backup").value("source_database_bytes", 0ULL);
  r.restore_mode = j.at("restore").value("mode", "");
  r.restore_errors = j.at("restore").at("errors").get<int>();
  r.source = j.value("source", "");
  r.target = j.value("target", "");
  for (const auto& cj : j.value("checks", nlohmann::json::array())) {
    r.checks.push_back(check_from_json(cj));
  }
  for (const auto& a : j.value("artifacts", nlohmann::json::array())) {
    r.artifacts.push_back(
        {a.at("name").get<std::string>(), a.value("size_bytes", 0ULL), a.value("sha256", "")});
  }
  r.notes = j.value("notes", std::vector<std::string>{});
  if (auto it = j.find("physical"); it != j.end() && it->is_object()) {
    // nlohmann::json sorts keys; the order a run wrote them is not kept.
    for (const auto& [key, value] : it->items()) {
      if (value.is_string()) r.physical.emplace_back(key, value.get<std::string>());
    }
  }
  return r;
}

}  // namespace backupdrill
