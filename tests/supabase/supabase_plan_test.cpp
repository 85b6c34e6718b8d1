// The Supabase profile's pure parts: the archive's table of contents, the
// restore plan for each target kind, and the roles script.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "drill/restore.h"
#include "pg/restore_tool.h"
#include "pg/toc.h"
#include "supabase/cron_jobs.h"
#include "supabase/platform.h"
#include "supabase/policy_grants.h"
#include "supabase/restore_plan.h"
#include "supabase/roles.h"

namespace backupdrill::supabase {
namespace {

// Lines as pg_restore 15 lists a Supabase database (tests/fixtures).
const char* const kListing = R"(;
; Archive created at 2025-01-01 00:00:00 UTC
;
9; 2615 16399 SCHEMA - auth supabase_admin
3653; 0 0 ACL - SCHEMA auth supabase_admin
3657; 0 0 ACL - SCHEMA public pg_database_owner
3; 3079 16407 EXTENSION - pgcrypto 
3661; 0 0 COMMENT - EXTENSION pgcrypto 
962; 1247 16583 TYPE public task_status postgres
298; 1255 16496 FUNCTION auth uid() supabase_auth_admin
226; 1259 16460 TABLE auth users supabase_auth_admin
239; 1259 16601 TABLE public profiles postgres
3683; 0 0 ACL public TABLE profiles postgres
3623; 0 16470 TABLE DATA auth identities supabase_auth_admin
3621; 0 16455 TABLE DATA auth schema_migrations supabase_auth_admin
3622; 0 16460 TABLE DATA auth users supabase_auth_admin
3633; 0 16562 TABLE DATA vault secrets supabase_admin
3635; 0 16601 TABLE DATA public profiles postgres
3695; 0 0 SEQUENCE SET auth refresh_tokens_id_seq supabase_auth_admin
3458; 2620 16743 TRIGGER auth users on_auth_user_created supabase_auth_admin
3459; 2620 16538 TRIGGER storage objects update_objects_updated_at supabase_storage_admin
3450; 2606 16613 FK CONSTRAINT public profiles profiles_id_fkey postgres
3614; 3256 16730 POLICY public profiles Profiles are viewable by everyone postgres
3606; 0 16601 ROW SECURITY public profiles postgres
3605; 0 16519 ROW SECURITY storage objects supabase_storage_admin
2189; 826 16579 DEFAULT ACL public DEFAULT PRIVILEGES FOR TABLES supabase_admin
2191; 826 16738 DEFAULT ACL public DEFAULT PRIVILEGES FOR TABLES postgres
3646; 0 16726 MATERIALIZED VIEW DATA public task_status_counts postgres
4000; 3466 17000 EVENT TRIGGER - pgrst_ddl_watch supabase_admin
)";

std::vector<std::string> ids(const std::vector<TocEntry>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) out.push_back(e.line.substr(0, e.line.find(';')));
  return out;
}

bool has(const std::vector<std::string>& v, const std::string& id) {
  return std::find(v.begin(), v.end(), id) != v.end();
}

TEST(SupabaseToc, ParsesKindsSchemasTagsAndOwners) {
  auto toc = parse_toc(kListing);
  ASSERT_EQ(toc.size(), 26u);
  EXPECT_EQ(toc[0].desc, "SCHEMA");
  EXPECT_EQ(toc[0].owning_schema(), "auth");
  EXPECT_EQ(toc[1].desc, "ACL");
  EXPECT_EQ(toc[1].tag, "SCHEMA auth");
  EXPECT_EQ(toc[1].owning_schema(), "auth");
  EXPECT_EQ(toc[3].desc, "EXTENSION");
  EXPECT_EQ(toc[3].tag, "pgcrypto");
  EXPECT_EQ(toc[3].owner, "");
  EXPECT_EQ(toc[4].tag, "EXTENSION pgcrypto");
  EXPECT_EQ(toc[10].desc, "TABLE DATA");
  EXPECT_EQ(toc[10].qualified(), "auth.identities");
  EXPECT_EQ(toc[10].owner, "supabase_auth_admin");
  EXPECT_EQ(toc[16].tag, "users on_auth_user_created");
  EXPECT_EQ(toc[19].desc, "POLICY");
  EXPECT_EQ(toc[19].tag, "profiles Profiles are viewable by everyone");
  EXPECT_EQ(toc[22].desc, "DEFAULT ACL");
  EXPECT_EQ(toc[22].owner, "supabase_admin");
  EXPECT_EQ(toc[24].desc, "MATERIALIZED VIEW DATA");
  EXPECT_EQ(toc[24].qualified(), "public.task_status_counts");
  EXPECT_EQ(toc[25].desc, "EVENT TRIGGER");
  EXPECT_FALSE(parse_toc_line("; a comment"));
  EXPECT_FALSE(parse_toc_line(""));
}

TargetFacts fresh_project() {
  TargetFacts f;
  f.login_role = "postgres";
  f.tables = {"auth.users", "auth.identities", "auth.schema_migrations", "vault.secrets",
              "auth.refresh_tokens_id_seq"};
  f.triggers = {"storage objects update_objects_updated_at"};
  f.relations = f.tables;
  f.relations.insert("storage.objects");
  return f;
}

TEST(SupabasePlan, IntoAProjectOnlyUserDdlAndAllData) {
  auto plan = plan_restore(parse_toc(kListing), TargetKind::supabase, fresh_project());
  auto kept = ids(plan.main);
  // user DDL, data, grants, policies, RLS, the user's default privileges
  for (const char* id : {"962", "239", "3635", "3450", "3614", "3606", "3646"}) {
    EXPECT_TRUE(has(kept, id)) << id;
  }
  // their grants, in a pass of their own after the privileges were reset
  for (const char* id : {"3657", "3683", "2191"}) EXPECT_TRUE(has(ids(plan.acl), id)) << id;
  EXPECT_EQ(plan.restored_schemas, std::set<std::string>{"public"});
  // the user's trigger on auth.users; platform data (auth.identities,
  // auth.users, a platform sequence) goes through backupdrill's own session
  EXPECT_TRUE(has(kept, "3458"));
  auto data = ids(plan.platform_data);
  for (const char* id : {"3623", "3622", "3695"}) {
    EXPECT_TRUE(has(data, id)) << id;
    EXPECT_FALSE(has(kept, id)) << id;
  }
  // never platform DDL, the platform's trigger, RLS and default privileges,
  // migration bookkeeping, vault secrets, extension comments, event triggers
  for (const char* id :
       {"9", "3653", "298", "226", "3459", "3605", "2189", "3621", "3633", "3661", "4000", "3"}) {
    EXPECT_FALSE(has(kept, id)) << id;
  }
  EXPECT_EQ(ids(plan.extensions), std::vector<std::string>{"3"});
  EXPECT_EQ(plan.platform_tables_loaded,
            (std::vector<std::string>{"auth.identities", "auth.users"}));
  EXPECT_TRUE(plan.replica_data);
  EXPECT_EQ(plan.owners, (std::set<std::string>{"postgres"}));
  std::string notes;
  for (const auto& n : plan.notes) notes += n + "\n";
  for (const char* needle : {"auth.schema_migrations", "vault.secrets", "duplicate keys",
                             "platform's DDL", "auth", "supabase_admin in schema public",
                             "pgrst_ddl_watch", "session_replication_role = replica"}) {
    EXPECT_NE(notes.find(needle), std::string::npos) << needle << "\n" << notes;
  }
}

TEST(SupabasePlan, PlatformDataTheTargetLacksIsLeftOutAndSaid) {
  auto facts = fresh_project();
  facts.tables.erase("auth.identities");
  auto plan = plan_restore(parse_toc(kListing), TargetKind::supabase, facts);
  EXPECT_FALSE(has(ids(plan.main), "3623"));
  EXPECT_FALSE(has(ids(plan.platform_data), "3623"));
  std::string notes;
  for (const auto& n : plan.notes) notes += n + "\n";
  EXPECT_NE(notes.find("does not have"), std::string::npos) << notes;
}

// Issue 11, item 2: clean mode drops only what the target has. A policy or
// trigger on a table the target lacks leaves main's --clean pass for a later
// one; on a target that has the table it stays.
TEST(SupabasePlan, CleanModeHoldsBackDropsOnMissingTables) {
  auto facts = fresh_project();
  auto plan = plan_restore(parse_toc(kListing), TargetKind::supabase, facts, /*clean=*/true);
  EXPECT_EQ(ids(plan.late), std::vector<std::string>{"3614"});  // ON public.profiles
  EXPECT_FALSE(has(ids(plan.main), "3614"));
  EXPECT_TRUE(has(ids(plan.main), "3458"));  // ON auth.users: the target has it
  EXPECT_EQ(attached_table(parse_toc(kListing)[19]), "public.profiles");

  facts.relations.insert("public.profiles");
  plan = plan_restore(parse_toc(kListing), TargetKind::supabase, facts, /*clean=*/true);
  EXPECT_TRUE(plan.late.empty());
  EXPECT_TRUE(has(ids(plan.main), "3614"));
  // Without --clean nothing is dropped: nothing waits.
  plan = plan_restore(parse_toc(kListing), TargetKind::supabase, fresh_project(), false);
  EXPECT_TRUE(plan.late.empty());
}

// Issue 11, item 9: the user's policies on platform tables are created by
// one connection after the rest (supautils' locks made two jobs deadlock).
TEST(SupabasePlan, PoliciesOnPlatformTablesAreSerialised) {
  std::string listing = kListing;
  listing += "3700; 3256 16900 POLICY storage objects Users read their files postgres\n";
  auto facts = fresh_project();
  auto plan = plan_restore(parse_toc(listing), TargetKind::supabase, facts, /*clean=*/false);
  EXPECT_EQ(ids(plan.late), std::vector<std::string>{"3700"});
  EXPECT_FALSE(has(ids(plan.main), "3700"));
  EXPECT_TRUE(has(ids(plan.main), "3614"));  // on public.profiles: with the rest
}

// Issue 11, item 10: the failed archive entries, once each, whatever the
// number of workers that printed them or pg_restore's own tally says.
TEST(SupabaseRestoreLog, CountsFailedEntriesNotStatements) {
  auto path = std::filesystem::temp_directory_path() / "bd_supabase_restore_log_test.log";
  {
    std::ofstream out(path);
    out << "pg_restore: from TOC entry 3683; 0 0 ACL public TABLE profiles postgres\n"
           "pg_restore: from TOC entry 3614; 3256 16730 POLICY public profiles p postgres\n"
           "pg_restore: error: could not execute query: ERROR:  role \"x\" does not exist "
           "Command was: GRANT ALL ON TABLE public.profiles TO x;\n"
           "pg_restore: error: could not execute query: ERROR:  y\n"
           "pg_restore: error: could not execute query: ERROR:  z\n"
           "pg_restore: warning: errors ignored on restore: 5\n";
  }
  EXPECT_EQ(count_restore_errors(path), 2);
  {
    std::ofstream out(path);
    out << "pg_restore: error: connection to server failed\n";
  }
  EXPECT_EQ(count_restore_errors(path), 1);
  std::filesystem::remove(path);
}

// One message a line: continuation lines join the message they belong to,
// and the prefixes two workers wrote at once are split apart again.
TEST(SupabaseRestoreLog, OneMessageALineFromInterleavedWorkers) {
  std::ostringstream out;
  {
    PgRestoreStream stream(out);
    for (const char* bytes :
         {"pg_restore: error: could not execute query: ERROR:  relation \"t\" exists\n",
          "Command was: CREATE VIEW v AS\n SELECT 1;\n\n\n", "pg_restore:", "pg_res", "tore:", " ",
          " ", "error: ", "creating ACL \"x\"\n", "could not execute query: ERROR:  y\n",
          "pg_restore: from TOC entry 7; 0 0 ACL x\n"})
      stream.feed(bytes);
  }
  EXPECT_EQ(out.str(),
            "pg_restore: error: could not execute query: ERROR:  relation \"t\" exists Command "
            "was: CREATE VIEW v AS SELECT 1;\n"
            "pg_restore: error: creating ACL \"x\"\n"
            "pg_restore: could not execute query: ERROR:  y\n"
            "pg_restore: from TOC entry 7; 0 0 ACL x\n");
}

// pg_cron's rows as COPY writes them, back into jobs for cron.schedule().
TEST(SupabaseCron, JobsFromCopyRows) {
  auto columns = copy_columns(
      "COPY cron.job (jobid, schedule, command, nodename, nodeport, database, username, active, "
      "jobname) FROM stdin;");
  ASSERT_EQ(columns.size(), 9u);
  EXPECT_EQ(columns[8], "jobname");
  auto jobs =
      cron_jobs(columns, {"1\t0 3 * * *\tdelete from t where a = '\\t'\\nand b\t"
                          "localhost\t5432\tsrc\tpostgres\tt\tnightly",
                          "2\t* * * * *\tselect 1\tlocalhost\t5432\tsrc\tpostgres\tf\t\\N"});
  ASSERT_TRUE(jobs.has_value());
  ASSERT_EQ(jobs->size(), 2u);
  EXPECT_EQ((*jobs)[0].name, "nightly");
  EXPECT_EQ((*jobs)[0].command, "delete from t where a = '\t'\nand b");  // \t: a tab
  EXPECT_TRUE((*jobs)[0].active);
  EXPECT_EQ((*jobs)[1].name, "job_2");
  EXPECT_FALSE((*jobs)[1].active);
  EXPECT_FALSE(cron_jobs({"jobid"}, {"1"}).has_value());
}

TEST(SupabasePlan, IntoPlainPostgresEverythingButEventTriggers) {
  auto toc = parse_toc(kListing);
  auto plan = plan_restore(toc, TargetKind::postgres, {});
  // all but the event trigger and the vault's secrets (issue 11, item 5):
  // the extension first, the grants last
  EXPECT_EQ(plan.main.size() + plan.extensions.size() + plan.acl.size(), toc.size() - 2);
  EXPECT_FALSE(has(ids(plan.main), "4000"));
  EXPECT_FALSE(has(ids(plan.main), "3633"));
  EXPECT_TRUE(has(ids(plan.main), "9"));     // schema auth
  EXPECT_TRUE(has(ids(plan.main), "3621"));  // its migration rows, with it
  EXPECT_EQ(ids(plan.extensions), std::vector<std::string>{"3"});
  EXPECT_EQ(plan.acl.size(), 5u);

  // What the target's extensions made is not created again; their data is.
  TargetFacts facts;
  facts.extension_schemas["auth"] = "an_extension";
  plan = plan_restore(toc, TargetKind::postgres, facts);
  EXPECT_FALSE(has(ids(plan.main), "9"));
  EXPECT_FALSE(has(ids(plan.main), "298"));
  EXPECT_TRUE(has(ids(plan.main), "3622"));
  // Issue 24, item 6: the schema's own privileges come over all the same
  // (a Supabase source's `extensions`: USAGE for anon, authenticated, ...).
  EXPECT_TRUE(has(ids(plan.acl), "3653"));
  // Into a project, a schema an extension made keeps the project's privileges.
  TargetFacts made_public;
  made_public.extension_schemas["public"] = "an_extension";
  EXPECT_TRUE(has(ids(plan_restore(toc, TargetKind::postgres, made_public).acl), "3657"));
  EXPECT_FALSE(has(ids(plan_restore(toc, TargetKind::supabase, made_public).acl), "3657"));
  EXPECT_FALSE(plan.replica_data);
  EXPECT_TRUE(plan.owners.count("supabase_admin"));
}

TEST(SupabasePlatform, RolesAndSchemas) {
  for (const char* r : {"anon", "authenticated", "service_role", "authenticator", "postgres",
                        "supabase_admin", "supabase_auth_admin", "supabase_storage_admin",
                        "dashboard_user", "pgbouncer", "pgsodium_keyholder", "pg_monitor"}) {
    EXPECT_TRUE(is_platform_role(r)) << r;
  }
  for (const char* r : {"app_reader", "drill_admin", "anonymous"})
    EXPECT_FALSE(is_platform_role(r)) << r;
  for (const char* s :
       {"auth", "storage", "realtime", "extensions", "graphql", "graphql_public",
        "supabase_functions", "vault", "pgsodium", "net", "cron", "supabase_migrations"}) {
    EXPECT_TRUE(is_platform_schema(s)) << s;
  }
  EXPECT_FALSE(is_platform_schema("public"));
  EXPECT_TRUE(is_excluded_platform_data("storage.migrations"));
  EXPECT_TRUE(is_excluded_platform_data("supabase_functions.migrations"));
  EXPECT_FALSE(is_excluded_platform_data("auth.users"));
}

const char* const kDumpall = R"(--
\restrict abc
SET default_transaction_read_only = off;
CREATE ROLE anon;
ALTER ROLE anon WITH NOSUPERUSER NOINHERIT NOCREATEROLE NOCREATEDB NOLOGIN NOREPLICATION NOBYPASSRLS;
CREATE ROLE app_reader;
ALTER ROLE app_reader WITH NOSUPERUSER NOINHERIT NOCREATEROLE NOCREATEDB LOGIN NOREPLICATION NOBYPASSRLS CONNECTION LIMIT 5;
CREATE ROLE "Odd ""Name""";
CREATE ROLE supabase_admin;
ALTER ROLE supabase_admin WITH SUPERUSER INHERIT CREATEROLE CREATEDB LOGIN REPLICATION BYPASSRLS;
ALTER ROLE app_reader SET search_path TO 'public';
GRANT anon TO postgres GRANTED BY supabase_admin;
GRANT authenticated TO app_reader GRANTED BY drill_admin;
)";

TEST(SupabaseRoles, SplitsPlatformFromProjectRolesWithoutGrantors) {
  auto st = split_roles(kDumpall);
  std::string script = render_roles_script(st, "postgresql://x@h/db");
  EXPECT_EQ(script.find("restrict"), std::string::npos);
  EXPECT_EQ(script.find("SUPERUSER INHERIT"), std::string::npos);  // supabase_admin's attributes
  EXPECT_EQ(script.find("GRANTED BY"), std::string::npos);
  EXPECT_EQ(script.find("GRANT anon TO postgres"), std::string::npos);
  EXPECT_EQ(script.find("PASSWORD"), std::string::npos);
  auto back = parse_roles_script(script);
  ASSERT_EQ(back.size(), 7u) << script;
  EXPECT_EQ(back[0].kind, RoleStatement::Kind::create_platform);
  EXPECT_EQ(back[0].sql, "CREATE ROLE anon NOLOGIN;");
  EXPECT_EQ(back[1].kind, RoleStatement::Kind::create);
  EXPECT_EQ(back[1].role, "app_reader");
  EXPECT_EQ(back[2].kind, RoleStatement::Kind::alter);
  EXPECT_EQ(back[3].role, "Odd \"Name\"");
  EXPECT_EQ(back[4].sql, "CREATE ROLE supabase_admin NOLOGIN;");
  EXPECT_EQ(back[5].sql, "ALTER ROLE app_reader SET search_path TO 'public';");
  EXPECT_EQ(back[6].sql, "GRANT authenticated TO app_reader;");
  EXPECT_EQ(
      without_superuser_attributes(back[2].sql),
      "ALTER ROLE app_reader WITH NOINHERIT NOCREATEROLE NOCREATEDB LOGIN CONNECTION LIMIT 5;");
}

// Issue 11, by hand against a database built as Supabase builds it: since
// the 2025 change `postgres` owns nothing of Storage and is no member of its
// owner, yet supautils.policy_grants lets it manage the policies on
// storage.objects; a drill must replace them (the user's, changed or dropped
// on the source), not keep them as the platform's.
TEST(SupabasePolicyGrants, TablesNamedForTheRole) {
  const std::string setting =
      R"({"postgres":["auth.users","storage.objects"],"dashboard_user":["storage.buckets"]})";
  EXPECT_EQ(policy_grant_tables(setting, "postgres"),
            (std::set<std::string>{"auth.users", "storage.objects"}));
  EXPECT_EQ(policy_grant_tables(setting, "dashboard_user"),
            (std::set<std::string>{"storage.buckets"}));
  EXPECT_TRUE(policy_grant_tables(setting, "app_user").empty());
}

TEST(SupabasePolicyGrants, NoneWithoutTheSetting) {
  EXPECT_TRUE(policy_grant_tables("", "postgres").empty());  // supautils not loaded
  EXPECT_TRUE(policy_grant_tables("{not json", "postgres").empty());
  EXPECT_TRUE(policy_grant_tables(R"(["storage.objects"])", "postgres").empty());
  EXPECT_TRUE(policy_grant_tables(R"({"postgres":"storage.objects"})", "postgres").empty());
  EXPECT_EQ(policy_grant_tables(R"({"postgres":["storage.objects",7]})", "postgres"),
            (std::set<std::string>{"storage.objects"}));
}

}  // namespace
}  // namespace backupdrill::supabase
