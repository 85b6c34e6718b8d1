#include "log/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "util/secrets.h"
#include "util/time_format.h"

namespace backupdrill::log {
namespace {

std::atomic<Format> g_format{Format::logfmt};

std::shared_ptr<spdlog::logger> logger() {
  static std::shared_ptr<spdlog::logger> instance = [] {
    auto l = std::make_shared<spdlog::logger>("backupdrill",
                                              std::make_shared<spdlog::sinks::stderr_sink_mt>());
    l->set_pattern("%v");
    l->set_level(spdlog::level::info);
    l->flush_on(spdlog::level::debug);
    return l;
  }();
  return instance;
}

spdlog::level::level_enum to_spdlog(Level level) {
  switch (level) {
    case Level::debug:
      return spdlog::level::debug;
    case Level::info:
      return spdlog::level::info;
    case Level::warn:
      return spdlog::level::warn;
    case Level::error:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

const char* level_name(Level level) {
  switch (level) {
    case Level::debug:
      return "debug";
    case Level::info:
      return "info";
    case Level::warn:
      return "warn";
    case Level::error:
      return "error";
  }
  return "info";
}

// logfmt quotes a value when it is empty or has spaces, quotes, or '='.
std::string logfmt_value(std::string_view v) {
  bool quote = v.empty();
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
      quote = true;
    }
  }
  if (!quote) return std::string(v);
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

Level parse_level(std::string_view text) {
  if (text == "debug") return Level::debug;
  if (text == "info") return Level::info;
  if (text == "warn") return Level::warn;
  if (text == "error") return Level::error;
  throw std::invalid_argument("--log.level=" + std::string(text) +
                              ": expected one of debug, info, warn, error");
}

Format parse_format(std::string_view text) {
  if (text == "logfmt") return Format::logfmt;
  if (text == "json") return Format::json;
  throw std::invalid_argument("--log.format=" + std::string(text) + ": expected logfmt or json");
}

void setup(Level level, Format format) {
  g_format = format;
  logger()->set_level(to_spdlog(level));
}

std::string render(Format format, Level level, std::string_view message, const Fields& fields) {
  std::string ts = iso8601_utc(std::chrono::system_clock::now());
  if (format == Format::json) {
    nlohmann::ordered_json j;
    j["ts"] = ts;
    j["level"] = level_name(level);
    j["msg"] = scrub(message);
    for (const auto& [k, v] : fields) j[k] = scrub(v);
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  std::string line =
      "ts=" + ts + " level=" + level_name(level) + " msg=" + logfmt_value(scrub(message));
  for (const auto& [k, v] : fields) line += " " + k + "=" + logfmt_value(scrub(v));
  return line;
}

void write(Level level, std::string_view message, const Fields& fields) {
  auto l = logger();
  if (!l->should_log(to_spdlog(level))) return;
  l->log(to_spdlog(level), "{}", render(g_format.load(), level, message, fields));
}

}  // namespace backupdrill::log
