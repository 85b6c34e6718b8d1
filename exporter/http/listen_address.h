#pragma once
// Parses --web.listen-address values the way Go's net.Listen reads them.
//
// Thread safety: a free function without state.
#include <cstdint>
#include <string>
#include <string_view>

namespace backupdrill::http {

struct ListenAddress {
  std::string host;   // "" means every address (IPv6 and IPv4 when possible)
  uint16_t port = 0;  // 0 picks a free port
};

// Accepts ":10125", "0.0.0.0:10125", "localhost:10125", "[::1]:10125".
// Throws std::invalid_argument naming the value and the expected form.
ListenAddress parse_listen_address(std::string_view text);

}  // namespace backupdrill::http
