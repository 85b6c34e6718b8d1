#include "util/build_info.h"

namespace backupdrill {

const char* const kVersion = BACKUPDRILL_VERSION;
const char* const kRevision = BACKUPDRILL_REVISION;
const char* const kBuildDate = BACKUPDRILL_BUILD_DATE;
#if defined(__clang__)
const char* const kCompiler = "clang " __clang_version__;
#elif defined(__GNUC__)
const char* const kCompiler = "GCC " __VERSION__;
#else
const char* const kCompiler = "unknown compiler";
#endif

std::string version_text() {
  return std::string("backupdrill_exporter, version ") + kVersion + " (revision: " + kRevision +
         ")\n  build date:    " + kBuildDate + "\n  compiler:      " + kCompiler + " (C++" +
         std::to_string(__cplusplus / 100 % 100) + ")\n";
}

}  // namespace backupdrill
