#pragma once
// The artifact folder of one drill, <artifact_dir>/<drill>/, and the contract
// names of a run's files in it. Folders are 0700, files 0600.
#include <filesystem>
#include <string>
#include <string_view>

namespace backupdrill {

// Creates dir (and parents) with mode 0700 and tightens an existing one.
void ensure_private_dir(const std::filesystem::path& dir);

// Writes content to path atomically (temp file + rename), mode 0600.
void write_private_file(const std::filesystem::path& path, std::string_view content);

// Opens path for writing (created 0600, truncated); returns the fd. Throws.
int create_private_file(const std::filesystem::path& path);

// Total size of a file, or of every file below a folder (directory dumps).
unsigned long long size_on_disk(const std::filesystem::path& path);

struct RunArtifactNames {
  std::string stamp;  // YYYYMMDDTHHMMSSZ

  std::string dump() const { return "backup_" + stamp + ".dump"; }
  std::string checksum() const { return "backup_" + stamp + ".sha256"; }
  std::string restore_log() const { return "restore_" + stamp + ".log"; }
  std::string validation() const { return "validation_" + stamp + ".txt"; }
  std::string smoke() const { return "smoke_" + stamp + ".txt"; }
  std::string summary_md() const { return "drill_summary_" + stamp + ".md"; }
  std::string summary_json() const { return "drill_summary_" + stamp + ".json"; }
  // Beyond the contract's names: pg_dump's stderr and profile supabase's
  // roles script and restore lists.
  std::string backup_log() const { return "backup_" + stamp + ".log"; }
  std::string roles() const { return "backup_" + stamp + ".roles"; }
  std::string restore_list() const { return "restore_" + stamp + ".list"; }
  std::string restore_extlist() const { return "restore_" + stamp + ".extlist"; }
};

}  // namespace backupdrill
