#include "physical/server_log.h"

#include <fstream>
#include <vector>

#include "util/bounded_text.h"

namespace backupdrill::physical {
namespace {

// Without the timestamp and pid prefix: from the severity on.
std::string from_severity(const std::string& line) {
  for (const char* severity :
       {"PANIC:", "FATAL:", "ERROR:", "WARNING:", "LOG:", "DETAIL:", "HINT:"}) {
    if (auto at = line.find(severity); at != std::string::npos) return line.substr(at);
  }
  return line;
}

std::vector<std::string> read_lines(const std::filesystem::path& file) {
  std::vector<std::string> lines;
  std::ifstream in(file);
  std::string line;
  // A server log of a long replay can be large: keep the last lines only.
  while (std::getline(in, line)) {
    lines.push_back(bounded_text(line, 1000));
    if (lines.size() > 20000) lines.erase(lines.begin(), lines.begin() + 10000);
  }
  return lines;
}

// FATALs of client connections (the recovery wait's own attempts while the
// server starts, a shutdown), not of the server itself.
bool connection_noise(const std::string& line) {
  for (const char* text : {"the database system is starting up", "not yet accepting connections",
                           "terminating connection due to administrator command",
                           "the database system is shutting down", "does not exist"}) {
    if (line.find(text) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

std::string server_failure(const std::filesystem::path& log_file) {
  const auto lines = read_lines(log_file);
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    if (l.find("FATAL:") == std::string::npos && l.find("PANIC:") == std::string::npos) continue;
    if (connection_noise(l)) continue;
    std::string out = from_severity(l);
    if (i + 1 < lines.size() && lines[i + 1].find("DETAIL:") != std::string::npos) {
      out += " " + from_severity(lines[i + 1]);
    }
    return bounded_text(out, 600);
  }
  for (size_t i = lines.size(); i-- > 0;) {
    if (lines[i].find("ERROR:") != std::string::npos)
      return bounded_text(from_severity(lines[i]), 600);
  }
  return "";
}

std::string server_lines_with(const std::filesystem::path& log_file, const std::string& text,
                              size_t max_lines) {
  std::string out;
  size_t n = 0;
  for (const auto& line : read_lines(log_file)) {
    if (line.find(text) == std::string::npos) continue;
    out += (out.empty() ? "" : " / ") + from_severity(line);
    if (++n == max_lines) break;
  }
  return bounded_text(out, 800);
}

}  // namespace backupdrill::physical
