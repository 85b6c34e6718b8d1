// Runbook mode (no --config.file): the runbook's drill is a TOML document
// like any config file, its values taken from the runbook's environment
// variables, and read by the same parser (so it is validated the same way,
// and its errors name the variable at fault).
#include <sstream>

#include "config/config.h"
#include "config/table_reader.h"

namespace backupdrill {

const char* const kRunbookInvalidProgressQuery =
    "select count(*) from public.lms_subsection_progress "
    "where progress_percent < 0 or progress_percent > 100";

const std::vector<std::string>& runbook_tables() {
  static const std::vector<std::string> tables{"profiles",      "tasks",       "documents",
                                               "notifications", "lms_courses", "lms_subsections"};
  return tables;
}

namespace {

// The drill. ${VAR} without a default is required; @CRITICAL_TABLES@ is the
// one list-valued variable (a comma-separated list becomes a TOML array).
constexpr std::string_view kRunbookDocument = R"(
[exporter]
artifact_dir = "${BACKUP_DIR:-./.drills/backup}"

[[drill]]
name       = "default"
source_url = "${SOURCE_DB_URL}"
target_url = "${TARGET_DB_URL}"
rpo_target = "${RPO_TARGET:-24h}"
rto_target = "${RTO_TARGET:-2h}"
profile    = "${DRILL_PROFILE:-postgres}"
pg_bin_dir = "${PG_BIN_DIR:-}"

[[drill.check]]
plugin = "table_counts"
name   = "critical_tables"
tables = @CRITICAL_TABLES@
compare_source = true
@INVALID_PROGRESS_CHECK@
# Skipped (not failed) when TARGET_API_URL is unset.
[[drill.check]]
plugin = "api_health"
name   = "api"
url    = "${TARGET_API_URL:-}"
bearer_token = "${API_BEARER_TOKEN:-}"
expect_status = 200
)";

constexpr std::string_view kOrigin = config::kRunbookOrigin;

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " and " : ", ";
    out += names[i];
  }
  return out;
}

// The variables the document needs (${NAME} without a default), in order.
std::vector<std::string> required_variables(std::string_view doc) {
  std::vector<std::string> names;
  for (size_t at = doc.find("${"); at != std::string_view::npos; at = doc.find("${", at + 2)) {
    std::string_view body = doc.substr(at + 2, doc.find('}', at) - at - 2);
    if (body.find(":-") == std::string_view::npos) names.emplace_back(body);
  }
  return names;
}

// Set and not empty, as the runbook's shell script checks them.
void require_variables(const EnvLookup& env) {
  const auto required = required_variables(kRunbookDocument);
  std::vector<std::string> missing;
  for (const auto& name : required) {
    auto v = env(name);
    if (!v || v->empty()) missing.push_back(name);
  }
  if (missing.empty()) return;
  throw ConfigError(std::string("runbook mode (no --config.file): ") + joined(missing) +
                    (missing.size() == 1 ? " is" : " are") + " not set; " + joined(required) +
                    (required.size() == 2 ? " must both be set" : " must all be set") +
                    ", e.g. SOURCE_DB_URL=postgresql://user@db.example.com:5432/postgres");
}

// CRITICAL_TABLES=a,b,c as a TOML array; "$" doubled, since the parser
// expands ${VAR} in the strings it reads.
std::string critical_tables(const EnvLookup& env) {
  std::vector<std::string> tables;
  auto text = env("CRITICAL_TABLES");
  if (!text || text->find_first_not_of(" \t") == std::string::npos) {
    for (const auto& t : runbook_tables()) tables.push_back("public." + t);
  } else {
    std::stringstream in(*text);
    for (std::string item; std::getline(in, item, ',');) {
      size_t first = item.find_first_not_of(" \t");
      if (first == std::string::npos) continue;
      size_t last = item.find_last_not_of(" \t");
      tables.push_back(item.substr(first, last - first + 1));
    }
    if (tables.empty()) {
      throw ConfigError(std::string(kOrigin) + ": CRITICAL_TABLES=\"" + *text +
                        "\" names no table; expected a comma-separated list, e.g. "
                        "CRITICAL_TABLES=public.profiles,public.tasks");
    }
  }
  toml::array array;
  for (auto t : tables) {
    for (size_t at = t.find('$'); at != std::string::npos; at = t.find('$', at + 2)) {
      t.insert(at, "$");
    }
    array.push_back(t);
  }
  std::stringstream out;
  out << toml::default_formatter{array, toml::format_flags::none};
  return out.str();
}

// The runbook's invalid_progress check: its own query by default,
// INVALID_PROGRESS_QUERY's when set, none when that is set but empty (a
// database without the runbook's lms_subsection_progress table).
std::string invalid_progress_check(const EnvLookup& env) {
  auto query = env("INVALID_PROGRESS_QUERY");
  if (query && query->find_first_not_of(" \t") == std::string::npos) return "";
  std::string text = query ? *query : std::string(kRunbookInvalidProgressQuery);
  // "$" doubled: the parser expands ${VAR} in the strings it reads.
  for (size_t at = text.find('$'); at != std::string::npos; at = text.find('$', at + 2)) {
    text.insert(at, "$");
  }
  std::stringstream quoted;
  quoted << toml::value<std::string>(text);  // a TOML string, escaped
  return "\n[[drill.check]]\nplugin = \"sql_assert\"\nname   = \"invalid_progress\"\nquery  = " +
         quoted.str() + "\nexpect = 0\n";
}

std::string replaced(std::string text, std::string_view placeholder, const std::string& value) {
  text.replace(text.find(placeholder), placeholder.size(), value);
  return text;
}

}  // namespace

Config runbook_config(const EnvLookup& env) {
  require_variables(env);
  std::string doc(kRunbookDocument);
  doc = replaced(doc, "@CRITICAL_TABLES@", critical_tables(env));
  doc = replaced(doc, "@INVALID_PROGRESS_CHECK@", invalid_progress_check(env));
  Config cfg = load_config_text(doc, std::string(kOrigin), env);
  // As before the document: errors of later phases name the environment,
  // not a line of a document the user never wrote.
  cfg.source = kOrigin;
  for (auto& drill : cfg.drills) {
    drill.origin = kOrigin;
    for (auto& check : drill.checks) check.origin = kOrigin;
  }
  return cfg;
}

}  // namespace backupdrill
