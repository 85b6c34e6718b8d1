#pragma once
// Where a physical drill's files live: the private work_dir, and in it one
// directory per run (data directory, remapped tablespaces, the server's
// socket), marked as the exporter's so that only directories it created are
// ever removed, including those a crashed run left behind.
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "physical/os_user.h"

namespace backupdrill::physical {

// The file that marks a run directory as the exporter's: it holds the pid and
// identity (util/process_identity.h) of the process running it.
inline constexpr const char* kRunMarker = ".backupdrill-run";

// Creates work_dir (0700, owned by user) when absent. Throws
// std::runtime_error when it is not a directory, is owned by another user, or
// others can read it.
void prepare_work_dir(const std::filesystem::path& work_dir, const OsUser& user);

// Refuses a work_dir inside a PostgreSQL data directory (a parent holding
// PG_VERSION) or inside one of the named places (the repository, the source's
// data directory). Throws std::runtime_error naming it.
void refuse_unsafe_location(
    const std::filesystem::path& work_dir,
    const std::vector<std::pair<std::string, std::filesystem::path>>& forbidden);

struct RunDir {
  std::filesystem::path root;         // <work_dir>/<run id>[-N]
  std::filesystem::path data;         // the restored data directory
  std::filesystem::path tablespaces;  // where tablespaces are remapped
};

// A fresh run directory for one run (0700, owned by user; its data directory
// does not exist yet, as pgBackRest never restores into an existing one).
// Named after the run, with -2, -3... when another drill sharing work_dir
// took the name. Throws std::runtime_error when it cannot be created.
RunDir create_run_dir(const std::filesystem::path& work_dir, const std::string& name,
                      const OsUser& user);

// Removes the marked run directories under work_dir whose process is gone (a
// crashed or killed run); returns their paths. Unmarked entries are left
// alone.
std::vector<std::filesystem::path> remove_leftover_runs(const std::filesystem::path& work_dir);

// Removes a run's directory (only when it carries the marker). Throws
// std::runtime_error when something stays.
void remove_run_dir(const RunDir& run);

}  // namespace backupdrill::physical
