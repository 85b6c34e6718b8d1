#pragma once
// What the phases share to run PostgreSQL's tools for one drill: the tool
// paths, the password-free connection strings and the PGPASSFILEs.
#include <atomic>
#include <filesystem>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>

#include "pg/conninfo.h"
#include "pg/passfile.h"
#include "pg/tools.h"
#include "process/child_process.h"
#include "process/io_progress.h"

namespace backupdrill {

struct ToolSide {
  pg::ConnInfo conninfo;
  std::optional<std::filesystem::path> passfile;

  // The environment for a child that connects to this side, on top of the
  // allow-list every child gets (no PGPASSWORD there): the password only
  // through PGPASSFILE, never on argv.
  std::map<std::string, std::optional<std::string>> env() const {
    std::map<std::string, std::optional<std::string>> e;
    if (passfile) e["PGPASSFILE"] = passfile->string();
    e["PGAPPNAME"] = "backupdrill";
    e["PGCONNECT_TIMEOUT"] = "30";
    return e;
  }
};

struct PgSession {
  std::string drill;
  ToolSide source;
  ToolSide target;
  pg::Tool pg_dump;
  pg::Tool pg_restore;
  Deadline deadline = Deadline::max();
  std::stop_token cancel = {};
  // Where pg_restore is published while it runs, so the landing page and the
  // API can show how much of the archive it has read. May be null.
  std::shared_ptr<WatchedChild> restore_watch;
};

}  // namespace backupdrill
