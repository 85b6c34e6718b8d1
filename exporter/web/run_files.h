#pragma once
// The files of one run that the exporter serves over HTTP: only names the
// run's summary lists (its artifacts and the summaries themselves), never
// the dump, never a name that could leave the drill's folder, never a
// symbolic link or anything but a regular file.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "model/run_record.h"

namespace backupdrill {

// Letters, digits, '.', '_' and '-'; not empty, not starting with '.', no
// "..", at most 255 bytes. A file name in the folder, never a path.
bool is_plain_file_name(std::string_view name);

// The run's text files, in the summary's order: its artifacts but the dump,
// then the Markdown summary (a finished run) and the JSON summary.
std::vector<std::string> servable_files(const RunRecord& run);

struct ServedFile {
  int status = 200;  // 200, 404 (not one of the run's text files), 413 (too large)
  std::string body;  // the file, or a sentence saying why not
};

// Reads folder/name when `name` is one of servable_files(run) and a regular
// file of at most max_bytes.
ServedFile read_run_file(const std::filesystem::path& folder, const RunRecord& run,
                         const std::string& name, size_t max_bytes = 64u << 20);

}  // namespace backupdrill
