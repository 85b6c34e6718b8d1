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

}  // namespace

PlatformDataOutcome load_platform_data(const PgSession& s, const PlatformDataInput& in,
                                       const LogLine& info, const LogLine& error) {
  PlatformDataOutcome out;
  Session db(s.target.conninfo.full());
  db.must("set application_name = 'backupdrill'");
  // Inside the session, never in the startup packet (see the header).
  db.must("set session_replication_role = replica");
  db.must("begin");

  ChildSpec spec;
  spec.program = s.pg_restore.path;
  spec.args = {"--data-only", "--use-list=" + in.list.string(), "--file=-", in.dump.string()};
  spec.out = ChildSpec::Stream::pipe;
  spec.err = ChildSpec::Stream::null;
  auto child = ChildProcess::spawn(spec);

  // Platform tables this role may not write (Supabase's 2025 grants leave
  // `postgres` without them on storage.buckets_vectors, ...): skipped when
  // empty on both sides, a failure naming the grant when they hold rows.
  struct Unwritable {
    bool target_empty = false;
    bool readable = false;
  };
  std::map<std::string, Unwritable> unwritable;
  const std::string role = db.query("select current_user")[0][0];
  std::vector<std::string> writable;
  for (const auto& t : in.tables) {
    const std::string rel = db.quote_literal(qualified(db, t));
    auto row =
        db.query("select has_table_privilege(" + rel + ", 'INSERT') and " + "has_table_privilege(" +
                 rel + ", 'TRUNCATE'), has_table_privilege(" + rel + ", 'SELECT')")[0];
    if (row[0] == "t") {
      writable.push_back(t);
      continue;
    }
    Unwritable u;
    u.readable = row[1] == "t";
    if (u.readable)
      u.target_empty =
          db.query("select not exists (select 1 from only " + qualified(db, t) + ")")[0][0] == "t";
    unwritable[t] = u;
  }

  if (!writable.empty()) {
    std::string list;
    for (const auto& t : writable) list += (list.empty() ? "" : ", ") + qualified(db, t);
    for (const auto& t : referencing_user_tables(db, writable)) list += ", " + qualified(db, t);
    const std::string sql = "truncate table " + list;
    auto err = db.exec(sql);
    if (!err.empty()) {
      ++out.failed_entries;
      error(sql + ": " + err);
      db.exec("rollback");
      child.terminate_group();
      child.wait();
      return out;
    }
    info("emptied the platform tables loaded below: " + list);
  }

  LineReader reader(child.stdout_fd());
  std::string line, entry = "(script header)", statement;
  bool in_copy = false, copy_ok = false, entry_failed = false, any_entry = false;
  const Unwritable* skipping = nullptr;  // the entry's table may not be written
  long long skipped_rows = 0;
  std::vector<std::string> cron_rows, cron_columns;  // cron.job's, for cron.schedule()
  std::string copy_error;
  auto finish_entry = [&]() {
    if (!any_entry) return;
    if (entry_failed) {
      ++out.failed_entries;
      db.exec("rollback to savepoint entry");
    } else {
      ++out.loaded_entries;
      db.exec("release savepoint entry");
    }
    any_entry = false;
    entry_failed = false;
  };
  while (reader.next(line)) {
    if (past(s)) break;
    if (in_copy && skipping) {
      if (line != "\\.") {
        ++skipped_rows;
        if (entry == "TABLE DATA cron.job") cron_rows.push_back(line);
        continue;
      }
      in_copy = false;
      const std::string table = entry.substr(11);  // "TABLE DATA " + table
      if (table == "cron.job") {
        auto err = schedule_cron_jobs(db, cron_columns, cron_rows, info);
        if (!err.empty()) {
          entry_failed = true;
          error(entry + ": " + err);
        } else {
          out.notes.push_back(
              "pg_cron: " + std::to_string(cron_rows.size()) +
              " jobs of the source scheduled "
              "through cron.schedule() (" +
              role + " may only read cron.job): they run as " + role +
              " in the target database; the source's run history (cron.job_run_details) is not "
              "restored");
        }
        cron_rows.clear();
        skipping = nullptr;
        continue;
      }
      if (skipped_rows == 0 && skipping->target_empty) {
        info("skipped " + table + ": " + role + " may not write it, and it is empty on both sides");
        out.notes.push_back("Not restored: " + table + ", which " + role +
                            " may not write (INSERT, TRUNCATE); it is empty on the source and "
                            "on the target");
      } else {
        entry_failed = true;
        error(entry + ": " + role + " may not write " + table + " (INSERT, TRUNCATE), and it " +
              (skipped_rows > 0
                   ? "holds " + std::to_string(skipped_rows) + " rows in the archive"
                   : std::string(skipping->readable ? "holds rows on the target"
                                                    : "cannot be read on the target")) +
              ": as its owner, GRANT SELECT, INSERT, TRUNCATE ON " + table + " TO " + role);
      }
      skipping = nullptr;
      continue;
    }
    if (in_copy) {
      if (line == "\\.") {
        in_copy = false;
        if (copy_ok) {
          auto err = db.copy_end();
          if (!err.empty()) {
            entry_failed = true;
            error(entry + ": COPY failed: " + err);
          }
        }
      } else if (copy_ok && !db.copy_line(line)) {
        copy_ok = false;
        db.copy_end();
        entry_failed = true;
        error(entry + ": COPY failed while sending rows");
      }
      continue;
    }
    if (statement.empty()) {
      if (line.rfind("--", 0) == 0) {
        auto e = entry_of(line);
        if (!e.empty()) {
          finish_entry();
          entry = e;
          db.must("savepoint entry");
          any_entry = true;
          if (e.rfind("TABLE DATA ", 0) == 0)
            info("processing data for table \"" + e.substr(11) + "\"");
        }
        continue;
      }
      if (line.empty() || line[0] == '\\') continue;  // \restrict, \unrestrict
    }
    statement += (statement.empty() ? "" : "\n") + line;
    if (line.empty() || line.back() != ';') continue;
    const std::string sql = statement;
    statement.clear();
    if (sql.rfind("COPY ", 0) == 0 && sql.size() > 12 &&
        sql.compare(sql.size() - 12, 12, " FROM stdin;") == 0) {
      in_copy = true;
      if (entry.rfind("TABLE DATA ", 0) == 0) {
        auto it = unwritable.find(entry.substr(11));
        if (it != unwritable.end()) {
          skipping = &it->second;
          skipped_rows = 0;
          if (it->first == "cron.job") cron_columns = copy_columns(sql);
          continue;
        }
      }
      if (entry_failed) {
        copy_ok = false;
        continue;
      }
      auto err = db.copy_begin(sql);
      copy_ok = err.empty();
      if (!copy_ok) {
        entry_failed = true;
        error(entry + ": " + err);
      }
      continue;
    }
    if (entry_failed) continue;
    if (entry.rfind("SEQUENCE SET ", 0) == 0) {
      // A platform sequence this role may not set (pg_cron's jobid_seq on
      // Supabase): its tables are written through the extension, if at all.
      const std::string seq = entry.substr(13);
      if (db.query("select has_sequence_privilege(" + db.quote_literal(qualified(db, seq)) +
                   ", 'UPDATE')")[0][0] != "t") {
        info("skipped the value of sequence " + seq + ": " + role + " may not set it");
        out.notes.push_back("Not restored: the value of sequence " + seq + " (" + role +
                            " may not set it: GRANT UPDATE ON SEQUENCE " + seq + " TO " + role +
                            ")");
        continue;
      }
    }
    auto err = db.exec(sql);
    if (!err.empty()) {
      if (!any_entry) {
        // A setting of the script's header the server does not know (a
        // newer client's): pg_restore would go on too.
        info("warning: " + one_line(sql) + ": " + err);
        continue;
      }
      entry_failed = true;
      error(entry + ": " + err + " (statement: " + one_line(sql).substr(0, 200) + ")");
    }
  }
  finish_entry();
  ExitStatus status = child.wait(s.deadline, s.cancel);
  if (!status.ok()) {
    out.tool_ok = false;
    out.tool_status = "pg_restore (platform data) " + status.describe();
  }
  if (out.failed_entries == 0 && out.tool_ok && !past(s)) {
    auto err = db.exec("commit");
    if (err.empty()) {
      out.committed = true;
      return out;
    }
    ++out.failed_entries;
    error("commit of the platform data: " + err);
  }
  db.exec("rollback");
  info("the platform data was rolled back: the target's platform tables keep the rows they had");
  return out;
}

}  // namespace backupdrill::supabase
