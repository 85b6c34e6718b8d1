#pragma once
// Serve mode: the scheduler and the HTTP server until SIGINT or SIGTERM.
#include <string>

#include "config/config.h"

namespace backupdrill {

struct ServeFlags {
  std::string listen_address = ":10125";
  std::string web_config_file;
};

// Returns the process exit code: 0 after a clean shutdown, 1 when the HTTP
// server cannot start (port busy), 2 for a bad web config.
int serve(const Config& config, const ServeFlags& flags);

}  // namespace backupdrill
