#pragma once
// The table of contents of a custom-format archive as `pg_restore --list`
// prints it, one entry a line:
//   3622; 0 16460 TABLE DATA auth users supabase_auth_admin
// A restore plan keeps or drops whole lines and hands the kept ones back to
// `pg_restore --use-list`.
#include <optional>
#include <string>
#include <vector>

namespace backupdrill::pg {

struct TocEntry {
  std::string line;    // as listed: what --use-list reads back
  std::string desc;    // "TABLE DATA", "SCHEMA", "ACL", "DEFAULT ACL", ...
  std::string schema;  // the namespace, "-" for objects outside a schema
  std::string tag;     // "users", "SCHEMA auth", "users on_auth_user_created"
  std::string owner;   // may be empty (extensions, comments on them)

  std::string qualified() const { return schema + "." + tag; }
  // The schema the entry belongs to: its namespace, or for a schema itself
  // (and its ACL and comment), the schema's name.
  std::string owning_schema() const;
  // ALTER ... OWNER TO is emitted for this kind of entry.
  bool has_owner_statement() const;
};

// nullopt for comments, blank lines and lines that are not entries.
std::optional<TocEntry> parse_toc_line(const std::string& line);
std::vector<TocEntry> parse_toc(const std::string& listing);

}  // namespace backupdrill::pg
