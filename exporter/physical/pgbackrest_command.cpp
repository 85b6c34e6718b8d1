#include "physical/pgbackrest_command.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "util/bounded_text.h"

namespace backupdrill::physical {
namespace {

std::string trim(std::string s) {
  const auto begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return "";
  const auto end = s.find_last_not_of(" \t\r\n");
  return s.substr(begin, end - begin + 1);
}

}  // namespace

ChildSpec PgBackRest::spec(const std::string& command,
                           const std::vector<std::string>& options) const {
  ChildSpec spec;
  spec.program = program;
  if (!config.empty()) spec.args.push_back("--config=" + config);
  spec.args.push_back("--stanza=" + stanza);
  spec.args.insert(spec.args.end(), options.begin(), options.end());
  spec.args.push_back(command);
  run_as(spec, user);
  return spec;
}

CapturedRun PgBackRest::run(const std::string& command, const std::vector<std::string>& options,
                            Deadline deadline) const {
  return run_capture(spec(command, options), deadline, 4 << 20);
}

std::string PgBackRest::version(Deadline deadline) const {
  ChildSpec s;
  s.program = program;
  s.args = {"version"};
  run_as(s, user);
  const auto run = run_capture(s, deadline, 4096);
  // "pgBackRest 2.45"
  const std::string out = trim(run.out);
  const auto space = out.rfind(' ');
  return run.status.ok() && space != std::string::npos ? out.substr(space + 1) : "";
}

std::filesystem::path PgBackRest::config_file() const {
  return config.empty() ? std::filesystem::path("/etc/pgbackrest/pgbackrest.conf")
                        : std::filesystem::path(config);
}

PgBackRest find_pgbackrest(const std::string& config, const std::string& stanza,
                           const OsUser& user) {
  auto program = find_in_path("pgbackrest");
  if (!program) {
    throw std::runtime_error(
        "pgbackrest was not found on PATH; install pgBackRest (Debian: apt-get install "
        "pgbackrest) on the exporter's machine");
  }
  return PgBackRest{*program, config, stanza, user};
}

std::string pgbackrest_error(const std::string& output) {
  std::istringstream in(output);
  std::string line, errors, last;
  while (std::getline(in, line)) {
    line = trim(line);
    if (line.empty()) continue;
    last = line;
    // "P00  ERROR: [055]: ..." (with a process prefix in file logs) or "ERROR: [055]: ..."
    const auto at = line.find("ERROR: [");
    if (at != std::string::npos) errors += (errors.empty() ? "" : "; ") + line.substr(at);
  }
  return bounded_text(errors.empty() ? last : errors, 600);
}

std::string pgbackrest_option(const std::filesystem::path& file, const std::string& stanza,
                              const std::string& key) {
  std::ifstream in(file);
  std::string line, section, global_value, stanza_value;
  while (std::getline(in, line)) {
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = line.substr(1, line.size() - 2);
      continue;
    }
    const auto eq = line.find('=');
    if (eq == std::string::npos || trim(line.substr(0, eq)) != key) continue;
    const std::string value = trim(line.substr(eq + 1));
    if (section == stanza) stanza_value = value;
    if (section == "global") global_value = value;
  }
  return stanza_value.empty() ? global_value : stanza_value;
}

}  // namespace backupdrill::physical
