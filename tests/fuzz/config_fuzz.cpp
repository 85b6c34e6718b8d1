// libFuzzer target: TOML text through the config loader (parse and validate),
// as --config.file and --check-config run it, with a fixed environment for
// ${VAR} expansion. Besides "no crash", a refusal must be a ConfigError that
// says where (it starts with the origin), and an accepted config must hold
// what validation promises.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "config/config.h"

namespace {

constexpr std::string_view kOrigin = "fuzz.toml";

[[noreturn]] void invariant_failed(const char* what, std::string_view detail) {
  std::fprintf(stderr, "config fuzz invariant failed: %s\n%.*s\n", what,
               static_cast<int>(std::min<size_t>(detail.size(), 2000)), detail.data());
  std::abort();
}

void check(bool ok, const char* what, std::string_view detail) {
  if (!ok) invariant_failed(what, detail);
}

std::optional<std::string> fuzz_env(const std::string& name) {
  if (name == "SOURCE_DB_URL") return "postgresql://drill:pw0rd@127.0.0.1:5432/src";
  if (name == "TARGET_DB_URL") return "postgresql://drill:pw0rd@127.0.0.1:5433/tgt";
  if (name == "TOKEN") return "fuzz-admin-token";
  if (name == "EMPTY") return "";
  return std::nullopt;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  backupdrill::Config config;
  try {
    config = backupdrill::load_config_text(text, std::string(kOrigin), fuzz_env);
  } catch (const backupdrill::ConfigError& e) {
    const std::string_view what = e.what();
    check(what.substr(0, kOrigin.size()) == kOrigin, "a config error starts with the file", what);
    return 0;
  }
  check(!config.drills.empty(), "an accepted config has a drill", text);
  std::set<std::string> names;
  for (const auto& drill : config.drills) {
    check(!drill.name.empty() && drill.name.size() <= 64, "a drill name is 1..64 bytes", text);
    check(names.insert(drill.name).second, "drill names are unique", text);
    check(!drill.source_url.empty() && !drill.target_url.empty(), "a drill has both URLs", text);
    check(drill.origin.substr(0, kOrigin.size()) == kOrigin, "a drill knows its origin", text);
    std::set<std::string> checks;
    for (const auto& c : drill.checks) {
      check(!c.plugin.empty(), "a check names its plugin", text);
      check(checks.insert(c.name).second, "check names are unique in a drill", text);
    }
  }
  check(config.exporter.keep_runs >= 1, "keep_runs is at least 1", text);
  return 0;
}
