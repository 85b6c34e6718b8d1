#pragma once
// Runs an external program (pg_dump, pg_restore) with an explicit argv and
// environment, its own process group (so a deadline kills it and anything it
// started), and stdin/stdout/stderr wired to files, pipes or /dev/null.
//
// Thread safety: a ChildProcess is owned by one thread; spawning from several
// threads at once is safe (every descriptor is opened O_CLOEXEC).
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace backupdrill {

struct ChildSpec {
  enum class Stream { null, inherit, pipe, file, to_stdout };

  std::filesystem::path program;
  std::vector<std::string> args;  // without argv[0]
  // Added to (or, when nullopt, removed from) the inherited environment.
  std::map<std::string, std::optional<std::string>> env;

  Stream in = Stream::null;  // null, pipe or file
  std::filesystem::path in_file;
  Stream out = Stream::null;
  std::filesystem::path out_file;  // created 0600, truncated
  Stream err = Stream::null;
  std::filesystem::path err_file;
  bool append = false;  // out_file/err_file are appended to, not truncated
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
  ExitStatus wait(Deadline deadline = Deadline::max(), const std::atomic<bool>* cancel = nullptr);
  void terminate_group();
  // Hands the process over to the caller (who must reap it): the destructor
  // no longer kills it.
  pid_t release();

 private:
  ChildProcess() = default;
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

// Finds an executable: a path with a '/' is taken as is; otherwise PATH.
std::optional<std::filesystem::path> find_in_path(const std::string& name);

}  // namespace backupdrill
