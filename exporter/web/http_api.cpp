#include "web/http_api.h"

#include <openssl/crypto.h>

#include <cctype>
#include <charconv>
#include <nlohmann/json.hpp>

#include "artifacts/run_history.h"
#include "crypto/sha256.h"
#include "http/url.h"
#include "model/run_record_json.h"
#include "web/html_page.h"
#include "web/landing_page.h"
#include "web/run_page.h"
#include "web/run_progress.h"
#include "web/runbook_page.h"

namespace backupdrill {
namespace {

http::Response json_response(int status, const nlohmann::ordered_json& body) {
  http::Response r;
  r.status = status;
  r.content_type = "application/json";
  // Run errors and check messages come from outside (PostgreSQL, plugins) and
  // need not be UTF-8: replace what is not, rather than throw.
  r.body = body.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
  return r;
}

http::Response error_response(int status, const std::string& message) {
  return json_response(status, {{"status", "error"}, {"error", message}});
}

// The config accepts drill names of letters, digits, '_', '.' and '-' (and
// bounds their length); anything else in the {name} of a path is answered 404
// before it is looked up, logged or echoed. The length bound here is only a
// generous cap: the lookup decides.
constexpr size_t kMaxNameBytes = 255;

bool could_be_drill_name(const std::string& name) {
  if (name.empty() || name.size() > kMaxNameBytes) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

http::Response not_a_drill_name() {
  return error_response(404, "no such drill: drill names are letters, digits, _ . and -");
}

// ?limit= of the runs list: absent means 20; anything but a whole number
// from 1 to 1000 is refused (nullopt), never clamped or half-read.
std::optional<size_t> runs_limit(const std::string& query) {
  const auto params = http::parse_query(query);
  auto it = params.find("limit");
  if (it == params.end()) return 20;
  const std::string& text = it->second;
  size_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (value < 1 || value > 1000) return std::nullopt;
  return value;
}

nlohmann::ordered_json optional_time(const std::optional<SystemTime>& t) {
  return t ? nlohmann::ordered_json(iso8601_utc(*t)) : nlohmann::ordered_json(nullptr);
}

nlohmann::ordered_json run_brief(const RunRecord& r) {
  nlohmann::ordered_json j;
  j["run_id"] = r.run_id;
  j["result"] = r.in_progress ? "running" : (r.success ? "passed" : "failed");
  j["failed_phase"] = r.failed_phase;
  j["error"] = r.error;
  j["trigger"] = r.trigger;
  j["started_at"] = iso8601_utc(r.started);
  j["finished_at"] = iso8601_utc(r.finished);
  j["duration_seconds"] = r.phase_seconds(kPhaseTotal);
  j["rto"] = objective_json(r.rto_seconds, r.rto_target_seconds, r.rto_compliant);
  j["rpo"] = objective_json(r.rpo_seconds, r.rpo_target_seconds, r.rpo_compliant);
  j["restore_errors"] = r.restore_errors;
  j["backup_size_bytes"] = r.backup_size;
  // Which archive was drilled and the moment its data represents (an
  // existing backup's notes name the file or object and why it was chosen).
  j["backup"] = {
      {"source", r.backup_source},
      {"sha256", r.backup_sha256},
      {"recovery_point", r.snapshot_time ? nlohmann::ordered_json(iso8601_utc(*r.snapshot_time))
                                         : nlohmann::ordered_json(nullptr)}};
  j["notes"] = r.notes;
  j["page"] = run_page_path(r.drill, r.run_id);  // the run for people (run_page.h)
  auto& artifacts = j["artifacts"] = nlohmann::ordered_json::array();
  for (const auto& a : r.artifacts) artifacts.push_back(a.name);
  if (!r.in_progress) artifacts.push_back("drill_summary_" + r.run_id + ".md");
  artifacts.push_back("drill_summary_" + r.run_id + ".json");
  auto& checks = j["checks"] = nlohmann::ordered_json::array();
  for (const auto& c : r.checks) {
    checks.push_back({{"name", c.name},
                      {"result", c.skipped ? "skipped" : (c.success ? "passed" : "failed")},
                      {"message", c.message}});
  }
  return j;
}

// A running drill's bytes so far (run_progress.h); null otherwise.
nlohmann::ordered_json progress_json(const DrillsView& service, const DrillState& s) {
  if (!s.running || !is_run_stamp(s.current_run)) return nullptr;
  const auto folder = service.config()->exporter.artifact_dir / s.config->name;
  const auto current = load_run(folder, s.current_run);
  if (!current) return nullptr;
  const auto p = bytes_progress(service, folder, *current);
  if (!p) return nullptr;
  return {{"phase", p->phase},
          {"bytes_done", p->done},
          {"bytes_total", p->total ? nlohmann::ordered_json(*p->total) : nullptr}};
}

nlohmann::ordered_json drill_json(const DrillsView& service, const DrillState& s) {
  const DrillConfig& d = *s.config;
  nlohmann::ordered_json j;
  j["name"] = d.name;
  j["schedule"] = d.schedule;
  j["next_run"] = optional_time(s.next_run);
  j["running"] = s.running;
  j["queued"] = s.queued;
  j["current_run"] = s.running || s.queued ? nlohmann::ordered_json(s.current_run)
                                           : nlohmann::ordered_json(nullptr);
  j["progress"] = progress_json(service, s);
  j["rto_target_seconds"] = std::chrono::duration<double>(d.rto_target).count();
  j["rpo_target_seconds"] = std::chrono::duration<double>(d.rpo_target).count();
  j["last_run"] = s.last ? run_brief(*s.last) : nlohmann::ordered_json(nullptr);
  j["links"] = {{"runs", "/api/v1/drills/" + d.name + "/runs"},
                {"trigger", "/api/v1/drills/" + d.name + "/run"}};
  return j;
}

}  // namespace

bool token_matches(const std::string& presented, const std::string& expected) {
  if (expected.empty()) return false;
  Sha256 a, b;
  a.update(presented.data(), presented.size());
  b.update(expected.data(), expected.size());
  std::string da = a.hex_digest(), db = b.hex_digest();
  return CRYPTO_memcmp(da.data(), db.data(), da.size()) == 0;
}

namespace {

http::Response trigger_response(DrillsView& service, const http::Request& req) {
  const std::string expected = service.config()->exporter.admin_token;
  if (expected.empty()) {
    return error_response(403, "triggering is disabled: set [exporter] admin_token");
  }
  std::string_view authorization;
  if (auto it = req.headers.find("authorization"); it != req.headers.end()) {
    authorization = it->second;
  }
  const auto presented = http::bearer_token(authorization);
  if (!presented || !token_matches(std::string(*presented), expected)) {
    // Basic auth credentials that passed the web config's check are not the
    // admin token: say so rather than leave a person puzzled by a 401.
    std::string scheme(authorization.substr(0, authorization.find(' ')));
    for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const bool basic = scheme == "basic";
    auto r = error_response(
        401, basic ? "triggering a drill takes the admin token, not basic auth credentials: send "
                     "\"Authorization: Bearer <admin_token>\" (basic auth is not needed with it)"
                   : "a valid \"Authorization: Bearer <admin_token>\" is required");
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"backupdrill\"");
    return r;
  }
  const std::string& name = req.params.at("name");
  if (!could_be_drill_name(name)) return not_a_drill_name();
  auto result = service.trigger(name, "api");
  switch (result.status) {
    case TriggerStatus::accepted:
      return json_response(202, {{"status", "accepted"},
                                 {"drill", name},
                                 {"run_id", result.run_id},
                                 {"runs", "/api/v1/drills/" + name + "/runs"}});
    case TriggerStatus::busy:
      return json_response(
          409, {{"status", "error"},
                {"error", result.reason},
                {"run_id", result.run_id.empty() ? nlohmann::ordered_json(nullptr)
                                                 : nlohmann::ordered_json(result.run_id)}});
    case TriggerStatus::unknown:
      break;
  }
  return error_response(404, result.reason);
}

}  // namespace

void add_exporter_routes(http::Router& router, DrillsView& service, DrillMetrics& metrics,
                         const std::atomic<bool>& ready) {
  router.add("GET", "/", [&service](const http::Request&) {
    http::Response r;
    r.content_type = "text/html; charset=utf-8";
    r.body = render_landing_page(collect_landing_page(service));
    add_page_headers(r);
    return r;
  });
  router.add("GET", "/drills/{name}/runs/{run_id}", [&service](const http::Request& req) {
    const std::string& name = req.params.at("name");
    if (!could_be_drill_name(name)) return not_a_drill_name();
    return run_page_response(service, name, req.params.at("run_id"));
  });
  router.add(
      "GET", "/drills/{name}/runs/{run_id}/files/{file}", [&service](const http::Request& req) {
        const std::string& name = req.params.at("name");
        if (!could_be_drill_name(name)) return not_a_drill_name();
        return run_file_response(service, name, req.params.at("run_id"), req.params.at("file"));
      });
  router.add("GET", "/metrics", [&metrics](const http::Request&) {
    http::Response r;
    r.content_type = DrillMetrics::kContentType;
    r.body = metrics.render();
    return r;
  });
  router.add("GET", "/runbook", [](const http::Request&) {
    http::Response r;
    r.content_type = "text/html; charset=utf-8";
    r.body = render_markdown_page("backupdrill alerts runbook", runbook_markdown());
    return r;
  });
  router.add("GET", "/-/healthy", [](const http::Request&) {
    http::Response r;
    r.body = "Healthy.\n";
    return r;
  });
  router.add("GET", "/-/ready", [&ready](const http::Request&) {
    http::Response r;
    if (ready.load()) {
      r.body = "Ready.\n";
    } else {
      r.status = 503;
      r.body = "Not ready: loading the configuration and plugins.\n";
    }
    return r;
  });
  router.add("GET", "/api/v1/drills", [&service](const http::Request&) {
    nlohmann::ordered_json drills = nlohmann::ordered_json::array();
    for (const auto& s : service.states()) drills.push_back(drill_json(service, s));
    return json_response(200, {{"status", "success"}, {"drills", drills}});
  });
  router.add("GET", "/api/v1/drills/{name}/runs", [&service](const http::Request& req) {
    const std::string& name = req.params.at("name");
    if (!could_be_drill_name(name)) return not_a_drill_name();
    if (!service.config()->find_drill(name)) {
      return error_response(404, "no drill named \"" + name + "\"");
    }
    auto limit = runs_limit(req.query);
    if (!limit) return error_response(400, "limit must be a whole number from 1 to 1000");
    nlohmann::ordered_json runs = nlohmann::ordered_json::array();
    for (const auto& r : service.runs(name, *limit)) runs.push_back(run_brief(r));
    auto state = service.state(name);
    return json_response(
        200, {{"status", "success"},
              {"drill", name},
              {"running", state && state->running},
              {"current_run", state && state->running ? nlohmann::ordered_json(state->current_run)
                                                      : nlohmann::ordered_json(nullptr)},
              {"runs", runs}});
  });
  // The trigger is authorised by the admin token alone: with web-config basic
  // auth on, a request with "Authorization: Bearer <admin_token>" skips basic
  // auth (the header cannot hold both), and one with basic auth credentials
  // but no token is refused here, saying the token is what is needed.
  router.add(
      "POST", "/api/v1/drills/{name}/run",
      [&service](const http::Request& req) { return trigger_response(service, req); },
      http::RouteAuth::own_bearer_token);
}

}  // namespace backupdrill
