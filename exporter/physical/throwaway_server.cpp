#include "physical/throwaway_server.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace backupdrill::physical {
namespace fs = std::filesystem;
namespace {

void write_owned_file(const fs::path& path, const std::string& content, const OsUser& user) {
  {
    std::ofstream out(path, std::ios::trunc);
    out << content;
    if (!out) throw std::runtime_error("cannot write " + path.string());
  }
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
  if (user.switched && ::chown(path.c_str(), user.uid, user.gid) != 0) {
    throw std::runtime_error("cannot give " + path.string() + " to " + user.name + ": " +
                             std::strerror(errno));
  }
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n\"'");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n\"'") - b + 1);
}

// Waits up to `limit` for the server to exit.
std::optional<ExitStatus> wait_exit(ChildProcess& child, std::chrono::seconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (auto status = child.poll()) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return std::nullopt;
}

}  // namespace

std::vector<std::string> server_arguments(const ServerSettings& s) {
  std::vector<std::string> args{"-D", s.data_dir.string()};
  for (const std::string& option : std::vector<std::string>{
           "listen_addresses=",  // no TCP listener: the socket only
           "unix_socket_directories=" + s.socket_dir.string(),
           "unix_socket_permissions=0700",
           "port=" + std::to_string(s.port),
           "hba_file=" + s.hba_file.string(),
           "ident_file=" + s.hba_file.string() + ".ident",
           "ssl=off",
           // Never push WAL into the production repository, never stream
           // from the production primary, never apply subscriptions. (Slots
           // and WAL senders keep the backup's limits: hot standby refuses
           // lower ones than the primary's.)
           "archive_mode=off",
           "archive_command=",
           "primary_conninfo=",
           "primary_slot_name=",
           "max_logical_replication_workers=0",
           // Minimal memory; a throwaway server needs no durability.
           "shared_buffers=32MB",
           "work_mem=4MB",
           "maintenance_work_mem=64MB",
           "effective_cache_size=128MB",
           "fsync=off",
           "synchronous_commit=off",
           "full_page_writes=off",
           "autovacuum=off",
           // Its log goes to our file, with the recovery's own lines.
           "logging_collector=off",
           "log_destination=stderr",
           "log_min_messages=log",
           "cluster_name=backupdrill",
       }) {
    args.push_back("-c");
    args.push_back(option);
  }
  return args;
}

std::vector<std::string> preloaded_libraries(const ServerSettings& s, Deadline deadline) {
  ChildSpec spec;
  spec.program = s.postgres;
  spec.args = {"-D", s.data_dir.string(), "-C", "shared_preload_libraries"};
  run_as(spec, s.user);
  const auto run = run_capture(spec, deadline, 64 << 10);
  if (!run.status.ok()) {
    throw std::runtime_error("postgres -C shared_preload_libraries on the restored data " +
                             run.status.describe() + ": " + trim(run.out));
  }
  std::vector<std::string> out;
  std::string text = trim(run.out);
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = text.find(',', start);
    const std::string lib = trim(text.substr(start, comma - start));
    if (!lib.empty()) out.push_back(lib);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::vector<std::string> missing_libraries(const std::vector<std::string>& libraries,
                                           const fs::path& pkglibdir) {
  std::vector<std::string> missing;
  std::error_code ec;
  for (const std::string& lib : libraries) {
    std::string name = lib;
    if (name.starts_with("$libdir/")) name = name.substr(8);
    fs::path file = name.find('/') != std::string::npos ? fs::path(name) : pkglibdir / name;
    if (!fs::exists(file, ec) && !fs::exists(file.string() + ".so", ec)) missing.push_back(lib);
  }
  return missing;
}

ThrowawayServer::ThrowawayServer(ServerSettings settings) : settings_(std::move(settings)) {
  const auto& s = settings_;
  write_owned_file(s.hba_file,
                   "# backupdrill: the throwaway server's only access: its private socket\n"
                   "local all all trust\n",
                   s.user);
  write_owned_file(s.hba_file.string() + ".ident", "", s.user);
  std::error_code ec;
  if (!fs::exists(s.data_dir / "postgresql.conf", ec)) {
    write_owned_file(s.data_dir / "postgresql.conf",
                     "# backupdrill: the backup held no postgresql.conf\n", s.user);
  }
  ChildSpec spec;
  spec.program = s.postgres;
  spec.args = server_arguments(s);
  spec.out = ChildSpec::Stream::file;
  spec.out_file = s.log_file;
  spec.err = ChildSpec::Stream::to_stdout;
  run_as(spec, s.user);
  child_.emplace(ChildProcess::spawn(spec));
}

ThrowawayServer::~ThrowawayServer() {
  try {
    stop();
  } catch (...) {
  }
}

std::optional<ExitStatus> ThrowawayServer::exited() {
  if (!exit_ && child_) exit_ = child_->poll();
  return exit_;
}

std::string ThrowawayServer::stop() {
  if (!child_) return "not started";
  if (exited()) return "had already exited (" + exit_->describe() + ")";
  child_->send_signal(SIGINT);  // fast shutdown
  if ((exit_ = wait_exit(*child_, std::chrono::seconds(30)))) return "stopped (fast shutdown)";
  child_->send_signal(SIGQUIT);  // immediate shutdown
  if ((exit_ = wait_exit(*child_, std::chrono::seconds(10)))) {
    return "stopped (immediate shutdown after the fast one took over 30 s)";
  }
  child_.reset();  // SIGKILL to its process group, reaped
  exit_ = ExitStatus{};
  return "killed (it ignored fast and immediate shutdown)";
}

}  // namespace backupdrill::physical
