#include "pg/restore_tool.h"

#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <set>
#include <thread>

#include "util/secrets.h"
#include "util/text.h"

namespace backupdrill {
namespace {

// pg_restore's complaint for an error message: one line, no secret, bounded.
std::string output_as_one_line(std::string text) {
  text = scrub(text);
  if (text.size() > 2000) text = text.substr(0, 2000) + "...";
  for (auto& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  trim_right(text, " ");
  return text;
}

constexpr size_t kMaxMessage = 4000;  // a huge "Command was:" is cut, not copied whole

constexpr std::string_view kPrefix = "pg_restore:";
constexpr std::string_view kSeverities[] = {"error: ", "warning: ", "detail: ", "hint: "};

// Lines that always continue a message, whatever prefixes are pending.
bool continues(std::string_view line) {
  for (std::string_view head :
       {"Command was: ", "DETAIL: ", "HINT: ", "CONTEXT: ", "LINE ", "QUERY: ", "WHERE: "}) {
    if (line.substr(0, head.size()) == head) return true;
  }
  return !line.empty() && (line[0] == ' ' || line[0] == '\t');
}

bool starts(std::string_view text, std::string_view token) {
  return text.substr(0, token.size()) == token;
}

// The start of `text` could still become `token` with more bytes.
bool may_become(std::string_view text, std::string_view token) {
  return text.size() < token.size() && token.substr(0, text.size()) == text;
}

}  // namespace

void PgRestoreStream::feed(std::string_view bytes) {
  buf_.append(bytes);
  while (step(false)) {
  }
  buf_.erase(0, pos_);
  pos_ = 0;
}

void PgRestoreStream::finish() {
  while (pos_ < buf_.size() && step(true)) {
  }
  buf_.clear();
  pos_ = 0;
  flush();
}

bool PgRestoreStream::step(bool eof) {
  std::string_view rest(buf_);
  rest.remove_prefix(pos_);
  if (rest.empty()) return false;
  if (starts(rest, kPrefix)) {
    pos_ += kPrefix.size();
    ++pending_;
    after_token_ = true;
    return true;
  }
  if (!eof && may_become(rest, kPrefix)) return false;
  // A worker's " " and "error: " may come after another's whole line: they
  // belong to a prefix still pending.
  if (after_token_ && rest[0] == ' ') {
    ++pos_;
    return true;
  }
  // A pending prefix's " " after another worker's line: one space, then a
  // message's first word (lower case: "from TOC entry", "creating", ...),
  // unlike SQL continuing a "Command was:" (" SELECT", "    ADD ...").
  if (pending_ > 0 && rest[0] == ' ') {
    if (rest.size() < 2 && !eof) return false;
    if (rest.size() >= 2 && std::islower(static_cast<unsigned char>(rest[1]))) {
      ++pos_;
      after_token_ = true;
      return true;
    }
  }
  if (after_token_ || pending_ > 0) {
    for (auto sev : kSeverities) {
      if (starts(rest, sev)) {
        pos_ += sev.size();
        severities_.emplace_back(sev);
        after_token_ = true;
        return true;
      }
      if (!eof && may_become(rest, sev)) return false;
    }
  }
  auto nl = rest.find('\n');
  if (nl == std::string_view::npos && !eof) return false;
  std::string line(rest.substr(0, nl));
  pos_ += nl == std::string_view::npos ? rest.size() : nl + 1;
  after_token_ = false;
  while (!line.empty() && line.back() == '\r') line.pop_back();
  if (pending_ > 0 && !line.empty() && !continues(line)) {
    flush();
    --pending_;
    std::string sev;
    if (!severities_.empty()) {
      sev = severities_.front();
      severities_.erase(severities_.begin());
    }
    message_ = "pg_restore: " + sev + line;
    return true;
  }
  size_t b = line.find_first_not_of(" \t");
  if (b == std::string::npos || message_.size() >= kMaxMessage) return true;
  if (message_.empty()) {
    message_ = line.substr(b);  // output that is not pg_restore's own (a wrapper's)
    return true;
  }
  message_ += " " + line.substr(b);
  if (message_.size() > kMaxMessage) message_ = message_.substr(0, kMaxMessage) + " ...";
  return true;
}

void PgRestoreStream::flush() {
  if (message_.empty()) return;
  out_ << message_ << "\n";
  out_.flush();
  message_.clear();
}

ExitStatus run_pg_restore_logged(const PgSession& s, const std::vector<std::string>& args,
                                 const std::filesystem::path& log) {
  ChildSpec spec;
  std::vector<std::string> argv{"--dbname=" + s.target.conninfo.without_password(), "--no-password",
                                "--verbose"};
  argv.insert(argv.end(), args.begin(), args.end());
  spec.program = s.pg_restore.path;
  spec.args = argv;
  spec.env = s.target.env();
  spec.out = ChildSpec::Stream::pipe;
  spec.err = ChildSpec::Stream::to_stdout;
  auto child = ChildProcess::spawn(spec);
  const int fd = child.stdout_fd();
  std::thread reader([fd, &log] {
    std::ofstream out(log, std::ios::app);
    PgRestoreStream stream(out);
    char chunk[65536];
    while (true) {
      ssize_t n = ::read(fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      stream.feed(std::string_view(chunk, static_cast<size_t>(n)));
    }
  });
  ExitStatus status;
  // Published only while it runs: once reaped, its pid may belong to another.
  ScopedWatch watch(s.restore_watch.get(), child.pid(), IoCounter::read);
  try {
    status = child.wait(s.deadline, s.cancel);
  } catch (...) {
    child.terminate_group();
    reader.join();
    throw;
  }
  reader.join();
  return status;
}

std::string archive_listing(const PgSession& s, const std::filesystem::path& dump) {
  ChildSpec spec;
  spec.program = s.pg_restore.path;
  spec.args = {"--list", dump.string()};
  auto run = run_capture(spec, s.deadline);
  if (!run.status.ok()) {
    throw std::runtime_error("pg_restore --list " + dump.filename().string() + " " +
                             run.status.describe() + ": " + output_as_one_line(run.out));
  }
  return run.out;
}

int count_restore_errors(const std::filesystem::path& log) {
  // pg_restore names the entry before its first failed statement ("from TOC
  // entry 3622; 0 16460 TABLE DATA auth users ..."), in each worker, once
  // per entry. Its own tally ("errors ignored on restore: N") counts
  // statements, and more of them with several jobs: not a figure to compare.
  std::ifstream in(log);
  std::set<long> failed_entries;
  int error_lines = 0;
  std::string line;
  // Every mention in a line counts: the untangling of parallel workers'
  // output is a guess, and a worker's line joined to another's message
  // ("Command was: ..." SQL) must not hide its entry.
  const std::string kEntry = "from TOC entry ";
  while (std::getline(in, line)) {
    bool named_entry = false;
    for (auto at = line.find(kEntry); at != std::string::npos;
         at = line.find(kEntry, at + kEntry.size())) {
      const char* digits = line.c_str() + at + kEntry.size();
      char* end = nullptr;
      const long id = std::strtol(digits, &end, 10);
      if (end == digits) continue;  // prose, not pg_restore's "from TOC entry N;"
      failed_entries.insert(id);
      named_entry = true;
    }
    if (named_entry) {
      continue;
    } else if (line.rfind("pg_restore: error:", 0) == 0 ||
               line.rfind("pg_restore: [archiver (db)] Error", 0) == 0) {
      ++error_lines;
    }
  }
  // Errors outside any entry (the connection failed): each one counts.
  if (failed_entries.empty()) return error_lines;
  return static_cast<int>(failed_entries.size());
}

}  // namespace backupdrill
