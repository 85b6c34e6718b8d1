#pragma once
// Running pgBackRest for a drill: the program found on PATH, the drill's
// --config and --stanza on every call, as the restore user, and its own
// error line picked out of its output for people.
#include <filesystem>
#include <string>
#include <vector>

#include "physical/os_user.h"
#include "process/child_process.h"

namespace backupdrill::physical {

struct PgBackRest {
  std::filesystem::path program;
  std::string config;  // --config; empty: pgBackRest's default file
  std::string stanza;
  OsUser user;

  // The child spec of `pgbackrest [--config] --stanza <options> <command>`.
  ChildSpec spec(const std::string& command, const std::vector<std::string>& options) const;
  // Runs it to completion, output captured. Throws std::runtime_error when it
  // cannot be started.
  CapturedRun run(const std::string& command, const std::vector<std::string>& options,
                  Deadline deadline) const;
  // "2.45" (from `pgbackrest version`); empty when it does not say.
  std::string version(Deadline deadline) const;
  // The configuration file pgBackRest reads: config, else its default.
  std::filesystem::path config_file() const;
};

// Finds pgbackrest on PATH; throws std::runtime_error saying to install it.
PgBackRest find_pgbackrest(const std::string& config, const std::string& stanza,
                           const OsUser& user);

// pgBackRest's own error lines ("ERROR: [055]: unable to load info file ...")
// in its output, joined; else the output's last non-empty line.
std::string pgbackrest_error(const std::string& output);

// A key's value in pgBackRest's ini-style configuration file (the stanza's
// section first, then [global]); empty when it is not set or unreadable.
std::string pgbackrest_option(const std::filesystem::path& file, const std::string& stanza,
                              const std::string& key);

}  // namespace backupdrill::physical
