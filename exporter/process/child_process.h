#pragma once
// Runs an external program (pg_dump, pg_restore, a check worker) with an
// explicit argv and environment, its own process group (so a deadline kills
// it and anything it started), and stdin/stdout/stderr wired to files, pipes
// or /dev/null. What a child gets from the exporter is closed by default:
//  - environment: only the allow-list of child_environment() plus ChildSpec::env;
//  - descriptors: only 0, 1 and 2 (every other one is closed before execve,
//    whether or not it was opened close-on-exec);
//  - lifetime: it is killed (SIGKILL) when the exporter dies, even by kill -9.
//
// Thread safety: a ChildProcess is owned by one thread, the one that spawned
// it, which must outlive it (see spawn()); spawning from several threads at
// once is safe.
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

namespace backupdrill {

struct ChildSpec {
  enum class Stream { null, inherit, pipe, file, to_stdout };

  std::filesystem::path program;
  std::vector<std::string> args;  // without argv[0]
  // The child's environment beyond the allow-list it inherits from the
  // exporter (PATH, HOME, LANG, LANGUAGE, LC_*, TZ, TMPDIR): set, or removed
  // when nullopt. Nothing else of the exporter's environment is passed.
  std::map<std::string, std::optional<std::string>> env;

  Stream in = Stream::null;  // null, pipe or file
  std::filesystem::path in_file;
  Stream out = Stream::null;
  std::filesystem::path out_file;  // created 0600, truncated
  Stream err = Stream::null;
  std::filesystem::path err_file;
  bool append = false;  // out_file/err_file are appended to, not truncated

  // Run as another, unprivileged user (an exporter running as root starts
  // PostgreSQL servers, which refuse root): the child drops to this uid and
  // gid (its only group) before anything else, so the parent-death signal,
  // set afterwards, survives the change.
  struct User {
    uid_t uid = 0;
    gid_t gid = 0;
  };
  std::optional<User> user;
  std::filesystem::path cwd;  // the child's working directory; empty: the exporter's
};

struct ExitStatus {
  bool exited = false;
  int code = -1;
  int signal = 0;
  bool timed_out = false;
  bool cancelled = false;

  bool ok() const { return exited && code == 0 && !timed_out && !cancelled; }
  // "exit code 1", "killed by signal 9 (Killed)", "timed out after the deadline"
  std::string describe() const;
};

using Deadline = std::chrono::steady_clock::time_point;

class ChildProcess {
 public:
  // Throws std::runtime_error naming the program when it cannot be started.
  // The child gets PR_SET_PDEATHSIG(SIGKILL), which Linux sends when the
  // calling *thread* ends: call it from a thread that lives until the child
  // is reaped (the destructor and wait() do that).
  static ChildProcess spawn(const ChildSpec& spec);

  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&&) = delete;
  ChildProcess(const ChildProcess&) = delete;
  ~ChildProcess();  // kills and reaps a child still running

  pid_t pid() const { return pid_; }
  int stdout_fd() const { return stdout_fd_; }  // -1 unless Stream::pipe
  int stdin_fd() const { return stdin_fd_; }
  void close_stdin();
  void close_stdout();

  // Waits for the exit; past the deadline or once *cancel is true the process
  // group gets SIGTERM, then SIGKILL after a grace of two seconds.
  ExitStatus wait(Deadline deadline = Deadline::max(), std::stop_token cancel = {});
  void terminate_group();
  // Sends sig to the child alone (not its group): a postmaster shuts its
  // own children down (SIGINT: fast shutdown, SIGQUIT: immediate).
  void send_signal(int sig);
  // The exit status when the child has ended (reaping it), else nullopt.
  std::optional<ExitStatus> poll();
  // Hands the process over to the caller (who must reap it): the destructor
  // no longer kills it. It still dies when the spawning thread ends.
  pid_t release();

 private:
  ChildProcess() = default;
  ExitStatus reaped(int status, ExitStatus result);
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  int stdin_fd_ = -1;
  bool reaped_ = false;
};

struct CapturedRun {
  ExitStatus status;
  std::string out;  // stdout and stderr, interleaved
};

// Runs to completion, capturing stdout+stderr (at most max_bytes kept).
CapturedRun run_capture(ChildSpec spec, Deadline deadline = Deadline::max(),
                        size_t max_bytes = 16 << 20);

// While alive, a write to a pipe whose reader has gone fails with EPIPE in
// this thread instead of killing the process with SIGPIPE, whatever the
// process-wide disposition is (the library must not depend on main()).
class ScopedSigpipeBlock {
 public:
  ScopedSigpipeBlock();
  ~ScopedSigpipeBlock();
  ScopedSigpipeBlock(const ScopedSigpipeBlock&) = delete;
  ScopedSigpipeBlock& operator=(const ScopedSigpipeBlock&) = delete;

 private:
  bool was_blocked_ = false;
};

// The environment a child with these additions gets ("KEY=value" entries):
// the allow-listed variables of the exporter's environment, then `over`.
std::vector<std::string> child_environment(
    const std::map<std::string, std::optional<std::string>>& over);

// Finds an executable: a path with a '/' is taken as is; otherwise PATH.
std::optional<std::filesystem::path> find_in_path(const std::string& name);

}  // namespace backupdrill
