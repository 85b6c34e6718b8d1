#include "backup/pg_dump_backup.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <future>
#include <pqxx/pqxx>
#include <sstream>
#include <vector>

#include "artifacts/artifact_files.h"
#include "backup/archive_stream_decoder.h"
#include "crypto/sha256.h"
#include "log/log.h"
#include "util/byte_size.h"
#include "util/secrets.h"
#include "util/text.h"

namespace backupdrill {
namespace {

constexpr size_t kBufferSize = 1 << 20;  // flat memory whatever the database size
constexpr auto kProgressEvery = std::chrono::seconds(10);

std::string tail_of_file(const std::filesystem::path& path, size_t max_bytes = 2000) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  if (text.size() > max_bytes) text = "..." + text.substr(text.size() - max_bytes);
  trim_right(text);
  return scrub(text);
}

void write_all(int fd, const char* data, size_t size, const std::filesystem::path& path) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      throw std::runtime_error("cannot write the backup to " + path.string() + ": " +
                               std::strerror(errno) + " (is the artifact disk full?)");
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
}

std::vector<std::string> dump_args(const PgSession& s, const BackupConfig& config,
                                   const std::string& snapshot) {
  std::vector<std::string> args{"--dbname=" + s.source.conninfo.without_password(), "--no-password",
                                "--verbose", "--snapshot=" + snapshot};
  auto compression = compression_args(config.compression, s.pg_dump.major);
  args.insert(args.end(), compression.begin(), compression.end());
  for (const auto& schema : config.schemas) args.push_back("--schema=" + schema);
  for (const auto& schema : config.exclude_schemas) args.push_back("--exclude-schema=" + schema);
  return args;
}

// Custom format: pg_dump writes to a pipe; every byte is hashed, written and
// decoded by pg_restore in the same pass, so neither the checksum nor the
// verify phase's decode costs a second read of the archive.
void stream_custom_dump(const PgSession& s, const BackupConfig& config, const BackupPaths& paths,
                        const std::string& snapshot, BackupResult& result) {
  ChildSpec spec;
  spec.program = s.pg_dump.path;
  spec.args = dump_args(s, config, snapshot);
  spec.args.push_back("--format=custom");
  spec.env = s.source.env();
  spec.out = ChildSpec::Stream::pipe;
  spec.err = ChildSpec::Stream::file;
  spec.err_file = paths.log;
  auto child = ChildProcess::spawn(spec);
  ::fcntl(child.stdout_fd(), F_SETPIPE_SZ, 1 << 20);  // bigger reads, fewer wake-ups
  ArchiveStreamDecoder decoder(
      s, paths.dump.parent_path() / ("." + paths.dump.filename().string() + ".decode.tmp"));

  int fd = create_private_file(paths.dump);
  Sha256 sha;
  std::vector<char> buffer(kBufferSize);
  unsigned long long written = 0;
  auto started = std::chrono::steady_clock::now();
  auto next_progress = started + kProgressEvery;
  bool stopped = false;
  try {
    while (true) {
      auto now = std::chrono::steady_clock::now();
      if (now >= next_progress) {
        double secs = std::chrono::duration<double>(now - started).count();
        log::info("backup in progress",
                  {{"drill", s.drill},
                   {"phase", "backup"},
                   {"bytes", std::to_string(written)},
                   {"written", human_bytes(written)},
                   {"rate", human_bytes(static_cast<unsigned long long>(written / secs)) + "/s"}});
        next_progress = now + kProgressEvery;
      }
      if (now >= s.deadline || (s.cancel.stop_requested())) {
        stopped = true;
        break;
      }
      pollfd pfd{child.stdout_fd(), POLLIN, 0};
      int pr = ::poll(&pfd, 1, 500);
      if (pr < 0 && errno == EINTR) continue;
      if (pr == 0) continue;
      ssize_t n = ::read(child.stdout_fd(), buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0)
        throw std::runtime_error(std::string("reading pg_dump's output failed: ") +
                                 std::strerror(errno));
      if (n == 0) break;
      sha.update(buffer.data(), static_cast<size_t>(n));
      write_all(fd, buffer.data(), static_cast<size_t>(n), paths.dump);
      decoder.feed(buffer.data(), static_cast<size_t>(n));
      written += static_cast<unsigned long long>(n);
    }
    if (::fsync(fd) != 0) {
      throw std::runtime_error("cannot flush " + paths.dump.string() + ": " + std::strerror(errno));
    }
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  child.close_stdout();
  ExitStatus status = child.wait(stopped ? std::chrono::steady_clock::now() : s.deadline, s.cancel);
  if (!status.ok()) {
    throw std::runtime_error("pg_dump " + status.describe() + ": " + tail_of_file(paths.log) +
                             " (full output in " + paths.log.filename().string() + ")");
  }
  result.decode_failure = decoder.finish(s.deadline, s.cancel);
  result.decoded_in_stream = true;
  result.sha256 = sha.hex_digest();
  result.size = written;
  result.format = "custom";
  write_private_file(paths.checksum, result.sha256 + "  " + paths.dump_name + "\n");
}

// Directory format (jobs > 1): pg_dump writes its files in parallel, so each
// is hashed after it is complete.
void parallel_directory_dump(const PgSession& s, const BackupConfig& config,
                             const BackupPaths& paths, const std::string& snapshot,
                             BackupResult& result) {
  ChildSpec spec;
  spec.program = s.pg_dump.path;
  spec.args = dump_args(s, config, snapshot);
  spec.args.push_back("--format=directory");
  spec.args.push_back("--jobs=" + std::to_string(config.jobs));
  spec.args.push_back("--file=" + paths.dump.string());
  spec.env = s.source.env();
  spec.err = ChildSpec::Stream::file;
  spec.err_file = paths.log;
  auto child = ChildProcess::spawn(spec);
  ExitStatus status = child.wait(s.deadline, s.cancel);
  if (!status.ok()) {
    throw std::runtime_error("pg_dump " + status.describe() + ": " + tail_of_file(paths.log) +
                             " (full output in " + paths.log.filename().string() + ")");
  }
  ::chmod(paths.dump.c_str(), 0700);
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(paths.dump)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::string lines;
  for (const auto& file : files) {
    ::chmod(file.c_str(), 0600);
    std::string digest = sha256_file(file);
    if (file.filename() == "toc.dat") result.sha256 = digest;
    lines += digest + "  " + paths.dump_name + "/" + file.filename().string() + "\n";
  }
  result.size = size_on_disk(paths.dump);
  result.format = "directory";
  write_private_file(paths.checksum, lines);
}

// A backup that failed is not a backup: what was written of it goes (it may
// be what filled the disk, and would fail every later run), its log stays.
void remove_partial_backup(const BackupPaths& paths) {
  for (const auto& path : {paths.dump, paths.checksum}) {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
    if (ec) {
      log::warn("cannot remove the partial backup",
                {{"file", path.string()}, {"error", ec.message()}});
    }
  }
}

}  // namespace

std::vector<std::string> compression_args(const std::string& compression, int pg_dump_major) {
  std::string method = compression;
  std::string level;
  if (auto colon = compression.find(':'); colon != std::string::npos) {
    method = compression.substr(0, colon);
    level = compression.substr(colon + 1);
  }
  if (!method.empty() && std::isdigit(static_cast<unsigned char>(method[0]))) {
    level = method;
    method = "gzip";
  }
  if (pg_dump_major >= 16) return {"--compress=" + compression};
  if (method == "none") return {"--compress=0"};
  if (method == "gzip")
    return level.empty() ? std::vector<std::string>{}
                         : std::vector<std::string>{"--compress=" + level};
  throw std::runtime_error("[drill.backup] compression = \"" + compression +
                           "\" needs pg_dump 16 or newer; this pg_dump is " +
                           std::to_string(pg_dump_major) +
                           " (use \"gzip:1\" or install a newer "
                           "postgresql-client)");
}

BackupResult run_backup(const PgSession& s, const BackupConfig& config, const BackupPaths& paths,
                        const SnapshotWork& during_snapshot) {
  BackupResult result;
  // The exporting transaction must stay open while pg_dump imports its
  // snapshot and while checks read the source in it.
  pqxx::connection conn(s.source.conninfo.full());
  pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(conn, "backupdrill-snapshot");
  auto row = tx.exec1("select pg_export_snapshot(), extract(epoch from now())::float8");
  std::string snapshot = row[0].as<std::string>();
  result.snapshot_time = from_unix_seconds(row[1].as<double>());
  log::debug("snapshot exported",
             {{"drill", s.drill}, {"phase", "backup"}, {"snapshot", snapshot}});

  auto source_work = std::async(std::launch::async, [&] {
    if (during_snapshot) during_snapshot(snapshot);
  });
  try {
    if (config.jobs > 1) {
      parallel_directory_dump(s, config, paths, snapshot, result);
    } else {
      stream_custom_dump(s, config, paths, snapshot, result);
    }
  } catch (...) {
    source_work.wait();
    remove_partial_backup(paths);
    throw;
  }
  source_work.get();  // SnapshotWork reports its own errors; this only joins
  tx.commit();
  return result;
}

}  // namespace backupdrill
