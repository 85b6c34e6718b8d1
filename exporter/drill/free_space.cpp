#include "drill/free_space.h"

#include <sys/statvfs.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "util/byte_size.h"

namespace backupdrill {
namespace {

// A measured ratio is that of one run: the data may have grown or compress
// worse next time.
constexpr double kMeasuredMargin = 1.10;

}  // namespace

SpaceEstimate estimate_backup_space(const std::filesystem::path& folder,
                                    unsigned long long source_size, const std::string& compression,
                                    const std::vector<RunRecord>& previous) {
  SpaceEstimate e;
  struct statvfs vfs {};
  if (::statvfs(folder.c_str(), &vfs) != 0) {
    throw std::runtime_error("cannot read the free space of " + folder.string() + ": " +
                             std::strerror(errno));
  }
  e.available = static_cast<unsigned long long>(vfs.f_bavail) * vfs.f_frsize;
  const RunRecord* last = nullptr;
  for (const auto& r : previous) {
    if (!r.in_progress && r.backup_size > 0 && r.source_size > 0) {
      last = &r;
      break;
    }
  }
  double ratio;
  if (last) {
    ratio = static_cast<double>(last->backup_size) / static_cast<double>(last->source_size) *
            kMeasuredMargin;
    char buf[160];
    std::snprintf(buf, sizeof buf, "x %.2f: run %s's backup/database ratio plus 10%%",
                  ratio / kMeasuredMargin, last->run_id.c_str());
    e.basis = buf;
  } else {
    ratio = compression == "none" || compression == "0" || compression == "gzip:0" ? 1.0 : 0.5;
    e.basis = ratio == 1.0 ? "x 1.0: no earlier backup to learn from, compression none"
                           : "x 0.5: no earlier backup to learn from";
  }
  e.needed = static_cast<unsigned long long>(std::ceil(static_cast<double>(source_size) * ratio));
  e.basis = "source database " + human_bytes(source_size) + " " + e.basis;
  return e;
}

}  // namespace backupdrill
