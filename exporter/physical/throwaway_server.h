#pragma once
// The throwaway PostgreSQL server a physical drill starts on the restored
// data directory: run as the restore user, a child of the exporter (no
// inherited descriptors, dies with it), reachable only through a unix socket
// inside the run's directory, and configured so it can never act on
// production: no TCP listener, archive_mode off, no streaming from a
// primary, no logical replication workers, SSL off (the restored server's
// certificates are not restored), minimal memory.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "physical/os_user.h"
#include "process/child_process.h"

namespace backupdrill::physical {

struct ServerSettings {
  std::filesystem::path postgres;    // the server binary of the backup's major version
  std::filesystem::path data_dir;    // restored
  std::filesystem::path socket_dir;  // private to the run
  std::filesystem::path hba_file;    // written by start_server: local trust only
  std::filesystem::path log_file;    // the server's stderr
  OsUser user;
  int port = 5432;  // only names the socket file: there is no TCP listener
};

// The server's command line (after the program).
std::vector<std::string> server_arguments(const ServerSettings& settings);

// shared_preload_libraries of the restored configuration (`postgres -C`).
// Throws std::runtime_error with the server's message.
std::vector<std::string> preloaded_libraries(const ServerSettings& settings, Deadline deadline);

// The libraries of `libraries` this machine lacks in pkglibdir (the server's
// $libdir).
std::vector<std::string> missing_libraries(const std::vector<std::string>& libraries,
                                           const std::filesystem::path& pkglibdir);

class ThrowawayServer {
 public:
  // Writes the access rules (local trust: the socket is in a 0700 directory),
  // an empty postgresql.conf when the backup has none (Debian keeps it in
  // /etc), and starts the server. Throws std::runtime_error.
  explicit ThrowawayServer(ServerSettings settings);
  ~ThrowawayServer();
  ThrowawayServer(const ThrowawayServer&) = delete;
  ThrowawayServer& operator=(const ThrowawayServer&) = delete;

  const ServerSettings& settings() const { return settings_; }
  // The exit status once the server has ended by itself.
  std::optional<ExitStatus> exited();
  // Stops it: fast shutdown, then immediate, then SIGKILL; says which worked.
  std::string stop();

 private:
  ServerSettings settings_;
  std::optional<ChildProcess> child_;
  std::optional<ExitStatus> exit_;
};

}  // namespace backupdrill::physical
