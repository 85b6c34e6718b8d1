#pragma once
// The OS user a physical restore and its throwaway server run as. PostgreSQL
// refuses to run as root: an exporter running as root (containers, CI) runs
// them as [drill.restore] run_as; otherwise as itself.
#include <sys/types.h>

#include <string>

#include "process/child_process.h"

namespace backupdrill::physical {

struct OsUser {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string home;
  bool switched = false;  // another user than the exporter's (the exporter is root)
};

// run_as when the exporter is root, else the exporter's own user. Throws
// std::runtime_error when root has no usable run_as (empty, root, unknown).
OsUser restore_user(const std::string& run_as);

// Makes spec run as user: its uid and gid, HOME, and / as working directory
// (the exporter's may be unreadable to that user).
void run_as(ChildSpec& spec, const OsUser& user);

}  // namespace backupdrill::physical
