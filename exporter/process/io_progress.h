#pragma once
// How far a running child has come: the bytes its process group has read
// (rchar) or written (wchar) so far, from /proc/<pid>/io of each process in
// the group. pg_restore reports no progress of its own; what it has read of
// the archive is the best measure of how far a restore is (its reads of the
// server's answers are small next to the archive). pgbackrest restore's is
// what it has written into the data directory (its log lines are small next
// to the files).
//
// Thread safety: process_group_io() is reentrant; a WatchedChild may be set
// by one thread while others read it.
#include <sys/types.h>

#include <atomic>
#include <optional>

namespace backupdrill {

enum class IoCounter { read, written };  // rchar, wchar

// The sum of the counter over every process whose process group is `group`;
// the I/O of processes they have already reaped is included (Linux adds it
// to the parent's figures). nullopt when no process of that group is left or
// /proc cannot tell (not Linux, no permission).
std::optional<unsigned long long> process_group_io(pid_t group, IoCounter counter);

// Where a phase publishes the child it is waiting for (the process group
// leader of pg_restore or pgbackrest restore) and which counter measures it,
// so another thread (the landing page, the API) can show how far it is.
class WatchedChild {
 public:
  void watch(pid_t group, IoCounter counter) {
    counter_.store(counter);
    group_.store(group);
  }
  void clear() { group_.store(0); }
  // nullopt when no child is watched or it is gone.
  std::optional<unsigned long long> bytes_done() const {
    const pid_t g = group_.load();
    if (g <= 0) return std::nullopt;
    return process_group_io(g, counter_.load());
  }

 private:
  std::atomic<pid_t> group_{0};
  std::atomic<IoCounter> counter_{IoCounter::read};
};

// Watches a child for the life of a scope (exceptions included).
class ScopedWatch {
 public:
  ScopedWatch(WatchedChild* watched, pid_t group, IoCounter counter) : watched_(watched) {
    if (watched_) watched_->watch(group, counter);
  }
  ~ScopedWatch() {
    if (watched_) watched_->clear();
  }
  ScopedWatch(const ScopedWatch&) = delete;
  ScopedWatch& operator=(const ScopedWatch&) = delete;

 private:
  WatchedChild* watched_;
};

}  // namespace backupdrill
