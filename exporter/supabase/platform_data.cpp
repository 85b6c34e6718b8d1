#include "supabase/platform_data.h"

#include <libpq-fe.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <memory>
#include <stdexcept>

#include "supabase/cron_jobs.h"
#include "supabase/platform.h"
#include "util/secrets.h"
#include "util/text.h"

namespace backupdrill::supabase {
namespace {

std::string one_line(std::string text) {
  text = scrub(text);
  for (auto& c : text) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  trim_right(text, " ");
  return text;
}

// Lines of a child's stdout, read as they come.
class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd) {}
  bool next(std::string& line) {
    while (true) {
      auto nl = buf_.find('\n', pos_);
      if (nl != std::string::npos) {
        line.assign(buf_, pos_, nl - pos_);
        pos_ = nl + 1;
        return true;
      }
      buf_.erase(0, pos_);
      pos_ = 0;
      char chunk[65536];
      ssize_t n = ::read(fd_, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        if (buf_.empty()) return false;
        line.swap(buf_);
        buf_.clear();
        return true;
      }
      buf_.append(chunk, static_cast<size_t>(n));
    }
  }

 private:
  int fd_;
  std::string buf_;
  size_t pos_ = 0;
};

struct PgConnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct PgResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, PgResultDeleter>;

class Session {
 public:
  explicit Session(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str())) {
    if (!conn_ || PQstatus(conn_.get()) != CONNECTION_OK) {
      throw std::runtime_error("connecting to the target for the platform data failed: " +
                               one_line(conn_ ? PQerrorMessage(conn_.get()) : "out of memory"));
    }
  }
  // Empty on success, else the server's message.
  std::string exec(const std::string& sql) {
    Result r(PQexec(conn_.get(), sql.c_str()));
    auto st = PQresultStatus(r.get());
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return "";
    return one_line(PQresultErrorMessage(r.get()));
  }
  void must(const std::string& sql) {
    auto err = exec(sql);
    if (!err.empty()) throw std::runtime_error(sql + ": " + err);
  }
  // Starts COPY ... FROM stdin; empty on success.
  std::string copy_begin(const std::string& sql) {
    Result r(PQexec(conn_.get(), sql.c_str()));
    if (PQresultStatus(r.get()) == PGRES_COPY_IN) return "";
    return one_line(PQresultErrorMessage(r.get()));
  }
  bool copy_line(const std::string& line) {
    std::string data = line + "\n";
    return PQputCopyData(conn_.get(), data.data(), static_cast<int>(data.size())) == 1;
  }
  // Ends the COPY; empty on success.
  std::string copy_end() {
    if (PQputCopyEnd(conn_.get(), nullptr) != 1) return one_line(PQerrorMessage(conn_.get()));
    std::string err;
    while (Result r{PQgetResult(conn_.get())}) {
      if (PQresultStatus(r.get()) != PGRES_COMMAND_OK && err.empty())
        err = one_line(PQresultErrorMessage(r.get()));
    }
    return err;
  }
  std::vector<std::vector<std::string>> query(const std::string& sql) {
    Result r(PQexec(conn_.get(), sql.c_str()));
    if (PQresultStatus(r.get()) != PGRES_TUPLES_OK)
      throw std::runtime_error(one_line(PQresultErrorMessage(r.get())));
    std::vector<std::vector<std::string>> rows;
    for (int i = 0; i < PQntuples(r.get()); ++i) {
      std::vector<std::string> row;
      for (int j = 0; j < PQnfields(r.get()); ++j) row.emplace_back(PQgetvalue(r.get(), i, j));
      rows.push_back(std::move(row));
    }
    return rows;
  }
  std::string user() const { return PQuser(conn_.get()); }
  std::string quote_literal(const std::string& text) {
    char* q = PQescapeLiteral(conn_.get(), text.c_str(), text.size());
    if (!q) throw std::runtime_error("cannot quote " + text);
    std::string out(q);
    PQfreemem(q);
    return out;
  }
  std::string quote_ident(const std::string& name) {
    char* q = PQescapeIdentifier(conn_.get(), name.c_str(), name.size());
    if (!q) throw std::runtime_error("cannot quote " + name);
    std::string out(q);
    PQfreemem(q);
    return out;
  }

 private:
  std::unique_ptr<PGconn, PgConnDeleter> conn_;
};

std::string qualified(Session& db, const std::string& table) {
  auto dot = table.find('.');
  return db.quote_ident(table.substr(0, dot)) + "." + db.quote_ident(table.substr(dot + 1));
}

// "-- Data for Name: users; Type: TABLE DATA; Schema: auth; Owner: x" or
// "-- Name: seq; Type: SEQUENCE SET; Schema: public; Owner: x": the entry
// the next statements belong to, as "TABLE DATA auth.users".
std::string entry_of(const std::string& comment) {
  auto field = [&](const std::string& key) {
    auto at = comment.find(key);
    if (at == std::string::npos) return std::string();
    at += key.size();
    auto end = comment.find(';', at);
    return comment.substr(at, end == std::string::npos ? std::string::npos : end - at);
  };
  std::string name = field("Name: "), type = field("Type: "), schema = field("Schema: ");
  if (name.empty() || type.empty()) return "";
  return type + " " + (schema.empty() || schema == "-" ? "" : schema + ".") + name;
}

bool past(const PgSession& s) {
  return std::chrono::steady_clock::now() > s.deadline || (s.cancel.stop_requested());
}

// The user tables that reference the loaded ones (an earlier drill's
// public.profiles -> auth.users), recursively: emptied with them, since
// TRUNCATE without CASCADE refuses otherwise, and CASCADE could reach
// platform tables the drill does not load (vault.secrets -> pgsodium.key).
// A platform table among them makes the TRUNCATE fail, naming it.
std::vector<std::string> referencing_user_tables(Session& db,
                                                 const std::vector<std::string>& tables) {
  std::string list;
  for (const auto& t : tables) list += (list.empty() ? "" : ",") + db.quote_literal(t);
  const std::string sql =
      "with recursive loaded(oid) as (select c.oid from pg_class c join pg_namespace n on "
      "n.oid = c.relnamespace where n.nspname || '.' || c.relname in (" +
      list +
      ")), reach(oid) as (select con.conrelid from pg_constraint con where con.contype = 'f' "
      "and con.confrelid in (select oid from loaded) union select con.conrelid from "
      "pg_constraint con join reach r on con.confrelid = r.oid where con.contype = 'f') "
      "select distinct n.nspname, c.relname from reach r join pg_class c on c.oid = r.oid "
      "join pg_namespace n on n.oid = c.relnamespace where r.oid not in (select oid from loaded) "
      "order by 1, 2";
  std::vector<std::string> out;
  for (const auto& row : db.query(sql)) {
    if (!is_platform_schema(row[0])) out.push_back(row[0] + "." + row[1]);
  }
  return out;
}

// cron.job's rows as pg_cron's own calls; empty on success, else why not.
std::string schedule_cron_jobs(Session& db, const std::vector<std::string>& columns,
                               const std::vector<std::string>& rows, const LogLine& info) {
  auto jobs = cron_jobs(columns, rows);
  if (!jobs) return "cron.job's rows lack schedule or command (an unknown pg_cron version)";
  std::string names;
  for (const auto& job : *jobs) {
    names += (names.empty() ? "" : ",") + db.quote_literal(job.name);
    std::string sql = "select cron.schedule(" + db.quote_literal(job.name) + ", " +
                      db.quote_literal(job.schedule) + ", " + db.quote_literal(job.command) + ")";
    if (!job.active) sql = "select cron.alter_job((" + sql + "), active := false)";
    auto err = db.exec(sql);
    if (!err.empty() && !job.active && err.find("alter_job") != std::string::npos) {
      // Supabase's grants on Debian's pg_cron 1.4 let `postgres` call
      // cron.schedule() but not cron.alter_job(), and cron.job is read-only.
      return "cron.schedule(" + job.name + "): " + err +
             "; the job is inactive on the source, and pausing it here needs GRANT EXECUTE ON "
             "FUNCTION cron.alter_job TO " +
             db.user() + " (as supabase_admin)";
    }
    if (!err.empty()) return "cron.schedule(" + job.name + "): " + err;
    info("scheduled pg_cron job " + job.name + " (" + job.schedule + ")");
  }
  // The role's other jobs here are an earlier drill's that the source no
  // longer has.
  auto err = db.exec(
      "select cron.unschedule(jobid) from cron.job where username = current_user and "
      "(jobname is null or jobname <> all(array[" +
      names + "]::text[]))");
  if (!err.empty()) return "cron.unschedule: " + err;
  return "";
}

// pg_restore writing the data-only script of the listed entries to its stdout.
ChildSpec data_script_spec(const PgSession& s, const PlatformDataInput& in) {
  ChildSpec spec;
  spec.program = s.pg_restore.path;
  spec.args = {"--data-only", "--use-list=" + in.list.string(), "--file=-", in.dump.string()};
  spec.out = ChildSpec::Stream::pipe;
  spec.err = ChildSpec::Stream::null;
  return spec;
}

// Platform tables this role may not write (Supabase's 2025 grants leave
// `postgres` without them on storage.buckets_vectors, ...): skipped when
// empty on both sides, a failure naming the grant when they hold rows.
struct Unwritable {
  bool target_empty = false;
  bool readable = false;
};

// The loaded tables, by whether this role may write them.
struct TableAccess {
  std::vector<std::string> writable;
  std::map<std::string, Unwritable> unwritable;
};

TableAccess table_access(Session& db, const std::vector<std::string>& tables) {
  TableAccess access;
  for (const auto& t : tables) {
    const std::string rel = db.quote_literal(qualified(db, t));
    auto row =
        db.query("select has_table_privilege(" + rel + ", 'INSERT') and " + "has_table_privilege(" +
                 rel + ", 'TRUNCATE'), has_table_privilege(" + rel + ", 'SELECT')")[0];
    if (row[0] == "t") {
      access.writable.push_back(t);
      continue;
    }
    Unwritable u;
    u.readable = row[1] == "t";
    if (u.readable)
      u.target_empty =
          db.query("select not exists (select 1 from only " + qualified(db, t) + ")")[0][0] == "t";
    access.unwritable[t] = u;
  }
  return access;
}

// TRUNCATE of the writable tables and the user tables referencing them:
// empty on success, else the statement and the server's message.
std::string empty_loaded_tables(Session& db, const std::vector<std::string>& writable,
                                const LogLine& info) {
  if (writable.empty()) return "";
  std::string list;
  for (const auto& t : writable) list += (list.empty() ? "" : ", ") + qualified(db, t);
  for (const auto& t : referencing_user_tables(db, writable)) list += ", " + qualified(db, t);
  const std::string sql = "truncate table " + list;
  auto err = db.exec(sql);
  if (!err.empty()) return sql + ": " + err;
  info("emptied the platform tables loaded below: " + list);
  return "";
}

bool is_copy_from_stdin(const std::string& sql) {
  return sql.rfind("COPY ", 0) == 0 && sql.size() > 12 &&
         sql.compare(sql.size() - 12, 12, " FROM stdin;") == 0;
}

// Replays pg_restore's data-only script on `db`, line by line: an entry's
// comment opens a savepoint, statements run as they end, and a COPY's rows
// are sent as they come, or held back when the table may not be written
// (cron.job's rows then go through cron.schedule()). A failed entry is rolled
// back to its savepoint, logged and counted; the others go on.
class ScriptReplay {
 public:
  ScriptReplay(Session& db, const PgSession& s, const std::map<std::string, Unwritable>& unwritable,
               std::string role, const LogLine& info, const LogLine& error,
               PlatformDataOutcome& out)
      : db_(db),
        s_(s),
        unwritable_(unwritable),
        role_(std::move(role)),
        info_(info),
        error_(error),
        out_(out) {}

  // Until the script ends or the drill's deadline or cancel.
  void run(int fd) {
    LineReader reader(fd);
    std::string line;
    while (reader.next(line)) {
      if (past(s_)) break;
      if (in_copy_ && skipping_) {
        skipped_copy_line(line);
      } else if (in_copy_) {
        copy_line(line);
      } else if (!statement_.empty() || !between_statements(line)) {
        statement_line(line);
      }
    }
    finish_entry();
  }

 private:
  void fail(const std::string& why) {
    entry_failed_ = true;
    error_(entry_ + ": " + why);
  }

  // A line outside a statement: true when it is not part of one (an entry's
  // comment, which starts the next entry, a blank line, \restrict, ...).
  bool between_statements(const std::string& line) {
    if (line.rfind("--", 0) == 0) {
      auto e = entry_of(line);
      if (!e.empty()) start_entry(e);
      return true;
    }
    return line.empty() || line[0] == '\\';
  }

  void start_entry(const std::string& e) {
    finish_entry();
    entry_ = e;
    db_.must("savepoint entry");
    any_entry_ = true;
    if (e.rfind("TABLE DATA ", 0) == 0) info_("processing data for table \"" + e.substr(11) + "\"");
  }

  void finish_entry() {
    if (!any_entry_) return;
    if (entry_failed_) {
      ++out_.failed_entries;
      db_.exec("rollback to savepoint entry");
    } else {
      ++out_.loaded_entries;
      db_.exec("release savepoint entry");
    }
    any_entry_ = false;
    entry_failed_ = false;
  }

  void statement_line(const std::string& line) {
    statement_ += (statement_.empty() ? "" : "\n") + line;
    if (line.empty() || line.back() != ';') return;
    const std::string sql = statement_;
    statement_.clear();
    if (is_copy_from_stdin(sql)) {
      start_copy(sql);
    } else {
      run_statement(sql);
    }
  }

  void start_copy(const std::string& sql) {
    in_copy_ = true;
    if (entry_.rfind("TABLE DATA ", 0) == 0) {
      auto it = unwritable_.find(entry_.substr(11));
      if (it != unwritable_.end()) {
        skipping_ = &it->second;
        skipped_rows_ = 0;
        if (it->first == "cron.job") cron_columns_ = copy_columns(sql);
        return;
      }
    }
    if (entry_failed_) {
      copy_ok_ = false;
      return;
    }
    auto err = db_.copy_begin(sql);
    copy_ok_ = err.empty();
    if (!copy_ok_) fail(err);
  }

  void copy_line(const std::string& line) {
    if (line == "\\.") {
      in_copy_ = false;
      if (copy_ok_) {
        auto err = db_.copy_end();
        if (!err.empty()) fail("COPY failed: " + err);
      }
    } else if (copy_ok_ && !db_.copy_line(line)) {
      copy_ok_ = false;
      db_.copy_end();
      fail("COPY failed while sending rows");
    }
  }

  // A row of a table this role may not write, or the end of its COPY.
  void skipped_copy_line(const std::string& line) {
    if (line != "\\.") {
      ++skipped_rows_;
      if (entry_ == "TABLE DATA cron.job") cron_rows_.push_back(line);
      return;
    }
    in_copy_ = false;
    const std::string table = entry_.substr(11);  // "TABLE DATA " + table
    if (table == "cron.job") {
      schedule_cron();
    } else {
      skip_unwritable(table);
    }
    skipping_ = nullptr;
  }

  void schedule_cron() {
    auto err = schedule_cron_jobs(db_, cron_columns_, cron_rows_, info_);
    if (!err.empty()) {
      fail(err);
    } else {
      out_.notes.push_back(
          "pg_cron: " + std::to_string(cron_rows_.size()) +
          " jobs of the source scheduled "
          "through cron.schedule() (" +
          role_ + " may only read cron.job): they run as " + role_ +
          " in the target database; the source's run history (cron.job_run_details) is not "
          "restored");
    }
    cron_rows_.clear();
  }

  void skip_unwritable(const std::string& table) {
    if (skipped_rows_ == 0 && skipping_->target_empty) {
      info_("skipped " + table + ": " + role_ + " may not write it, and it is empty on both sides");
      out_.notes.push_back("Not restored: " + table + ", which " + role_ +
                           " may not write (INSERT, TRUNCATE); it is empty on the source and "
                           "on the target");
      return;
    }
    fail(role_ + " may not write " + table + " (INSERT, TRUNCATE), and it " +
         (skipped_rows_ > 0 ? "holds " + std::to_string(skipped_rows_) + " rows in the archive"
                            : std::string(skipping_->readable ? "holds rows on the target"
                                                              : "cannot be read on the target")) +
         ": as its owner, GRANT SELECT, INSERT, TRUNCATE ON " + table + " TO " + role_);
  }

  void run_statement(const std::string& sql) {
    if (entry_failed_) return;
    if (entry_.rfind("SEQUENCE SET ", 0) == 0 && !may_set_sequence(entry_.substr(13))) return;
    auto err = db_.exec(sql);
    if (err.empty()) return;
    if (!any_entry_) {
      // A setting of the script's header the server does not know (a
      // newer client's): pg_restore would go on too.
      info_("warning: " + one_line(sql) + ": " + err);
      return;
    }
    fail(err + " (statement: " + one_line(sql).substr(0, 200) + ")");
  }

  // A platform sequence this role may not set (pg_cron's jobid_seq on
  // Supabase): its tables are written through the extension, if at all.
  bool may_set_sequence(const std::string& seq) {
    if (db_.query("select has_sequence_privilege(" + db_.quote_literal(qualified(db_, seq)) +
                  ", 'UPDATE')")[0][0] == "t") {
      return true;
    }
    info_("skipped the value of sequence " + seq + ": " + role_ + " may not set it");
    out_.notes.push_back("Not restored: the value of sequence " + seq + " (" + role_ +
                         " may not set it: GRANT UPDATE ON SEQUENCE " + seq + " TO " + role_ + ")");
    return false;
  }

  Session& db_;
  const PgSession& s_;
  const std::map<std::string, Unwritable>& unwritable_;
  const std::string role_;
  const LogLine& info_;
  const LogLine& error_;
  PlatformDataOutcome& out_;

  std::string entry_ = "(script header)", statement_;
  bool in_copy_ = false, copy_ok_ = false, entry_failed_ = false, any_entry_ = false;
  const Unwritable* skipping_ = nullptr;  // the entry's table may not be written
  long long skipped_rows_ = 0;
  std::vector<std::string> cron_rows_, cron_columns_;  // cron.job's, for cron.schedule()
};

// COMMIT when every entry loaded and pg_restore exited 0, else ROLLBACK.
void end_transaction(Session& db, const PgSession& s, PlatformDataOutcome& out, const LogLine& info,
                     const LogLine& error) {
  if (out.failed_entries == 0 && out.tool_ok && !past(s)) {
    auto err = db.exec("commit");
    if (err.empty()) {
      out.committed = true;
      return;
    }
    ++out.failed_entries;
    error("commit of the platform data: " + err);
  }
  db.exec("rollback");
  info("the platform data was rolled back: the target's platform tables keep the rows they had");
}

}  // namespace

PlatformDataOutcome load_platform_data(const PgSession& s, const PlatformDataInput& in,
                                       const LogLine& info, const LogLine& error) {
  PlatformDataOutcome out;
  Session db(s.target.conninfo.full());
  db.must("set application_name = 'backupdrill'");
  // Inside the session, never in the startup packet (see the header).
  db.must("set session_replication_role = replica");
  db.must("begin");
  auto child = ChildProcess::spawn(data_script_spec(s, in));

  const std::string role = db.query("select current_user")[0][0];
  const TableAccess access = table_access(db, in.tables);
  if (auto failed = empty_loaded_tables(db, access.writable, info); !failed.empty()) {
    ++out.failed_entries;
    error(failed);
    db.exec("rollback");
    child.terminate_group();
    child.wait();
    return out;
  }

  ScriptReplay(db, s, access.unwritable, role, info, error, out).run(child.stdout_fd());
  ExitStatus status = child.wait(s.deadline, s.cancel);
  if (!status.ok()) {
    out.tool_ok = false;
    out.tool_status = "pg_restore (platform data) " + status.describe();
  }
  end_transaction(db, s, out, info, error);
  return out;
}

}  // namespace backupdrill::supabase
