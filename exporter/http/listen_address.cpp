#include "http/listen_address.h"

#include <charconv>
#include <stdexcept>

namespace backupdrill::http {

ListenAddress parse_listen_address(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return std::invalid_argument("listen address \"" + std::string(text) + "\": " + why +
                                 "; expected HOST:PORT, :PORT or [IPv6]:PORT");
  };
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) throw bad("no port");
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  if (!host.empty() && host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') throw bad("unbalanced brackets");
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    throw bad("an IPv6 address must be in brackets");
  }
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port > 65535) {
    throw bad("the port must be a number from 0 to 65535");
  }
  return {std::string(host), static_cast<uint16_t>(port)};
}

}  // namespace backupdrill::http
