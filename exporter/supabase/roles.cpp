#include "supabase/roles.h"

#include <sstream>
#include <string_view>

#include "supabase/platform.h"

namespace backupdrill::supabase {
namespace {

constexpr const char* kPlatformMarker = "-- platform role";
constexpr const char* kCreateMarker = "-- project role";
constexpr const char* kAlterMarker = "-- project role attributes";
constexpr const char* kGrantMarker = "-- membership";

// The end of a role name as pg_dumpall prints it at line[at], bare
// ([A-Za-z0-9_$]+) or double-quoted with "" for a quote; npos when there is
// none. Scanned by hand: no regex over the source's output.
size_t name_end(std::string_view line, size_t at) {
  if (at >= line.size()) return std::string_view::npos;
  size_t i = at;
  if (line[i] == '"') {
    for (++i; i < line.size(); ++i) {
      if (line[i] != '"') continue;
      if (i + 1 < line.size() && line[i + 1] == '"') {
        ++i;
        continue;
      }
      return i > at + 1 ? i + 1 : std::string_view::npos;
    }
    return std::string_view::npos;
  }
  auto bare = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '$';
  };
  while (i < line.size() && bare(line[i])) ++i;
  return i > at ? i : std::string_view::npos;
}

// A statement "<prefix><name><rest>": the name, and where it ends; npos
// when the line does not start with prefix and a name.
size_t after_name(std::string_view line, std::string_view prefix, std::string& name) {
  if (!line.starts_with(prefix)) return std::string_view::npos;
  size_t end = name_end(line, prefix.size());
  if (end != std::string_view::npos) name = line.substr(prefix.size(), end - prefix.size());
  return end;
}

// What follows ";" would be .* in a regex: anything but a line break.
bool ends_statement(std::string_view rest) {
  return !rest.empty() && rest.back() == ';' && rest.find('\r') == std::string_view::npos;
}

std::string unquote(const std::string& name) {
  if (name.size() >= 2 && name.front() == '"') {
    std::string out;
    for (size_t i = 1; i + 1 < name.size(); ++i) {
      out += name[i];
      if (name[i] == '"') ++i;  // "" -> "
    }
    return out;
  }
  return name;
}

}  // namespace

std::vector<RoleStatement> split_roles(const std::string& dumpall_output) {
  // CREATE ROLE <name>;  ALTER ROLE <name> ...;
  // GRANT <name> TO <name>[ WITH ADMIN OPTION][ GRANTED BY ...];
  constexpr std::string_view kAdmin = " WITH ADMIN OPTION", kGrantedBy = " GRANTED BY ";
  std::vector<RoleStatement> out;
  std::istringstream in(dumpall_output);
  for (std::string line; std::getline(in, line);) {
    std::string_view l = line;
    std::string name, member;
    size_t end = std::string_view::npos;
    if ((end = after_name(l, "CREATE ROLE ", name)) != std::string_view::npos &&
        l.substr(end) == ";") {
      std::string role = unquote(name);
      if (is_platform_role(role)) {
        out.push_back(
            {RoleStatement::Kind::create_platform, role, "CREATE ROLE " + name + " NOLOGIN;"});
      } else {
        out.push_back({RoleStatement::Kind::create, role, line});
      }
    } else if ((end = after_name(l, "ALTER ROLE ", name)) != std::string_view::npos &&
               end < l.size() && l[end] == ' ' && ends_statement(l.substr(end + 1))) {
      std::string role = unquote(name);
      if (!is_platform_role(role)) out.push_back({RoleStatement::Kind::alter, role, line});
    } else if ((end = after_name(l, "GRANT ", name)) != std::string_view::npos) {
      std::string_view rest = l.substr(end);
      size_t member_end = after_name(rest, " TO ", member);
      if (member_end == std::string_view::npos) continue;
      rest.remove_prefix(member_end);
      std::string_view admin;
      if (rest.starts_with(kAdmin)) {
        admin = kAdmin;
        rest.remove_prefix(kAdmin.size());
      }
      bool ok = rest == ";" ||
                (rest.starts_with(kGrantedBy) && ends_statement(rest.substr(kGrantedBy.size())));
      // Memberships among platform roles are the platform's business; the
      // grantor may not exist on the target, so GRANTED BY is dropped.
      if (ok && !is_platform_role(unquote(member))) {
        out.push_back({RoleStatement::Kind::grant, unquote(member),
                       "GRANT " + name + " TO " + member + std::string(admin) + ";"});
      }
    }
  }
  return out;
}

std::string render_roles_script(const std::vector<RoleStatement>& statements,
                                const std::string& source) {
  std::ostringstream s;
  s << "-- backupdrill: the roles of " << source << "\n"
    << "-- from pg_dumpall --roles-only --no-role-passwords, split for a Supabase restore:\n"
    << "--   platform roles are created NOLOGIN, only on a target that lacks them;\n"
    << "--   project roles are created when missing, without passwords (set them on the\n"
    << "--   target); roles that exist on the target are never altered.\n";
  for (const auto& st : statements) {
    const char* marker = st.kind == RoleStatement::Kind::create_platform ? kPlatformMarker
                         : st.kind == RoleStatement::Kind::create        ? kCreateMarker
                         : st.kind == RoleStatement::Kind::alter         ? kAlterMarker
                                                                         : kGrantMarker;
    s << st.sql << " " << marker << " " << st.role << "\n";
  }
  return s.str();
}

std::vector<RoleStatement> parse_roles_script(const std::string& script) {
  std::vector<RoleStatement> out;
  std::istringstream in(script);
  const std::pair<const char*, RoleStatement::Kind> kinds[] = {
      {kAlterMarker, RoleStatement::Kind::alter},  // before kCreateMarker, its prefix
      {kPlatformMarker, RoleStatement::Kind::create_platform},
      {kCreateMarker, RoleStatement::Kind::create},
      {kGrantMarker, RoleStatement::Kind::grant}};
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("--", 0) == 0 || line.empty()) continue;
    for (const auto& [marker, kind] : kinds) {
      auto at = line.rfind(std::string("; ") + marker + " ");
      if (at == std::string::npos) continue;
      size_t role_at = at + 2 + std::string(marker).size() + 1;
      out.push_back({kind, line.substr(role_at), line.substr(0, at + 1)});
      break;
    }
  }
  return out;
}

// Removes " SUPERUSER", " NOSUPERUSER", " REPLICATION", ... (whole words).
std::string without_superuser_attributes(const std::string& alter_role) {
  auto word_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  };
  // The length of the attribute at line[at] (" NOSUPERUSER"), or 0.
  auto attribute_at = [&](std::string_view line, size_t at) -> size_t {
    if (line[at] != ' ') return 0;
    for (size_t no : {size_t{2}, size_t{0}}) {
      std::string_view word = line.substr(at + 1);
      if (no && !word.starts_with("NO")) continue;
      word.remove_prefix(no);
      for (std::string_view attr : {"SUPERUSER", "REPLICATION", "BYPASSRLS"}) {
        if (!word.starts_with(attr)) continue;
        if (word.size() > attr.size() && word_char(word[attr.size()])) continue;
        return 1 + no + attr.size();
      }
    }
    return 0;
  };
  std::string out;
  std::string_view line = alter_role;
  for (size_t i = 0; i < line.size();) {
    if (size_t n = attribute_at(line, i)) {
      i += n;
    } else {
      out += line[i++];
    }
  }
  return out;
}

}  // namespace backupdrill::supabase
