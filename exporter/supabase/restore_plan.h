#pragma once
// Which entries of the archive a Supabase-profile restore replays, decided
// from the archive's table of contents and what the target already has:
//   into a Supabase project: the user schemas' DDL and data, the platform
//   schemas' data (auth users, storage objects, ...) and the user's own
//   triggers and policies on platform tables; never the platform's DDL, its
//   migration bookkeeping, or statements that need supabase_admin;
//   into plain PostgreSQL: everything (the platform schemas too, so auth.users
//   can be validated), without the platform's event triggers.
// Pure: the database facts come in, the lists and the notes go out.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "pg/toc.h"

namespace backupdrill::supabase {

// The archive's table of contents is pg/'s (it is about archives, not Supabase).
using pg::parse_toc;
using pg::parse_toc_line;
using pg::TocEntry;

enum class TargetKind { supabase, postgres };
const char* to_string(TargetKind kind);

// What the target database already holds.
struct TargetFacts {
  std::set<std::string> relations;  // "public.tasks": every table, view, sequence, ...
  std::set<std::string> tables;     // "auth.users": tables and sequences of platform schemas
  std::set<std::string> triggers;   // "auth users on_auth_user_created" (schema, table, name)
  std::set<std::string> policies;   // "storage objects <policy name>"
  std::string login_role;           // who restores, e.g. "postgres"
  // Schemas an extension made on the target ("vault" of supabase_vault, a
  // member schema like "cron"), with the extension: what the archive holds
  // in them (pgsodium's decrypting view, ...) the extension created already.
  std::map<std::string, std::string> extension_schemas;
  // Platform tables whose policies this role may drop and create (it has
  // their owner's rights; Supabase: storage.objects through supautils): each
  // drill makes their policies the source's.
  std::set<std::string> policy_tables;
};

struct RestorePlan {
  TargetKind kind = TargetKind::postgres;
  std::vector<TocEntry> extensions;  // replayed first, without --clean
  // Into a Supabase project: the platform tables' rows, loaded in replica
  // mode on backupdrill's own connection (platform_data.h), before main.
  std::vector<TocEntry> platform_data;
  std::vector<TocEntry> main;
  // Replayed after main by one connection (no --jobs, no --clean): in clean
  // mode, policies, triggers and rules on a table the target does not have
  // (DROP POLICY IF EXISTS ... ON a missing table is an error under
  // Supabase's supautils); into a Supabase project, the user's policies on
  // platform tables (supautils locks on each CREATE POLICY there: two jobs
  // could deadlock).
  std::vector<TocEntry> late;
  // The archive's grants (ACL, DEFAULT ACL), replayed last, after the
  // restored objects' privileges were reset to PostgreSQL's defaults: the
  // dump's GRANT/REVOKE statements are relative to those, and the target's
  // default privileges (Supabase gives anon, authenticated and service_role
  // ALL on what `postgres` creates) must not widen them.
  std::vector<TocEntry> acl;
  std::set<std::string> restored_schemas;           // whose objects' privileges are reset
  std::vector<std::string> platform_tables_loaded;  // "auth.users": emptied before loading
  std::set<std::string> owners;                     // roles named by ALTER ... OWNER TO in main
  bool replica_data = false;                        // session_replication_role = replica
  std::vector<std::string> notes;                   // what was left out on purpose, and why
};

RestorePlan plan_restore(const std::vector<TocEntry>& toc, TargetKind kind,
                         const TargetFacts& target, bool clean = false);

// The table a POLICY, TRIGGER or RULE entry is attached to ("public.tasks"),
// empty for other entries.
std::string attached_table(const TocEntry& entry);

// The entries as a --use-list file.
std::string render_list(const std::vector<TocEntry>& entries);

}  // namespace backupdrill::supabase
