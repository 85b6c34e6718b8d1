#pragma once
// The bounds on what one check may send (the BD_MAX_* limits of
// backupdrill/plugin.h), counted by an OutputBudget. The worker keeps one to
// refuse output early, before it is serialized; the exporter keeps its own
// over the frames it receives, so a plugin that bypasses the worker (writes
// to the pipe itself) is stopped too. Both count the same events the same
// way, so for a plugin that goes through the worker the exporter's budget is
// never the first to run out.
//
// Thread safety: an OutputBudget is used by one thread at a time.
#include <cstddef>
#include <string>
#include <string_view>

#include "backupdrill/plugin.h"

namespace backupdrill::plugin_host {

inline constexpr size_t kMaxNameBytes = BD_MAX_NAME_BYTES;
inline constexpr size_t kMaxTextBytes = BD_MAX_TEXT_BYTES;
inline constexpr size_t kMaxLabels = BD_MAX_LABELS;
inline constexpr size_t kMaxLines = BD_MAX_LINES;
inline constexpr size_t kMaxValues = BD_MAX_VALUES;
inline constexpr size_t kMaxOutputBytes = BD_MAX_OUTPUT_BYTES;
inline constexpr size_t kMaxSecrets = BD_MAX_SECRETS;
inline constexpr size_t kMaxLogLines = BD_MAX_LOG_LINES;
// What the exporter keeps of a message (after masking secrets in it).
inline constexpr size_t kMaxMessageBytes = BD_MAX_MESSAGE_BYTES;
// What the worker sends of a message: more than kMaxMessageBytes, so that
// the exporter masks a secret before it cuts the text, and a secret the
// worker's cut splits lies past what the exporter keeps.
inline constexpr size_t kMaxWireMessageBytes = 64u << 10;
// A plugin's sample config (--sample-config).
inline constexpr size_t kMaxSampleBytes = 64u << 10;
// The check's config table handed to create().
inline constexpr size_t kMaxConfigBytes = 256u << 10;

struct Label {
  std::string_view name;
  std::string_view value;
};

class OutputBudget {
 public:
  // Each returns true when the item is within every limit (send it, keep
  // it); false once a limit is passed: that item and every later one are
  // dropped, and only counted for the verdict.
  bool line(std::string_view name, std::string_view value);
  bool smoke(std::string_view text);
  // labels is read only when label_count is within kMaxLabels.
  bool value(std::string_view name, const Label* labels, size_t label_count);
  bool secret(std::string_view value);
  // Log lines past kMaxLogLines are dropped without failing the check.
  bool log();

  bool over() const { return !first_.empty(); }
  size_t dropped_logs() const { return logs_ > kMaxLogLines ? logs_ - kMaxLogLines : 0; }
  // Why the check failed: the first limit passed, and the totals that went
  // over theirs, e.g. "went over its output limits (none of its output is
  // kept): more than 20000 values, the limit per check; in all: 1000000
  // values, 980000 over the limit of 20000 per check".
  std::string verdict() const;

 private:
  bool admit(size_t bytes, std::string problem);

  size_t lines_ = 0, values_ = 0, secrets_ = 0, logs_ = 0;
  size_t bytes_ = 0;
  std::string first_;
};

}  // namespace backupdrill::plugin_host
