#pragma once
// The pipe protocol between the exporter and a check worker: frames of a
// 4-byte little-endian length and a JSON object with an "op" member.
//
// host -> worker: create {config, drill, check, timeout_ms},
//                 call {phase, drill, check, source, target, snapshot, timeout_ms},
//                 cancel, quit
// worker -> host: hello {name, version, description, sample, source_phase}
//                 or load_error {message} (then it exits),
//                 log {level, message}, emit {name, value, labels},
//                 line {name, value}, smoke {passed, text}, fail {message},
//                 skip {reason}, summary {message}, secret {value},
//                 limit {message} (the check went over an output limit of
//                 output_limits.h; sent once per call, before done),
//                 done {status, dropped_logs} (ends create and call)
//
// Secrets (connection strings with passwords, tokens in the config) travel
// only in these frames, never on the worker's argv or in its environment.
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>

namespace backupdrill::plugin_host {

// The largest frame either side accepts: far above any frame within the
// output limits (a line is at most a few KiB), and small enough that reading
// one never weighs on the exporter's memory.
inline constexpr size_t kMaxFrameBytes = 1u << 20;

struct ProtocolError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Writes one frame; throws ProtocolError when the other side is gone.
void write_frame(int fd, const nlohmann::json& message);

// Reads one frame. nullopt on a clean end of stream before a frame starts;
// throws ProtocolError on a cut or oversized frame or past the deadline.
std::optional<nlohmann::json> read_frame(int fd, std::chrono::steady_clock::time_point deadline =
                                                     std::chrono::steady_clock::time_point::max());

}  // namespace backupdrill::plugin_host
