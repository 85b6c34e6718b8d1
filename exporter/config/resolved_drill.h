#pragma once
// The facts of one drill that every stage needs, derived once from its
// configuration (after ${VAR} and <key>_file expansion and the defaults):
// the parsed source and target connection strings (the password kept apart,
// pg/conninfo.h), the key of the target that two drills must never restore
// into at once (which also says whether it is on this host), and the plugin
// folder. Built by
// the configuration loader for every drill and rebuilt by a reload (a new
// Config), so nothing later re-parses a URL or re-applies a default.
//
// Thread safety: immutable once built; shared by the DrillConfig that holds it.
#include <filesystem>
#include <optional>
#include <string>

#include "config/config.h"
#include "pg/conninfo.h"

namespace backupdrill {

struct ResolvedDrill {
  // source_url parsed; nullopt when the drill has none (an existing archive:
  // source = "file", "s3" or "pgbackrest" without source_url).
  std::optional<pg::ConnInfo> source;
  // target_url parsed; an empty ConnInfo for a physical drill, whose target
  // is its own throwaway server.
  pg::ConnInfo target;
  // What two drills must not restore into at the same time: the target's
  // pg::address_key ("local:5432/db" for this host, however it is spelled;
  // "db.example.com:5432/db"), or "physical:<drill>" (a throwaway server of
  // its own shares nothing).
  std::string target_key;
  // [exporter] plugin_dir as resolved (resolve_plugin_dir).
  std::filesystem::path plugin_dir;
};

// Derives the drill's facts. Throws ConfigError naming the drill and the key
// when a URL cannot be parsed (validation refuses those earlier).
ResolvedDrill resolve_drill(const DrillConfig& drill, const ExporterConfig& exporter);

// The drill's resolved facts: those the loader attached, or, for a
// DrillConfig built by hand (tests), derived now with the same function.
std::shared_ptr<const ResolvedDrill> resolved(const DrillConfig& drill,
                                              const ExporterConfig& exporter);

// The folder to load plugins from: `configured` ([exporter] plugin_dir) when
// set; else $BACKUPDRILL_PLUGIN_DIR; else <exe dir>/../lib/backupdrill/checks
// when it exists (an installed exporter); else <exe dir>/../checks (the build
// tree: build/bin/backupdrill_exporter and build/checks/*.so). The loader
// stores it in [exporter] plugin_dir, so it is computed once.
std::filesystem::path resolve_plugin_dir(const std::filesystem::path& configured);

}  // namespace backupdrill
