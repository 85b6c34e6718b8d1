#include "supabase/restore_flow.h"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <pqxx/pqxx>
#include <set>

#include "artifacts/artifact_files.h"
#include "log/log.h"
#include "supabase/platform.h"
#include "supabase/roles.h"
#include "supabase/toc.h"
#include "util/secrets.h"

namespace backupdrill::supabase {
namespace {

std::string one_line(std::string text) {
  text = scrub(text);
  for (auto& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

// backupdrill's own lines in the restore log, "backupdrill: ..." like
// pg_restore's "pg_restore: ...", and "backupdrill: error: ..." for failures.
class RestoreLog {
 public:
  explicit RestoreLog(const std::filesystem::path& path) : path_(path) {
    ::close(create_private_file(path));
  }
  void line(const std::string& text) {
    std::ofstream(path_, std::ios::app) << "backupdrill: " << one_line(text) << "\n";
  }
  void error(const std::string& what, const std::exception& e, int& errors) {
    ++errors;
    line("error: " + what + ": " + e.what());
  }

 private:
  std::filesystem::path path_;
};

bool role_exists(pqxx::nontransaction& tx, const std::string& role) {
  return tx.exec_params1("select exists (select 1 from pg_roles where rolname = $1)", role)[0]
      .as<bool>();
}

void apply_roles(pqxx::connection& conn, const ProfileRestoreInput& in, bool superuser,
                 RestoreLog& log, ProfileRestoreOutcome& out) {
  std::error_code ec;
  if (!std::filesystem::exists(in.roles, ec)) return;
  std::ifstream file(in.roles);
  std::string script((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  pqxx::nontransaction tx(conn);
  std::set<std::string> created;
  std::vector<std::string> platform_created, project_created, platform_missing;
  for (const auto& st : parse_roles_script(script)) {
    try {
      switch (st.kind) {
        case RoleStatement::Kind::create_platform:
          if (role_exists(tx, st.role)) break;
          if (in.kind == TargetKind::supabase) {
            // A project without one of its platform roles: pg_restore will
            // say where it matters; creating it here would hide that.
            platform_missing.push_back(st.role);
            break;
          }
          tx.exec(st.sql);
          created.insert(st.role);
          platform_created.push_back(st.role);
          log.line("created platform role " + st.role + " NOLOGIN");
          break;
        case RoleStatement::Kind::create:
          if (role_exists(tx, st.role)) {
            log.line("role " + st.role + " exists on the target; left as it is");
            break;
          }
          tx.exec(st.sql);
          created.insert(st.role);
          project_created.push_back(st.role);
          log.line("created role " + st.role + " (no password)");
          break;
        case RoleStatement::Kind::alter:
          // Only roles this drill created: an existing role is never altered.
          if (created.count(st.role)) {
            tx.exec(superuser ? st.sql : without_superuser_attributes(st.sql));
          }
          break;
        case RoleStatement::Kind::grant:
          if (created.count(st.role)) tx.exec(st.sql);
          break;
      }
    } catch (const std::exception& e) {
      log.error(st.sql, e, out.own_errors);
    }
  }
  if (!platform_created.empty()) {
    out.notes.push_back("Created on the target (plain PostgreSQL): the platform roles " +
                        join(platform_created) +
                        " as NOLOGIN roles, so grants and policies naming them restore");
  }
  if (!project_created.empty()) {
    out.notes.push_back("Created on the target: the project roles " + join(project_created) +
                        ", without passwords (pg_dumpall --no-role-passwords; set them there)");
  }
  if (!platform_missing.empty()) {
    out.notes.push_back("The target project lacks the source's platform roles " +
                        join(platform_missing));
  }
}

// The user's triggers on platform tables (on_auth_user_created on
// auth.users) from an earlier drill: DROP TRIGGER needs the table's owner,
// which the restoring role is not, but dropping the user's own trigger
// function with CASCADE takes the trigger along. Only functions the archive
// recreates are dropped.
void release_user_triggers(pqxx::connection& conn, const std::vector<TocEntry>& toc,
                           RestoreLog& log, ProfileRestoreOutcome& out) {
  std::set<std::string> archived;
  for (const auto& e : toc) {
    if (e.desc == "FUNCTION") archived.insert(e.schema + " " + e.tag);
  }
  pqxx::nontransaction tx(conn);
  auto found = tx.exec(
      "select distinct n.nspname, fn.nspname, p.proname || '(' || "
      "pg_get_function_identity_arguments(p.oid) || ')', p.oid::regprocedure::text "
      "from pg_trigger t join pg_class c on c.oid = t.tgrelid "
      "join pg_namespace n on n.oid = c.relnamespace join pg_proc p on p.oid = t.tgfoid "
      "join pg_namespace fn on fn.oid = p.pronamespace where not t.tgisinternal");
  for (auto row : found) {
    if (!is_platform_schema(row[0].c_str()) || is_platform_schema(row[1].c_str())) continue;
    if (!archived.count(row[1].as<std::string>() + " " + row[2].as<std::string>())) continue;
    const std::string sql = "drop function " + row[3].as<std::string>() + " cascade";
    try {
      tx.exec(sql);
      log.line("dropped " + row[3].as<std::string>() +
               " with its triggers on platform tables (an earlier drill's; restored below)");
    } catch (const std::exception& e) {
      log.error(sql, e, out.own_errors);
    }
  }
}

TargetFacts read_target_facts(pqxx::connection& conn) {
  TargetFacts f;
  pqxx::nontransaction tx(conn);
  f.login_role = tx.exec1("select current_user")[0].as<std::string>();
  for (auto row : tx.exec("select n.nspname, c.relname from pg_class c join pg_namespace n "
                          "on n.oid = c.relnamespace where c.relkind in ('r','p','S')")) {
    if (is_platform_schema(row[0].c_str())) {
      f.tables.insert(row[0].as<std::string>() + "." + row[1].as<std::string>());
    }
  }
  for (auto row : tx.exec("select n.nspname, c.relname, t.tgname from pg_trigger t "
                          "join pg_class c on c.oid = t.tgrelid join pg_namespace n "
                          "on n.oid = c.relnamespace where not t.tgisinternal")) {
    f.triggers.insert(row[0].as<std::string>() + " " + row[1].as<std::string>() + " " +
                      row[2].as<std::string>());
  }
  for (auto row : tx.exec("select schemaname, tablename, policyname from pg_policies")) {
    f.policies.insert(row[0].as<std::string>() + " " + row[1].as<std::string>() + " " +
                      row[2].as<std::string>());
  }
  return f;
}

// Roles named as owners that the restoring role cannot take on: then every
// object is restored owned by the restoring role (--no-owner), and said so.
std::vector<std::string> foreign_owners(pqxx::connection& conn,
                                        const std::set<std::string>& owners) {
  pqxx::nontransaction tx(conn);
  std::vector<std::string> out;
  for (const auto& role : owners) {
    bool ok = tx.exec_params1(
                    "select exists (select 1 from pg_roles where rolname = $1) and "
                    "pg_has_role(current_user, $1, 'MEMBER')",
                    role)[0]
                  .as<bool>();
    if (!ok) out.push_back(role);
  }
  return out;
}

void empty_platform_tables(pqxx::connection& conn, const std::vector<std::string>& tables,
                           RestoreLog& log, ProfileRestoreOutcome& out) {
  if (tables.empty()) return;
  pqxx::nontransaction tx(conn);
  std::string list;
  for (const auto& t : tables) {
    auto dot = t.find('.');
    list += (list.empty() ? "" : ", ") + tx.quote_name(t.substr(0, dot)) + "." +
            tx.quote_name(t.substr(dot + 1));
  }
  // The guard let the drill in: these rows are an earlier drill's copy (or
  // the target was adopted). CASCADE reaches the user tables that reference
  // them, which the clean pass drops and recreates anyway.
  const std::string sql = "truncate table " + list + " cascade";
  try {
    tx.exec(sql);
    log.line("emptied the platform tables loaded below: " + join(tables));
  } catch (const std::exception& e) {
    log.error(sql, e, out.own_errors);
  }
}

ExitStatus run_pg_restore(const PgSession& s, std::vector<std::string> extra,
                          const ProfileRestoreInput& in, bool replica) {
  ChildSpec spec;
  spec.program = s.pg_restore.path;
  spec.args = {"--dbname=" + s.target.conninfo.without_password(), "--no-password", "--verbose"};
  spec.args.insert(spec.args.end(), extra.begin(), extra.end());
  spec.args.push_back(in.dump.string());
  spec.env = s.target.env();
  if (replica) {
    // Triggers and foreign keys of the project's platform tables must not
    // fire while their rows load (auth.identities sorts before auth.users).
    spec.env["PGOPTIONS"] = "-c session_replication_role=replica";
  }
  spec.out = ChildSpec::Stream::file;
  spec.out_file = in.log;
  spec.append = true;
  spec.err = ChildSpec::Stream::to_stdout;
  auto child = ChildProcess::spawn(spec);
  return child.wait(s.deadline, s.cancel);
}

std::string listing_of(const PgSession& s, const std::filesystem::path& dump) {
  ChildSpec spec;
  spec.program = s.pg_restore.path;
  spec.args = {"--list", dump.string()};
  auto run = run_capture(spec, s.deadline);
  if (!run.status.ok()) {
    throw std::runtime_error("pg_restore --list " + dump.filename().string() + " " +
                             run.status.describe() + ": " + one_line(run.out));
  }
  return run.out;
}

}  // namespace

ProfileRestoreOutcome restore_with_profile(const PgSession& s, const ProfileRestoreInput& in) {
  ProfileRestoreOutcome out;
  RestoreLog log(in.log);
  log.line(std::string("profile supabase, target kind ") + to_string(in.kind));
  pqxx::connection conn(s.target.conninfo.full());
  bool superuser;
  {
    pqxx::nontransaction tx(conn);
    superuser =
        tx.exec1("select rolsuper from pg_roles where rolname = current_user")[0].as<bool>();
  }
  apply_roles(conn, in, superuser, log, out);

  const auto toc = parse_toc(listing_of(s, in.dump));
  if (in.kind == TargetKind::supabase && in.clean) release_user_triggers(conn, toc, log, out);
  TargetFacts facts = in.kind == TargetKind::supabase ? read_target_facts(conn) : TargetFacts{};
  if (facts.login_role.empty()) {
    pqxx::nontransaction tx(conn);
    facts.login_role = tx.exec1("select current_user")[0].as<std::string>();
  }
  RestorePlan plan = plan_restore(toc, in.kind, facts);
  out.notes.insert(out.notes.end(), plan.notes.begin(), plan.notes.end());
  write_private_file(in.list, render_list(plan.main));

  std::vector<std::string> main_args{"--use-list=" + in.list.string(),
                                     "--jobs=" + std::to_string(in.jobs)};
  if (in.clean) {
    main_args.push_back("--clean");
    main_args.push_back("--if-exists");
  }
  auto strangers = foreign_owners(conn, plan.owners);
  if (!strangers.empty()) {
    main_args.push_back("--no-owner");
    out.notes.push_back("Objects owned by " + join(strangers) + " on the source are owned by " +
                        facts.login_role + " on the target (" + facts.login_role +
                        " cannot take on those roles; pg_restore --no-owner)");
  }
  if (in.kind == TargetKind::supabase)
    empty_platform_tables(conn, plan.platform_tables_loaded, log, out);
  conn.disconnect();  // pg_restore works on its own connections

  auto note_failure = [&](const ExitStatus& status, const char* pass) {
    if (!status.ok() && out.tools_ok) {
      out.tools_ok = false;
      out.tool_status = std::string("pg_restore (") + pass + ") " + status.describe();
    }
  };
  if (!plan.extensions.empty()) {
    write_private_file(in.extlist, render_list(plan.extensions));
    log.line("pass 1: extensions, created in their schemas when missing");
    note_failure(run_pg_restore(s, {"--use-list=" + in.extlist.string()}, in, false), "extensions");
  }
  log.line("pass 2: " + std::to_string(plan.main.size()) + " of the archive's entries (" +
           in.list.filename().string() + ")");
  note_failure(run_pg_restore(s, main_args, in, plan.replica_data), "main");
  return out;
}

}  // namespace backupdrill::supabase
