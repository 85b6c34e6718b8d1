#pragma once
// A process-wide list of secret strings (passwords, tokens) that must never
// leave the process in clear text. Every log line and every message that is
// written to an artifact passes through scrub(), so a secret that slips into
// an error text from a library is still masked.
//
// Thread safety: all functions may be called from any thread.
#include <string>
#include <string_view>

namespace backupdrill {

// Registers a secret, and its percent-decoded form when that differs (a
// password copied out of a URL is still encoded: "p%40ss" is "p@ss" once
// libpq has read it, and either may end up in a message). Empty and very
// short strings (under 4 chars) are ignored because masking them would mangle
// ordinary text.
void register_secret(std::string_view secret);

// "%40" -> "@"; a '%' not followed by two hex digits is kept as is.
std::string percent_decode(std::string_view text);

// Returns text with every registered secret replaced by "***".
std::string scrub(std::string_view text);

}  // namespace backupdrill
