#include "process/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "util/secrets.h"

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

std::vector<std::string> build_env(const std::map<std::string, std::optional<std::string>>& over) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string entry = *e;
    std::string key = entry.substr(0, entry.find('='));
    // A variable that carries a secret (SOURCE_DB_URL with a password, a
    // token) is not inherited: children get passwords only via PGPASSFILE.
    if (over.contains(key) || scrub(entry) != entry) continue;
    env.push_back(std::move(entry));
  }
  for (const auto& [k, v] : over) {
    if (v) env.push_back(k + "=" + *v);
  }
  return env;
}

}  // namespace

std::string ExitStatus::describe() const {
  if (timed_out) return "timed out and was stopped";
  if (cancelled) return "was cancelled";
  if (exited) return "exit code " + std::to_string(code);
  if (signal) return "killed by signal " + std::to_string(signal) + " (" + strsignal(signal) + ")";
  return "unknown status";
}

ChildProcess ChildProcess::spawn(const ChildSpec& spec) {
  // Everything the child needs is prepared before fork(): after it, only
  // async-signal-safe calls are allowed in a multithreaded parent.
  std::vector<std::string> args{spec.program.string()};
  args.insert(args.end(), spec.args.begin(), spec.args.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env = build_env(spec.env);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  int in_child = -1, in_parent = -1, out_child = -1, out_parent = -1, err_child = -1;
  int exec_pipe[2] = {-1, -1};
  auto cleanup = [&] {
    close_fd(in_child);
    close_fd(in_parent);
    close_fd(out_child);
    close_fd(out_parent);
    close_fd(err_child);
    close_fd(exec_pipe[0]);
    close_fd(exec_pipe[1]);
  };
  try {
    int out_flags = O_WRONLY | O_CREAT | (spec.append ? O_APPEND : O_TRUNC);
    if (spec.in == ChildSpec::Stream::pipe) {
      int p[2];
      if (pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
      in_child = p[0];
      in_parent = p[1];
    } else if (spec.in == ChildSpec::Stream::file) {
      in_child = open_or_throw(spec.in_file, O_RDONLY, "reading");
    } else {
      in_child = open_or_throw("/dev/null", O_RDONLY, "reading");
    }
    switch (spec.out) {
      case ChildSpec::Stream::pipe: {
        int p[2];
        if (pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
        out_parent = p[0];
        out_child = p[1];
        break;
      }
      case ChildSpec::Stream::file:
        out_child = open_or_throw(spec.out_file, out_flags, "writing");
        break;
      case ChildSpec::Stream::inherit:
        out_child = ::dup(1);
        break;
      default:
        out_child = open_or_throw("/dev/null", O_WRONLY, "writing");
    }
    switch (spec.err) {
      case ChildSpec::Stream::file:
        err_child = open_or_throw(spec.err_file, out_flags, "writing");
        break;
      case ChildSpec::Stream::inherit:
        err_child = ::dup(2);
        break;
      case ChildSpec::Stream::to_stdout:
        err_child = ::dup(out_child);
        break;
      default:
        err_child = open_or_throw("/dev/null", O_WRONLY, "writing");
    }
    if (pipe2(exec_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  } catch (...) {
    cleanup();
    throw;
  }

  pid_t pid = ::fork();
  if (pid < 0) {
    cleanup();
    throw std::runtime_error("cannot start " + spec.program.string() +
                             ": fork failed: " + std::strerror(errno));
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    // Reset what the exporter changed so the tool sees default behaviour.
    ::signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::dup2(in_child, 0);
    ::dup2(out_child, 1);
    ::dup2(err_child, 2);
    ::execve(argv[0], argv.data(), envp.data());
    int e = errno;
    ssize_t ignored = ::write(exec_pipe[1], &e, sizeof e);
    (void)ignored;
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // both sides, to close the race with kill()
  close_fd(exec_pipe[1]);
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(exec_pipe[0], &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  close_fd(in_child);
  close_fd(out_child);
  close_fd(err_child);
  close_fd(exec_pipe[0]);
  if (n == sizeof child_errno) {
    int status;
    ::waitpid(pid, &status, 0);
    close_fd(in_parent);
    close_fd(out_parent);
    throw std::runtime_error("cannot run " + spec.program.string() + ": " +
                             std::strerror(child_errno));
  }
  ChildProcess child;
  child.pid_ = pid;
  child.stdin_fd_ = in_parent;
  child.stdout_fd_ = out_parent;
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
  }
}

void ChildProcess::close_stdin() { close_fd(stdin_fd_); }
void ChildProcess::close_stdout() { close_fd(stdout_fd_); }

pid_t ChildProcess::release() {
  close_stdin();
  close_stdout();
  reaped_ = true;
  return pid_;
}

void ChildProcess::terminate_group() {
  if (pid_ > 0 && !reaped_) ::kill(-pid_, SIGTERM);
}

ExitStatus ChildProcess::wait(Deadline deadline, const std::atomic<bool>* cancel) {
  ExitStatus result;
  if (pid_ <= 0 || reaped_) return result;
  // Deadline::max() means no SIGKILL is pending (GCC 12 misreads an optional here).
  Deadline kill_at = Deadline::max();
  while (true) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      reaped_ = true;
      if (WIFEXITED(status)) {
        result.exited = true;
        result.code = WEXITSTATUS(status);
      } else if (WIFSIGNALED(status)) {
        result.signal = WTERMSIG(status);
      }
      // Anything the tool left behind in its group goes with it.
      ::kill(-pid_, SIGKILL);
      return result;
    }
    if (r < 0 && errno != EINTR) {
      reaped_ = true;
      return result;
    }
    auto now = std::chrono::steady_clock::now();
    bool stop = false;
    if (now >= deadline && !result.timed_out && !result.cancelled) {
      result.timed_out = true;
      stop = true;
    }
    if (cancel && cancel->load() && !result.timed_out && !result.cancelled) {
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
