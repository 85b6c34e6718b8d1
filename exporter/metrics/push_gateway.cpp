#include "metrics/push_gateway.h"

#include <prometheus/gateway.h>

#include <future>
#include <memory>
#include <stdexcept>
#include <thread>

#include "metrics/drill_metrics.h"

namespace backupdrill {
namespace {

bool is_segment_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-' || c == ':';
}

// One drill's series, rendered when the gateway client collects them.
class OneDrill : public prometheus::Collectable {
 public:
  explicit OneDrill(DrillMetricsState state) : state_(std::move(state)) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    return drill_metric_families({state_});
  }

 private:
  DrillMetricsState state_;
};

// The URL for messages: user information (a password) never shown.
std::string shown_url(const std::string& url) {
  const size_t start = url.find("://");
  const size_t from = start == std::string::npos ? 0 : start + 3;
  const size_t end = url.find('/', from);
  const size_t at = url.rfind('@', end == std::string::npos ? url.size() : end);
  if (at == std::string::npos || at < from) return url;
  return url.substr(0, from) + "***" + url.substr(at);
}

}  // namespace

PushGatewayAddress parse_push_gateway_url(const std::string& url) {
  auto bad = [&](const std::string& why) {
    return std::invalid_argument("--push.gateway=" + shown_url(url) + ": " + why +
                                 " (expected http://HOST:PORT, e.g. http://127.0.0.1:9091)");
  };
  PushGatewayAddress out;
  std::string rest;
  std::string default_port;
  if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
    out.host = "http://";
    default_port = "80";
  } else if (url.rfind("https://", 0) == 0) {
    rest = url.substr(8);
    out.host = "https://";
    default_port = "443";
  } else {
    throw bad("the scheme must be http:// or https://");
  }
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    if (rest.substr(slash) != "/") throw bad("a path is not supported");
    rest.erase(slash);
  }
  if (rest.find('@') != std::string::npos) {
    throw bad("credentials in the URL are refused: they would be visible in the process list");
  }
  std::string host = rest;
  std::string port = default_port;
  if (!rest.empty() && rest.front() == '[') {
    const size_t close = rest.find(']');
    if (close == std::string::npos) throw bad("an IPv6 address needs its closing ']'");
    host = rest.substr(0, close + 1);
    const std::string after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') throw bad("unexpected text after the IPv6 address");
      port = after.substr(1);
    }
  } else if (auto colon = rest.rfind(':'); colon != std::string::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  if (host.empty() || host == "[]") throw bad("the host is missing");
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) < 1 ||
      std::stoi(port) > 65535) {
    throw bad("the port must be a number from 1 to 65535");
  }
  out.url = url;
  out.host += host;
  out.port = port;
  return out;
}

void check_push_job(const std::string& job) {
  if (job.empty()) throw std::invalid_argument("--push.job must not be empty");
  for (char c : job) {
    if (!is_segment_char(c)) {
      throw std::invalid_argument("--push.job=" + job +
                                  ": use letters, digits, '_', '.', '-' and ':' only");
    }
  }
}

PushResult push_drill_metrics(const PushGatewayAddress& gateway, const std::string& job,
                              const DrillMetricsState& drill, std::chrono::seconds timeout) {
  // prometheus-cpp's client sets no curl timeout: the push runs on a thread
  // of its own that a dead gateway may keep, so the exporter can still exit.
  auto result = std::make_shared<std::promise<int>>();
  auto answer = result->get_future();
  auto view = std::make_shared<OneDrill>(drill);
  std::thread([gateway, job, view, result, name = drill.drill] {
    try {
      prometheus::Gateway client(gateway.host, gateway.port, job);
      const prometheus::Labels group{{"drill", name}};
      client.RegisterCollectable(view, &group);
      // In prometheus-cpp 1.0, PushAdd() is the HTTP PUT: it replaces the
      // whole group, so no series of an earlier run of the drill survives.
      result->set_value(client.PushAdd());
    } catch (...) {
      result->set_exception(std::current_exception());
    }
  }).detach();

  const std::string where =
      "the Pushgateway at " + gateway.url + " (job " + job + ", drill " + drill.drill + ")";
  if (answer.wait_for(timeout) != std::future_status::ready) {
    return {false, where + " did not answer within " + std::to_string(timeout.count()) + " s"};
  }
  int status = 0;
  try {
    status = answer.get();
  } catch (const std::exception& e) {
    return {false, "cannot push to " + where + ": " + e.what()};
  }
  if (status < 0) {
    return {false, "cannot reach " + where + " (curl error " + std::to_string(-status) +
                       "): is the Pushgateway running and the URL right?"};
  }
  if (status < 200 || status >= 300) {
    return {false, where + " refused the push with HTTP " + std::to_string(status)};
  }
  return {true, ""};
}

}  // namespace backupdrill
