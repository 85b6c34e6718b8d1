// Faults around the programs the exporter starts (issue 10, defects 2 and 3),
// against the real binary and real PostgreSQL: what a child inherits (its
// environment, its descriptors), that children and their own workers die with
// a killed exporter, and that a killed exporter's PGPASSFILEs are swept by the
// next one.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <sstream>
#include <thread>

#include "exporter_process.h"
#include "process/child_process.h"
#include "support.h"

namespace backupdrill::testing {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

const Cluster& A() { return cluster("a"); }
const std::string kToken = "fault-admin-token-3d9e";

// Every character a URL must encode, a quote, a backslash and a space.
const std::string kDecodedPassword = "p@ss:w/rd?#%'\"\\ ";
const std::string kEncodedPassword = "p%40ss%3Aw%2Frd%3F%23%25%27%22%5C%20";

// A login role with that password; dropped (with what it owns) at the end.
class SpecialRole {
 public:
  explicit SpecialRole(std::string name) : name_(std::move(name)) {
    drop();
    std::string literal;
    for (char c : kDecodedPassword) literal += c == '\'' ? std::string("''") : std::string(1, c);
    sql_exec(A(), "postgres",
             "create role " + name_ + " login superuser password '" + literal + "'");
  }
  ~SpecialRole() {
    try {
      drop();
    } catch (...) {
    }
  }
  std::string url(const std::string& db) const {
    return "postgresql://" + name_ + ":" + kEncodedPassword + "@" + A().host + ":" + A().port +
           "/" + db;
  }

 private:
  void drop() { sql_exec(A(), "postgres", "drop role if exists " + name_); }
  std::string name_;
};

// The fields of /proc/<pid>/stat after the command name: {state, ppid, pgrp}.
struct ProcStat {
  char state = '?';
  pid_t ppid = 0;
  pid_t pgrp = 0;
};

std::optional<ProcStat> proc_stat(pid_t pid) {
  std::string text = read_file("/proc/" + std::to_string(pid) + "/stat");
  auto close = text.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream in(text.substr(close + 1));
  ProcStat s;
  in >> s.state >> s.ppid >> s.pgrp;
  if (!in) return std::nullopt;
  return s;
}

std::vector<pid_t> all_pids() {
  std::vector<pid_t> pids;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") == std::string::npos) pids.push_back(std::stoi(name));
  }
  return pids;
}

// Live (not zombie) processes in a process group.
std::vector<pid_t> group_members(pid_t group) {
  std::vector<pid_t> out;
  for (pid_t pid : all_pids()) {
    auto s = proc_stat(pid);
    if (s && s->pgrp == group && s->state != 'Z') out.push_back(pid);
  }
  return out;
}

bool wait_for(const std::function<bool()>& done, std::chrono::seconds limit) {
  auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return done();
}

std::vector<std::filesystem::path> files_named(const std::filesystem::path& dir,
                                               const std::string& suffix) {
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.size() >= suffix.size() && name.ends_with(suffix)) out.push_back(it->path());
  }
  return out;
}

// The exporter in serve mode, started and killed by hand (the fixed port of
// a restart, a kill -9 of the exporter alone).
class Exporter {
 public:
  Exporter(const std::filesystem::path& config, const std::string& listen,
           const std::map<std::string, std::optional<std::string>>& env,
           const std::filesystem::path& log)
      : log_(log) {
    ChildSpec spec;
    spec.program = BACKUPDRILL_EXPORTER;
    spec.args = {"--config.file=" + config.string(), "--web.listen-address=" + listen};
    spec.env = env;
    spec.out = ChildSpec::Stream::file;
    spec.out_file = log;
    spec.err = ChildSpec::Stream::to_stdout;
    pid_ = ChildProcess::spawn(spec).release();
    bool serving = wait_for(
        [&] {
          if (port_from_log()) return true;
          int status;
          if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            return true;
          }
          return false;
        },
        30s);
    if (pid_ < 0 || !serving) {
      kill_hard();
      throw std::runtime_error("the exporter did not start serving:\n" + read_file(log_));
    }
    port_ = *port_from_log();
  }
  ~Exporter() { kill_hard(); }

  pid_t pid() const { return pid_; }
  int port() const { return port_; }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::string log() const { return read_file(log_); }
  // SIGKILL to the exporter alone, like the OOM killer: not to its group.
  void kill_hard() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  std::optional<int> port_from_log() const {
    std::string text = read_file(log_);
    auto line = text.find("msg=serving");
    if (line == std::string::npos) return std::nullopt;
    auto at = text.find(" port=", line);
    if (at == std::string::npos) return std::nullopt;
    return std::stoi(text.substr(at + 6));
  }
  std::filesystem::path log_;
  pid_t pid_ = -1;
  int port_ = 0;
};

HttpAnswer trigger(const Exporter& e, const std::string& drill) {
  return http_call(e.url("/api/v1/drills/" + drill + "/run"),
                   {"-X", "POST", "-H", "Authorization: Bearer " + kToken});
}

std::string drill_toml(const std::filesystem::path& dir, const std::string& name,
                       const std::string& source_db, const std::string& target_db,
                       const std::filesystem::path& bin, const std::string& extra = "") {
  return "[exporter]\nartifact_dir = \"" + (dir / "artifacts").string() +
         "\"\nadmin_token = \"${TOKEN}\"\n[[drill]]\nname = \"" + name + "\"\nsource_url = \"" +
         A().url(source_db) + "\"\ntarget_url = \"" + A().url(target_db) + "\"\npg_bin_dir = \"" +
         bin.string() + "\"\n" + extra +
         "[[drill.check]]\nplugin = \"table_counts\"\nname = \"counts\"\ntables = [\"profiles\"]\n";
}

// Defect 2: runbook mode with a password that has every special character.
// Neither the URL nor the password, encoded or decoded, reaches the
// environment or argv of pg_dump, pg_restore or a check worker, the
// exporter's output or an artifact; and the drill passes.
TEST(FaultProcess, SpecialCharacterPasswordReachesNoChild) {
  ScratchDb source(A(), "fault_spec_src", true);
  const std::string target = "fault_spec_tgt";
  drop_database(A(), target);
  SpecialRole role("bd_fault_spec");
  auto dir = fresh_dir("fault_spec");
  auto record = dir / "record";
  std::filesystem::create_directories(record);
  // Each tool copies what it was given, byte for byte, before it runs.
  const std::string recorder = "cat /proc/$$/environ > '" + record.string() +
                               "'/$$.environ\ncat /proc/$$/cmdline > '" + record.string() +
                               "'/$$.cmdline\nexec \"$REAL\" \"$@\"";
  auto bin = tool_wrappers(A(), dir, {{"pg_dump", recorder}, {"pg_restore", recorder}});

  ChildSpec spec;
  spec.program = BACKUPDRILL_EXPORTER;
  spec.args = {"--once", "--log.level=debug"};
  spec.env = {{"SOURCE_DB_URL", role.url(source.name())},
              {"TARGET_DB_URL", role.url(target)},
              {"BACKUP_DIR", (dir / "artifacts").string()},
              {"PG_BIN_DIR", bin.string()}};
  spec.out = ChildSpec::Stream::file;
  spec.out_file = dir / "exporter.log";
  spec.err = ChildSpec::Stream::to_stdout;
  auto exporter = ChildProcess::spawn(spec);
  // The check workers are the exporter itself: sample every child of the
  // exporter while it runs.
  int status = 0;
  auto deadline = Clock::now() + 240s;
  std::set<pid_t> sampled;
  while (::waitpid(exporter.pid(), &status, WNOHANG) == 0 && Clock::now() < deadline) {
    for (pid_t pid : all_pids()) {
      auto s = proc_stat(pid);
      if (!s || s->ppid != exporter.pid() || sampled.contains(pid)) continue;
      std::string base = "/proc/" + std::to_string(pid);
      std::string cmdline = read_file(base + "/cmdline");
      if (cmdline.find("--plugin-worker=") == std::string::npos) continue;
      write_file(record / ("worker-" + std::to_string(pid) + ".environ"),
                 read_file(base + "/environ"));
      write_file(record / ("worker-" + std::to_string(pid) + ".cmdline"), cmdline);
      sampled.insert(pid);
    }
    std::this_thread::sleep_for(10ms);
  }
  exporter.release();
  std::string output = read_file(dir / "exporter.log");
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << output;

  int dumps = 0, restores = 0, workers = 0;
  for (const auto& f : std::filesystem::directory_iterator(record)) {
    std::string text = read_file(f.path());
    if (f.path().extension() == ".cmdline") {
      if (text.find("pg_dump") != std::string::npos) ++dumps;
      if (text.find("--dbname=") != std::string::npos &&
          text.find("pg_restore") != std::string::npos)
        ++restores;
      if (text.find("--plugin-worker=") != std::string::npos) ++workers;
    }
    for (const std::string& leak :
         {kEncodedPassword, kDecodedPassword, std::string("p%40ss"), std::string("p@ss:w"),
          std::string("SOURCE_DB_URL"), std::string("TARGET_DB_URL"), std::string("PGPASSWORD")}) {
      EXPECT_EQ(text.find(leak), std::string::npos) << f.path() << " holds " << leak;
    }
  }
  EXPECT_GE(dumps, 1);
  EXPECT_GE(restores, 1);
  EXPECT_GE(workers, 2) << "the runbook's checks run in workers";

  for (const std::string& leak : {std::string("p%40ss"), std::string("p@ss:w")}) {
    EXPECT_EQ(output.find(leak), std::string::npos) << output;
    for (const auto& f : files_named(dir / "artifacts", "")) {
      if (std::filesystem::is_regular_file(f)) {
        EXPECT_EQ(read_file(f).find(leak), std::string::npos) << f;
      }
    }
  }
  drop_database(A(), target);
}

// Defect 3: the exporter's listening socket is not inherited. A pg_dump
// wrapper runs ls, which lists its own descriptors: 0, 1 and 2, the folder ls
// reads, and whatever the exporter left open across exec (nothing).
TEST(FaultProcess, ListeningSocketIsNotInherited) {
  ScratchDb source(A(), "fault_fd_src", true);
  const std::string target = "fault_fd_tgt";
  drop_database(A(), target);
  auto dir = fresh_dir("fault_fd");
  auto listing = dir / "fds.txt";
  auto bin = tool_wrappers(A(), dir,
                           {{"pg_dump", "ls -l /proc/self/fd/ > '" + listing.string() +
                                            ".tmp' && mv '" + listing.string() + ".tmp' '" +
                                            listing.string() + "'\nexec \"$REAL\" \"$@\""}});
  auto config = dir / "fd.toml";
  write_file(config, drill_toml(dir, "fd", source.name(), target, bin));
  Exporter e(config, "127.0.0.1:0", {{"TOKEN", kToken}}, dir / "exporter.log");
  ASSERT_EQ(trigger(e, "fd").status, 202) << e.log();
  ASSERT_TRUE(wait_for([&] { return std::filesystem::exists(listing); }, 120s)) << e.log();
  std::string fds = read_file(listing);
  std::istringstream in(fds);
  int inherited = 0;
  for (std::string line; std::getline(in, line);) {
    auto arrow = line.find(" -> ");
    if (arrow == std::string::npos) continue;
    std::string before = line.substr(0, arrow);
    std::string fd = before.substr(before.rfind(' ') + 1);
    std::string what = line.substr(arrow + 4);
    EXPECT_EQ(what.find("socket:"), std::string::npos) << fds;
    if (fd != "0" && fd != "1" && fd != "2" && !what.ends_with("/fd")) ++inherited;
  }
  EXPECT_EQ(inherited, 0) << fds;
  e.stop();  // cancels the drill
  drop_database(A(), target);
}

// A source whose one table makes a restore slow: every row COPYed into the
// target sleeps in a CHECK constraint (the source's rows were inserted with
// the check switched off by a session setting).
void make_slow_source(const std::string& db) {
  sql_exec(A(), db,
           "create function public.slow_ok(v int) returns boolean language sql as $$ "
           "select case when current_setting('bd_fault.fast', true) = 'on' then true "
           "else (select true from pg_sleep(0.5)) end $$;"
           "create table public.profiles(id int);"
           "create table public.slow(id int check (public.slow_ok(id)));"
           "set bd_fault.fast = 'on';"
           "insert into public.slow select generate_series(1, 400);");
}

// Defect 3: kill -9 of the exporter mid-restore (pg_restore --jobs=2, busy
// in a COPY that lasts minutes) leaves no process of pg_restore's group, and
// an immediate restart on the same port serves.
TEST(FaultProcess, KillNineMidRestoreLeavesNoOrphanAndRestartServes) {
  ScratchDb source(A(), "fault_kill_src", false);
  make_slow_source(source.name());
  const std::string target = "fault_kill_tgt";
  drop_database(A(), target);
  auto dir = fresh_dir("fault_kill");
  auto tmp = dir / "tmp";
  std::filesystem::create_directories(tmp);
  auto pidfile = dir / "pg_restore.pid";
  auto bin =
      tool_wrappers(A(), dir,
                    {{"pg_restore", "case \"$*\" in *--dbname=*) echo $$ > '" + pidfile.string() +
                                        "';; esac\nexec \"$REAL\" \"$@\""}});
  auto config = dir / "kill.toml";
  write_file(config,
             drill_toml(dir, "kill", source.name(), target, bin, "[drill.restore]\njobs = 2\n"));
  const std::map<std::string, std::optional<std::string>> env{{"TOKEN", kToken},
                                                              {"TMPDIR", tmp.string()}};
  std::optional<Exporter> first;
  first.emplace(config, "127.0.0.1:0", env, dir / "first.log");
  const int port = first->port();
  ASSERT_EQ(trigger(*first, "kill").status, 202) << first->log();
  // Wait until a pg_restore worker is COPYing the slow table.
  ASSERT_TRUE(wait_for(
      [&] {
        return sql(A(), "postgres",
                   "select count(*) from pg_stat_activity where datname = '" + target +
                       "' and query ilike 'copy public.slow%'") == "1";
      },
      180s))
      << first->log();
  pid_t group = std::stoi(read_file(pidfile));
  ASSERT_GE(group_members(group).size(), 2u) << "pg_restore and its worker";

  first->kill_hard();
  EXPECT_TRUE(wait_for([&] { return group_members(group).empty(); }, 10s))
      << "pg_restore's group outlived the exporter: " << group_members(group).size()
      << " processes";

  // The same port at once: no child holds it.
  Exporter second(config, "127.0.0.1:" + std::to_string(port), env, dir / "second.log");
  EXPECT_EQ(http_call(second.url("/-/healthy")).status, 200) << second.log();
  second.stop();
  for (pid_t pid : group_members(group)) ::kill(pid, SIGKILL);
  drop_database(A(), target);
}

// Defect 3: the PGPASSFILEs of an exporter killed mid-drill are removed by
// the next exporter that starts (here a mere --check-config).
TEST(FaultProcess, PassfilesOfAKilledExporterAreSweptAtTheNextStart) {
  ScratchDb source(A(), "fault_sweep_src", true);
  const std::string target = "fault_sweep_tgt";
  drop_database(A(), target);
  auto dir = fresh_dir("fault_sweep");
  auto tmp = dir / "tmp";
  std::filesystem::create_directories(tmp);
  // pg_dump kills the exporter that started it, as the OOM killer would.
  // (The exporter first asks every tool for its --version.)
  auto bin = tool_wrappers(A(), dir,
                           {{"pg_dump",
                             "case \"$*\" in *--version*) exec \"$REAL\" \"$@\";; esac\nkill -9 "
                             "$PPID\nsleep 5\nexit 1"}});
  auto config = dir / "sweep.toml";
  const std::map<std::string, std::optional<std::string>> env{{"TMPDIR", tmp.string()},
                                                              {"TOKEN", kToken}};
  write_file(config, drill_toml(dir, "sweep", source.name(), target, bin));
  auto killed = run_exporter({"--config.file=" + config.string(), "--once"}, env);
  EXPECT_NE(killed.exit_code, 0) << killed.output;
  auto left = files_named(tmp, ".pgpass");
  ASSERT_EQ(left.size(), 2u) << "source.pgpass and target.pgpass of the killed run:\n"
                             << killed.output;

  auto next = run_exporter({"--config.file=" + config.string(), "--check-config"}, env);
  EXPECT_EQ(next.exit_code, 0) << next.output;
  EXPECT_TRUE(files_named(tmp, ".pgpass").empty()) << left[0];
  EXPECT_NE(next.output.find("removed the working folder"), std::string::npos) << next.output;

  // A running exporter's folder is left alone: its pg_dump waits for "go".
  {
    auto go = dir / "go";
    auto bin_slow = tool_wrappers(
        A(), dir / "slow",
        {{"pg_dump",
          "case \"$*\" in *--version*) exec \"$REAL\" \"$@\";; esac\ni=0; while [ ! -e '" +
              go.string() +
              "' ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done\n"
              "exec \"$REAL\" \"$@\""}});
    write_file(config, drill_toml(dir, "sweep", source.name(), target, bin_slow));
    ChildSpec spec;
    spec.program = BACKUPDRILL_EXPORTER;
    spec.args = {"--config.file=" + config.string(), "--once"};
    spec.env = env;
    auto running = ChildProcess::spawn(spec);
    ASSERT_TRUE(wait_for([&] { return files_named(tmp, ".pgpass").size() == 2; }, 60s));
    auto during = run_exporter({"--config.file=" + config.string(), "--check-config"}, env);
    EXPECT_EQ(files_named(tmp, ".pgpass").size(), 2u) << during.output;
    write_file(go, "");
    EXPECT_TRUE(running.wait(Clock::now() + 200s).ok());
    EXPECT_TRUE(files_named(tmp, ".pgpass").empty()) << "a finished drill removes its own";
  }
  drop_database(A(), target);
}

}  // namespace
}  // namespace backupdrill::testing
