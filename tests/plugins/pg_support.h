#pragma once
// Helpers for the plugin tests against the PostgreSQL of the pg_clusters fixture (cluster a): the
// server's coordinates, scratch source/target databases, a plugin folder
// mixing bundled checks with test fixtures, and running the real exporter.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace backupdrill::testing {

struct Pg {
  std::string host, port, user, password;
  std::string url(const std::string& db) const;  // with the password
};
const Pg& pg();

void sql_exec(const std::string& db, const std::string& query);
std::string sql_value(const std::string& db, const std::string& query);

// A drill's folder, a source database copied from demo_template and the
// name of a target database; all removed at the end.
class Scratch {
 public:
  explicit Scratch(const std::string& name);
  ~Scratch();
  const std::string& source() const { return source_; }
  const std::string& target() const { return target_; }
  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path artifacts() const { return dir_ / "artifacts"; }
  // A plugin folder with links to the given bundled checks and fixtures.
  std::filesystem::path plugin_dir(const std::vector<std::string>& bundled,
                                   const std::vector<std::string>& fixtures = {}) const;
  // Writes config.toml with one drill "d" and the given [[drill.check]] text.
  std::filesystem::path config(const std::filesystem::path& plugin_dir,
                               const std::string& checks) const;
  // The newest <prefix>*<suffix> artifact of drill "d", read whole ("" if none).
  std::string artifact(const std::string& prefix, const std::string& suffix = "") const;

 private:
  std::string source_, target_;
  std::filesystem::path dir_;
};

struct ExporterRun {
  int exit_code = -1;
  std::string output;
};
ExporterRun run_exporter(const std::vector<std::string>& args,
                         const std::map<std::string, std::optional<std::string>>& env = {});

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace backupdrill::testing
