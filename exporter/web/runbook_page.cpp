#include "web/runbook_page.h"

#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm.h>

#include <cctype>
#include <memory>

#include "web/html_page.h"

namespace backupdrill {
namespace {

// GitHub's anchor for a heading: its text without tags, lower case, letters,
// digits and '-' kept, spaces as '-'.
std::string slug(const std::string& heading_html) {
  std::string out;
  bool in_tag = false;
  for (char c : heading_html) {
    if (c == '<') in_tag = true;
    if (in_tag) {
      if (c == '>') in_tag = false;
      continue;
    }
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) {
      out += static_cast<char>(std::tolower(u));
    } else if (c == ' ' || c == '-') {
      out += '-';
    }
  }
  return out;
}

// <h1>..<h6> as cmark writes them (no attributes) get an id.
std::string with_heading_ids(const std::string& html) {
  std::string out;
  size_t at = 0;
  while (true) {
    size_t open = html.find("<h", at);
    if (open == std::string::npos || open + 4 > html.size()) break;
    char level = html[open + 2];
    if (level < '1' || level > '6' || html[open + 3] != '>') {
      out.append(html, at, open + 2 - at);
      at = open + 2;
      continue;
    }
    const std::string close = std::string("</h") + level + ">";
    size_t end = html.find(close, open);
    if (end == std::string::npos) break;
    out.append(html, at, open - at);
    out +=
        std::string("<h") + level + " id=\"" + slug(html.substr(open + 4, end - open - 4)) + "\">";
    out.append(html, open + 4, end - open - 4);
    at = end;
  }
  out.append(html, at);
  return out;
}

}  // namespace

std::string render_markdown_page(const std::string& title, const std::string& markdown) {
  cmark_gfm_core_extensions_ensure_registered();
  std::unique_ptr<cmark_parser, decltype(&cmark_parser_free)> parser(
      cmark_parser_new(CMARK_OPT_DEFAULT), cmark_parser_free);
  if (cmark_syntax_extension* table = cmark_find_syntax_extension("table")) {
    cmark_parser_attach_syntax_extension(parser.get(), table);
  }
  cmark_parser_feed(parser.get(), markdown.data(), markdown.size());
  std::unique_ptr<cmark_node, decltype(&cmark_node_free)> doc(cmark_parser_finish(parser.get()),
                                                              cmark_node_free);
  // CMARK_OPT_DEFAULT without CMARK_OPT_UNSAFE: raw HTML and javascript:
  // links in the text are not rendered.
  char* body = cmark_render_html(doc.get(), CMARK_OPT_DEFAULT,
                                 cmark_parser_get_syntax_extensions(parser.get()));
  std::string html(body ? body : "");
  free(body);
  return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + html_escape(title) +
         "</title><style>body{font-family:sans-serif;max-width:60em;margin:1em auto;padding:0 "
         "1em;line-height:1.45}code,pre{background:#f4f4f4}pre{padding:.6em;overflow-x:auto}"
         "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em}</style>"
         "</head><body><p><a href=\"/\">backupdrill</a></p>\n" +
         with_heading_ids(html) + "</body></html>\n";
}

}  // namespace backupdrill
