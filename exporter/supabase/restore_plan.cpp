#include "supabase/restore_plan.h"

#include <map>

#include "supabase/platform.h"

namespace backupdrill::supabase {
namespace {

std::string join(const std::set<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

// Collects dropped entries by reason, so the summary says it once per reason.
class Omissions {
 public:
  void add(const std::string& reason, const std::string& what) { by_reason_[reason].insert(what); }
  void to_notes(std::vector<std::string>& notes) const {
    for (const auto& [reason, what] : by_reason_) notes.push_back(reason + ": " + join(what));
  }

 private:
  std::map<std::string, std::set<std::string>> by_reason_;
};

// Entries a Supabase project never takes from the archive: the platform's
// own, or what only its owner may create. Each is noted with its reason.
struct LeftOutRule {
  bool (*applies)(const TocEntry& e, const TargetFacts& target);
  const char* reason;
  std::string (*what)(const TocEntry& e);  // how the note names the entry
};

const LeftOutRule kLeftOut[] = {
    {[](const TocEntry& e, const TargetFacts&) {
       return e.desc == "COMMENT" && e.tag.rfind("EXTENSION ", 0) == 0;
     },
     "Not restored: comments on extensions (only the extension's owner, "
     "supabase_admin, may set them; the project has its own)",
     [](const TocEntry& e) { return e.tag.substr(10); }},
    {[](const TocEntry& e, const TargetFacts&) { return e.desc == "EVENT TRIGGER"; },
     "Not restored: event triggers (platform machinery; creating one needs a "
     "superuser, the project has its own)",
     [](const TocEntry& e) { return e.tag; }},
    {[](const TocEntry& e, const TargetFacts& target) {
       return e.desc == "DEFAULT ACL" && is_platform_role(e.owner) && e.owner != target.login_role;
     },
     "Not restored: default privileges of platform roles (ALTER DEFAULT PRIVILEGES "
     "FOR ROLE needs membership in that role; the project sets its own)",
     [](const TocEntry& e) { return e.owner + " in schema " + e.schema; }},
    {[](const TocEntry& e, const TargetFacts&) {
       return e.desc == "PUBLICATION" && e.tag == "supabase_realtime";
     },
     "Not restored: the platform's publication (the project has it)",
     [](const TocEntry& e) { return e.tag; }},
};

// True when a rule of kLeftOut leaves the entry out (noted in left_out).
bool left_out_by_rule(const TocEntry& e, const TargetFacts& target, Omissions& left_out) {
  for (const auto& rule : kLeftOut) {
    if (rule.applies(e, target)) {
      left_out.add(rule.reason, rule.what(e));
      return true;
    }
  }
  return false;
}

// An entry of a platform schema: its data loads in the platform data pass,
// the user's triggers and policies on its tables in the main pass. False for
// the platform's DDL, which the project provides.
bool place_platform_entry(const TocEntry& e, const TargetFacts& target, RestorePlan& plan,
                          Omissions& left_out) {
  if (e.desc == "TABLE DATA" || e.desc == "SEQUENCE SET") {
    const std::string table = e.qualified();
    if (e.desc == "TABLE DATA" && is_excluded_platform_data(table)) return true;  // noted below
    if (!target.tables.count(table)) {
      left_out.add(
          "Not restored: data of platform tables the target project does not have "
          "(its platform version differs from the source's)",
          table);
      return true;
    }
    plan.platform_data.push_back(e);
    if (e.desc == "TABLE DATA") plan.platform_tables_loaded.push_back(table);
    return true;
  }
  if (e.desc == "TRIGGER" || e.desc == "POLICY") {
    // The platform's own triggers and policies are already on the target;
    // the ones it lacks are the user's (e.g. on_auth_user_created).
    const auto& have = e.desc == "TRIGGER" ? target.triggers : target.policies;
    // Policies on a platform table whose policies this role manages are
    // replaced by the source's (restore_flow drops the target's first).
    const bool replaced = e.desc == "POLICY" && target.policy_tables.count(attached_table(e));
    if (!replaced && have.count(e.schema + " " + e.tag)) {
      left_out.add(
          "Not restored: triggers and policies the target project already has "
          "(the platform's)",
          e.schema + "." + e.tag);
      return true;
    }
    plan.main.push_back(e);
    return true;
  }
  return false;
}

// What the plan leaves out or does differently, said in the summary.
void add_supabase_notes(const std::vector<TocEntry>& toc,
                        const std::set<std::string>& platform_ddl_schemas,
                        const Omissions& left_out, RestorePlan& plan) {
  if (!platform_ddl_schemas.empty()) {
    plan.notes.push_back(
        "Not restored: the platform's DDL (schemas, tables, functions, grants) "
        "of " +
        join(platform_ddl_schemas) +
        "; the Supabase project provides it, only their data was restored");
  }
  std::set<std::string> in_archive;
  for (const auto& e : toc) {
    if (e.desc == "TABLE DATA") in_archive.insert(e.qualified());
  }
  for (const auto& x : excluded_platform_data()) {
    if (in_archive.count(x.table))
      plan.notes.push_back("Not restored: rows of " + x.table + " (" + x.reason + ")");
  }
  left_out.to_notes(plan.notes);
  if (plan.replica_data) {
    plan.notes.push_back(
        "Data of the platform tables loaded with session_replication_role = replica (SET "
        "in backupdrill's own session): the project's platform tables already have their "
        "triggers and foreign keys");
  }
}

void plan_for_supabase(const std::vector<TocEntry>& toc, const TargetFacts& target,
                       RestorePlan& plan) {
  Omissions left_out;
  std::set<std::string> platform_ddl_schemas;
  for (const auto& e : toc) {
    const std::string schema = e.owning_schema();
    if (e.desc == "EXTENSION") {
      // CREATE EXTENSION IF NOT EXISTS: a no-op for the project's own; kept
      // out of the --clean pass, whose DROP EXTENSION needs the owner.
      plan.extensions.push_back(e);
      continue;
    }
    if (left_out_by_rule(e, target, left_out)) continue;
    if (!is_platform_schema(schema)) {
      plan.main.push_back(e);
      continue;
    }
    if (!place_platform_entry(e, target, plan, left_out)) platform_ddl_schemas.insert(schema);
  }
  for (const auto& e : plan.main) {
    if (e.has_owner_statement() && !e.owner.empty()) plan.owners.insert(e.owner);
  }
  plan.replica_data = !plan.platform_data.empty();
  add_supabase_notes(toc, platform_ddl_schemas, left_out, plan);
}

// --clean drops each entry before creating it; a policy, trigger or rule on a
// table the target lacks has nothing to drop, and its DROP ... IF EXISTS ON
// the missing table fails under supautils. Those go to a pass without --clean.
void hold_back_missing_drops(const TargetFacts& target, RestorePlan& plan) {
  std::vector<TocEntry> kept;
  for (auto& e : plan.main) {
    auto table = attached_table(e);
    if (!table.empty() && !target.relations.count(table)) {
      plan.late.push_back(std::move(e));
    } else {
      kept.push_back(std::move(e));
    }
  }
  plan.main = std::move(kept);
}

// Supabase's supautils takes its policy tables' locks on each CREATE POLICY
// on a platform table: two restore jobs creating policies on storage.objects
// at once can deadlock. Those policies go to the late pass, one connection.
void serialise_platform_policies(RestorePlan& plan) {
  std::vector<TocEntry> kept;
  for (auto& e : plan.main) {
    if (e.desc == "POLICY" && is_platform_schema(e.schema)) {
      plan.late.push_back(std::move(e));
    } else {
      kept.push_back(std::move(e));
    }
  }
  plan.main = std::move(kept);
}

void plan_for_postgres(const std::vector<TocEntry>& toc, RestorePlan& plan) {
  Omissions left_out;
  for (const auto& e : toc) {
    if (e.desc == "EXTENSION") {
      plan.extensions.push_back(e);
      continue;
    }
    if (e.desc == "TABLE DATA" && is_excluded_from_every_target(e.qualified())) {
      left_out.add(
          "Not restored: key material and the secrets encrypted with it (the "
          "source project's; unreadable elsewhere, and a target's own stay untouched)",
          e.qualified());
      continue;
    }
    if (e.desc == "EVENT TRIGGER") {
      left_out.add(
          "Not restored: event triggers (Supabase platform machinery, meaningless on "
          "plain PostgreSQL)",
          e.tag);
      continue;
    }
    plan.main.push_back(e);
    if (e.has_owner_statement() && !e.owner.empty()) plan.owners.insert(e.owner);
  }
  left_out.to_notes(plan.notes);
}

}  // namespace

const char* to_string(TargetKind kind) {
  return kind == TargetKind::supabase ? "supabase" : "postgres";
}

namespace {

// The privileges of a schema itself ("ACL - SCHEMA extensions"), as opposed
// to those of an object in it.
bool is_schema_acl(const TocEntry& e) {
  return e.desc == "ACL" && e.tag == "SCHEMA " + e.owning_schema();
}

// What an extension made on the target is never restored again: its
// non-member objects (a view pgsodium derives from a security label) are in
// the archive, and creating them a second time fails. Data stays (the rows
// of an extension's configuration tables, cron.job), and so, on plain
// PostgreSQL, do the schema's own privileges: a Supabase source's
// `extensions` schema (pgjwt, a non-relocatable extension, lives there) must
// keep USAGE for anon, authenticated and service_role. Into a project, the
// platform's schemas keep the project's own privileges.
void leave_extension_objects(const TargetFacts& target, TargetKind kind, RestorePlan& plan) {
  if (target.extension_schemas.empty()) return;
  Omissions left_out;
  std::vector<TocEntry> kept;
  for (auto& e : plan.main) {
    auto it = target.extension_schemas.find(e.owning_schema());
    const bool keeps_privileges = kind == TargetKind::postgres && is_schema_acl(e);
    if (it != target.extension_schemas.end() && e.desc != "TABLE DATA" &&
        e.desc != "SEQUENCE SET" && !keeps_privileges) {
      left_out.add(
          "Not restored: objects in schemas the target's extensions made (the "
          "extension created them there already)",
          e.owning_schema() + " (" + it->second + ")");
      continue;
    }
    kept.push_back(std::move(e));
  }
  plan.main = std::move(kept);
  left_out.to_notes(plan.notes);
}

// The grants leave main for their own pass; the schemas main restores are
// the ones whose objects get their privileges reset before it.
void split_grants(RestorePlan& plan) {
  std::vector<TocEntry> kept;
  for (auto& e : plan.main) {
    if (e.desc == "ACL" || e.desc == "DEFAULT ACL") {
      plan.acl.push_back(std::move(e));
      continue;
    }
    // Objects that carry privileges (relacl, proacl) created by this plan.
    static const std::set<std::string> kWithAcl{"TABLE",     "VIEW",          "MATERIALIZED VIEW",
                                                "SEQUENCE",  "FOREIGN TABLE", "FUNCTION",
                                                "PROCEDURE", "AGGREGATE"};
    if (kWithAcl.count(e.desc) && e.schema != "-") plan.restored_schemas.insert(e.schema);
    kept.push_back(std::move(e));
  }
  plan.main = std::move(kept);
}

}  // namespace

std::string attached_table(const TocEntry& e) {
  if (e.desc != "POLICY" && e.desc != "TRIGGER" && e.desc != "RULE") return "";
  // The tag is "<table> <name>" (pg_dump prints the names unquoted).
  auto space = e.tag.find(' ');
  return e.schema + "." + e.tag.substr(0, space);
}

RestorePlan plan_restore(const std::vector<TocEntry>& toc, TargetKind kind,
                         const TargetFacts& target, bool clean) {
  RestorePlan plan;
  plan.kind = kind;
  if (kind == TargetKind::supabase) {
    plan_for_supabase(toc, target, plan);
  } else {
    plan_for_postgres(toc, plan);
  }
  leave_extension_objects(target, kind, plan);
  split_grants(plan);
  if (clean) hold_back_missing_drops(target, plan);
  if (kind == TargetKind::supabase) serialise_platform_policies(plan);
  return plan;
}

std::string render_list(const std::vector<TocEntry>& entries) {
  std::string out;
  for (const auto& e : entries) out += e.line + "\n";
  return out;
}

}  // namespace backupdrill::supabase
