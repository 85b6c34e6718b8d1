#pragma once
// What the run page shows of a restore_<ts>.log: pg_restore's first errors,
// each with the archive entry it was restoring, and the log's last lines.
// The log is read in one bounded pass; over-long lines are cut.
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace backupdrill {

struct RestoreLogError {
  // "TOC entry 3622; 0 16460 TABLE DATA auth users postgres", or empty when
  // the error came outside any entry (e.g. the connection failed).
  std::string entry;
  // The error verbatim: "error: could not execute query: ERROR: ..." and its
  // continuation lines ("Command was: ...").
  std::string text;
};

struct RestoreLogExcerpt {
  std::vector<RestoreLogError> first_errors;  // at most max_errors
  size_t errors_seen = 0;                     // every error line in the log
  std::vector<std::string> tail;              // the last tail_lines lines
  size_t lines = 0;
};

struct RestoreLogLimits {
  size_t max_errors = 20;
  size_t tail_lines = 50;
  size_t max_line_bytes = 2000;       // longer lines are cut (marked with "…")
  size_t max_error_lines = 12;        // continuation lines kept per error
  size_t max_read_bytes = 256 << 20;  // a log past this is read up to here
};

// nullopt when the file cannot be opened.
std::optional<RestoreLogExcerpt> read_restore_log(const std::filesystem::path& log,
                                                  const RestoreLogLimits& limits = {});

}  // namespace backupdrill
