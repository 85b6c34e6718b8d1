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

// text with every byte that is not part of a well-formed UTF-8 sequence
// (Unicode table 3-7: no overlong forms, surrogates or code points past
// U+10FFFF) replaced by '?': valid JSON text of exactly the same length, so
// a size checked before is still the size sent.
inline std::string utf8_or_replaced(std::string_view text) {
  std::string out(text);
  auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  for (size_t i = 0; i < text.size();) {
    unsigned char c = byte(i);
    size_t len = c < 0x80                   ? 1
                 : (c >= 0xC2 && c <= 0xDF) ? 2
                 : (c >= 0xE0 && c <= 0xEF) ? 3
                 : (c >= 0xF0 && c <= 0xF4) ? 4
                                            : 0;
    bool ok = len > 0 && i + len <= text.size();
    if (ok && len > 1) {
      // The second byte's range depends on the first; the others are 80..BF.
      unsigned char lo = 0x80, hi = 0xBF;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
      ok = byte(i + 1) >= lo && byte(i + 1) <= hi;
      for (size_t k = 2; ok && k < len; ++k) ok = byte(i + k) >= 0x80 && byte(i + k) <= 0xBF;
    }
    if (!ok) {
      out[i++] = '?';
      continue;
    }
    i += len;
  }
  return out;
}

}  // namespace backupdrill
