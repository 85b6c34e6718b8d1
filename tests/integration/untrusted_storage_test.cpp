// Issue 22: backup storage is untrusted. Someone who can write into a
// `source = "file"` folder plants links to a root-only file outside it (a
// checksum sidecar, the dump, a plain SQL file) and replaces a run's restore
// log by a link. Every drill fails naming the file as refused, and no byte of
// the linked file (a random marker in it) reaches the terminal, the log, an
// artifact, a page, an API answer or /metrics.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "exporter_process.h"
#include "process/child_process.h"
#include "support.h"

namespace backupdrill::testing {
namespace {
namespace fs = std::filesystem;

const Cluster& A() { return cluster("a"); }

std::string random_marker() {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device rd;
  std::string out;
  for (int i = 0; i < 32; ++i) out += kAlphabet[rd() % (sizeof kAlphabet - 1)];
  return out;
}

void pg_dump_to(const std::string& db, const fs::path& file) {
  ChildSpec spec;
  spec.program = A().bin_dir + "/pg_dump";
  spec.args = {"-Fc", "-f", file.string(), A().socket_conninfo(db)};
  auto run = run_capture(spec);
  ASSERT_TRUE(run.status.ok()) << run.out;
}

std::string drill_toml(const std::string& name, const std::string& path,
                       const std::string& target) {
  return "[[drill]]\nname = \"" + name + "\"\ntarget_url = \"" + A().url(target) +
         "\"\n[drill.backup]\nsource = \"file\"\npath = \"" + path +
         "\"\n[[drill.check]]\nplugin = \"sql_assert\"\nname = \"rows\"\nquery = \"select "
         "count(*) from public.t\"\nexpect = 3\n";
}

// Every regular file under dir, read whole (links are not followed: a link
// planted by the test itself is not the exporter's output).
std::string every_file_under(const fs::path& dir) {
  std::string all;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_symlink() || !e.is_regular_file()) continue;
    all += read_file(e.path());
  }
  return all;
}

nlohmann::json summary_of(const fs::path& folder) {
  fs::path newest;
  for (const auto& e : fs::directory_iterator(folder)) {
    const auto name = e.path().filename().string();
    if (name.starts_with("drill_summary_") && name.ends_with(".json") &&
        (newest.empty() || name > newest.filename().string())) {
      newest = e.path();
    }
  }
  return nlohmann::json::parse(read_file(newest));
}

TEST(UntrustedStorage, LinksOutOfTheBackupFolderAreRefusedAndNeverQuoted) {
  const auto dir = fresh_dir("untrusted_storage");
  const std::string marker = random_marker();
  // The secret: a shadow-like first line only root may read, outside every
  // backup folder.
  const fs::path secret = dir / "outside" / "shadow";
  fs::create_directories(secret.parent_path());
  write_file(secret, "root:$y$j9T$" + marker + ":19000:0:99999:7:::\n", 0600);

  ScratchDb src(A(), "untrusted_src", false);
  sql_exec(A(), src.name(),
           "create table public.t (n int); insert into public.t values (1),(2),(3)");
  for (const char* folder : {"sidecar", "dump", "plain", "planted"}) {
    fs::create_directories(dir / folder);
  }
  pg_dump_to(src.name(), dir / "sidecar" / "app.dump");
  fs::create_symlink(secret, dir / "sidecar" / "app.dump.sha256");
  fs::create_symlink(secret, dir / "dump" / "app.dump");
  fs::create_symlink(secret, dir / "plain" / "app.sql");
  pg_dump_to(src.name(), dir / "planted" / "app.dump");
  // A link that stays inside the folder is followed.
  fs::create_symlink("app.dump", dir / "planted" / "latest.dump");

  for (const char* t : {"untrusted_t1", "untrusted_t2", "untrusted_t3", "untrusted_t4"}) {
    drop_database(A(), t);
  }
  const auto artifacts = dir / "artifacts";
  write_file(dir / "c.toml",
             "[exporter]\nartifact_dir = \"" + artifacts.string() + "\"\n" +
                 drill_toml("sidecar", (dir / "sidecar" / "app.dump").string(), "untrusted_t1") +
                 drill_toml("dump", (dir / "dump" / "app.dump").string(), "untrusted_t2") +
                 drill_toml("plain", (dir / "plain" / "*.sql").string(), "untrusted_t3") +
                 drill_toml("planted", (dir / "planted" / "latest.dump").string(), "untrusted_t4"));

  std::string outputs;
  for (const char* drill : {"sidecar", "dump", "plain"}) {
    auto run = run_exporter(
        {"--config.file=" + (dir / "c.toml").string(), "--once", std::string("--drill=") + drill});
    EXPECT_EQ(run.exit_code, 1) << drill << ": " << run.output;
    outputs += run.output;
    auto summary = summary_of(artifacts / drill);
    const std::string error = summary.value("error", "");
    EXPECT_NE(error.find("is refused"), std::string::npos) << drill << ": " << error;
    EXPECT_NE(error.find((dir / drill).string()), std::string::npos) << drill << ": " << error;
  }
  auto planted =
      run_exporter({"--config.file=" + (dir / "c.toml").string(), "--once", "--drill=planted"});
  ASSERT_EQ(planted.exit_code, 0) << "a link inside the folder is followed: " << planted.output;
  outputs += planted.output;
  const std::string run_id = summary_of(artifacts / "planted").value("run_id", "");
  ASSERT_FALSE(run_id.empty());
  const fs::path log = artifacts / "planted" / ("restore_" + run_id + ".log");
  ASSERT_TRUE(fs::exists(log));
  fs::remove(log);
  fs::create_symlink(secret, log);

  // Serve mode reloads every drill's last run: the landing page, each run
  // page (the planted log's excerpt among them), each run file, the API and
  // /metrics.
  ServingExporter exporter(dir / "c.toml", {}, {}, dir / "serve.log");
  std::string answers;
  for (const std::string path : {"/", "/metrics", "/api/v1/drills"}) {
    answers += http_call(exporter.base_url() + path).body;
  }
  for (const char* drill : {"sidecar", "dump", "plain", "planted"}) {
    auto summary = summary_of(artifacts / drill);
    const std::string id = summary.value("run_id", "");
    const std::string page = "/drills/" + std::string(drill) + "/runs/" + id;
    answers += http_call(exporter.base_url() + "/api/v1/drills/" + drill + "/runs").body;
    answers += http_call(exporter.base_url() + page).body;
    for (const auto& e : fs::directory_iterator(artifacts / drill)) {
      answers +=
          http_call(exporter.base_url() + page + "/files/" + e.path().filename().string()).body;
    }
  }
  auto restore_log = http_call(exporter.base_url() + "/drills/planted/runs/" + run_id +
                               "/files/restore_" + run_id + ".log");
  EXPECT_EQ(restore_log.status, 404) << restore_log.body;
  exporter.stop();

  const std::string everything =
      outputs + answers + read_file(dir / "serve.log") + every_file_under(artifacts);
  EXPECT_EQ(everything.find(marker), std::string::npos) << "the linked file's bytes leaked";
  EXPECT_EQ(everything.find("$y$j9T$"), std::string::npos) << "the linked file's bytes leaked";
  for (const char* t : {"untrusted_t1", "untrusted_t2", "untrusted_t3"}) {
    EXPECT_FALSE(database_exists(A(), t)) << t << ": a refused backup was restored";
  }
  drop_database(A(), "untrusted_t4");
}

}  // namespace
}  // namespace backupdrill::testing
