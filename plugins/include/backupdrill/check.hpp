// backupdrill/check.hpp: a header-only C++ helper over plugin.h. Derive from
// backupdrill::sdk::Check, construct from the config text (throw to reject
// it), and register the class with BACKUPDRILL_CHECK(...). Every call from
// the host is wrapped in a catch-all, so no exception ever crosses the C
// boundary: an exception in the constructor rejects the config, one in
// source_phase()/run() fails the check with its what().
//
// Output limits (BD_MAX_* in plugin.h): a line, value or label longer than
// its limit is refused here, before it is sent, with a std::length_error
// saying which limit and by how much (so run() ends and the check fails with
// that message). The counts per check (lines, values) are kept by the host:
// past them cancelled() turns true and the check fails naming the limit.
#pragma once

#include <cstddef>
#include <exception>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "backupdrill/plugin.h"

namespace backupdrill::sdk {

namespace detail {

// Throws std::length_error when size is over limit: "<what> is N bytes,
// over the limit of L bytes (MACRO) by M".
inline void require_within(const std::string& what, size_t size, size_t limit, const char* macro) {
  if (size <= limit) return;
  throw std::length_error(what + " is " + std::to_string(size) + " bytes, over the limit of " +
                          std::to_string(limit) + " bytes (" + macro + ") by " +
                          std::to_string(size - limit));
}

// A name as shown in such a message: at most 64 bytes of it.
inline std::string shown(const std::string& name) {
  return "\"" + (name.size() > 64 ? name.substr(0, 64) + "..." : name) + "\"";
}

}  // namespace detail

// The host's callbacks with C++ types.
class Host {
 public:
  explicit Host(const bd_host_api* api) : api_(api) {}

  void debug(const std::string& m) const { api_->log(api_, BD_LOG_DEBUG, m.c_str()); }
  void info(const std::string& m) const { api_->log(api_, BD_LOG_INFO, m.c_str()); }
  void warn(const std::string& m) const { api_->log(api_, BD_LOG_WARN, m.c_str()); }
  void emit(const std::string& name, double value,
            const std::vector<std::pair<std::string, std::string>>& labels = {}) const {
    detail::require_within("the name of value " + detail::shown(name), name.size(),
                           BD_MAX_NAME_BYTES, "BD_MAX_NAME_BYTES");
    if (labels.size() > BD_MAX_LABELS) {
      throw std::length_error("value " + detail::shown(name) + " has " +
                              std::to_string(labels.size()) + " labels, over the limit of " +
                              std::to_string(BD_MAX_LABELS) + " (BD_MAX_LABELS) by " +
                              std::to_string(labels.size() - BD_MAX_LABELS));
    }
    for (const auto& [k, v] : labels) {
      detail::require_within("a label name of value " + detail::shown(name), k.size(),
                             BD_MAX_NAME_BYTES, "BD_MAX_NAME_BYTES");
      detail::require_within("label " + detail::shown(k) + " of value " + detail::shown(name),
                             v.size(), BD_MAX_TEXT_BYTES, "BD_MAX_TEXT_BYTES");
    }
    std::vector<bd_label> l;
    l.reserve(labels.size());
    for (const auto& [k, v] : labels) l.push_back({k.c_str(), v.c_str()});
    api_->emit_value(api_, name.c_str(), value, l.data(), l.size());
  }
  void line(const std::string& name, const std::string& value) const {
    detail::require_within("the name of report line " + detail::shown(name), name.size(),
                           BD_MAX_NAME_BYTES, "BD_MAX_NAME_BYTES");
    detail::require_within("the value of report line " + detail::shown(name), value.size(),
                           BD_MAX_TEXT_BYTES, "BD_MAX_TEXT_BYTES");
    api_->report_line(api_, name.c_str(), value.c_str());
  }
  void smoke(bool passed, const std::string& text) const {
    detail::require_within("a smoke line", text.size(), BD_MAX_TEXT_BYTES, "BD_MAX_TEXT_BYTES");
    api_->smoke_line(api_, passed ? 1 : 0, text.c_str());
  }
  void fail(const std::string& message) const { api_->fail(api_, message.c_str()); }
  void skip(const std::string& reason) const { api_->skip(api_, reason.c_str()); }
  void summary(const std::string& message) const { api_->summary(api_, message.c_str()); }
  void secret(const std::string& value) const {
    detail::require_within("a secret", value.size(), BD_MAX_TEXT_BYTES, "BD_MAX_TEXT_BYTES");
    api_->secret(api_, value.c_str());
  }
  bool cancelled() const { return api_->cancelled(api_) != 0; }
  long long remaining_ms() const { return api_->remaining_ms(api_); }
  const bd_host_api* raw() const { return api_; }

 private:
  const bd_host_api* api_;
};

struct RunContext {
  int phase = BD_PHASE_TARGET;
  std::string drill;
  std::string check;
  std::string source;    // libpq connection string
  std::string target;    // libpq connection string
  std::string snapshot;  // source phase only
  // 0 / "" when the host is older or does not know (see bd_run_context).
  long long recovery_point_ms = 0;
  std::string backup_source;

  static RunContext from(const bd_run_context* c) {
    RunContext r;
    r.phase = c->phase;
    auto s = [](const char* p) { return std::string(p ? p : ""); };
    r.drill = s(c->drill_name);
    r.check = s(c->check_name);
    r.source = s(c->source_conninfo);
    r.target = s(c->target_conninfo);
    r.snapshot = s(c->snapshot_id);
    if (c->struct_size >= offsetof(bd_run_context, backup_source) + sizeof(c->backup_source)) {
      r.recovery_point_ms = c->recovery_point_ms;
      r.backup_source = s(c->backup_source);
    }
    return r;
  }
};

class Check {
 public:
  virtual ~Check() = default;
  // Called during the backup in its snapshot when the plugin declares it.
  virtual void source_phase(const RunContext& /*ctx*/, Host& /*host*/) {}
  // Validates the target: call host.fail() (or throw) to fail.
  virtual void run(const RunContext& ctx, Host& host) = 0;
};

namespace detail {

inline void report_exception(const bd_host_api* api, const char* prefix) noexcept {
  try {
    throw;
  } catch (const std::exception& e) {
    api->fail(api, (std::string(prefix) + e.what()).c_str());
  } catch (...) {
    api->fail(api, (std::string(prefix) + "an exception of unknown type").c_str());
  }
}

template <class T>
struct Adapter {
  static int create(const char* config, const bd_host_api* api, void** instance) noexcept {
    try {
      Host host(api);
      *instance = new T(std::string(config ? config : ""), host);
      return BD_OK;
    } catch (...) {
      report_exception(api, "");
      return BD_ERROR;
    }
  }
  static int source_phase(void* instance, const bd_run_context* ctx,
                          const bd_host_api* api) noexcept {
    try {
      Host host(api);
      static_cast<T*>(instance)->source_phase(RunContext::from(ctx), host);
      return BD_OK;
    } catch (...) {
      report_exception(api, "");
      return BD_ERROR;
    }
  }
  static int run(void* instance, const bd_run_context* ctx, const bd_host_api* api) noexcept {
    try {
      Host host(api);
      static_cast<T*>(instance)->run(RunContext::from(ctx), host);
      return BD_OK;
    } catch (...) {
      report_exception(api, "");
      return BD_ERROR;
    }
  }
  static void destroy(void* instance) noexcept {
    try {
      delete static_cast<T*>(instance);
    } catch (...) {
    }
  }
};

template <class T>
bd_check_descriptor make_descriptor(const char* name, const char* version, const char* description,
                                    const char* sample, bool with_source_phase) {
  bd_check_descriptor d{};
  d.struct_size = sizeof(bd_check_descriptor);
  d.abi_version = BACKUPDRILL_ABI_VERSION;
  d.name = name;
  d.version = version;
  d.description = description;
  d.sample_config = sample;
  d.create = &Adapter<T>::create;
  d.source_phase = with_source_phase ? &Adapter<T>::source_phase : nullptr;
  d.run = &Adapter<T>::run;
  d.destroy = &Adapter<T>::destroy;
  return d;
}

}  // namespace detail
}  // namespace backupdrill::sdk

// Registers Class (constructible from (const std::string& config_toml,
// backupdrill::sdk::Host&)) as this shared object's check. WITH_SOURCE: true
// when the check works in the backup's snapshot (source_phase).
#define BACKUPDRILL_CHECK(Class, NAME, VERSION, DESCRIPTION, SAMPLE, WITH_SOURCE)              \
  extern "C" BACKUPDRILL_EXPORT const bd_check_descriptor* backupdrill_check_entry(            \
      uint32_t /*host_abi_version*/) {                                                         \
    static const bd_check_descriptor descriptor =                                              \
        ::backupdrill::sdk::detail::make_descriptor<Class>(NAME, VERSION, DESCRIPTION, SAMPLE, \
                                                           WITH_SOURCE);                       \
    return &descriptor;                                                                        \
  }
