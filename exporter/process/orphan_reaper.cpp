#include "process/orphan_reaper.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <set>

namespace backupdrill {
namespace {

// One message on the pipe: +group to track, -group to forget. 4 bytes, so a
// write is atomic (< PIPE_BUF) whichever thread sends it.
std::atomic<int> g_reaper_pipe{-1};

void send(int32_t message) {
  int fd = g_reaper_pipe.load();
  if (fd < 0) return;
  ssize_t n;
  do {
    n = ::write(fd, &message, sizeof message);
  } while (n < 0 && errno == EINTR);
  // The reaper is gone (someone killed it): nothing left to tell.
  if (n < 0) g_reaper_pipe.store(-1);
}

void close_others(int keep) {
#ifdef SYS_close_range
  if (keep >= 3 && ::syscall(SYS_close_range, 3u, static_cast<unsigned>(keep - 1), 0) == 0 &&
      ::syscall(SYS_close_range, static_cast<unsigned>(keep + 1), ~0u, 0) == 0) {
    return;
  }
#endif
  for (int fd = 3; fd < 65536; ++fd) {
    if (fd != keep) ::close(fd);
  }
}

[[noreturn]] void reaper_main(int from_exporter) {
  ::prctl(PR_SET_NAME, "backupdrill-reap");
  // Signals meant for the exporter's terminal or process group (Ctrl-C, a
  // SIGTERM to the group) are the exporter's business: it stops its children
  // itself; this process ends when the exporter does.
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE}) ::signal(sig, SIG_IGN);
  // Hold nothing of the exporter's: not its output (whoever reads it waits
  // for end of file), not its files or sockets.
  int null_fd = ::open("/dev/null", O_RDWR);
  for (int fd = 0; fd <= 2; ++fd) ::dup2(null_fd, fd);
  close_others(from_exporter);
  std::set<pid_t> groups;
  int32_t message = 0;
  size_t have = 0;
  while (true) {
    ssize_t n =
        ::read(from_exporter, reinterpret_cast<char*>(&message) + have, sizeof message - have);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the exporter has ended
    have += static_cast<size_t>(n);
    if (have < sizeof message) continue;
    have = 0;
    if (message > 0) groups.insert(message);
    if (message < 0) groups.erase(-message);
  }
  for (pid_t group : groups) ::kill(-group, SIGKILL);
  ::_exit(0);
}

}  // namespace

void start_orphan_reaper() {
  if (g_reaper_pipe.load() >= 0) return;
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return;
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(p[0]);
    ::close(p[1]);
    return;
  }
  if (pid == 0) {
    ::close(p[1]);
    reaper_main(p[0]);
  }
  ::close(p[0]);
  g_reaper_pipe.store(p[1]);
}

void reaper_track(pid_t group) {
  if (group > 0) send(static_cast<int32_t>(group));
}

void reaper_forget(pid_t group) {
  if (group > 0) send(-static_cast<int32_t>(group));
}

}  // namespace backupdrill
