#include "backup/verify.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <vector>

#include "backup/archive_stream_decoder.h"
#include "crypto/sha256.h"
#include "util/bounded_text.h"
#include "util/secrets.h"
#include "util/text.h"

namespace backupdrill {
namespace {

struct ChecksumEntry {
  std::string digest;
  std::string name;
};

std::vector<ChecksumEntry> read_checksums(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot read " + file.string());
  // "<64 lowercase hex> <space or *><name>", checked by hand: a regex would
  // recurse once per character of a long line.
  auto parse = [](const std::string& line) -> std::optional<ChecksumEntry> {
    if (line.size() < 67 || line[64] != ' ' || (line[65] != ' ' && line[65] != '*')) return {};
    for (size_t i = 0; i < 64; ++i) {
      if (!((line[i] >= '0' && line[i] <= '9') || (line[i] >= 'a' && line[i] <= 'f'))) return {};
    }
    if (line.find('\r', 66) != std::string::npos) return {};
    return ChecksumEntry{line.substr(0, 64), line.substr(66)};
  };
  std::vector<ChecksumEntry> entries;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    auto entry = parse(line);
    if (!entry) {
      throw std::runtime_error(file.filename().string() + ":" + std::to_string(number) +
                               ": not a sha256sum line");
    }
    const std::string& name = entry->name;
    if (name.front() == '/' || name.find("..") != std::string::npos) {
      throw std::runtime_error(file.filename().string() + ":" + std::to_string(number) +
                               ": path \"" + bounded_text(name, 200) +
                               "\" leaves the drill folder");
    }
    entries.push_back(std::move(*entry));
  }
  if (entries.empty()) throw std::runtime_error(file.filename().string() + " lists no file");
  return entries;
}

[[noreturn]] void mismatch(const ChecksumEntry& e, const std::string& found) {
  throw std::runtime_error(e.name + ": SHA-256 mismatch: recorded " + e.digest + ", found " +
                           found +
                           "; the backup changed or was truncated after it was written, "
                           "so it is not restored");
}

std::string trimmed(std::string text, size_t max_bytes = 1500) {
  if (text.size() > max_bytes) text = text.substr(0, max_bytes) + "...";
  trim_right(text);
  return scrub(text);
}

// One read of the custom-format file feeds both the hash and a pg_restore that
// decodes every block to /dev/null: truncation and corruption inside the data
// show up here, not half-way through the restore.
void check_custom_file(const PgSession& s, const std::filesystem::path& path,
                       const ChecksumEntry& entry, const std::filesystem::path& err_file) {
  ArchiveStreamDecoder decoder(s, err_file);
  std::string digest =
      sha256_file(path, [&](const char* p, size_t left) { decoder.feed(p, left); });
  const auto why = decoder.finish(s.deadline, s.cancel);
  if (digest != entry.digest) mismatch(entry, digest);
  if (why)
    throw std::runtime_error(entry.name + ": pg_restore cannot read the whole archive: " + *why);
}

// pg_restore decodes every block of the archive to /dev/null.
void decode_whole_archive(const PgSession& s, const std::filesystem::path& dump) {
  ChildSpec full;
  full.program = s.pg_restore.path;
  full.args = {"--file=/dev/null", dump.string()};
  auto run = run_capture(full, s.deadline);
  if (!run.status.ok()) {
    throw std::runtime_error(dump.filename().string() +
                             ": pg_restore cannot read the whole "
                             "archive (" +
                             run.status.describe() + "): " + trimmed(run.out));
  }
}

// The archive's table of contents, counted; an empty one is a failure.
int count_toc_entries(const PgSession& s, const std::filesystem::path& dump) {
  int entries = 0;
  ChildSpec list;
  list.program = s.pg_restore.path;
  list.args = {"--list", dump.string()};
  auto run = run_capture(list, s.deadline);
  if (!run.status.ok()) {
    throw std::runtime_error("pg_restore --list " + dump.filename().string() + " failed (" +
                             run.status.describe() + "): " + trimmed(run.out));
  }
  std::istringstream lines(run.out);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty() && line[0] != ';') ++entries;
  }
  if (entries == 0) {
    throw std::runtime_error("pg_restore --list finds no object in " + dump.filename().string() +
                             "; the backup is empty");
  }
  return entries;
}

}  // namespace

int read_whole_archive(const PgSession& session, const std::filesystem::path& dump) {
  decode_whole_archive(session, dump);
  return count_toc_entries(session, dump);
}

VerifyResult run_verify(const PgSession& s, const std::filesystem::path& folder,
                        const std::filesystem::path& checksum_file,
                        const std::filesystem::path& dump) {
  VerifyResult result;
  auto entries = read_checksums(checksum_file);
  auto err_file =
      checksum_file.parent_path() / ("." + checksum_file.stem().string() + ".verify.tmp");
  struct Cleanup {
    std::filesystem::path p;
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove(p, ec);
    }
  } cleanup{err_file};

  bool directory = std::filesystem::is_directory(dump);
  for (const auto& entry : entries) {
    auto path = folder / entry.name;
    if (!std::filesystem::exists(path)) {
      throw std::runtime_error(entry.name + " is listed in " + checksum_file.filename().string() +
                               " but missing");
    }
    if (directory) {
      std::string digest = sha256_file(path);
      if (digest != entry.digest) mismatch(entry, digest);
    } else {
      check_custom_file(s, path, entry, err_file);
    }
    ++result.files_checked;
  }
  if (directory) decode_whole_archive(s, dump);
  result.toc_entries = count_toc_entries(s, dump);
  return result;
}

VerifyResult run_verify_decoded(const PgSession& s, const std::filesystem::path& folder,
                                const std::filesystem::path& checksum_file,
                                const std::filesystem::path& dump, const StreamDecode& decoded) {
  VerifyResult result;
  bool dump_listed = false;
  for (const auto& entry : read_checksums(checksum_file)) {
    auto path = folder / entry.name;
    if (!std::filesystem::exists(path)) {
      throw std::runtime_error(entry.name + " is listed in " + checksum_file.filename().string() +
                               " but missing");
    }
    std::string digest = sha256_file(path);
    if (digest != entry.digest) mismatch(entry, digest);
    if (path == dump) {
      dump_listed = true;
      if (digest != decoded.sha256) {
        throw std::runtime_error(entry.name + ": SHA-256 " + digest +
                                 " is not that of the bytes pg_restore decoded while the "
                                 "backup was written (" +
                                 decoded.sha256 + "), so it is not restored");
      }
    }
    ++result.files_checked;
  }
  if (!dump_listed) {
    throw std::runtime_error(checksum_file.filename().string() + " does not list " +
                             dump.filename().string());
  }
  if (decoded.failure) {
    throw std::runtime_error(
        dump.filename().string() +
        ": pg_restore cannot read the whole archive pg_dump wrote: " + *decoded.failure);
  }
  result.toc_entries = count_toc_entries(s, dump);
  return result;
}

}  // namespace backupdrill
