#include "backup/file_source.h"

#include <glob.h>
#include <unistd.h>

#include <algorithm>
#include <map>

#include "backup/checksum_sidecar.h"
#include "backup/source_error.h"
#include "crypto/sha256.h"
#include "util/contained_file.h"

namespace backupdrill::backup {
namespace fs = std::filesystem;
namespace {

bool has_glob_chars(const std::string& path) {
  return path.find_first_of("*?[") != std::string::npos;
}

std::string describe(const ArchiveHeader& h) {
  return h.created_local + " (" + iso8601_utc(h.created_at) + "), " + h.format_name() +
         " format, database " + h.database;
}

std::vector<fs::path> expand(const std::string& pattern) {
  glob_t g{};
  int rc = ::glob(pattern.c_str(), GLOB_NOSORT, nullptr, &g);
  std::vector<fs::path> out;
  if (rc == 0) {
    if (g.gl_pathc > kMaxFileCandidates) {
      size_t n = g.gl_pathc;
      ::globfree(&g);
      throw BackupSourceError("path \"" + pattern + "\" matches " + std::to_string(n) +
                              " entries, more than " + std::to_string(kMaxFileCandidates) +
                              "; narrow the glob (e.g. \"/srv/backups/app/*.dump\")");
    }
    for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  }
  ::globfree(&g);
  if (rc != 0 && rc != GLOB_NOMATCH) {
    throw BackupSourceError("path \"" + pattern + "\": cannot read the folders it names");
  }
  std::sort(out.begin(), out.end());
  return out;
}

FileCandidate examine(const ContainedFolder& folder, const fs::path& path) {
  FileCandidate c{path, std::nullopt, ""};
  try {
    c.header = read_archive_header(folder, path);
  } catch (const ArchiveHeaderError& e) {
    c.problem = e.what();
  }
  return c;
}

// A sidecar's text, opened inside the backup folder only.
std::string read_sidecar_text(const ContainedFolder& folder, const fs::path& file) {
  try {
    UniqueFd fd = folder.open(file);
    return read_all(fd.get(), kMaxSidecarBytes, file.string());
  } catch (const std::runtime_error& e) {
    throw BackupVerifyError(std::string(e.what()) + "; it is not used as a checksum file");
  }
}

// Whether a directory entry of that name exists, a dangling link included:
// a sidecar that cannot be read is an error, never "no sidecar".
bool entry_exists(const fs::path& p) {
  std::error_code ec;
  return fs::exists(fs::symlink_status(p, ec));
}

// The archive's path without a trailing slash (a directory named "x/").
fs::path plain(const fs::path& p) {
  std::string s = p.string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

struct Sidecar {
  fs::path file;
  std::vector<SidecarLine> lines;
};

bool names_archive_file(const SidecarLine& line, const std::string& name) {
  return last_component(line.name) == name;
}

// `<archive>.sha256`, else `<stem>.sha256` when it has a line for the archive.
std::optional<Sidecar> find_sidecar(const ContainedFolder& folder, const fs::path& archive,
                                    bool directory) {
  fs::path p = plain(archive);
  std::string name = p.filename().string();
  fs::path first = p.parent_path() / (name + ".sha256");
  if (entry_exists(first)) {
    return Sidecar{first, parse_sidecar(read_sidecar_text(folder, first), first.string())};
  }
  if (!p.has_extension()) return std::nullopt;
  fs::path second = p.parent_path() / (p.stem().string() + ".sha256");
  if (!entry_exists(second)) return std::nullopt;
  auto lines = parse_sidecar(read_sidecar_text(folder, second), second.string());
  bool mentions = std::any_of(lines.begin(), lines.end(), [&](const SidecarLine& l) {
    if (!directory) return names_archive_file(l, name);
    auto parent = fs::path(l.name).parent_path();
    return !parent.empty() && last_component(parent.string()) == name;
  });
  if (!mentions) return std::nullopt;
  return Sidecar{second, std::move(lines)};
}

// Hashes one file of the backup folder, opened inside it; its size too.
std::string hash_contained(const ContainedFolder& folder, const fs::path& file,
                           unsigned long long& size) {
  try {
    UniqueFd fd = folder.open(file);
    std::string digest = sha256_fd(fd.get(), file.string());
    size = static_cast<unsigned long long>(::lseek(fd.get(), 0, SEEK_CUR));
    return digest;
  } catch (const RefusedFileError& e) {
    throw BackupVerifyError(e.what());
  } catch (const std::runtime_error& e) {
    throw BackupSourceError(e.what());
  }
}

void hash_file_archive(ChosenFileArchive& chosen, const ContainedFolder& folder,
                       const std::optional<Sidecar>& sidecar) {
  chosen.sha256 = hash_contained(folder, chosen.path, chosen.size_bytes);
  chosen.files_hashed = 1;
  if (!sidecar) return;
  std::string name = chosen.path.filename().string();
  const SidecarLine* line = nullptr;
  for (const auto& l : sidecar->lines) {
    if (names_archive_file(l, name)) line = &l;
  }
  if (line == nullptr) {
    throw BackupVerifyError(sidecar->file.string() + " has no line for " + name +
                            ", so the archive cannot be verified; regenerate it with "
                            "\"sha256sum " +
                            name + " > " + sidecar->file.filename().string() + "\"");
  }
  if (line->digest != chosen.sha256) {
    throw BackupVerifyError(chosen.path.string() +
                            ": SHA-256 mismatch: " + sidecar->file.filename().string() +
                            " records " + line->digest + ", the file has " + chosen.sha256 +
                            "; the archive changed after its checksum was taken, so it is "
                            "not restored");
  }
}

void hash_directory_archive(ChosenFileArchive& chosen, const ContainedFolder& folder,
                            const std::optional<Sidecar>& sidecar) {
  fs::path dir = plain(chosen.path);
  std::string dir_name = dir.filename().string();
  std::vector<fs::path> files;
  // Every entry but a real sub-folder is a file of the dump: a link or a
  // FIFO among them is opened (and refused) like any other.
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (!entry.is_directory() || entry.is_symlink()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::map<std::string, std::string> listed;  // file name in the dump -> digest
  if (sidecar) {
    for (const auto& l : sidecar->lines) {
      std::string n = l.name;
      while (n.rfind("./", 0) == 0) n.erase(0, 2);
      fs::path p(n);
      if (p.has_parent_path() && last_component(p.parent_path().string()) != dir_name) continue;
      std::string file = p.filename().string();
      auto [it, inserted] = listed.emplace(file, l.digest);
      if (!inserted && it->second != l.digest) {
        throw BackupVerifyError(sidecar->file.string() + " lists " + dir_name + "/" + file +
                                " twice with different digests");
      }
    }
    if (listed.empty()) {
      throw BackupVerifyError(sidecar->file.string() + " has no line for a file of " + dir_name +
                              "/; regenerate it with \"sha256sum " + dir_name + "/* > " +
                              sidecar->file.filename().string() + "\" in " +
                              dir.parent_path().string());
    }
  }
  chosen.size_bytes = 0;
  chosen.files_hashed = 0;
  for (const auto& file : files) {
    unsigned long long size = 0;
    std::string digest = hash_contained(folder, file, size);
    ++chosen.files_hashed;
    chosen.size_bytes += size;
    std::string name = file.filename().string();
    if (name == "toc.dat") chosen.sha256 = digest;
    if (!sidecar) continue;
    auto it = listed.find(name);
    if (it == listed.end()) {
      throw BackupVerifyError(dir_name + "/" + name + " is not listed in " +
                              sidecar->file.string() +
                              "; the dump changed after its checksum was taken, so it is not "
                              "restored");
    }
    if (it->second != digest) {
      throw BackupVerifyError(dir_name + "/" + name +
                              ": SHA-256 mismatch: " + sidecar->file.filename().string() +
                              " records " + it->second + ", the file has " + digest +
                              "; the dump changed after its checksum was taken, so it is not "
                              "restored");
    }
    listed.erase(it);
  }
  if (sidecar && !listed.empty()) {
    throw BackupVerifyError(dir_name + "/" + listed.begin()->first + " is listed in " +
                            sidecar->file.string() +
                            " but missing from the dump, so it is not restored");
  }
}

}  // namespace

std::string to_string(ChecksumOutcome outcome) {
  switch (outcome) {
    case ChecksumOutcome::verified:
      return "verified";
    case ChecksumOutcome::absent:
      return "absent";
    case ChecksumOutcome::not_checked:
      return "not checked";
  }
  return "not checked";
}

namespace {

ContainedFolder backup_folder(const fs::path& root) {
  try {
    return ContainedFolder(root);
  } catch (const RefusedFileError& e) {
    throw BackupSourceError(std::string("no backup found: ") + e.what());
  }
}

// What `path` names, each read inside the backup folder: one file or
// directory dump, or every match of a glob but the sidecars.
std::vector<FileCandidate> candidates_of(const std::string& path, const fs::path& root) {
  std::vector<FileCandidate> candidates;
  if (!has_glob_chars(path)) {
    std::error_code ec;
    if (!fs::exists(path, ec)) {
      throw BackupSourceError("no backup found: " + path + " does not exist");
    }
    if (fs::is_directory(path, ec) && !fs::exists(fs::path(path) / "toc.dat", ec)) {
      throw BackupSourceError(path +
                              " is a folder but not a directory-format dump (no toc.dat); to "
                              "drill the newest archive in it, give a glob such as \"" +
                              plain(path).string() + "/*.dump\"");
    }
    candidates.push_back(examine(backup_folder(root), path));
    return candidates;
  }
  auto matches = expand(path);
  if (matches.empty()) return candidates;
  const ContainedFolder folder = backup_folder(root);
  for (const auto& match : matches) {
    if (match.extension() == ".sha256") continue;  // sidecars are not candidates
    candidates.push_back(examine(folder, match));
  }
  return candidates;
}

struct Newest {
  const FileCandidate* best = nullptr;
  const FileCandidate* runner_up = nullptr;
  size_t usable = 0;
  std::string passed_over;  // why the others are not archives
};

Newest newest_by_header(const std::vector<FileCandidate>& candidates) {
  Newest n;
  for (const auto& c : candidates) {
    if (!c.header) {
      n.passed_over += (n.passed_over.empty() ? "" : "; ") + c.problem;
      continue;
    }
    ++n.usable;
    // Ties (same second) go to the later name, so the choice is repeatable.
    if (n.best == nullptr || c.header->created_at >= n.best->header->created_at) {
      n.runner_up = n.best;
      n.best = &c;
    } else if (n.runner_up == nullptr || c.header->created_at >= n.runner_up->header->created_at) {
      n.runner_up = &c;
    }
  }
  return n;
}

std::string why_chosen(const std::string& path, const Newest& n) {
  std::string reason;
  if (n.usable == 1) {
    reason = "the only archive matching \"" + path + "\"; created " + describe(*n.best->header);
  } else {
    reason = "the newest of " + std::to_string(n.usable) + " archives matching \"" + path +
             "\" by the creation time in its header: " + describe(*n.best->header) +
             "; next newest " + n.runner_up->path.filename().string() + ", created " +
             n.runner_up->header->created_local;
  }
  if (!n.passed_over.empty()) reason += "; passed over: " + n.passed_over;
  return reason;
}

}  // namespace

ChosenFileArchive find_newest_file_archive(const std::string& path) {
  if (path.empty()) {
    throw BackupSourceError(
        "source = \"file\" needs path (a dump file, a directory dump or a glob)");
  }
  const fs::path root = storage_folder_of(path);
  std::vector<FileCandidate> candidates = candidates_of(path, root);
  const Newest newest = newest_by_header(candidates);
  if (newest.best == nullptr) {
    std::string why = candidates.empty()
                          ? "path \"" + path + "\" matches nothing"
                          : "of the " + std::to_string(candidates.size()) + " matches of \"" +
                                path +
                                "\" none is a readable pg_dump archive: " + newest.passed_over;
    throw BackupSourceError("no backup found: " + why);
  }
  ChosenFileArchive chosen;
  chosen.folder = root;
  chosen.path = newest.best->path;
  chosen.header = *newest.best->header;
  chosen.reason = why_chosen(path, newest);
  chosen.candidates = std::move(candidates);
  return chosen;
}

void verify_file_archive(ChosenFileArchive& chosen, BackupConfig::Checksum checksum) {
  bool directory = chosen.header.format == ArchiveHeader::Format::directory;
  const ContainedFolder folder(chosen.folder.empty() ? storage_folder_of(chosen.path.string())
                                                     : chosen.folder);
  std::optional<Sidecar> sidecar;
  if (checksum != BackupConfig::Checksum::none) {
    sidecar = find_sidecar(folder, chosen.path, directory);
  }
  if (checksum == BackupConfig::Checksum::required && !sidecar) {
    throw BackupVerifyError(
        "checksum = \"required\" but " + chosen.path.filename().string() +
        " has no sidecar: expected " + (plain(chosen.path).string() + ".sha256") +
        " in sha256sum format (write it with \"sha256sum " +
        (directory ? plain(chosen.path).filename().string() + "/*"
                   : chosen.path.filename().string()) +
        " > " + plain(chosen.path).filename().string() + ".sha256\" next to the archive)");
  }
  if (directory) {
    hash_directory_archive(chosen, folder, sidecar);
  } else {
    hash_file_archive(chosen, folder, sidecar);
  }
  if (sidecar) {
    chosen.checksum = ChecksumOutcome::verified;
    chosen.sidecar = sidecar->file;
  } else {
    chosen.checksum = checksum == BackupConfig::Checksum::none ? ChecksumOutcome::not_checked
                                                               : ChecksumOutcome::absent;
  }
}

ChosenFileArchive select_file_archive(const BackupConfig& config) {
  ChosenFileArchive chosen = find_newest_file_archive(config.path);
  verify_file_archive(chosen, config.checksum);
  return chosen;
}

}  // namespace backupdrill::backup
