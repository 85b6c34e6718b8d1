#include "pg_support.h"

#include <fstream>
#include <pqxx/pqxx>
#include <sstream>

#include "process/child_process.h"

namespace backupdrill::testing {

std::string Pg::url(const std::string& db) const {
  return "postgresql://" + user + ":" + password + "@" + host + ":" + port + "/" + db;
}

const Pg& pg() {
  static const Pg p = [] {
    Pg p;
    std::ifstream in(std::string(BD_PLUGINS_PG) + "/env");
    std::string line;
    while (std::getline(in, line)) {
      auto eq = line.find('=');
      if (eq == std::string::npos) continue;
      std::string k = line.substr(0, eq), v = line.substr(eq + 1);
      if (k == "PGHOST") p.host = v;
      if (k == "PGPORT") p.port = v;
      if (k == "PGUSER") p.user = v;
      if (k == "PGPASSWORD") p.password = v;
    }
    if (p.port.empty()) throw std::runtime_error("no " BD_PLUGINS_PG "/env: run via ctest");
    return p;
  }();
  return p;
}

void sql_exec(const std::string& db, const std::string& query) {
  pqxx::connection conn(pg().url(db));
  pqxx::nontransaction tx(conn);
  tx.exec(query);
}

std::string sql_value(const std::string& db, const std::string& query) {
  pqxx::connection conn(pg().url(db));
  pqxx::nontransaction tx(conn);
  auto r = tx.exec(query);
  return r.empty() || r[0][0].is_null() ? "" : r[0][0].c_str();
}

Scratch::Scratch(const std::string& name)
    : source_("src_" + name),
      target_("tgt_" + name),
      dir_(std::filesystem::path(BD_PLUGINS_PG).parent_path() / "plugins_test_work" / name) {
  std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(dir_);
  sql_exec("postgres", "drop database if exists " + source_ + " with (force)");
  sql_exec("postgres", "drop database if exists " + target_ + " with (force)");
  sql_exec("postgres", "create database " + source_ + " template demo_template");
}

Scratch::~Scratch() {
  try {
    sql_exec("postgres", "drop database if exists " + source_ + " with (force)");
    sql_exec("postgres", "drop database if exists " + target_ + " with (force)");
  } catch (...) {
  }
}

std::filesystem::path Scratch::plugin_dir(const std::vector<std::string>& bundled,
                                          const std::vector<std::string>& fixtures) const {
  auto dir = dir_ / "plugins";
  std::filesystem::create_directories(dir);
  for (const auto& b : bundled) {
    std::filesystem::create_symlink(std::filesystem::path(BD_CHECKS_DIR) / (b + ".so"),
                                    dir / (b + ".so"));
  }
  for (const auto& f : fixtures) {
    std::filesystem::create_symlink(std::filesystem::path(BD_FIXTURES_DIR) / (f + ".so"),
                                    dir / (f + ".so"));
  }
  return dir;
}

std::filesystem::path Scratch::config(const std::filesystem::path& plugin_dir,
                                      const std::string& checks) const {
  auto file = dir_ / "config.toml";
  std::ofstream out(file);
  out << "[exporter]\nartifact_dir = \"" << artifacts().string() << "\"\nplugin_dir = \""
      << plugin_dir.string() << "\"\n\n[[drill]]\nname = \"d\"\nsource_url = \""
      << pg().url(source_) << "\"\ntarget_url = \"" << pg().url(target_)
      << "\"\ntimeout = \"5m\"\n\n"
      << checks;
  return file;
}

std::string Scratch::artifact(const std::string& prefix, const std::string& suffix) const {
  std::filesystem::path newest;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(artifacts() / "d", ec)) {
    auto name = e.path().filename().string();
    bool match = name.rfind(prefix, 0) == 0 && name.size() >= suffix.size() &&
                 name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
    if (match && (newest.empty() || e.path() > newest)) newest = e.path();
  }
  if (newest.empty()) return "";
  std::ifstream in(newest);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

ExporterRun run_exporter(const std::vector<std::string>& args,
                         const std::map<std::string, std::optional<std::string>>& env) {
  ChildSpec spec;
  spec.program = BD_EXPORTER;
  spec.args = args;
  spec.env = {{"PGPASSWORD", std::nullopt},     {"SOURCE_DB_URL", std::nullopt},
              {"TARGET_DB_URL", std::nullopt},  {"BACKUPDRILL_PLUGIN_DIR", std::nullopt},
              {"TARGET_API_URL", std::nullopt}, {"API_BEARER_TOKEN", std::nullopt}};
  for (const auto& [k, v] : env) spec.env[k] = v;
  auto run = run_capture(spec, std::chrono::steady_clock::now() + std::chrono::minutes(4));
  return {run.status.exited ? run.status.code : -1, run.out};
}

}  // namespace backupdrill::testing
