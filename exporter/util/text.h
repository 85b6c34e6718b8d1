#pragma once
// Small text helpers shared by every layer.
#include <string>
#include <string_view>

namespace backupdrill {

// Drops the trailing characters found in `chars` (by default the newline and
// the blanks a tool's message ends with).
inline std::string& trim_right(std::string& text, std::string_view chars = " \n") {
  const auto end = text.find_last_not_of(chars);
  text.erase(end == std::string::npos ? 0 : end + 1);
  return text;
}

// ASCII letters lowered, every other byte kept.
inline std::string to_lower_ascii(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

}  // namespace backupdrill
