#include "support.h"

#include <sys/stat.h>

#include <fstream>
#include <pqxx/pqxx>
#include <sstream>
#include <stdexcept>

#include "pg/conninfo.h"
#include "process/child_process.h"

namespace backupdrill::testing {
namespace {

Cluster load(const std::string& name) {
  std::filesystem::path env = std::filesystem::path(BACKUPDRILL_TEST_CLUSTERS) / name / "env";
  std::ifstream in(env);
  if (!in)
    throw std::runtime_error("cannot read " + env.string() + ": is the clusters fixture up?");
  std::map<std::string, std::string> kv;
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (eq != std::string::npos) kv[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return Cluster{kv["PGHOST"],     kv["PGPORT"],     kv["PGUSER"],
                 kv["PGPASSWORD"], kv["PG_BIN_DIR"], kv["PG_SOCKET_DIR"]};
}

std::string admin(const Cluster& c, const std::string& db) {
  return "host=" + c.host + " port=" + c.port + " user=" + c.user +
         " password=" + pg::quote_conninfo_value(c.password) +
         " dbname=" + pg::quote_conninfo_value(db);
}

}  // namespace

std::string Cluster::url(const std::string& db, bool with_password) const {
  return "postgresql://" + user + (with_password ? ":" + password : "") + "@" + host + ":" + port +
         "/" + db;
}

std::string Cluster::socket_conninfo(const std::string& db) const {
  return "host=" + socket_dir + " port=" + port + " user=" + user + " dbname=" + db;
}

const Cluster& cluster(const std::string& name) {
  static const Cluster a = load("a");
  static const Cluster b = load("b");
  return name == "a" ? a : b;
}

std::string sql(const Cluster& c, const std::string& db, const std::string& query) {
  pqxx::connection conn(admin(c, db));
  pqxx::nontransaction tx(conn);
  auto r = tx.exec(query);
  if (r.empty() || r.columns() == 0 || r[0][0].is_null()) return "";
  return r[0][0].c_str();
}

void sql_exec(const Cluster& c, const std::string& db, const std::string& query) {
  pqxx::connection conn(admin(c, db));
  pqxx::nontransaction tx(conn);
  tx.exec(query);
}

ScratchDb::ScratchDb(const Cluster& c, std::string name, bool from_template)
    : cluster_(c), name_(std::move(name)) {
  drop_database(c, name_);
  sql_exec(c, "postgres",
           "create database \"" + name_ + "\"" + (from_template ? " template demo_template" : ""));
}

ScratchDb::~ScratchDb() {
  try {
    drop_database(cluster_, name_);
  } catch (...) {
  }
}

bool database_exists(const Cluster& c, const std::string& db) {
  return sql(c, "postgres", "select count(*) from pg_database where datname = '" + db + "'") == "1";
}

void drop_database(const Cluster& c, const std::string& db) {
  sql_exec(c, "postgres", "drop database if exists \"" + db + "\" with (force)");
}

ExporterRun run_exporter(const std::vector<std::string>& args,
                         std::map<std::string, std::optional<std::string>> env,
                         int timeout_seconds) {
  ChildSpec spec;
  spec.program = BACKUPDRILL_EXPORTER;
  spec.args = args;
  for (const char* var : {"PGPASSWORD", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "SOURCE_DB_URL",
                          "TARGET_DB_URL", "BACKUP_DIR", "TARGET_API_URL", "API_BEARER_TOKEN",
                          "RPO_TARGET", "RTO_TARGET", "PG_BIN_DIR"}) {
    spec.env[var] = std::nullopt;
  }
  for (auto& [k, v] : env) spec.env[k] = v;
  auto run =
      run_capture(spec, std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds));
  return {run.status.exited ? run.status.code : -1, run.out};
}

std::filesystem::path fresh_dir(const std::string& name) {
  auto dir = std::filesystem::path(BACKUPDRILL_TEST_WORK) / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::filesystem::path& path, const std::string& content, int mode) {
  std::ofstream(path, std::ios::binary) << content;
  ::chmod(path.c_str(), static_cast<mode_t>(mode));
}

std::filesystem::path tool_wrappers(const Cluster& c, const std::filesystem::path& dir,
                                    const std::map<std::string, std::string>& scripts) {
  auto bin = dir / "bin";
  std::filesystem::create_directories(bin);
  for (const std::string tool : {"pg_dump", "pg_restore"}) {
    const std::string real = c.bin_dir + "/" + tool;
    if (auto it = scripts.find(tool); it != scripts.end()) {
      write_file(bin / tool, "#!/bin/sh\nREAL='" + real + "'\n" + it->second + "\n", 0755);
    } else {
      std::filesystem::create_symlink(real, bin / tool);
    }
  }
  return bin;
}

std::filesystem::path only_file(const std::filesystem::path& folder, const std::string& prefix,
                                const std::string& suffix) {
  std::optional<std::filesystem::path> found;
  for (const auto& e : std::filesystem::directory_iterator(folder)) {
    auto n = e.path().filename().string();
    if (n.rfind(prefix, 0) == 0 && n.size() >= suffix.size() &&
        n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0) {
      if (found)
        throw std::runtime_error("more than one " + prefix + "*" + suffix + " in " +
                                 folder.string());
      found = e.path();
    }
  }
  if (!found) throw std::runtime_error("no " + prefix + "*" + suffix + " in " + folder.string());
  return *found;
}

std::map<std::string, std::optional<std::string>> runbook_env(const std::string& source_db,
                                                              const std::string& target_db,
                                                              const std::filesystem::path& dir) {
  const Cluster& a = cluster("a");
  return {{"SOURCE_DB_URL", a.url(source_db)},
          {"TARGET_DB_URL", a.url(target_db)},
          {"BACKUP_DIR", dir.string()}};
}

}  // namespace backupdrill::testing
