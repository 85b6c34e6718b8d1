#include "process/child_process.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string_view>
#include <thread>

#include "process/orphan_reaper.h"

extern char** environ;

namespace backupdrill {
namespace {

int open_or_throw(const std::filesystem::path& path, int flags, const std::string& what) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0600);
  if (fd < 0) {
    throw std::runtime_error("cannot open " + path.string() + " for " + what + ": " +
                             std::strerror(errno));
  }
  return fd;
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// The exporter's own variables a child inherits: what a tool needs to find
// programs, speak the user's language and time zone, and find its home
// (~/.pgpass, ~/.pg_service.conf) and scratch space. Everything else, and in
// particular SOURCE_DB_URL, PGPASSWORD or tokens, stays in the exporter: a
// child gets the rest only through ChildSpec::env.
bool inherited_by_children(std::string_view name) {
  return name == "PATH" || name == "HOME" || name == "LANG" || name == "LANGUAGE" || name == "TZ" ||
         name == "TMPDIR" || name.starts_with("LC_");
}

}  // namespace

std::vector<std::string> child_environment(
    const std::map<std::string, std::optional<std::string>>& over) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry = *e;
    std::string_view key = entry.substr(0, entry.find('='));
    if (!inherited_by_children(key) || over.contains(std::string(key))) continue;
    env.emplace_back(entry);
  }
  for (const auto& [k, v] : over) {
    if (v) env.push_back(k + "=" + *v);
  }
  return env;
}

namespace {

// The highest descriptor number a child might have inherited, computed before
// fork() for the fallback below.
int highest_possible_fd() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 65535;
  return static_cast<int>(std::min<rlim_t>(limit.rlim_cur, 1 << 20)) - 1;
}

// In the forked child: closes every descriptor above 2 except keep (the
// exec-error pipe, itself close-on-exec). Whatever the exporter opened
// without O_CLOEXEC (an ifstream, a socket Boost.Asio accepted, a library's
// file) never reaches a tool or a plugin. Async-signal-safe: only syscalls.
void close_inherited_fds(int keep, int highest) {
  auto close_between = [highest](int from, int to) {  // [from, to]
    if (from > to) return;
#ifdef SYS_close_range
    if (::syscall(SYS_close_range, static_cast<unsigned>(from), static_cast<unsigned>(to), 0) ==
        0) {
      return;
    }
#endif
    // Linux < 5.9: no close_range; close one by one up to the limit.
    for (int fd = from; fd <= std::min(to, highest); ++fd) ::close(fd);
  };
  if (keep < 3) {
    close_between(3, INT_MAX);
    return;
  }
  close_between(3, keep - 1);
  close_between(keep + 1, INT_MAX);
}

}  // namespace

std::string ExitStatus::describe() const {
  if (timed_out) return "timed out and was stopped";
  if (cancelled) return "was cancelled";
  if (exited) return "exit code " + std::to_string(code);
  if (signal) return "killed by signal " + std::to_string(signal) + " (" + strsignal(signal) + ")";
  return "unknown status";
}

namespace {

// argv and envp for execve(), built before fork(). The pointers point into
// the strings, so the object neither copies nor moves.
class ExecVectors {
 public:
  explicit ExecVectors(const ChildSpec& spec)
      : args_{spec.program.string()}, env_(child_environment(spec.env)) {
    args_.insert(args_.end(), spec.args.begin(), spec.args.end());
    for (auto& a : args_) argv_.push_back(a.data());
    argv_.push_back(nullptr);
    for (auto& e : env_) envp_.push_back(e.data());
    envp_.push_back(nullptr);
  }
  ExecVectors(const ExecVectors&) = delete;
  ExecVectors& operator=(const ExecVectors&) = delete;

  char* const* argv() const { return argv_.data(); }
  char* const* envp() const { return envp_.data(); }

 private:
  std::vector<std::string> args_;
  std::vector<std::string> env_;
  std::vector<char*> argv_;
  std::vector<char*> envp_;
};

// The descriptors of a spawn: the child's ends of its stdin, stdout and
// stderr, the parent's ends of the pipes, and the pipe through which the
// child reports why it could not exec (close-on-exec: EOF means it did).
struct SpawnFds {
  int in_child = -1, in_parent = -1, out_child = -1, out_parent = -1, err_child = -1;
  int exec_pipe[2] = {-1, -1};

  void close_all() {
    close_fd(in_child);
    close_fd(in_parent);
    close_fd(out_child);
    close_fd(out_parent);
    close_fd(err_child);
    close_fd(exec_pipe[0]);
    close_fd(exec_pipe[1]);
  }
};

// A close-on-exec pipe as {read end, write end}.
void open_pipe(int& read_end, int& write_end) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  read_end = p[0];
  write_end = p[1];
}

void open_stdin(const ChildSpec& spec, SpawnFds& fds) {
  if (spec.in == ChildSpec::Stream::pipe) {
    open_pipe(fds.in_child, fds.in_parent);
  } else if (spec.in == ChildSpec::Stream::file) {
    fds.in_child = open_or_throw(spec.in_file, O_RDONLY, "reading");
  } else {
    fds.in_child = open_or_throw("/dev/null", O_RDONLY, "reading");
  }
}

void open_stdout(const ChildSpec& spec, int out_flags, SpawnFds& fds) {
  switch (spec.out) {
    case ChildSpec::Stream::pipe:
      open_pipe(fds.out_parent, fds.out_child);
      break;
    case ChildSpec::Stream::file:
      fds.out_child = open_or_throw(spec.out_file, out_flags, "writing");
      break;
    case ChildSpec::Stream::inherit:
      fds.out_child = ::fcntl(1, F_DUPFD_CLOEXEC, 0);
      break;
    default:
      fds.out_child = open_or_throw("/dev/null", O_WRONLY, "writing");
  }
}

void open_stderr(const ChildSpec& spec, int out_flags, SpawnFds& fds) {
  switch (spec.err) {
    case ChildSpec::Stream::file:
      fds.err_child = open_or_throw(spec.err_file, out_flags, "writing");
      break;
    case ChildSpec::Stream::inherit:
      fds.err_child = ::fcntl(2, F_DUPFD_CLOEXEC, 0);
      break;
    case ChildSpec::Stream::to_stdout:
      fds.err_child = ::fcntl(fds.out_child, F_DUPFD_CLOEXEC, 0);
      break;
    default:
      fds.err_child = open_or_throw("/dev/null", O_WRONLY, "writing");
  }
}

// Every descriptor of the spawn, or none (closed again) and the exception.
void open_spawn_fds(const ChildSpec& spec, SpawnFds& fds) {
  try {
    int out_flags = O_WRONLY | O_CREAT | (spec.append ? O_APPEND : O_TRUNC);
    open_stdin(spec, fds);
    open_stdout(spec, out_flags, fds);
    open_stderr(spec, out_flags, fds);
    open_pipe(fds.exec_pipe[0], fds.exec_pipe[1]);
  } catch (...) {
    fds.close_all();
    throw;
  }
}

// What the forked child needs besides its descriptors, computed before fork().
struct ChildSetup {
  pid_t parent;
  int highest_fd;
  std::string cwd;
  std::optional<ChildSpec::User> user;
};

// In the forked child: tells the parent errno through the exec pipe and exits.
[[noreturn]] void report_errno_and_exit(int exec_pipe) {
  int e = errno;
  ssize_t ignored = ::write(exec_pipe, &e, sizeof e);
  (void)ignored;
  ::_exit(127);
}

// In the forked child, up to execve(). Async-signal-safe: only syscalls.
[[noreturn]] void exec_in_child(const SpawnFds& fds, const ChildSetup& setup,
                                const ExecVectors& exec) {
  const int report = fds.exec_pipe[1];
  // Credentials first: changing them clears the parent-death signal.
  if (setup.user && (::setgroups(1, &setup.user->gid) != 0 || ::setgid(setup.user->gid) != 0 ||
                     ::setuid(setup.user->uid) != 0)) {
    report_errno_and_exit(report);
  }
  if (!setup.cwd.empty() && ::chdir(setup.cwd.c_str()) != 0) report_errno_and_exit(report);
  // The child dies with the exporter, even on kill -9, instead of running
  // on unsupervised. The signal is sent when the *thread* that forked
  // exits, not the process: that is safe here because a ChildProcess is
  // owned by the thread that spawned it and reaps (or kills) it before
  // going away (wait() or the destructor), so the thread always outlives
  // its children. Only release() breaks that rule, and the caller then
  // keeps the thread alive (tests start the exporter from their main
  // thread). The flag survives execve (our tools are not set-uid).
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  // The exporter may have died before prctl: then nobody would signal us.
  if (::getppid() != setup.parent) ::_exit(127);
  ::setpgid(0, 0);
  // Reset what the exporter changed so the tool sees default behaviour.
  ::signal(SIGPIPE, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::dup2(fds.in_child, 0);
  ::dup2(fds.out_child, 1);
  ::dup2(fds.err_child, 2);
  close_inherited_fds(report, setup.highest_fd);
  ::execve(exec.argv()[0], exec.argv(), exec.envp());
  report_errno_and_exit(report);
}

// In the parent: the child's errno when it could not exec, else nullopt
// (the pipe closed on execve).
std::optional<int> read_exec_errno(int exec_pipe) {
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(exec_pipe, &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  if (n == sizeof child_errno) return child_errno;
  return std::nullopt;
}

}  // namespace

ChildProcess ChildProcess::spawn(const ChildSpec& spec) {
  // Everything the child needs is prepared before fork(): after it, only
  // async-signal-safe calls are allowed in a multithreaded parent.
  const ExecVectors exec(spec);
  SpawnFds fds;
  open_spawn_fds(spec, fds);
  const ChildSetup setup{::getpid(), highest_possible_fd(), spec.cwd.string(), spec.user};
  pid_t pid = ::fork();
  if (pid < 0) {
    fds.close_all();
    throw std::runtime_error("cannot start " + spec.program.string() +
                             ": fork failed: " + std::strerror(errno));
  }
  if (pid == 0) exec_in_child(fds, setup, exec);
  ::setpgid(pid, pid);  // both sides, to close the race with kill()
  reaper_track(pid);
  close_fd(fds.exec_pipe[1]);
  const std::optional<int> child_errno = read_exec_errno(fds.exec_pipe[0]);
  close_fd(fds.in_child);
  close_fd(fds.out_child);
  close_fd(fds.err_child);
  close_fd(fds.exec_pipe[0]);
  if (child_errno) {
    int status;
    ::waitpid(pid, &status, 0);
    reaper_forget(pid);
    close_fd(fds.in_parent);
    close_fd(fds.out_parent);
    throw std::runtime_error("cannot run " + spec.program.string() + ": " +
                             std::strerror(*child_errno));
  }
  ChildProcess child;
  child.pid_ = pid;
  child.stdin_fd_ = fds.in_parent;
  child.stdout_fd_ = fds.out_parent;
  return child;
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(other.pid_),
      stdout_fd_(other.stdout_fd_),
      stdin_fd_(other.stdin_fd_),
      reaped_(other.reaped_) {
  other.pid_ = -1;
  other.stdout_fd_ = -1;
  other.stdin_fd_ = -1;
  other.reaped_ = true;
}

ChildProcess::~ChildProcess() {
  close_stdin();
  close_stdout();
  if (pid_ > 0 && !reaped_) {
    ::kill(-pid_, SIGKILL);
    int status;
    ::waitpid(pid_, &status, 0);
    reaper_forget(pid_);
  }
}

void ChildProcess::close_stdin() { close_fd(stdin_fd_); }
void ChildProcess::close_stdout() { close_fd(stdout_fd_); }

pid_t ChildProcess::release() {
  close_stdin();
  close_stdout();
  if (!reaped_) reaper_forget(pid_);
  reaped_ = true;
  return pid_;
}

void ChildProcess::terminate_group() {
  if (pid_ > 0 && !reaped_) ::kill(-pid_, SIGTERM);
}

void ChildProcess::send_signal(int sig) {
  if (pid_ > 0 && !reaped_) ::kill(pid_, sig);
}

std::optional<ExitStatus> ChildProcess::poll() {
  if (pid_ <= 0 || reaped_) return std::nullopt;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) != pid_) return std::nullopt;
  return reaped(status, {});
}

// The child has been reaped with this wait status; `result` holds what wait()
// did to it (timed out, cancelled). Anything the tool left behind in its group
// goes with it.
ExitStatus ChildProcess::reaped(int status, ExitStatus result) {
  reaped_ = true;
  if (WIFEXITED(status)) {
    result.exited = true;
    result.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.signal = WTERMSIG(status);
  }
  ::kill(-pid_, SIGKILL);
  reaper_forget(pid_);
  return result;
}

ExitStatus ChildProcess::wait(Deadline deadline, std::stop_token cancel) {
  ExitStatus result;
  if (pid_ <= 0 || reaped_) return result;
  // Deadline::max() means no SIGKILL is pending (GCC 12 misreads an optional here).
  Deadline kill_at = Deadline::max();
  while (true) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) return reaped(status, result);
    if (r < 0 && errno != EINTR) {
      reaped_ = true;
      reaper_forget(pid_);
      return result;
    }
    auto now = std::chrono::steady_clock::now();
    bool stop = false;
    if (now >= deadline && !result.timed_out && !result.cancelled) {
      result.timed_out = true;
      stop = true;
    }
    if (cancel.stop_requested() && !result.timed_out && !result.cancelled) {
      result.cancelled = true;
      stop = true;
    }
    if (stop) {
      ::kill(-pid_, SIGTERM);
      kill_at = now + std::chrono::seconds(2);
    }
    if (now >= kill_at) {
      ::kill(-pid_, SIGKILL);
      kill_at = Deadline::max();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

CapturedRun run_capture(ChildSpec spec, Deadline deadline, size_t max_bytes) {
  spec.out = ChildSpec::Stream::pipe;
  spec.err = ChildSpec::Stream::to_stdout;
  auto child = ChildProcess::spawn(spec);
  CapturedRun run;
  char buf[65536];
  while (true) {
    pollfd pfd{child.stdout_fd(), POLLIN, 0};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) break;
    int pr = ::poll(&pfd, 1, static_cast<int>(std::min<long long>(left, 1000)));
    if (pr < 0 && errno == EINTR) continue;
    if (pr <= 0) continue;
    ssize_t n = ::read(child.stdout_fd(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (run.out.size() < max_bytes) run.out.append(buf, static_cast<size_t>(n));
  }
  child.close_stdout();
  run.status = child.wait(deadline);
  return run;
}

ScopedSigpipeBlock::ScopedSigpipeBlock() {
  sigset_t pipe_set, old;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  was_blocked_ = sigismember(&old, SIGPIPE) == 1;
}

ScopedSigpipeBlock::~ScopedSigpipeBlock() {
  if (was_blocked_) return;
  // Consume a SIGPIPE raised while blocked, so unblocking does not deliver it.
  sigset_t pipe_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  timespec zero{0, 0};
  while (sigtimedwait(&pipe_set, nullptr, &zero) == SIGPIPE) {
  }
  pthread_sigmask(SIG_UNBLOCK, &pipe_set, nullptr);
}

std::optional<std::filesystem::path> find_in_path(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    if (::access(name.c_str(), X_OK) == 0) return std::filesystem::path(name);
    return std::nullopt;
  }
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string dir = dirs.substr(start, end - start);
    if (dir.empty()) dir = ".";
    std::filesystem::path candidate = std::filesystem::path(dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return std::nullopt;
}

}  // namespace backupdrill
