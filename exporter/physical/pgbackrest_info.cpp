#include "physical/pgbackrest_info.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>

#include "util/bounded_text.h"

namespace backupdrill::physical {
namespace {

nlohmann::json stanza_info(const PgBackRest& pgbackrest, Deadline deadline) {
  const auto run = pgbackrest.run("info", {"--output=json"}, deadline);
  if (!run.status.ok()) {
    throw std::runtime_error("pgbackrest info (stanza \"" + pgbackrest.stanza + "\", config " +
                             pgbackrest.config_file().string() + ") " + run.status.describe() +
                             ": " + pgbackrest_error(run.out));
  }
  nlohmann::json all;
  try {
    all = nlohmann::json::parse(run.out);
  } catch (const nlohmann::json::exception&) {
    throw std::runtime_error("pgbackrest info --output=json did not print JSON: " +
                             bounded_text(run.out, 200));
  }
  for (const auto& stanza : all) {
    if (stanza.value("name", "") == pgbackrest.stanza) return stanza;
  }
  throw std::runtime_error("pgbackrest info does not know stanza \"" + pgbackrest.stanza +
                           "\" (config " + pgbackrest.config_file().string() + ")");
}

// The archive entry ("15-1") of the database a backup belongs to.
std::optional<nlohmann::json> archive_of(const nlohmann::json& stanza, int db_id) {
  const auto archives = stanza.value("archive", nlohmann::json::array());
  for (const auto& archive : archives) {
    if (archive.value("database", nlohmann::json::object()).value("id", -1) == db_id) {
      return archive;
    }
  }
  return std::nullopt;
}

}  // namespace

PhysicalBackup read_backup_info(const PgBackRest& pgbackrest, const std::string& set,
                                Deadline deadline) {
  const nlohmann::json stanza = stanza_info(pgbackrest, deadline);
  const auto backups = stanza.value("backup", nlohmann::json::array());
  if (backups.empty()) {
    const auto status = stanza.value("status", nlohmann::json::object());
    throw std::runtime_error("stanza \"" + pgbackrest.stanza + "\" has no backup to drill (" +
                             status.value("message", "no status") + ")");
  }
  const nlohmann::json* chosen = nullptr;
  std::string labels;
  for (const auto& b : backups) {  // oldest first: the last one is the newest
    const std::string label = b.value("label", "");
    labels += (labels.empty() ? "" : ", ") + label;
    if (set.empty() || label == set) chosen = &b;
  }
  if (!chosen) {
    throw std::runtime_error("stanza \"" + pgbackrest.stanza + "\" has no backup set \"" + set +
                             "\"; it has " + bounded_text(labels, 400));
  }
  const auto& b = *chosen;
  PhysicalBackup out;
  out.label = b.value("label", "");
  out.type = b.value("type", "");
  const auto info = b.value("info", nlohmann::json::object());
  out.size = info.value("size", 0ULL);
  out.repo_size = info.value("repository", nlohmann::json::object()).value("size", 0ULL);
  const auto archive = b.value("archive", nlohmann::json::object());
  out.wal_start = archive.value("start", "");
  out.wal_stop = archive.value("stop", "");
  const auto stamps = b.value("timestamp", nlohmann::json::object());
  out.stopped = std::chrono::system_clock::from_time_t(stamps.value("stop", 0LL));
  const int db_id = b.value("database", nlohmann::json::object()).value("id", -1);
  for (const auto& db : stanza.value("db", nlohmann::json::array())) {
    if (db.value("id", -2) != db_id) continue;
    out.pg_version = db.value("version", "");
    out.system_id = std::to_string(db.value("system-id", 0ULL));
  }
  try {
    out.pg_major = std::stoi(out.pg_version);
  } catch (const std::exception&) {
    throw std::runtime_error("pgbackrest info gives no PostgreSQL version for backup " + out.label);
  }
  if (const auto a = archive_of(stanza, db_id)) {
    out.archive_min = a->value("min", "");
    out.archive_max = a->value("max", "");
  }
  return out;
}

std::string archive_range(const PgBackRest& pgbackrest, const PhysicalBackup& backup,
                          Deadline deadline) {
  const nlohmann::json stanza = stanza_info(pgbackrest, deadline);
  for (const auto& b : stanza.value("backup", nlohmann::json::array())) {
    if (b.value("label", "") != backup.label) continue;
    const int db_id = b.value("database", nlohmann::json::object()).value("id", -1);
    if (const auto a = archive_of(stanza, db_id)) {
      return a->value("min", "") + "-" + a->value("max", "");
    }
  }
  return "";
}

}  // namespace backupdrill::physical
