#pragma once
// --once --push.gateway: a batch run cannot be scraped, so its drills'
// series go to a Prometheus Pushgateway, one group per drill
// (/metrics/job/<job>/drill/<drill>), so runs of different drills never
// overwrite each other. Only per-drill series are pushed: the exporter's own
// (build info, start time) would carry each group's drill label and collide
// in the rules that join on (job, instance).
//
// Thread safety: free functions; each push uses its own client.
#include <chrono>
#include <string>

#include "metrics/drill_state.h"

namespace backupdrill {

struct PushGatewayAddress {
  std::string url;   // as given, for messages (never holds credentials)
  std::string host;  // scheme and host, as prometheus::Gateway wants it: "http://127.0.0.1"
  std::string port;  // "9091"
};

// Parses --push.gateway: http:// or https://, a host (IPv6 in brackets), an
// optional port (default 80/443) and no path. Throws std::invalid_argument
// with a sentence that says what is wrong; credentials in the URL are
// refused (they would sit in argv).
PushGatewayAddress parse_push_gateway_url(const std::string& url);

// --push.job: a non-empty label value that is one URL path segment. Throws
// std::invalid_argument.
void check_push_job(const std::string& job);

struct PushResult {
  bool ok = false;
  std::string error;  // for people: what failed and where
};

// Replaces the drill's group on the gateway (HTTP PUT) with its series.
// Waits at most `timeout` (prometheus-cpp sets no timeout of its own).
PushResult push_drill_metrics(const PushGatewayAddress& gateway, const std::string& job,
                              const DrillMetricsState& drill,
                              std::chrono::seconds timeout = std::chrono::seconds(30));

}  // namespace backupdrill
