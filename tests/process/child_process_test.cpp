#include "process/child_process.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "process/io_progress.h"

extern char** environ;

namespace backupdrill {
namespace {

TEST(ChildProcess, CapturesOutputAndExitCode) {
  ChildSpec spec;
  spec.program = "/bin/sh";
  spec.args = {"-c", "echo out; echo err >&2; exit 3"};
  auto run = run_capture(spec);
  EXPECT_TRUE(run.status.exited);
  EXPECT_EQ(run.status.code, 3);
  EXPECT_NE(run.out.find("out"), std::string::npos);
  EXPECT_NE(run.out.find("err"), std::string::npos);
}

TEST(ChildProcess, DeadlineKillsTheWholeGroup) {
  ChildSpec spec;
  spec.program = "/bin/sh";
  spec.args = {"-c", "sleep 30 & sleep 30; echo never"};
  auto started = std::chrono::steady_clock::now();
  auto run = run_capture(spec, started + std::chrono::milliseconds(300));
  EXPECT_TRUE(run.status.timed_out);
  EXPECT_FALSE(run.status.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
}

// A child's environment is an allow-list, not the exporter's minus what
// looks secret: a password that nobody registered (PGPASSWORD, a URL in an
// odd variable) must not pass either.
TEST(ChildProcess, EnvironmentIsAnAllowList) {
  const std::map<std::string, std::string> exporter_env{
      {"PATH", "/usr/bin:/bin"},
      {"HOME", "/home/drill"},
      {"LANG", "C.UTF-8"},
      {"LC_MESSAGES", "C"},
      {"TZ", "UTC"},
      {"TMPDIR", "/tmp"},
      {"PGPASSWORD", "unregistered-pw-1"},
      {"PGPASSFILE", "/secret/pgpass"},
      {"PGHOST", "elsewhere"},
      {"SOURCE_DB_URL", "postgresql://spec:p%40ss%3Aw%2Frd@127.0.0.1:5432/db"},
      {"BD_TEST_PLAIN", "plain"},
      {"LD_PRELOAD", "/tmp/evil.so"},
  };
  std::vector<std::string> saved;
  for (char** e = environ; e && *e; ++e) saved.emplace_back(*e);
  ::clearenv();
  for (const auto& [k, v] : exporter_env) ::setenv(k.c_str(), v.c_str(), 1);
  const size_t allowed = child_environment({}).size();
  ChildSpec spec;
  spec.program = "/usr/bin/env";
  spec.env["PGAPPNAME"] = "backupdrill";  // what the drill sets itself
  spec.env["PGPASSFILE"] = "/run/drill/source.pgpass";
  spec.env["TZ"] = std::nullopt;  // removed although allow-listed
  auto run = run_capture(spec);
  ::clearenv();
  for (const auto& entry : saved) {
    auto eq = entry.find('=');
    ::setenv(entry.substr(0, eq).c_str(), entry.substr(eq + 1).c_str(), 1);
  }
  EXPECT_EQ(allowed, 6u);  // PATH HOME LANG LC_MESSAGES TZ TMPDIR
  ASSERT_TRUE(run.status.ok()) << run.out;
  std::set<std::string> lines;
  std::istringstream in(run.out);
  for (std::string line; std::getline(in, line);) lines.insert(line);
  EXPECT_EQ(lines, (std::set<std::string>{"PATH=/usr/bin:/bin", "HOME=/home/drill", "LANG=C.UTF-8",
                                          "LC_MESSAGES=C", "TMPDIR=/tmp", "PGAPPNAME=backupdrill",
                                          "PGPASSFILE=/run/drill/source.pgpass"}))
      << run.out;
}

// Descriptors the exporter opened without close-on-exec (an ifstream, a socket
// Boost.Asio accepted) are closed in the child all the same.
TEST(ChildProcess, OnlyStandardDescriptorsAreInherited) {
  int leaky = ::fcntl(::open("/dev/null", O_RDONLY), F_DUPFD, 57);  // no O_CLOEXEC
  int sock = ::socket(AF_INET, SOCK_STREAM, 0);                     // no SOCK_CLOEXEC
  ASSERT_GE(leaky, 57);
  ASSERT_GE(sock, 0);
  ChildSpec spec;
  spec.program = "/bin/sh";
  // test -e opens nothing, so the shell's own descriptors are what it got.
  spec.args = {"-c", "for fd in 0 1 2 " + std::to_string(leaky) + " " + std::to_string(sock) +
                         "; do test -e /proc/$$/fd/$fd && echo open $fd; done; true"};
  auto run = run_capture(spec);
  ::close(leaky);
  ::close(sock);
  EXPECT_EQ(run.out, "open 0\nopen 1\nopen 2\n");
}

// The child gets SIGKILL when the thread that started it ends without
// reaping it (for the exporter: when the exporter dies, even by kill -9).
TEST(ChildProcess, ChildDiesWithItsParent) {
  pid_t pid = -1;
  std::thread([&] {
    ChildSpec spec;
    spec.program = "/bin/sleep";
    spec.args = {"30"};
    pid = ChildProcess::spawn(spec).release();
  }).join();
  ASSERT_GT(pid, 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
}

TEST(ChildProcess, MissingProgramIsAClearError) {
  ChildSpec spec;
  spec.program = "/nonexistent/pg_dump";
  try {
    ChildProcess::spawn(spec);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/pg_dump"), std::string::npos);
  }
}

TEST(ChildProcess, FindInPath) {
  EXPECT_TRUE(find_in_path("sh").has_value());
  EXPECT_FALSE(find_in_path("definitely-not-a-program-xyz").has_value());
}

// Reads the child's stdout up to and including the next line break.
std::string read_line(int fd) {
  std::string line;
  char c = 0;
  while (::read(fd, &c, 1) == 1) {
    line.push_back(c);
    if (c == '\n') break;
  }
  return line;
}

// Issue 15: how far pg_restore has read its archive is measured from /proc.
// A real process group reads a real file: the leader's own reaped child and
// a live member with its reaped child are all counted, the figure stops at
// what was read (no guess), and a group that is gone has no figure.
TEST(IoProgress, CountsWhatAProcessGroupHasReadSoFar) {
  const auto file = std::filesystem::temp_directory_path() /
                    ("bd_io_progress_" + std::to_string(::getpid()) + ".bin");
  {
    std::ofstream out(file, std::ios::binary);
    const std::string block(65536, 'x');
    for (int i = 0; i < 32; ++i) out << block;  // 2 MiB: more than is read
  }
  ChildSpec spec;
  spec.program = "/bin/sh";
  // 512 KiB by a child the leader reaps, 512 KiB by a child of a live
  // subshell; then the subshell waits for a line on stdin.
  spec.args = {"-c",
               "dd if=\"$1\" of=/dev/null bs=65536 count=8 2>/dev/null; "
               "(dd if=\"$1\" of=/dev/null bs=65536 count=8 2>/dev/null; echo ready; read x); "
               "echo done",
               "sh", file.string()};
  spec.in = ChildSpec::Stream::pipe;
  spec.out = ChildSpec::Stream::pipe;
  auto child = ChildProcess::spawn(spec);
  WatchedChild watched;
  EXPECT_EQ(watched.bytes_done(), std::nullopt);  // nothing watched yet

  ASSERT_EQ(read_line(child.stdout_fd()), "ready\n");
  const auto read = process_group_io(child.pid(), IoCounter::read);
  ASSERT_TRUE(read.has_value());
  constexpr unsigned long long kRead = 16 * 65536;
  EXPECT_GE(*read, kRead);
  // Beyond the file, only the loader's and the shell's small reads.
  EXPECT_LT(*read, kRead + 256 * 1024);
  watched.watch(child.pid(), IoCounter::read);
  const auto via_watch = watched.bytes_done();
  ASSERT_TRUE(via_watch.has_value());
  EXPECT_GE(*via_watch, *read);
  watched.clear();
  EXPECT_EQ(watched.bytes_done(), std::nullopt);

  ASSERT_EQ(::write(child.stdin_fd(), "\n", 1), 1);
  child.close_stdin();
  EXPECT_EQ(read_line(child.stdout_fd()), "done\n");
  EXPECT_TRUE(child.wait().ok());
  EXPECT_EQ(process_group_io(child.pid(), IoCounter::read), std::nullopt);  // reaped: no group left
  EXPECT_EQ(process_group_io(0, IoCounter::read), std::nullopt);
  std::filesystem::remove(file);
}

// Issue 16: a physical restore's progress is what pgbackrest has written.
// A shell writes 512 KiB into a file (its printf reads nothing): the
// written counter has them, the read one only the loader's small reads.
TEST(IoProgress, CountsWhatAProcessGroupHasWrittenSoFar) {
  const auto file = std::filesystem::temp_directory_path() /
                    ("bd_io_written_" + std::to_string(::getpid()) + ".bin");
  ChildSpec spec;
  spec.program = "/bin/sh";
  spec.args = {"-c", "printf '%0524288d' 0 > \"$1\"; echo ready; read x; echo done", "sh",
               file.string()};
  spec.in = ChildSpec::Stream::pipe;
  spec.out = ChildSpec::Stream::pipe;
  auto child = ChildProcess::spawn(spec);
  ASSERT_EQ(read_line(child.stdout_fd()), "ready\n");
  WatchedChild watched;
  watched.watch(child.pid(), IoCounter::written);
  const auto written = watched.bytes_done();
  ASSERT_TRUE(written.has_value());
  constexpr unsigned long long kWritten = 512 * 1024;
  EXPECT_GE(*written, kWritten);
  EXPECT_LT(*written, kWritten + 64 * 1024);
  const auto read = process_group_io(child.pid(), IoCounter::read);
  ASSERT_TRUE(read.has_value());
  EXPECT_LT(*read, 256 * 1024ULL);
  ASSERT_EQ(::write(child.stdin_fd(), "\n", 1), 1);
  child.close_stdin();
  EXPECT_EQ(read_line(child.stdout_fd()), "done\n");
  EXPECT_TRUE(child.wait().ok());
  std::filesystem::remove(file);
}

}  // namespace
}  // namespace backupdrill
