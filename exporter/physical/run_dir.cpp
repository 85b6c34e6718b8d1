#include "physical/run_dir.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "util/process_identity.h"

namespace backupdrill::physical {
namespace fs = std::filesystem;
namespace {

void make_private_dir(const fs::path& dir, const OsUser& user) {
  if (::mkdir(dir.c_str(), 0700) != 0) {
    throw std::runtime_error("cannot create " + dir.string() + ": " + std::strerror(errno));
  }
  if (user.switched && ::chown(dir.c_str(), user.uid, user.gid) != 0) {
    throw std::runtime_error("cannot give " + dir.string() + " to " + user.name + ": " +
                             std::strerror(errno));
  }
}

bool inside(const fs::path& path, const fs::path& dir) {
  auto p = path.begin();
  for (auto d = dir.begin(); d != dir.end(); ++d, ++p) {
    if (d->empty()) continue;  // a trailing slash
    if (p == path.end() || *p != *d) return false;
  }
  return true;
}

fs::path normal(const fs::path& p) {
  std::error_code ec;
  fs::path out = fs::weakly_canonical(p, ec);
  return ec ? p.lexically_normal() : out;
}

}  // namespace

void prepare_work_dir(const fs::path& work_dir, const OsUser& user) {
  std::error_code ec;
  if (!fs::exists(work_dir, ec)) {
    fs::create_directories(work_dir.parent_path(), ec);
    make_private_dir(work_dir, user);
  }
  struct stat st {};
  if (::stat(work_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    throw std::runtime_error("[drill.restore] work_dir " + work_dir.string() +
                             " is not a directory");
  }
  if (st.st_uid != user.uid) {
    throw std::runtime_error("[drill.restore] work_dir " + work_dir.string() + " is owned by uid " +
                             std::to_string(st.st_uid) + "; the restore runs as " + user.name +
                             ", who must own it (chown " + user.name + " " + work_dir.string() +
                             ", or point work_dir at a new directory the exporter creates)");
  }
  if ((st.st_mode & 077) != 0) {
    throw std::runtime_error("[drill.restore] work_dir " + work_dir.string() +
                             " is open to other users (a restored database holds production "
                             "data): chmod 0700 " +
                             work_dir.string());
  }
}

void refuse_unsafe_location(const fs::path& work_dir,
                            const std::vector<std::pair<std::string, fs::path>>& forbidden) {
  const fs::path dir = normal(work_dir);
  for (const auto& [what, place] : forbidden) {
    if (place.empty()) continue;
    if (inside(dir, normal(place))) {
      throw std::runtime_error("[drill.restore] work_dir " + work_dir.string() + " is inside " +
                               what + " " + place.string() +
                               "; a drill must never write there: point work_dir elsewhere");
    }
  }
  std::error_code ec;
  for (fs::path p = dir; !p.empty(); p = p.parent_path()) {
    if (fs::exists(p / "PG_VERSION", ec) && fs::exists(p / "global", ec)) {
      throw std::runtime_error("[drill.restore] work_dir " + work_dir.string() +
                               " is inside the PostgreSQL data directory " + p.string() +
                               "; point work_dir outside every cluster");
    }
    if (p == p.parent_path()) break;
  }
}

RunDir create_run_dir(const fs::path& work_dir, const std::string& name, const OsUser& user) {
  // Another drill sharing work_dir may have started in the same second:
  // the next free name, never an existing directory (mkdir fails on one).
  fs::path root;
  for (int n = 1; n < 100 && root.empty(); ++n) {
    const fs::path candidate = work_dir / (n == 1 ? name : name + "-" + std::to_string(n));
    if (::mkdir(candidate.c_str(), 0700) == 0)
      root = candidate;
    else if (errno != EEXIST)
      break;
  }
  if (root.empty()) {
    throw std::runtime_error("cannot create a run directory " + (work_dir / name).string() + ": " +
                             std::strerror(errno));
  }
  if (user.switched && ::chown(root.c_str(), user.uid, user.gid) != 0) {
    throw std::runtime_error("cannot give " + root.string() + " to " + user.name + ": " +
                             std::strerror(errno));
  }
  RunDir run{root, root / "data", root / "tablespaces"};
  {
    std::ofstream marker(run.root / kRunMarker);
    marker << ::getpid() << "\n" << process_identity(::getpid()) << "\n";
    if (!marker) throw std::runtime_error("cannot write " + (run.root / kRunMarker).string());
  }
  make_private_dir(run.data, user);
  make_private_dir(run.tablespaces, user);
  return run;
}

std::vector<fs::path> remove_leftover_runs(const fs::path& work_dir) {
  std::vector<fs::path> removed;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(work_dir, ec)) {
    const fs::path marker = entry.path() / kRunMarker;
    // Only a real directory holding a real marker file: a link is never followed.
    if (!entry.is_directory(ec) || entry.is_symlink(ec) ||
        !fs::is_regular_file(fs::symlink_status(marker, ec))) {
      continue;
    }
    std::ifstream in(marker);
    long long pid = 0;
    std::string identity;
    in >> pid;
    std::getline(in >> std::ws, identity);
    if (pid > 0 && process_alive(static_cast<pid_t>(pid), identity)) continue;  // still running
    fs::remove_all(entry.path(), ec);
    if (!ec) removed.push_back(entry.path());
  }
  return removed;
}

void remove_run_dir(const RunDir& run) {
  std::error_code ec;
  if (!fs::exists(run.root / kRunMarker, ec)) {
    throw std::runtime_error("not removing " + run.root.string() + ": it has no " + kRunMarker +
                             " marker, so the exporter did not create it");
  }
  fs::remove_all(run.root, ec);
  if (ec || fs::exists(run.root)) {
    throw std::runtime_error("could not remove " + run.root.string() + ": " +
                             (ec ? ec.message() : std::string("it is still there")));
  }
}

}  // namespace backupdrill::physical
