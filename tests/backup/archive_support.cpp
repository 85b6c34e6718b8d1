#include "archive_support.h"

#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <vector>

#include "process/child_process.h"
#include "support.h"

namespace backupdrill::testing {
namespace fs = std::filesystem;

void make_archive(const std::string& db, const std::string& format, const fs::path& out) {
  const Cluster& a = cluster("a");
  ChildSpec spec;
  spec.program = fs::path(a.bin_dir) / "pg_dump";
  spec.args = {"--format=" + format, "--file=" + out.string(), "--host=" + a.host,
               "--port=" + a.port,   "--username=" + a.user,   db};
  spec.env["PGPASSWORD"] = a.password;
  spec.env["TZ"] = "UTC";
  auto run = run_capture(spec);
  if (!run.status.ok()) throw std::runtime_error("pg_dump failed: " + run.out);
}

std::string pg_restore_list(const fs::path& archive) {
  ChildSpec spec;
  spec.program = fs::path(cluster("a").bin_dir) / "pg_restore";
  spec.args = {"--list", archive.string()};
  spec.env["TZ"] = "UTC";
  auto run = run_capture(spec);
  if (!run.status.ok()) throw std::runtime_error("pg_restore --list failed: " + run.out);
  return run.out;
}

void set_archive_time(const fs::path& archive, const std::string& utc) {
  fs::path file = fs::is_directory(archive) ? archive / "toc.dat" : archive;
  int y, mo, d, h, mi, s;
  if (std::sscanf(utc.c_str(), "%d-%d-%d %d:%d:%d", &y, &mo, &d, &h, &mi, &s) != 6) {
    throw std::runtime_error("set_archive_time: bad time " + utc);
  }
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  char head[16];
  f.read(head, sizeof head);
  if (!f || std::string(head, 5) != "PGDMP" || head[6] >= 15) {
    throw std::runtime_error("set_archive_time: needs a 1.10..1.14 archive: " + file.string());
  }
  int int_size = head[8];
  // magic 5, version 3, int size, offset size, format, compression int
  std::streamoff at = 11 + 1 + int_size;
  std::vector<int> fields = {s, mi, h, d, mo - 1, y - 1900, 0};
  for (int v : fields) {
    std::string bytes(1 + int_size, '\0');
    for (int i = 0; i < int_size; ++i) bytes[1 + i] = static_cast<char>((v >> (8 * i)) & 0xff);
    f.seekp(at);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    at += 1 + int_size;
  }
  if (!f) throw std::runtime_error("set_archive_time: cannot write " + file.string());
}

std::string list_field(const std::string& listing, const std::string& label) {
  auto at = listing.find("; " + label);
  if (at == std::string::npos) {
    at = listing.find(";     " + label);
    if (at == std::string::npos) return "";
    at += 6;
  } else {
    at += 2;
  }
  at += label.size();
  while (at < listing.size() && listing[at] == ' ') ++at;
  return listing.substr(at, listing.find('\n', at) - at);
}

std::string shell(const std::string& command_line) {
  ChildSpec spec;
  spec.program = "/bin/sh";
  spec.args = {"-c", command_line};
  auto run = run_capture(spec);
  if (!run.status.ok()) throw std::runtime_error(command_line + ": " + run.out);
  return run.out;
}

}  // namespace backupdrill::testing
