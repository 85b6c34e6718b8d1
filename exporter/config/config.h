#pragma once
// The exporter's configuration: the TOML file of docs/design.md,
// Configuration, or the runbook's environment variables, validated up front
// so a drill never starts on a half-understood config.

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "util/env_expand.h"

namespace backupdrill {

// A refusal that names the file, line, key and the expected form.
struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct CheckConfig {
  std::string plugin;
  std::string name;
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};
  // The whole [[drill.check]] table, ${VAR} expanded and <key>_file read,
  // as TOML text: what the plugin's create() receives. Text, so that this
  // header (included everywhere) needs no TOML parser.
  std::string settings_toml;
  // The line of each top-level key of that table in the file (0 when not
  // from a file), for errors that name a key.
  std::map<std::string, int> key_lines;
  std::string origin;  // "file.toml:42" for error messages
};

struct BackupConfig {
  int jobs = 1;
  // gzip level 1: on a 2-core machine with ~1 GB of mixed data, pg_dump's
  // default level took 11.0 s and level 1 took 4.2 s for an 8% larger file
  // (see bench/); a drill is about restore time, so the faster dump wins.
  std::string compression = "gzip:1";
  std::vector<std::string> schemas;
  std::vector<std::string> exclude_schemas;

  // Where the drilled archive comes from (issue 13). pg_dump: a fresh dump of
  // source_url (the default, the runbook's); file: the newest archive an
  // existing path or glob names; s3: the newest object under an S3 prefix.
  // pgbackrest: a physical backup of a pgBackRest repository, restored into
  // a throwaway server under [drill.restore] work_dir (issue 14).
  enum class Source { pg_dump, file, s3, pgbackrest };
  Source source = Source::pg_dump;
  std::string path;  // file: a custom-format file, a directory dump, or a glob
  // file and s3: auto (verify <archive>.sha256 when present) | required | none
  enum class Checksum { automatic, required, none };
  Checksum checksum = Checksum::automatic;
  std::string url;            // s3: s3://bucket/prefix/
  std::string pattern = "*";  // s3: object names under the prefix that count
  std::string endpoint;       // s3: empty = AWS S3
  std::string region = "us-east-1";
  std::string access_key_id;      // a secret like every credential
  std::string secret_access_key;  // from the value or secret_access_key_file
  std::string stanza;             // pgbackrest: the stanza to restore
  std::string pgbackrest_config;  // pgbackrest: --config (empty: pgBackRest's default)
  std::string backup_set;         // pgbackrest: a backup label; empty: the newest
  // pgbackrest: "latest", "immediate", or a time with its zone
  // ("2026-11-29 03:00:00+00").
  std::string recovery_target = "latest";
};

// For logs, summaries and errors: the names the config file uses.
std::string_view to_string(BackupConfig::Source source);
std::string_view to_string(BackupConfig::Checksum checksum);

struct RestoreConfig {
  enum class Mode { recreate, clean };
  Mode mode = Mode::recreate;
  int jobs = 2;
  // Physical sources: where each run's data directory and throwaway server
  // live (private, 0700), the database the checks connect to, the OS user
  // the restore and the server run as when the exporter is root (PostgreSQL
  // refuses root), and whether a failed run's directory is kept.
  std::string work_dir;
  std::string database = "postgres";
  std::string run_as;
  bool keep_failed = false;
};

std::string_view to_string(RestoreConfig::Mode mode);

struct ResolvedDrill;  // config/resolved_drill.h

struct DrillConfig {
  std::string name;
  std::string schedule;  // 5-field cron, UTC; empty: only on demand
  std::string source_url;
  std::string target_url;
  std::chrono::milliseconds rpo_target{std::chrono::hours(24)};
  std::chrono::milliseconds rto_target{std::chrono::hours(2)};
  std::chrono::milliseconds timeout{std::chrono::hours(3)};
  // What platform the source is: plain PostgreSQL, or a Supabase project
  // (platform roles and schemas handled).
  enum class Profile { postgres, supabase };
  Profile profile = Profile::postgres;
  // What the target server is, for profile supabase: detected, or as configured.
  enum class TargetKind { automatic, postgres, supabase };
  TargetKind target_kind = TargetKind::automatic;
  bool adopt_target = false;
  std::string pg_bin_dir;
  BackupConfig backup;
  RestoreConfig restore;
  std::vector<CheckConfig> checks;
  std::string origin;
  // What every stage reads instead of deriving it again: set by the loader
  // (config/resolved_drill.h). Not compared by a reload's diff.
  std::shared_ptr<const ResolvedDrill> resolved;
};

std::string_view to_string(DrillConfig::Profile profile);
std::string_view to_string(DrillConfig::TargetKind kind);

struct ExporterConfig {
  std::filesystem::path artifact_dir = "/var/lib/backupdrill";
  // Resolved by the loader (resolve_plugin_dir): the configured folder, or
  // $BACKUPDRILL_PLUGIN_DIR, or the one next to the binary.
  std::filesystem::path plugin_dir;
  int keep_runs = 10;
  std::string admin_token;
  // Serve mode: runs at once; more wait in a queue, in the order they fired.
  int max_concurrent_drills = 1;
  // Optional link from the landing page to the Grafana dashboard.
  std::string grafana_url;
};

struct Config {
  ExporterConfig exporter;
  std::vector<DrillConfig> drills;
  std::string source;  // the file, or "runbook environment"

  const DrillConfig* find_drill(const std::string& name) const;
};

// Parses and validates a TOML file. Throws ConfigError.
Config load_config_file(const std::filesystem::path& file, const EnvLookup& env = process_env);

// Parses and validates TOML text; `origin` names it in errors.
Config load_config_text(const std::string& text, const std::string& origin,
                        const EnvLookup& env = process_env);

// Runbook mode: one drill "default" from SOURCE_DB_URL, TARGET_DB_URL,
// BACKUP_DIR, TARGET_API_URL, API_BEARER_TOKEN, RPO_TARGET, RTO_TARGET,
// PG_BIN_DIR, DRILL_PROFILE and CRITICAL_TABLES: the embedded TOML document
// of runbook.cpp, read by the same parser as a file. Throws ConfigError
// naming the variable at fault.
Config runbook_config(const EnvLookup& env = process_env);

// The runbook's critical tables, in its order.
const std::vector<std::string>& runbook_tables();
extern const char* const kRunbookInvalidProgressQuery;

}  // namespace backupdrill
