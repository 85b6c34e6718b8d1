#pragma once
#include <string>

namespace backupdrill {

extern const char* const kVersion;
extern const char* const kRevision;
extern const char* const kBuildDate;  // UTC, ISO 8601; SOURCE_DATE_EPOCH when set at configure
extern const char* const kCompiler;   // "GCC 12.2.0"

// The build facts as Prometheus exporters print them for --version:
//   backupdrill_exporter, version 0.1.0 (revision: 0123abcd)
//     build date:    2026-11-29T16:58:37Z
//     compiler:      GCC 12.2.0 (C++20)
std::string version_text();

}  // namespace backupdrill
