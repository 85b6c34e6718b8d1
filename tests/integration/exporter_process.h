#pragma once
// A backupdrill_exporter in serve mode, started for a test and stopped (or
// killed) by it, and plain HTTP calls to it through curl.
#include <signal.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace backupdrill::testing {

struct HttpAnswer {
  int status = 0;  // 0: no HTTP answer (connection failed)
  std::string body;
};

// curl with the given extra arguments (e.g. {"-X", "POST", "-H", "..."}).
HttpAnswer http_call(const std::string& url, const std::vector<std::string>& curl_args = {});

class ServingExporter {
 public:
  // Starts `backupdrill_exporter --config.file=config --web.listen-address=127.0.0.1:0 args...`
  // and waits (bounded) until it logs its port.
  ServingExporter(const std::filesystem::path& config, const std::vector<std::string>& args,
                  std::map<std::string, std::optional<std::string>> env,
                  const std::filesystem::path& log_file);
  ~ServingExporter();

  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string log() const;
  // SIGTERM and wait; returns the exit code.
  int stop();
  void kill_hard();  // SIGKILL, like a crash

  // The value of a series in a /metrics scrape, e.g.
  // metric("backupdrill_runs_total{drill=\"x\"}"); nullopt when absent.
  std::optional<double> metric(const std::string& series) const;
  // Polls /metrics until pred(value) or the timeout; returns the last value.
  std::optional<double> wait_metric(const std::string& series, double min_value,
                                    int timeout_seconds) const;

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::filesystem::path log_file_;
};

std::optional<double> metric_in(const std::string& scrape, const std::string& series);

}  // namespace backupdrill::testing
