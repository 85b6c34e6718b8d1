#include "canned_runs.h"

#include <chrono>

namespace backupdrill::testing {
namespace {

CheckConfig check(std::string name, std::string plugin) {
  CheckConfig c;
  c.name = std::move(name);
  c.plugin = std::move(plugin);
  return c;
}

PhaseTiming phase(const char* name, double from, double to) {
  return {name, canned_at(from), canned_at(to)};
}

}  // namespace

SystemTime canned_epoch() { return from_unix_seconds(1795078400); }

SystemTime canned_at(double seconds_after_epoch) {
  return canned_epoch() + std::chrono::duration_cast<SystemTime::duration>(
                              std::chrono::duration<double>(seconds_after_epoch));
}

Config canned_config() {
  Config config;
  config.source = "canned";
  DrillConfig nightly;
  nightly.name = "nightly";
  nightly.schedule = "0 3 * * *";
  nightly.rto_target = std::chrono::hours(2);
  nightly.rpo_target = std::chrono::hours(24);
  nightly.checks = {check("row_counts", "table_counts"), check("api", "http_smoke")};
  DrillConfig weekly;
  weekly.name = "weekly";
  weekly.schedule = "0 4 * * 0";
  weekly.rto_target = std::chrono::minutes(30);
  weekly.rpo_target = std::chrono::hours(24 * 7);
  weekly.checks = {check("row_counts", "table_counts")};
  DrillConfig fresh;
  fresh.name = "fresh";
  config.drills = {nightly, weekly, fresh};
  return config;
}

std::vector<std::pair<std::string, std::string>> canned_plugins() {
  return {{"table_counts", "1.2.0"}, {"http_smoke", "0.9.1"}};
}

RunRecord nightly_success() {
  RunRecord r;
  r.drill = "nightly";
  r.run_id = "20261119T085320Z";
  r.success = true;
  r.started = canned_at(0);
  r.finished = canned_at(1234.5678);  // exported at millisecond precision
  r.phases = {phase(kPhaseGuard, 0, 1.5),       phase(kPhaseBackup, 1.5, 300.25),
              phase(kPhaseVerify, 300.25, 310), phase(kPhaseRestore, 310, 1100),
              phase(kPhaseChecks, 1100, 1230),  phase(kPhaseReport, 1230, 1234.5678)};
  r.rto_seconds = 920;
  r.rto_target_seconds = 7200;
  r.rto_compliant = true;
  r.rpo_seconds = 1233;
  r.snapshot_time = canned_at(1.5678);  // the recovery point: finished - rpo
  r.rpo_target_seconds = 86400;
  r.rpo_compliant = true;
  r.backup_size = 123456789;
  CheckOutcome counts;
  counts.name = "row_counts";
  counts.plugin = "table_counts";
  counts.success = true;
  counts.seconds = 12.5;
  counts.rows = {{"public.orders", 1000, 1000, {}, {}}, {"auth.users", 5, std::nullopt, {}, {}}};
  CheckOutcome api;
  api.name = "api";
  api.plugin = "http_smoke";
  api.success = true;
  api.seconds = 0.25;
  r.checks = {counts, api};
  return r;
}

RunRecord nightly_failure() {
  RunRecord r;
  r.drill = "nightly";
  r.run_id = "20261120T085320Z";
  r.success = false;
  r.failed_phase = kPhaseRestore;
  r.error = "pg_restore exited with status 1";
  r.started = canned_at(86400);
  r.finished = canned_at(86400 + 700.001);
  r.phases = {phase(kPhaseGuard, 86400, 86401), phase(kPhaseBackup, 86401, 86600),
              phase(kPhaseVerify, 86600, 86610), phase(kPhaseRestore, 86610, 87100.001)};
  r.rto_target_seconds = 7200;  // never measured: the restore did not finish
  r.rpo_seconds = 699;
  r.snapshot_time = canned_at(86400 + 1.001);
  r.rpo_target_seconds = 86400;
  r.rpo_compliant = true;
  r.backup_size = 123000000;
  r.restore_errors = 3;
  return r;
}

RunRecord weekly_crash() {
  RunRecord r;
  r.drill = "weekly";
  r.error = "drill crashed";
  r.started = canned_at(100);
  r.finished = canned_at(100);
  return r;
}

RunRecord weekly_success() {
  RunRecord r;
  r.drill = "weekly";
  r.run_id = "20261119T090000Z";
  r.success = true;
  r.started = canned_at(400);
  r.finished = canned_at(2200);
  r.phases = {phase(kPhaseBackup, 401, 900), phase(kPhaseVerify, 900, 905),
              phase(kPhaseRestore, 905, 2000), phase(kPhaseChecks, 2000, 2199)};
  r.rto_seconds = 1294;
  r.rto_target_seconds = 1800;
  r.rto_compliant = true;
  r.rpo_seconds = 1799;
  r.snapshot_time = canned_at(401);
  r.rpo_target_seconds = 604800;
  r.rpo_compliant = true;
  r.backup_size = 4096;
  CheckOutcome counts;
  counts.name = "row_counts";
  counts.plugin = "table_counts";
  counts.success = false;
  counts.seconds = 3;
  counts.message = "public.items: 10 on the source, 9 on the target";
  counts.rows = {{"public.items", 10, 9, {}, {}}};
  // A check the configuration no longer names still shows its row counts.
  CheckOutcome extra;
  extra.name = "legacy \"counts\"";
  extra.plugin = "table_counts";
  extra.success = true;
  extra.rows = {{"public.notes", std::nullopt, 7, {}, {}}};
  r.checks = {counts, extra};
  return r;
}

}  // namespace backupdrill::testing
