#pragma once
// The exporter's HTTP surface (contract of docs/design.md, HTTP API and
// pages): the landing page, /metrics, health and readiness, and the JSON API
// with the admin trigger.
#include <atomic>

#include "http/router.h"
#include "metrics/drill_metrics.h"
#include "scheduler/drills_view.h"

namespace backupdrill {

// `ready` turns true once config and plugins are loaded.
void add_exporter_routes(http::Router& router, DrillsView& service, DrillMetrics& metrics,
                         const std::atomic<bool>& ready);

// Constant-time comparison of a presented bearer token with the configured
// one (lengths hidden by comparing digests).
bool token_matches(const std::string& presented, const std::string& expected);

}  // namespace backupdrill
