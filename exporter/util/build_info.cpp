#include "util/build_info.h"

namespace backupdrill {

const char* const kVersion = BACKUPDRILL_VERSION;
const char* const kRevision = BACKUPDRILL_REVISION;

std::string version_text() {
  return std::string("backupdrill_exporter, version ") + kVersion + " (revision: " + kRevision +
         ")\n  compiler: GCC " + __VERSION__ + "\n  standard: C++" +
         std::to_string(__cplusplus / 100 % 100) + "\n";
}

}  // namespace backupdrill
