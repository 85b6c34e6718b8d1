#pragma once
// What the exporter's HTML pages share: escaping, the page frame and its
// style sheet (tables that never grow past the window: fixed layout, long
// words wrapped), and small formatters.
#include <string>
#include <string_view>

#include "http/router.h"
#include "util/byte_size.h"

namespace backupdrill {

// Escapes & < > " ' for text and attribute values.
std::string html_escape(std::string_view text);

// <!DOCTYPE html> ... <body>, with the shared style sheet.
std::string page_start(std::string_view title);
std::string page_end();

// Pages and files show text from outside (errors, logs, plugin messages):
// no script runs on them and no browser guesses a type (nosniff, a
// Content-Security-Policy that allows only the inline style sheet).
void add_page_headers(http::Response& response);

// The first line of a (multi-line) message, cut to max_bytes with "…".
std::string first_line(std::string_view text, size_t max_bytes = 300);

// The path of a run's page and of one of its files (names are URL-safe:
// drill names are letters, digits, _ . -; run ids and file names too).
std::string run_page_path(std::string_view drill, std::string_view run_id);
std::string run_file_path(std::string_view drill, std::string_view run_id, std::string_view file);

}  // namespace backupdrill
