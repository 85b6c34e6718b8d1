#pragma once
// How far a running child has read: the bytes its process group has read so
// far, from /proc/<pid>/io (rchar) of each process in the group. pg_restore
// reports no progress of its own; what it has read of the archive is the
// best measure of how far a restore is (its reads of the server's answers
// are small next to the archive).
//
// Thread safety: process_group_bytes_read() is reentrant; a WatchedChild may
// be set by one thread while others read it.
#include <sys/types.h>

#include <atomic>
#include <optional>

namespace backupdrill {

// The sum of rchar over every process whose process group is `group`; the
// I/O of processes they have already reaped is included (Linux adds it to
// the parent's figures). nullopt when no process of that group is left or
// /proc cannot tell (not Linux, no permission).
std::optional<unsigned long long> process_group_bytes_read(pid_t group);

// Where a phase publishes the child it is waiting for (the process group
// leader of pg_restore), so another thread (the landing page, the API) can
// show how far it has read.
class WatchedChild {
 public:
  void watch(pid_t group) { group_.store(group); }
  void clear() { group_.store(0); }
  // nullopt when no child is watched or it is gone.
  std::optional<unsigned long long> bytes_read() const {
    const pid_t g = group_.load();
    if (g <= 0) return std::nullopt;
    return process_group_bytes_read(g);
  }

 private:
  std::atomic<pid_t> group_{0};
};

// Watches a child for the life of a scope (exceptions included).
class ScopedWatch {
 public:
  ScopedWatch(WatchedChild* watched, pid_t group) : watched_(watched) {
    if (watched_) watched_->watch(group);
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
