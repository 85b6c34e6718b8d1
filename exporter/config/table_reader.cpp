#include "config/table_reader.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "util/bounded_text.h"
#include "util/duration.h"
#include "util/secrets.h"

namespace backupdrill::config {
namespace {

std::string read_secret_file(const std::string& path, const std::string& where) {
  std::ifstream in(path);
  if (!in) throw ConfigError(where + ": cannot read the file \"" + path + "\"");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string value = ss.str();
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
  return value;
}

// "NAME" when raw is exactly ${NAME} or ${NAME:-default}.
std::optional<std::string> sole_variable(std::string_view raw) {
  if (!raw.starts_with("${") || !raw.ends_with("}")) return std::nullopt;
  std::string_view body = raw.substr(2, raw.size() - 3);
  if (body.find('}') != std::string_view::npos) return std::nullopt;
  return std::string(body.substr(0, body.find(":-")));
}

// Levenshtein distance, small inputs only (keys of the schema).
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string closest_key(const std::string& unknown, const std::vector<std::string>& known) {
  if (unknown.size() > 64) return "";  // no key is that long: not a typo
  std::string best;
  size_t best_distance = 3;
  for (const auto& k : known) {
    size_t d = edit_distance(unknown, k);
    // "url" for "source_url", "timeout_s" for "timeout": one names the other.
    bool affix = unknown.size() >= 3 && k.size() >= 3 &&
                 (k.starts_with(unknown) || k.ends_with(unknown) || unknown.starts_with(k));
    if (affix) d = std::min<size_t>(d, 2);
    if (d < best_distance) {
      best_distance = d;
      best = k;
    }
  }
  return best;
}

TableReader::TableReader(const toml::table& table, std::string file, std::string context,
                         const EnvLookup& env)
    : table_(table), file_(std::move(file)), context_(std::move(context)), env_(env) {}

TableReader TableReader::nested(const toml::table& table, const std::string& context) const {
  return TableReader(table, file_, context_ + " " + context, env_);
}

void TableReader::fail(const toml::node* node, const std::string& key,
                       const std::string& what) const {
  // Runbook mode: the value came from a variable, which is what a person
  // can change (the document's lines are not theirs).
  if (file_ == kRunbookOrigin && node && node->is_string()) {
    if (auto variable = sole_variable(**node->as_string())) {
      std::string value;
      try {
        value = expand_env(**node->as_string(), env_);
      } catch (const EnvExpandError&) {
      }
      std::string quoted = "\"" + value + "\"";
      if (what.starts_with(quoted)) {
        throw ConfigError(std::string(kRunbookOrigin) + ": " + *variable + "=" + what);
      }
      throw ConfigError(std::string(kRunbookOrigin) + ": " + *variable + " " + what);
    }
  }
  auto line = node ? node->source().begin.line : table_.source().begin.line;
  std::string where = file_ + ":" + std::to_string(line) + ": " + context_;
  if (!key.empty()) where += " key \"" + key + "\"";
  throw ConfigError(where + ": " + what);
}

std::string TableReader::location(const std::string& key) const {
  const toml::node* node = table_.get(key);
  auto line = node ? node->source().begin.line : table_.source().begin.line;
  return file_ + ":" + std::to_string(line);
}

const toml::node* TableReader::node(const std::string& key) {
  used_.insert(key);
  return table_.get(key);
}

std::string TableReader::expand(const toml::node* n, const std::string& key,
                                const std::string& raw) {
  try {
    return expand_env(raw, env_);
  } catch (const EnvExpandError& e) {
    fail(n, key, e.what());
  }
}

std::optional<std::string> TableReader::string(const std::string& key) {
  const toml::node* n = node(key);
  if (!n) return std::nullopt;
  if (!n->is_string()) fail(n, key, "expected a string in double quotes");
  return expand(n, key, **n->as_string());
}

std::string TableReader::required_string(const std::string& key, const std::string& example) {
  auto v = string(key);
  if (!v || v->empty()) {
    fail(table_.get(key), key, "is required and must not be empty, e.g. " + key + " = " + example);
  }
  return *v;
}

std::optional<std::string> TableReader::secret(const std::string& key) {
  auto inline_value = string(key);
  auto file = string(key + "_file");
  if (inline_value && file) {
    fail(table_.get(key + "_file"), key + "_file",
         "give either " + key + " or " + key + "_file, not both");
  }
  std::optional<std::string> value = inline_value;
  if (file) value = read_secret_file(*file, location(key + "_file"));
  if (value) register_secret(*value);
  return value;
}

std::optional<long long> TableReader::integer(const std::string& key, long long min,
                                              long long max) {
  const toml::node* n = node(key);
  if (!n) return std::nullopt;
  if (!n->is_integer()) fail(n, key, "expected a whole number");
  long long v = **n->as_integer();
  if (v < min || v > max) {
    fail(n, key,
         "expected a whole number from " + std::to_string(min) + " to " + std::to_string(max) +
             ", got " + std::to_string(v));
  }
  return v;
}

std::optional<bool> TableReader::boolean(const std::string& key) {
  const toml::node* n = node(key);
  if (!n) return std::nullopt;
  if (!n->is_boolean()) fail(n, key, "expected true or false (without quotes)");
  return **n->as_boolean();
}

std::optional<std::chrono::milliseconds> TableReader::duration(const std::string& key) {
  const toml::node* n = node(key);
  if (!n) return std::nullopt;
  if (!n->is_string()) {
    fail(n, key, "expected a duration in quotes, e.g. \"2h\", \"90m\", \"1h30m\"");
  }
  std::string text = expand(n, key, **n->as_string());
  auto d = parse_duration(text);
  if (!d || d->count() <= 0) {
    fail(n, key,
         "\"" + text +
             "\" is not a duration; expected e.g. \"2h\", \"90m\", \"1h30m\" "
             "(units ms, s, m, h, d, w, y)");
  }
  return d;
}

std::optional<std::vector<std::string>> TableReader::string_array(const std::string& key) {
  const toml::node* n = node(key);
  if (!n) return std::nullopt;
  if (!n->is_array()) fail(n, key, "expected an array of strings, e.g. [\"public\"]");
  std::vector<std::string> out;
  for (const auto& item : *n->as_array()) {
    if (!item.is_string()) fail(&item, key, "expected an array of strings, e.g. [\"public\"]");
    out.push_back(expand(&item, key, **item.as_string()));
  }
  return out;
}

std::optional<size_t> TableReader::one_of(const std::string& key,
                                          const std::vector<std::string>& allowed) {
  auto v = string(key);
  if (!v) return std::nullopt;
  for (size_t i = 0; i < allowed.size(); ++i) {
    if (*v == allowed[i]) return i;
  }
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "\"" : ", \"") + a + "\"";
  fail(table_.get(key), key,
       "\"" + bounded_text(*v, 80) + "\" is not allowed; expected one of " + list);
}

const toml::table* TableReader::subtable(const std::string& key) {
  const toml::node* n = node(key);
  if (!n) return nullptr;
  if (!n->is_table()) fail(n, key, "expected a table [" + context_ + "." + key + "]");
  return n->as_table();
}

void TableReader::finish(const std::vector<std::string>& known) const {
  for (const auto& [k, v] : table_) {
    std::string key(k.str());
    if (used_.contains(key)) continue;
    std::string list;
    for (const auto& h : known) list += (list.empty() ? "" : ", ") + h;
    std::string hint;
    if (auto close = closest_key(key, known); !close.empty()) {
      hint = "did you mean \"" + close + "\"? ";
    }
    throw ConfigError(file_ + ":" + std::to_string(k.source().begin.line) + ": " + context_ +
                      " has an unknown key \"" + bounded_text(key, 80) + "\"; " + hint +
                      "the keys here are " + list);
  }
}

void expand_tree(toml::node& node, TableReader& reader, const std::string& key) {
  if (auto* s = node.as_string()) {
    std::string expanded = reader.expand(&node, key, **s);
    *s = expanded;
  } else if (auto* arr = node.as_array()) {
    for (auto& item : *arr) expand_tree(item, reader, key);
  } else if (auto* tbl = node.as_table()) {
    for (auto&& [k, v] : *tbl) expand_tree(v, reader, std::string(k.str()));
  }
}

}  // namespace backupdrill::config
