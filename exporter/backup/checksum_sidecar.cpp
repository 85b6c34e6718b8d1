#include "backup/checksum_sidecar.h"

#include "backup/source_error.h"

namespace backupdrill::backup {
namespace {

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

}  // namespace

std::vector<SidecarLine> parse_sidecar(std::string_view text, const std::string& origin) {
  if (text.size() > kMaxSidecarBytes) {
    throw BackupVerifyError(origin + ": larger than " + std::to_string(kMaxSidecarBytes >> 20) +
                            " MiB, not a checksum file");
  }
  std::vector<SidecarLine> lines;
  size_t start = 0;
  int number = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    // Checked by hand, not with a regex: a regex recurses per character.
    bool ok = line.size() >= 67 && line[64] == ' ' && (line[65] == ' ' || line[65] == '*');
    for (size_t i = 0; ok && i < 64; ++i) ok = is_hex(line[i]);
    if (!ok) {
      // Described, never quoted: the bytes may not be a checksum file's.
      throw BackupVerifyError(origin + ": line " + std::to_string(number) +
                              " is not in sha256sum format (\"<64 hex digits>  <file name>\")");
    }
    SidecarLine entry{std::string(line.substr(0, 64)), std::string(line.substr(66))};
    for (char& c : entry.digest) {
      if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    }
    lines.push_back(std::move(entry));
  }
  if (lines.empty()) throw BackupVerifyError(origin + ": lists no file");
  return lines;
}

std::string last_component(std::string_view name) {
  while (!name.empty() && name.back() == '/') name.remove_suffix(1);
  auto slash = name.rfind('/');
  return std::string(slash == std::string_view::npos ? name : name.substr(slash + 1));
}

}  // namespace backupdrill::backup
