#pragma once
// Percent-decoding of request targets (RFC 3986), shared by the router and
// by handlers that read query parameters.
//
// Thread safety: free functions without state.
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace backupdrill::http {

// Decodes %XX escapes. In a query, '+' also means a space (HTML forms); in a
// path it is a literal '+'. Returns nullopt for a malformed escape ("%zz",
// a trailing "%") and for an encoded NUL, which no caller wants in a name.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space = false);

// Well-formed UTF-8 (RFC 3629): no overlong forms ("%c0%ae" for "."), no
// surrogates, nothing past U+10FFFF, no truncated sequence.
bool is_valid_utf8(std::string_view text);

// Splits "a=1&b=x%20y" into decoded pairs; a later duplicate key wins, a key
// without '=' maps to "", malformed escapes are skipped rather than fatal.
std::map<std::string, std::string> parse_query(std::string_view query);

}  // namespace backupdrill::http
