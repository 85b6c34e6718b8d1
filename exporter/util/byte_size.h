#pragma once
// Sizes for people: log lines, error messages, the pages.
#include <string>

namespace backupdrill {

// "512 B", "1.2 MiB", "3.0 GiB" (binary units, one decimal).
std::string human_bytes(unsigned long long bytes);

}  // namespace backupdrill
