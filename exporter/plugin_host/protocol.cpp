#include "plugin_host/protocol.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "process/child_process.h"

namespace backupdrill::plugin_host {
namespace {

// Reads exactly size bytes; returns false on end of stream before any byte.
bool read_exact(int fd, char* data, size_t size, std::chrono::steady_clock::time_point deadline) {
  size_t got = 0;
  while (got < size) {
    int wait_ms = -1;
    if (deadline != std::chrono::steady_clock::time_point::max()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      deadline - std::chrono::steady_clock::now())
                      .count();
      if (left <= 0) throw ProtocolError("timed out reading from the check worker");
      wait_ms = static_cast<int>(std::min<long long>(left, 1000));
    }
    pollfd pfd{fd, POLLIN, 0};
    int pr = ::poll(&pfd, 1, wait_ms);
    if (pr < 0 && errno == EINTR) continue;
    if (pr < 0) throw ProtocolError(std::string("poll failed: ") + std::strerror(errno));
    if (pr == 0) continue;
    ssize_t n = ::read(fd, data + got, size - got);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) throw ProtocolError(std::string("read failed: ") + std::strerror(errno));
    if (n == 0) {
      if (got == 0) return false;
      throw ProtocolError("the stream ended inside a frame");
    }
    got += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

void write_frame(int fd, const nlohmann::json& message) {
  // Invalid UTF-8 from a plugin must not abort the worker: replace it.
  std::string body = message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (body.size() > kMaxFrameBytes) {
    throw ProtocolError("a frame of " + std::to_string(body.size()) + " bytes, over the limit of " +
                        std::to_string(kMaxFrameBytes) + " bytes");
  }
  std::string frame(4, '\0');
  uint32_t n = static_cast<uint32_t>(body.size());
  for (int i = 0; i < 4; ++i) frame[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  frame += body;
  const char* p = frame.data();
  size_t left = frame.size();
  // A worker that died must give EPIPE here, not kill the host with SIGPIPE.
  ScopedSigpipeBlock no_sigpipe;
  while (left > 0) {
    ssize_t w = ::write(fd, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) throw ProtocolError(std::string("write failed: ") + std::strerror(errno));
    p += w;
    left -= static_cast<size_t>(w);
  }
}

std::optional<nlohmann::json> read_frame(int fd, std::chrono::steady_clock::time_point deadline) {
  unsigned char header[4];
  if (!read_exact(fd, reinterpret_cast<char*>(header), 4, deadline)) return std::nullopt;
  uint32_t n = header[0] | (header[1] << 8) | (header[2] << 16) | (uint32_t(header[3]) << 24);
  // Refused before anything is allocated for it.
  if (n > kMaxFrameBytes) {
    throw ProtocolError("a frame of " + std::to_string(n) + " bytes, over the limit of " +
                        std::to_string(kMaxFrameBytes) + " bytes by " +
                        std::to_string(n - kMaxFrameBytes));
  }
  std::string body(n, '\0');
  if (n > 0 && !read_exact(fd, body.data(), n, deadline)) {
    throw ProtocolError("the stream ended inside a frame");
  }
  try {
    auto j = nlohmann::json::parse(body);
    if (!j.is_object() || !j.contains("op") || !j["op"].is_string()) {
      throw ProtocolError("a frame without an op");
    }
    return j;
  } catch (const nlohmann::json::exception& e) {
    throw ProtocolError(std::string("malformed frame: ") + e.what());
  }
}

}  // namespace backupdrill::plugin_host
