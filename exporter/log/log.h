#pragma once
// Structured logging on stderr in logfmt (default) or JSON, the two formats
// of Prometheus exporters' --log.format. Every line is scrubbed of secrets.
//
// Thread safety: all functions may be called from any thread after setup().
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace backupdrill::log {

enum class Level { debug, info, warn, error };
enum class Format { logfmt, json };

// Throws std::invalid_argument naming the accepted values.
Level parse_level(std::string_view text);
Format parse_format(std::string_view text);

void setup(Level level, Format format);

using Field = std::pair<std::string, std::string>;
using Fields = std::vector<Field>;

void write(Level level, std::string_view message, const Fields& fields = {});

inline void debug(std::string_view m, const Fields& f = {}) { write(Level::debug, m, f); }
inline void info(std::string_view m, const Fields& f = {}) { write(Level::info, m, f); }
inline void warn(std::string_view m, const Fields& f = {}) { write(Level::warn, m, f); }
inline void error(std::string_view m, const Fields& f = {}) { write(Level::error, m, f); }

// Renders one line without writing it; exposed for tests.
std::string render(Format format, Level level, std::string_view message, const Fields& fields);

}  // namespace backupdrill::log
