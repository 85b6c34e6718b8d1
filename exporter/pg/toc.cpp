#include "pg/toc.h"

#include <algorithm>
#include <array>
#include <sstream>
#include <string_view>

namespace backupdrill::pg {
namespace {

// Entry kinds of more than one word, longest first so "MATERIALIZED VIEW
// DATA" wins over "MATERIALIZED VIEW".
constexpr std::array<std::string_view, 30> kMultiWord{"PUBLICATION TABLES IN SCHEMA",
                                                      "TEXT SEARCH CONFIGURATION",
                                                      "TEXT SEARCH DICTIONARY",
                                                      "MATERIALIZED VIEW DATA",
                                                      "TEXT SEARCH TEMPLATE",
                                                      "FOREIGN DATA WRAPPER",
                                                      "PROCEDURAL LANGUAGE",
                                                      "TEXT SEARCH PARSER",
                                                      "SEQUENCE OWNED BY",
                                                      "SUBSCRIPTION TABLE",
                                                      "DATABASE PROPERTIES",
                                                      "MATERIALIZED VIEW",
                                                      "PUBLICATION TABLE",
                                                      "OPERATOR FAMILY",
                                                      "OPERATOR CLASS",
                                                      "CHECK CONSTRAINT",
                                                      "FOREIGN SERVER",
                                                      "FOREIGN TABLE",
                                                      "BLOB METADATA",
                                                      "EVENT TRIGGER",
                                                      "ACCESS METHOD",
                                                      "FK CONSTRAINT",
                                                      "LARGE OBJECT",
                                                      "ROW SECURITY",
                                                      "SEQUENCE SET",
                                                      "TABLE ATTACH",
                                                      "INDEX ATTACH",
                                                      "USER MAPPING",
                                                      "DEFAULT ACL",
                                                      "TABLE DATA"};

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> words;
  std::istringstream in{std::string(text)};
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

}  // namespace

std::string TocEntry::owning_schema() const {
  if (schema != "-") return schema;
  if (desc == "SCHEMA") return tag;
  if (tag.rfind("SCHEMA ", 0) == 0) return tag.substr(7);  // its ACL, COMMENT
  return "-";
}

bool TocEntry::has_owner_statement() const {
  static constexpr std::array<std::string_view, 19> kOwned{"SCHEMA",
                                                           "TABLE",
                                                           "VIEW",
                                                           "MATERIALIZED VIEW",
                                                           "SEQUENCE",
                                                           "FUNCTION",
                                                           "PROCEDURE",
                                                           "AGGREGATE",
                                                           "TYPE",
                                                           "DOMAIN",
                                                           "COLLATION",
                                                           "CONVERSION",
                                                           "OPERATOR",
                                                           "FOREIGN TABLE",
                                                           "PUBLICATION",
                                                           "EVENT TRIGGER",
                                                           "STATISTICS",
                                                           "TEXT SEARCH CONFIGURATION",
                                                           "TEXT SEARCH DICTIONARY"};
  return std::find(kOwned.begin(), kOwned.end(), desc) != kOwned.end();
}

std::optional<TocEntry> parse_toc_line(const std::string& line) {
  // "<dump id>; <catalog oid> <object oid> <desc> <schema> <tag...> <owner>"
  auto semi = line.find(';');
  if (line.empty() || line[0] == ';' || semi == std::string::npos || semi == 0) return std::nullopt;
  if (!std::all_of(line.begin(), line.begin() + static_cast<long>(semi),
                   [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    return std::nullopt;
  }
  auto words = split_words(std::string_view(line).substr(semi + 1));
  if (words.size() < 4) return std::nullopt;
  words.erase(words.begin(), words.begin() + 2);  // the two oids
  TocEntry e;
  e.line = line;
  size_t used = 1;
  for (auto kind : kMultiWord) {
    auto parts = split_words(kind);
    if (parts.size() < words.size() && std::equal(parts.begin(), parts.end(), words.begin())) {
      e.desc = std::string(kind);
      used = parts.size();
      break;
    }
  }
  if (e.desc.empty()) e.desc = words[0];
  if (used >= words.size()) return e;
  e.schema = words[used];
  std::vector<std::string> rest(words.begin() + static_cast<long>(used) + 1, words.end());
  // The owner is the last word; an entry without one (an extension, a
  // comment on it) ends with a space after its tag.
  bool has_owner = !line.empty() && line.back() != ' ' && rest.size() >= 2;
  if (has_owner) {
    e.owner = rest.back();
    rest.pop_back();
  }
  for (size_t i = 0; i < rest.size(); ++i) e.tag += (i ? " " : "") + rest[i];
  return e;
}

std::vector<TocEntry> parse_toc(const std::string& listing) {
  std::vector<TocEntry> entries;
  std::istringstream in(listing);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (auto e = parse_toc_line(line)) entries.push_back(std::move(*e));
  }
  return entries;
}

}  // namespace backupdrill::pg
