#include "physical/os_user.h"

#include <pwd.h>
#include <unistd.h>

#include <stdexcept>
#include <vector>

namespace backupdrill::physical {
namespace {

std::optional<OsUser> lookup(const std::string* name, uid_t uid) {
  passwd entry{};
  passwd* found = nullptr;
  std::vector<char> buffer(16384);
  const int rc = name ? ::getpwnam_r(name->c_str(), &entry, buffer.data(), buffer.size(), &found)
                      : ::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found);
  if (rc != 0 || !found) return std::nullopt;
  return OsUser{found->pw_name, found->pw_uid, found->pw_gid, found->pw_dir, false};
}

}  // namespace

OsUser restore_user(const std::string& run_as) {
  const uid_t self = ::geteuid();
  if (self != 0) {
    if (auto user = lookup(nullptr, self)) return *user;
    return OsUser{std::to_string(self), self, ::getegid(), "/", false};
  }
  if (run_as.empty() || run_as == "root") {
    throw std::runtime_error(
        "the exporter runs as root and PostgreSQL refuses to run as root: set [drill.restore] "
        "run_as to an unprivileged OS user (e.g. run_as = \"postgres\")");
  }
  auto user = lookup(&run_as, 0);
  if (!user) {
    throw std::runtime_error("[drill.restore] run_as names \"" + run_as +
                             "\", which is not a user of this machine");
  }
  if (user->uid == 0) {
    throw std::runtime_error("[drill.restore] run_as names \"" + run_as +
                             "\", a user with uid 0; PostgreSQL refuses to run as root");
  }
  user->switched = true;
  return *user;
}

void run_as(ChildSpec& spec, const OsUser& user) {
  if (user.switched) spec.user = ChildSpec::User{user.uid, user.gid};
  spec.cwd = "/";
  spec.env["HOME"] = user.home.empty() ? "/" : user.home;
}

}  // namespace backupdrill::physical
