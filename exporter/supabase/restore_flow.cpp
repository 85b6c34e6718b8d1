#include "supabase/restore_flow.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <pqxx/pqxx>
#include <set>

#include "artifacts/artifact_files.h"
#include "log/log.h"
#include "pg/restore_tool.h"
#include "pg/toc.h"
#include "supabase/platform.h"
#include "supabase/platform_data.h"
#include "supabase/policy_grants.h"
#include "supabase/roles.h"
#include "util/secrets.h"
#include "util/text.h"

namespace backupdrill::supabase {
namespace {

std::string one_line(std::string text) {
  text = scrub(text);
  for (auto& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  trim_right(text, " ");
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
  for (auto row : tx.exec("select n.nspname, c.relname, c.relkind in ('r','p','S') from "
                          "pg_class c join pg_namespace n on n.oid = c.relnamespace where "
                          "c.relkind in ('r','p','S','v','m','f')")) {
    const std::string name = row[0].as<std::string>() + "." + row[1].as<std::string>();
    f.relations.insert(name);
    if (row[2].as<bool>() && is_platform_schema(row[0].c_str())) f.tables.insert(name);
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
  for (auto row : tx.exec("select n.nspname, c.relname from pg_class c join pg_namespace n on "
                          "n.oid = c.relnamespace where c.relkind in ('r','p') and "
                          "pg_has_role(current_user, c.relowner, 'USAGE')")) {
    if (is_platform_schema(row[0].c_str()))
      f.policy_tables.insert(row[0].as<std::string>() + "." + row[1].as<std::string>());
  }
  // Without owning them: supautils' policy grants (storage.objects, ... for
  // `postgres` on Supabase, no member of their owners since 2025).
  const auto grants =
      tx.exec1("select coalesce(current_setting('supautils.policy_grants', true), '')")[0]
          .as<std::string>();
  for (const auto& table : policy_grant_tables(grants, f.login_role)) {
    if (f.tables.count(table)) f.policy_tables.insert(table);
  }
  // The schema of an extension that cannot move (supabase_vault's vault),
  // and schemas that are an extension's members (pg_cron's cron).
  for (auto row :
       tx.exec("select n.nspname, e.extname from pg_extension e join pg_namespace n on n.oid = "
               "e.extnamespace where not e.extrelocatable and n.nspname not in ('pg_catalog', "
               "'public', 'information_schema') union select n.nspname, e.extname from pg_depend d "
               "join pg_namespace n on d.classid = 'pg_namespace'::regclass and d.objid = n.oid "
               "join pg_extension e on e.oid = d.refobjid where d.deptype = 'e'")) {
    f.extension_schemas[row[0].as<std::string>()] = row[1].as<std::string>();
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

// The policies on platform tables whose policies this role manages, an
// earlier drill's (the user's, since changed or dropped on the source) or the
// platform's: all dropped, the archive's created in the late pass.
void replace_platform_policies(pqxx::connection& conn, const std::set<std::string>& tables,
                               RestoreLog& log, ProfileRestoreOutcome& out) {
  pqxx::nontransaction tx(conn);
  int dropped = 0;
  for (auto row : tx.exec("select schemaname, tablename, policyname from pg_policies")) {
    const std::string table = row[0].as<std::string>() + "." + row[1].as<std::string>();
    if (!tables.count(table)) continue;
    const std::string sql = "drop policy " + tx.quote_name(row[2].as<std::string>()) + " on " +
                            tx.quote_name(row[0].as<std::string>()) + "." +
                            tx.quote_name(row[1].as<std::string>());
    try {
      tx.exec(sql);
      ++dropped;
    } catch (const std::exception& e) {
      log.error(sql, e, out.own_errors);
    }
  }
  std::string list;
  for (const auto& t : tables) list += (list.empty() ? "" : ", ") + t;
  log.line("dropped " + std::to_string(dropped) + " policies on " + list +
           " (replaced by the source's below)");
}

// The restored objects' privileges back to PostgreSQL's defaults (the
// owner's, and EXECUTE for PUBLIC on routines), before the archive's grants
// replay: pg_dump writes those relative to the defaults, so grants the
// target's default privileges added (Supabase: ALL for anon, authenticated,
// service_role on whatever `postgres` creates) would otherwise stay.
void reset_privileges(pqxx::connection& conn, const std::set<std::string>& schemas, RestoreLog& log,
                      ProfileRestoreOutcome& out) {
  if (schemas.empty()) return;
  pqxx::nontransaction tx(conn);
  std::string list;
  for (const auto& sc : schemas) list += (list.empty() ? "" : ",") + tx.quote(sc);
  const std::string not_member =
      " and not exists (select 1 from pg_depend d where d.classid = '%s'::regclass and "
      "d.objid = %s and d.deptype = 'e')";
  auto member = [&](const char* catalog, const char* oid) {
    char buf[256];
    std::snprintf(buf, sizeof buf, not_member.c_str(), catalog, oid);
    return std::string(buf);
  };
  const std::string sql =
      "select format('revoke all on %s %s from %s cascade', case c.relkind when 'S' then "
      "'sequence' else 'table' end, c.oid::regclass, case a.grantee when 0 then 'public' "
      "else quote_ident(pg_get_userbyid(a.grantee)) end) from pg_class c join pg_namespace n "
      "on n.oid = c.relnamespace cross join lateral aclexplode(c.relacl) a where n.nspname in (" +
      list + ") and c.relkind in ('r','p','v','m','f','S') and a.grantee <> c.relowner" +
      member("pg_class", "c.oid") +
      " union select format('revoke all on routine %s from %s cascade', p.oid::regprocedure, "
      "quote_ident(pg_get_userbyid(a.grantee))) from pg_proc p join pg_namespace n on n.oid = "
      "p.pronamespace cross join lateral aclexplode(p.proacl) a where n.nspname in (" +
      list + ") and a.grantee not in (0, p.proowner)" + member("pg_proc", "p.oid") +
      " union select format('grant execute on routine %s to public', p.oid::regprocedure) from "
      "pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname in (" +
      list +
      ") and p.proacl is not null and not exists (select 1 from aclexplode(p.proacl) a where "
      "a.grantee = 0)" +
      member("pg_proc", "p.oid") + " order by 1";
  int done = 0;
  for (auto row : tx.exec(sql)) {
    const std::string statement = row[0].as<std::string>();
    try {
      tx.exec(statement);
      ++done;
    } catch (const std::exception& e) {
      log.error(statement, e, out.own_errors);
    }
  }
  log.line("reset the privileges of the restored objects to PostgreSQL's defaults (" +
           std::to_string(done) + " statements) before the archive's grants");
}

bool is_superuser(pqxx::connection& conn) {
  pqxx::nontransaction tx(conn);
  return tx.exec1("select rolsuper from pg_roles where rolname = current_user")[0].as<bool>();
}

std::set<std::string> schema_names(pqxx::connection& conn) {
  pqxx::nontransaction tx(conn);
  std::set<std::string> names;
  for (auto row : tx.exec("select nspname from pg_namespace"))
    names.insert(row[0].as<std::string>());
  return names;
}

// Only tables the source has too: their policies come from the archive.
void keep_archived_policy_tables(TargetFacts& facts, const std::vector<TocEntry>& toc,
                                 TargetKind kind) {
  std::set<std::string> archived;
  for (const auto& e : toc) {
    if (e.desc == "TABLE") archived.insert(e.qualified());
  }
  std::erase_if(facts.policy_tables, [&](const std::string& t) { return !archived.count(t); });
  if (kind != TargetKind::supabase) facts.policy_tables.clear();
}

// The pg_restore arguments of the main and the late pass.
struct PassArgs {
  std::vector<std::string> main;
  std::vector<std::string> late;
};

// The pg_restore passes of a profile restore, each appending to the restore
// log and noting the first that failed in the outcome.
class Passes {
 public:
  Passes(const PgSession& s, const ProfileRestoreInput& in, RestoreLog& log,
         ProfileRestoreOutcome& out)
      : s_(s), in_(in), log_(log), out_(out) {}

  // restore_<ts>.latelist, restore_<ts>.datalist, ...: artifact names the
  // retention recognises (one extension after the stamp).
  std::filesystem::path list_file(const char* extension) const {
    return std::filesystem::path(in_.list).replace_extension(extension);
  }

  // Pass 1, extensions first (CREATE EXTENSION IF NOT EXISTS), so the plan
  // sees what installing them made on the target. Into plain PostgreSQL the
  // schemas the target lacks come with them (pgcrypto WITH SCHEMA
  // extensions); nothing to drop there, so they leave the --clean pass.
  // Returns the lines of the entries the later passes leave out.
  std::set<std::string> extensions(pqxx::connection& conn, const std::vector<TocEntry>& toc) {
    const std::set<std::string> schemas_there = schema_names(conn);
    std::vector<TocEntry> first;
    const bool with_schemas = in_.kind == TargetKind::postgres;
    for (const auto& e : toc) {
      if (e.desc == "EXTENSION" ||
          (with_schemas && e.desc == "SCHEMA" && !schemas_there.count(e.tag)))
        first.push_back(e);
    }
    if (std::any_of(first.begin(), first.end(),
                    [](const TocEntry& e) { return e.desc == "EXTENSION"; })) {
      write_private_file(in_.extlist, render_list(first));
      log_.line(std::string("pass 1: extensions") + (with_schemas ? " and schemas" : "") +
                ", created when missing");
      note_failure(restore({"--use-list=" + in_.extlist.string()}), "extensions");
    } else {
      first.clear();
    }
    std::set<std::string> done_first;
    for (const auto& e : first) done_first.insert(e.line);
    if (with_schemas) {
      // A plain target's schemas that exist already (an earlier drill's) stay:
      // --clean would drop them under the extensions that live there.
      for (const auto& e : toc) {
        if (e.desc == "SCHEMA" && schemas_there.count(e.tag)) done_first.insert(e.line);
      }
    }
    return done_first;
  }

  // --clean for the main pass, --no-owner for both when the restoring role
  // cannot take on the source's owners (said in a note).
  PassArgs pass_args(pqxx::connection& conn, const RestorePlan& plan, const TargetFacts& facts) {
    PassArgs args;
    args.main = {"--use-list=" + in_.list.string(), "--jobs=" + std::to_string(in_.jobs)};
    if (in_.clean) {
      args.main.push_back("--clean");
      args.main.push_back("--if-exists");
    }
    args.late = {"--use-list=" + list_file(".latelist").string()};
    auto strangers = foreign_owners(conn, plan.owners);
    if (!strangers.empty()) {
      args.main.push_back("--no-owner");
      args.late.push_back("--no-owner");
      out_.notes.push_back("Objects owned by " + join(strangers) + " on the source are owned by " +
                           facts.login_role + " on the target (" + facts.login_role +
                           " cannot take on those roles; pg_restore --no-owner)");
    }
    return args;
  }

  // Pass 2; false when the platform data was not committed.
  bool platform_data(const RestorePlan& plan) {
    const auto data_list = list_file(".datalist");
    write_private_file(data_list, render_list(plan.platform_data));
    log_.line("pass 2: the rows of " + std::to_string(plan.platform_tables_loaded.size()) +
              " platform tables, in replica mode on backupdrill's own connection (" +
              data_list.filename().string() + ")");
    auto data = load_platform_data(
        s_, {in_.dump, data_list, plan.platform_tables_loaded},
        [&](const std::string& l) { log_.line(l); },
        [&](const std::string& l) {
          ++out_.own_errors;
          log_.line("error: " + l);
        });
    if (!data.tool_ok && out_.tools_ok) {
      out_.tools_ok = false;
      out_.tool_status = data.tool_status;
    }
    out_.notes.insert(out_.notes.end(), data.notes.begin(), data.notes.end());
    if (data.committed) return true;
    // The user's tables would be restored against missing rows: stop
    // here, the platform tables as they were.
    log_.line("the remaining passes were not run: the platform data failed");
    if (out_.own_errors == 0) ++out_.own_errors;
    return false;
  }

  // Pass 3, then the target's policies on platform tables replaced, then
  // pass 4.
  void main_and_late(const RestorePlan& plan, const TargetFacts& facts, const PassArgs& args) {
    log_.line("pass 3: " + std::to_string(plan.main.size()) + " of the archive's entries (" +
              in_.list.filename().string() + ")" + (in_.clean ? ", each dropped first" : ""));
    note_failure(restore(args.main), "main");
    if (!facts.policy_tables.empty()) {
      pqxx::connection again(s_.target.conninfo.full());
      replace_platform_policies(again, facts.policy_tables, log_, out_);
    }
    if (!plan.late.empty()) {
      write_private_file(list_file(".latelist"), render_list(plan.late));
      log_.line("pass 4: " + std::to_string(plan.late.size()) +
                " policies, triggers and rules on one connection: of tables the target did not "
                "have (nothing to drop), and policies on platform tables");
      note_failure(restore(args.late), "late");
    }
  }

  // The privileges reset to the defaults, then pass 5: the archive's grants.
  void grants(const RestorePlan& plan) {
    {
      pqxx::connection again(s_.target.conninfo.full());
      reset_privileges(again, plan.restored_schemas, log_, out_);
    }
    if (plan.acl.empty()) return;
    const auto acl_list = list_file(".acllist");
    write_private_file(acl_list, render_list(plan.acl));
    log_.line("pass 5: " + std::to_string(plan.acl.size()) + " grants of the archive (" +
              acl_list.filename().string() + ")");
    note_failure(restore({"--use-list=" + acl_list.string()}), "grants");
  }

 private:
  ExitStatus restore(std::vector<std::string> args) {
    args.push_back(in_.dump.string());
    return run_pg_restore_logged(s_, args, in_.log);
  }

  void note_failure(const ExitStatus& status, const std::string& pass) {
    if (!status.ok() && out_.tools_ok) {
      out_.tools_ok = false;
      out_.tool_status = "pg_restore (" + pass + ") " + status.describe();
    }
  }

  const PgSession& s_;
  const ProfileRestoreInput& in_;
  RestoreLog& log_;
  ProfileRestoreOutcome& out_;
};

}  // namespace

ProfileRestoreOutcome restore_with_profile(const PgSession& s, const ProfileRestoreInput& in) {
  ProfileRestoreOutcome out;
  RestoreLog log(in.log);
  log.line(std::string("profile supabase, target kind ") + to_string(in.kind));
  pqxx::connection conn(s.target.conninfo.full());
  apply_roles(conn, in, is_superuser(conn), log, out);

  Passes passes(s, in, log, out);
  const auto toc = parse_toc(archive_listing(s, in.dump));
  const std::set<std::string> done_first = passes.extensions(conn, toc);
  if (in.kind == TargetKind::supabase && in.clean) release_user_triggers(conn, toc, log, out);
  TargetFacts facts = read_target_facts(conn);
  keep_archived_policy_tables(facts, toc, in.kind);
  RestorePlan plan = plan_restore(toc, in.kind, facts, in.clean);
  out.notes.insert(out.notes.end(), plan.notes.begin(), plan.notes.end());
  std::erase_if(plan.main, [&](const TocEntry& e) { return done_first.count(e.line) > 0; });
  write_private_file(in.list, render_list(plan.main));
  const PassArgs args = passes.pass_args(conn, plan, facts);
  conn.disconnect();  // pg_restore works on its own connections

  if (!plan.platform_data.empty() && !passes.platform_data(plan)) return out;
  passes.main_and_late(plan, facts, args);
  passes.grants(plan);
  return out;
}

}  // namespace backupdrill::supabase
