#include "supabase/roles.h"

#include <regex>
#include <sstream>

#include "supabase/platform.h"

namespace backupdrill::supabase {
namespace {

constexpr const char* kPlatformMarker = "-- platform role";
constexpr const char* kCreateMarker = "-- project role";
constexpr const char* kAlterMarker = "-- project role attributes";
constexpr const char* kGrantMarker = "-- membership";

// A role name as pg_dumpall prints it: bare or double-quoted.
const char* const kName = R"((\"(?:[^\"]|\"\")+\"|[A-Za-z0-9_$]+))";

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
  static const std::regex kCreate(std::string("^CREATE ROLE ") + kName + ";$");
  static const std::regex kAlter(std::string("^ALTER ROLE ") + kName + " .*;$");
  static const std::regex kGrant(std::string("^GRANT ") + kName + " TO " + kName +
                                 "( WITH ADMIN OPTION)?( GRANTED BY .*)?;$");
  std::vector<RoleStatement> out;
  std::istringstream in(dumpall_output);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_match(line, m, kCreate)) {
      std::string role = unquote(m[1]);
      if (is_platform_role(role)) {
        out.push_back({RoleStatement::Kind::create_platform, role,
                       "CREATE ROLE " + m[1].str() + " NOLOGIN;"});
      } else {
        out.push_back({RoleStatement::Kind::create, role, line});
      }
    } else if (std::regex_match(line, m, kAlter)) {
      std::string role = unquote(m[1]);
      if (!is_platform_role(role)) out.push_back({RoleStatement::Kind::alter, role, line});
    } else if (std::regex_match(line, m, kGrant)) {
      std::string member = unquote(m[2]);
      // Memberships among platform roles are the platform's business; the
      // grantor may not exist on the target, so GRANTED BY is dropped.
      if (!is_platform_role(member)) {
        out.push_back({RoleStatement::Kind::grant, member,
                       "GRANT " + m[1].str() + " TO " + m[2].str() + m[3].str() + ";"});
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

std::string without_superuser_attributes(const std::string& alter_role) {
  static const std::regex kAttr(R"( (NO)?(SUPERUSER|REPLICATION|BYPASSRLS)\b)");
  return std::regex_replace(alter_role, kAttr, "");
}

}  // namespace backupdrill::supabase
