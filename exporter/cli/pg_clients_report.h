#pragma once
// The PostgreSQL clients part of --version: which pg_dump and pg_restore the
// drills would run, with their versions, as other exporters name the tools
// they drive.
#include <string>

namespace backupdrill {

// Lines "  pg_dump:       15.18 (/usr/lib/postgresql/15/bin/pg_dump), ...".
// Where it looks: each drill's pg_bin_dir when --config.file is given (read
// without connecting; a config that cannot be read adds a note, not an error),
// PG_BIN_DIR in runbook mode, else /usr/lib/postgresql/<N>/bin and PATH.
std::string pg_clients_report(const std::string& config_file);

}  // namespace backupdrill
