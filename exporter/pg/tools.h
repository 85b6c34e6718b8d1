#pragma once
// Finding pg_dump/pg_restore that can talk to a given server: pg_dump refuses
// servers newer than itself, so the client must be at least the server's
// major version.
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace backupdrill::pg {

struct ToolError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Tool {
  std::filesystem::path path;
  int major = 0;
  std::string version;  // "15.18"
};

// Runs "<path> --version" and parses "pg_dump (PostgreSQL) 15.18 ...".
Tool probe_tool(const std::filesystem::path& path);

// Looks in pg_bin_dir when set (and only there), else in
// /usr/lib/postgresql/<N>/bin for N = server_major, then newer N, then PATH.
// Throws ToolError naming the versions when no client is new enough.
Tool find_tool(const std::string& name, const std::string& pg_bin_dir, int server_major);

// Every executable <name> this host offers, for --version: pg_bin_dir when set
// (and only there, as find_tool looks), else each /usr/lib/postgresql/<N>/bin,
// newest first, then PATH. One entry per real file; a client that does not
// report a version is listed with an empty version.
std::vector<Tool> installed_tools(const std::string& name, const std::string& pg_bin_dir);

}  // namespace backupdrill::pg
