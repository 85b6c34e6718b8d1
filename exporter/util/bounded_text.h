#pragma once
// Bounding text that comes from outside (a plugin, a config, a child's
// output) before it is kept, logged or matched: a long text is cut at a
// UTF-8 character boundary and ends with a marker saying how much was cut,
// e.g. "key \"aaaa… (199995 more bytes)".
//
// Thread safety: pure functions.
#include <cstddef>
#include <string>
#include <string_view>

namespace backupdrill {

// text when it has at most max_bytes bytes; else its start with the marker
// "… (N more bytes)", the whole at most max_bytes long (max_bytes >= 32), so
// bounding twice changes nothing.
inline std::string bounded_text(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  // The marker's length depends on N; N has at most 20 digits.
  constexpr std::string_view kEllipsis = "\xE2\x80\xA6 (";  // "… ("
  constexpr std::string_view kTail = " more bytes)";
  size_t marker = kEllipsis.size() + 20 + kTail.size();
  size_t keep = max_bytes > marker ? max_bytes - marker : 0;
  // Never cut inside a UTF-8 sequence: back off over continuation bytes.
  while (keep > 0 && (static_cast<unsigned char>(text[keep]) & 0xC0) == 0x80) --keep;
  std::string out(text.substr(0, keep));
  out += kEllipsis;
  out += std::to_string(text.size() - keep);
  out += kTail;
  return out;
}

}  // namespace backupdrill
