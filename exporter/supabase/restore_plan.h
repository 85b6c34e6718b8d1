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
#include <set>
#include <string>
#include <vector>

#include "supabase/toc.h"

namespace backupdrill::supabase {

enum class TargetKind { supabase, postgres };
const char* to_string(TargetKind kind);

// What the target database already holds (only read for a Supabase target).
struct TargetFacts {
  std::set<std::string> tables;    // "auth.users": tables and sequences of platform schemas
  std::set<std::string> triggers;  // "auth users on_auth_user_created" (schema, table, name)
  std::set<std::string> policies;  // "storage objects <policy name>"
  std::string login_role;          // who restores, e.g. "postgres"
};

struct RestorePlan {
  TargetKind kind = TargetKind::postgres;
  std::vector<TocEntry> extensions;  // replayed first, without --clean
  std::vector<TocEntry> main;
  std::vector<std::string> platform_tables_loaded;  // "auth.users": emptied before loading
  std::set<std::string> owners;                     // roles named by ALTER ... OWNER TO in main
  bool replica_data = false;                        // session_replication_role = replica
  std::vector<std::string> notes;                   // what was left out on purpose, and why
};

RestorePlan plan_restore(const std::vector<TocEntry>& toc, TargetKind kind,
                         const TargetFacts& target);

// The entries as a --use-list file.
std::string render_list(const std::vector<TocEntry>& entries);

}  // namespace backupdrill::supabase
