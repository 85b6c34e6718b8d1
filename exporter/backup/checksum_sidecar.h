#pragma once
// Sidecar checksums of existing backups: `<archive>.sha256` in sha256sum
// format ("<64 hex>  <name>" or "<64 hex> *<name>"), the form
// `sha256sum x.dump > x.dump.sha256` writes.
//
// For a directory-format dump the sidecar `<dir>.sha256` lists every file of
// the dump as "<digest>  <dir>/<file>", the output of
// `cd <parent> && sha256sum <dir>/* > <dir>.sha256` and the same form the
// drill's own backup_<ts>.sha256 has; every file of the dump must be listed
// and match, and every listed file must exist (a file added, removed or
// changed after the checksum was taken fails).
//
// Thread safety: pure functions.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace backupdrill::backup {

struct SidecarLine {
  std::string digest;  // 64 lower-case hex digits
  std::string name;    // as written, without the '*' of binary mode
};

// Parses sidecar text (at most kMaxSidecarBytes); `origin` names it in
// errors. Throws BackupVerifyError naming the line that is not sha256sum
// format. Upper-case digests are accepted and lowered.
std::vector<SidecarLine> parse_sidecar(std::string_view text, const std::string& origin);

constexpr size_t kMaxSidecarBytes = 16 << 20;

// The last component of a name in a sidecar line ("./a/b.dump" -> "b.dump").
std::string last_component(std::string_view name);

}  // namespace backupdrill::backup
