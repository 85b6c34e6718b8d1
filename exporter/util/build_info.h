#pragma once
#include <string>

namespace backupdrill {

extern const char* const kVersion;
extern const char* const kRevision;

// "backupdrill_exporter, version 0.1.0 (revision: 0123abcd)\n  compiler: ..."
std::string version_text();

}  // namespace backupdrill
