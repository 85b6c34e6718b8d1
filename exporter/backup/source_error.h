#pragma once
// How a backup source fails, by the phase a drill attributes it to: finding
// and fetching the archive is the backup phase; an archive that does not
// match its recorded checksum fails verify (and nothing is restored).
#include <stdexcept>

namespace backupdrill::backup {

// Nothing usable was found, or it could not be listed or fetched (phase backup).
struct BackupSourceError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The archive was found but is not what its sidecar checksum says, or the
// sidecar is required and missing (phase verify).
struct BackupVerifyError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace backupdrill::backup
