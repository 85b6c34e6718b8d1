#include "web/html_page.h"

#include <cstdio>

#include "util/bounded_text.h"

namespace backupdrill {

std::string html_escape(std::string_view raw) {
  // Text from outside (server errors, plugin messages, logs) need not be
  // UTF-8; the page declares UTF-8, so what is not becomes '?'.
  const std::string text = utf8_or_replaced(raw);
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string page_start(std::string_view title) {
  // table-layout:fixed with width:100% keeps every table inside the window;
  // overflow-wrap:anywhere breaks a long error, path or SQL statement
  // instead of widening its column.
  return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
         "<title>" +
         html_escape(title) +
         "</title><style>"
         "body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:100%}"
         "table{border-collapse:collapse;margin:1em 0;width:100%;table-layout:fixed}"
         "th,td{border:1px solid #ccc;padding:.35em .7em;text-align:left;vertical-align:top;"
         "overflow-wrap:anywhere;word-break:break-word}"
         "th{background:#f4f4f4}.ok{color:#1a7f37;font-weight:600}.bad{color:#cf222e;"
         "font-weight:600}.run{color:#9a6700;font-weight:600}.muted{color:#666}"
         "code{font-size:.9em}"
         "pre{background:#f6f8fa;padding:.6em;white-space:pre-wrap;overflow-wrap:anywhere;"
         "font-size:.85em;max-width:100%}#failure pre{font-size:1em}"
         ".marks{display:flex;flex-wrap:wrap;gap:3px}"
         ".mark{display:inline-block;padding:1px 4px;border-radius:3px;font-size:.8em;"
         "text-decoration:none;color:#fff;white-space:nowrap}"
         ".mark.ok{background:#1a7f37}.mark.bad{background:#cf222e}.mark.run{background:#9a6700}"
         "</style></head><body>\n";
}

std::string page_end() { return "</body></html>\n"; }

void add_page_headers(http::Response& response) {
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  response.headers.emplace_back("Content-Security-Policy",
                                "default-src 'none'; style-src 'unsafe-inline'");
}

std::string first_line(std::string_view text, size_t max_bytes) {
  return bounded_text(text.substr(0, text.find('\n')), max_bytes);
}

std::string run_page_path(std::string_view drill, std::string_view run_id) {
  return "/drills/" + std::string(drill) + "/runs/" + std::string(run_id);
}

std::string run_file_path(std::string_view drill, std::string_view run_id, std::string_view file) {
  return run_page_path(drill, run_id) + "/files/" + std::string(file);
}

}  // namespace backupdrill
