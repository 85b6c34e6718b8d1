#pragma once
// A local HTTPS server for the api_health tests: a self-signed certificate
// made with openssl for 127.0.0.1, and three paths: /health (200 "status:
// ok"), /error (500) and /degraded (200 with another body). It records the
// Authorization header of the last request.
#include <atomic>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>

namespace backupdrill::testing {

class HttpsServer {
 public:
  // Generates the key and certificate in dir (openssl req) and listens on
  // 127.0.0.1 on a free port.
  explicit HttpsServer(const std::filesystem::path& dir);
  ~HttpsServer();

  int port() const { return port_; }
  std::string url(const std::string& path) const;
  const std::filesystem::path& cert_file() const { return cert_; }
  std::string last_authorization() const;
  int requests() const { return requests_; }

 private:
  void serve();

  std::filesystem::path cert_, key_;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  mutable std::mutex mutex_;
  std::string authorization_;
  struct Impl;
  Impl* impl_ = nullptr;
  std::thread thread_;
};

}  // namespace backupdrill::testing
