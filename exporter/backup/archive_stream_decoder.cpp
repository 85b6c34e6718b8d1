#include "backup/archive_stream_decoder.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <iterator>

#include "util/secrets.h"
#include "util/text.h"

namespace backupdrill {
namespace {

constexpr int kPipeBytes = 1 << 20;  // fewer wake-ups; the default maximum for any user

ChildProcess spawn_decoder(const PgSession& s, const std::filesystem::path& err_file) {
  ChildSpec spec;
  spec.program = s.pg_restore.path;
  spec.args = {"--file=/dev/null", "--format=custom"};
  spec.in = ChildSpec::Stream::pipe;
  spec.err = ChildSpec::Stream::file;
  spec.err_file = err_file;
  return ChildProcess::spawn(spec);
}

std::string bounded_output(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  if (text.size() > 1500) text = text.substr(0, 1500) + "...";
  trim_right(text);
  return scrub(text);
}

}  // namespace

ArchiveStreamDecoder::ArchiveStreamDecoder(const PgSession& session, std::filesystem::path err_file)
    : child_(spawn_decoder(session, err_file)), err_file_(std::move(err_file)) {
  ::fcntl(child_.stdin_fd(), F_SETPIPE_SZ, kPipeBytes);  // a smaller pipe only costs wake-ups
}

ArchiveStreamDecoder::~ArchiveStreamDecoder() {
  std::error_code ec;
  std::filesystem::remove(err_file_, ec);
}

void ArchiveStreamDecoder::feed(const char* data, size_t size) {
  ScopedSigpipeBlock no_sigpipe;  // pg_restore stops reading at the first broken block
  while (!reader_gone_ && size > 0) {
    ssize_t n = ::write(child_.stdin_fd(), data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      reader_gone_ = true;  // its exit status and messages say why
      break;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
}

std::optional<std::string> ArchiveStreamDecoder::finish(Deadline deadline, std::stop_token cancel) {
  child_.close_stdin();
  ExitStatus status = child_.wait(deadline, cancel);
  if (status.ok()) return std::nullopt;
  return "pg_restore " + status.describe() + ": " + bounded_output(err_file_);
}

}  // namespace backupdrill
