#pragma once
// The throwaway server's own words on why recovery failed, from its log.
#include <filesystem>
#include <string>

namespace backupdrill::physical {

// The first FATAL or PANIC line of the log (not those of refused client
// connections while it starts) (e.g. "FATAL:  recovery ended
// before configured recovery target was reached"), with the line before it
// when that says what was missing; else the last ERROR line; empty when
// there is none.
std::string server_failure(const std::filesystem::path& log_file);

// The log lines holding `text` (e.g. a WAL segment's name), joined, at most
// max_lines of them.
std::string server_lines_with(const std::filesystem::path& log_file, const std::string& text,
                              size_t max_lines = 3);

}  // namespace backupdrill::physical
