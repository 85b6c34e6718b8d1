#pragma once
// pg_restore decoding a custom-format archive while it is being written: the
// backup stream feeds it next to the file and the SHA-256, so the verify phase
// of a fresh dump need not read and decode the archive a second time (it
// confirms that the file on disk is, byte for byte, what was decoded).
#include <filesystem>
#include <optional>
#include <string>

#include "pg/session.h"

namespace backupdrill {

class ArchiveStreamDecoder {
 public:
  // Starts `pg_restore --format=custom --file=/dev/null` reading a pipe; its
  // messages go to err_file (removed by the destructor). Throws
  // std::runtime_error when pg_restore cannot be started.
  ArchiveStreamDecoder(const PgSession& session, std::filesystem::path err_file);
  ~ArchiveStreamDecoder();
  ArchiveStreamDecoder(const ArchiveStreamDecoder&) = delete;
  ArchiveStreamDecoder& operator=(const ArchiveStreamDecoder&) = delete;

  // The next bytes of the archive. Once pg_restore stopped reading (it found
  // the archive broken), the rest is dropped: finish() says why.
  void feed(const char* data, size_t size);

  // The end of the archive: waits for pg_restore. Empty when it decoded every
  // block; otherwise what it said, for the verify phase's error.
  std::optional<std::string> finish(Deadline deadline, std::stop_token cancel);

 private:
  ChildProcess child_;
  std::filesystem::path err_file_;
  bool reader_gone_ = false;
};

}  // namespace backupdrill
