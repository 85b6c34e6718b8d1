#pragma once
// pg_restore run against the target with its messages appended to the
// restore log, one message a line (see PgRestoreStream), whatever the number
// of jobs.
#include <filesystem>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "pg/session.h"

namespace backupdrill {

// args: pg_restore's arguments after --dbname/--no-password/--verbose.
// Throws std::runtime_error when pg_restore cannot be started.
ExitStatus run_pg_restore_logged(const PgSession& session, const std::vector<std::string>& args,
                                 const std::filesystem::path& log);

// `pg_restore --list` of an archive: its table of contents as text. Throws
// std::runtime_error naming the archive when pg_restore fails.
std::string archive_listing(const PgSession& session, const std::filesystem::path& dump);

// pg_restore's combined output, put back into one message a line. Its
// logging writes "pg_restore:", " ", an optional "error: "/"warning: ", then
// the message and its newline in one write; with several jobs the workers'
// small writes interleave ("pg_restore:pg_restore: error: a\nb\n"). Each
// "pg_restore:" starts one message; a line that does not start one (DETAIL,
// "Command was: ..." and its SQL) joins the message before it.
class PgRestoreStream {
 public:
  explicit PgRestoreStream(std::ostream& out) : out_(out) {}
  ~PgRestoreStream() { finish(); }
  void feed(std::string_view bytes);
  void finish();  // the end of the output: what is held back is written

 private:
  bool step(bool eof);  // false: more bytes are needed
  void flush();
  std::ostream& out_;
  std::string buf_;
  size_t pos_ = 0;
  int pending_ = 0;  // "pg_restore:" prefixes whose message has not come yet
  bool after_token_ = false;
  std::vector<std::string> severities_;
  std::string message_;
};

// The failed archive entries of a restore log: the distinct entries pg_restore
// names ("from TOC entry N; ...") before their errors, the same figure
// whatever the number of jobs; without such lines, the "pg_restore: error:"
// lines (a connection that failed).
int count_restore_errors(const std::filesystem::path& log);

}  // namespace backupdrill
