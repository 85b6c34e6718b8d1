#include "web/restore_log_excerpt.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <deque>
#include <string_view>

#include "util/contained_file.h"

namespace backupdrill {
namespace {

constexpr std::string_view kTool = "pg_restore: ";

// pg_restore (12 and later) writes, per failed entry:
//   pg_restore: while PROCESSING TOC:
//   pg_restore: from TOC entry 3622; 0 16460 TABLE DATA auth users postgres
//   pg_restore: error: could not execute query: ERROR:  role "anon" does not exist
//   Command was: GRANT ...;
// and older versions "[archiver (db)] Error from TOC entry ..." followed by
// "[archiver (db)] could not execute query: ...".
std::optional<std::string_view> entry_of(std::string_view message) {
  constexpr std::string_view kMarker = "from TOC entry ";
  auto at = message.find(kMarker);
  if (at == std::string_view::npos || at > 40) return std::nullopt;
  return message.substr(at + std::string_view("from ").size());  // "TOC entry ..."
}

bool is_error(std::string_view message) {
  return message.starts_with("error:") || message.starts_with("[archiver (db)] could not") ||
         message.starts_with("[archiver (db)] error") || message.starts_with("[archiver] error");
}

}  // namespace

std::optional<RestoreLogExcerpt> read_restore_log(const std::filesystem::path& log,
                                                  const RestoreLogLimits& limits) {
  // Opened as the files route opens a file: a restore log replaced by a
  // link (or anything but a regular file) is not read.
  UniqueFd fd = open_own_regular_file(log);
  if (!fd) return std::nullopt;
  RestoreLogExcerpt out;
  std::deque<std::string> tail;
  std::string entry;
  bool collecting = false;  // the last error takes the continuation lines
  size_t continuation = 0;
  size_t read = 0;

  auto handle = [&](std::string line) {
    ++out.lines;
    std::string_view v = line;
    if (v.starts_with(kTool)) {
      std::string_view message = v.substr(kTool.size());
      collecting = false;
      if (auto e = entry_of(message)) {
        entry = std::string(*e);
      } else if (is_error(message)) {
        ++out.errors_seen;
        if (out.first_errors.size() < limits.max_errors) {
          out.first_errors.push_back({entry, std::string(message)});
          collecting = true;
          continuation = 0;
        }
      } else if (!message.starts_with("while PROCESSING TOC") &&
                 !message.starts_with("[archiver (db)] Error while PROCESSING TOC")) {
        // Progress lines (--verbose) end an entry: a later error is not its.
        entry.clear();
      }
    } else if (collecting && continuation < limits.max_error_lines) {
      out.first_errors.back().text += "\n" + line;
      ++continuation;
    }
    tail.push_back(std::move(line));
    if (tail.size() > limits.tail_lines) tail.pop_front();
  };

  std::string line;
  bool cut = false;
  char buf[65536];
  while (read < limits.max_read_bytes) {
    ssize_t n = ::read(fd.get(), buf, std::min(sizeof buf, limits.max_read_bytes - read));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    read += static_cast<size_t>(n);
    for (char c : std::string_view(buf, static_cast<size_t>(n))) {
      if (c == '\n') {
        handle(std::move(line));
        line.clear();
        cut = false;
      } else if (line.size() < limits.max_line_bytes) {
        line.push_back(c);
      } else if (!cut) {
        line += "\xe2\x80\xa6";  // …
        cut = true;
      }
    }
  }
  if (!line.empty()) handle(std::move(line));
  out.tail.assign(std::make_move_iterator(tail.begin()), std::make_move_iterator(tail.end()));
  return out;
}

}  // namespace backupdrill
