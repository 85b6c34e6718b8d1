#include "exporter_process.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <regex>
#include <stdexcept>
#include <thread>

#include "process/child_process.h"
#include "support.h"

namespace backupdrill::testing {

HttpAnswer http_call(const std::string& url, const std::vector<std::string>& curl_args) {
  ChildSpec spec;
  spec.program = *find_in_path("curl");
  spec.args = {"-s", "-S", "--max-time", "20", "-w", "\n%{http_code}"};
  spec.args.insert(spec.args.end(), curl_args.begin(), curl_args.end());
  spec.args.push_back(url);
  auto run = run_capture(spec, std::chrono::steady_clock::now() + std::chrono::seconds(30));
  HttpAnswer answer;
  auto nl = run.out.rfind('\n');
  if (nl == std::string::npos) return answer;
  try {
    answer.status = std::stoi(run.out.substr(nl + 1));
  } catch (...) {
    answer.status = 0;
  }
  answer.body = run.out.substr(0, nl);
  return answer;
}

ServingExporter::ServingExporter(const std::filesystem::path& config,
                                 const std::vector<std::string>& args,
                                 std::map<std::string, std::optional<std::string>> env,
                                 const std::filesystem::path& log_file)
    : log_file_(log_file) {
  ChildSpec spec;
  spec.program = BACKUPDRILL_EXPORTER;
  spec.args = {"--config.file=" + config.string(), "--web.listen-address=127.0.0.1:0"};
  spec.args.insert(spec.args.end(), args.begin(), args.end());
  for (const char* var : {"PGPASSWORD", "SOURCE_DB_URL", "TARGET_DB_URL", "BACKUP_DIR"}) {
    spec.env[var] = std::nullopt;
  }
  for (auto& [k, v] : env) spec.env[k] = v;
  spec.out = ChildSpec::Stream::file;
  spec.out_file = log_file;
  spec.err = ChildSpec::Stream::to_stdout;
  pid_ = ChildProcess::spawn(spec).release();
  static const std::regex kPort(R"(msg=serving .*port=(\d+))");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    std::smatch m;
    std::string text = log();
    if (std::regex_search(text, m, kPort)) {
      port_ = std::stoi(m[1]);
      return;
    }
    int status;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("the exporter exited at start:\n" + text);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  throw std::runtime_error("the exporter did not start serving within 30 s:\n" + log());
}

ServingExporter::~ServingExporter() {
  if (pid_ > 0) kill_hard();
}

std::string ServingExporter::log() const { return read_file(log_file_); }

int ServingExporter::stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill_hard();
  return -1;
}

void ServingExporter::kill_hard() {
  if (pid_ <= 0) return;
  ::kill(-pid_, SIGKILL);  // the group: the exporter and any pg_dump it runs
  ::kill(pid_, SIGKILL);
  int status;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::optional<double> metric_in(const std::string& scrape, const std::string& series) {
  size_t pos = 0;
  while ((pos = scrape.find(series + " ", pos)) != std::string::npos) {
    if (pos == 0 || scrape[pos - 1] == '\n') {
      auto end = scrape.find('\n', pos);
      return std::stod(scrape.substr(pos + series.size() + 1, end - pos - series.size() - 1));
    }
    pos += series.size();
  }
  return std::nullopt;
}

std::optional<double> ServingExporter::metric(const std::string& series) const {
  auto answer = http_call(base_url() + "/metrics");
  if (answer.status != 200) return std::nullopt;
  return metric_in(answer.body, series);
}

std::optional<double> ServingExporter::wait_metric(const std::string& series, double min_value,
                                                   int timeout_seconds) const {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  std::optional<double> value;
  while (std::chrono::steady_clock::now() < deadline) {
    value = metric(series);
    if (value && *value >= min_value) return value;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return value;
}

}  // namespace backupdrill::testing
