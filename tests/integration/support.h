#pragma once
// Helpers for the integration tests: the clusters started by clusters.sh,
// throwaway databases in them, and running the real exporter binary.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace backupdrill::testing {

struct Cluster {
  std::string host;
  std::string port;
  std::string user;
  std::string password;
  std::string bin_dir;
  std::string socket_dir;

  // postgresql://user:password@host:port/db
  std::string url(const std::string& db, bool with_password = true) const;
  // Keyword/value form without password, over the unix socket (trust).
  std::string socket_conninfo(const std::string& db) const;
};

// Cluster "a" (with the demo_template database) or "b" (plain).
const Cluster& cluster(const std::string& name);

// Runs SQL as the admin on a database; returns the first column of the first row.
std::string sql(const Cluster& c, const std::string& db, const std::string& query);
void sql_exec(const Cluster& c, const std::string& db, const std::string& query);

// A database copied from demo_template (on cluster a), dropped in the destructor.
class ScratchDb {
 public:
  ScratchDb(const Cluster& c, std::string name, bool from_template);
  ~ScratchDb();
  const std::string& name() const { return name_; }

 private:
  const Cluster& cluster_;
  std::string name_;
};

bool database_exists(const Cluster& c, const std::string& db);
// Drops it if it exists (targets a drill created).
void drop_database(const Cluster& c, const std::string& db);

struct ExporterRun {
  int exit_code = -1;
  std::string output;  // stdout + stderr
};

// Runs build/bin/backupdrill_exporter with args and environment changes
// (nullopt unsets); PGPASSWORD and the runbook variables are unset first.
ExporterRun run_exporter(const std::vector<std::string>& args,
                         std::map<std::string, std::optional<std::string>> env = {},
                         int timeout_seconds = 300);

// The runbook's variables for a drill between two databases of cluster "a",
// with its artifacts under dir.
std::map<std::string, std::optional<std::string>> runbook_env(const std::string& source_db,
                                                              const std::string& target_db,
                                                              const std::filesystem::path& dir);

// A fresh empty folder under the test's build directory.
std::filesystem::path fresh_dir(const std::string& name);

std::string read_file(const std::filesystem::path& path);
void write_file(const std::filesystem::path& path, const std::string& content, int mode = 0644);

// A pg_bin_dir in dir/bin for a drill: each of pg_dump and pg_restore is the
// given shell script, or a link to cluster c's real tool when none is given.
// Scripts reach the real tool as "$REAL".
std::filesystem::path tool_wrappers(const Cluster& c, const std::filesystem::path& dir,
                                    const std::map<std::string, std::string>& scripts);

// The one file in folder whose name starts with prefix and ends with suffix.
std::filesystem::path only_file(const std::filesystem::path& folder, const std::string& prefix,
                                const std::string& suffix);

}  // namespace backupdrill::testing
