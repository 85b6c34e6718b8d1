// libFuzzer target: bytes a check worker could write to the exporter, decoded
// frame by frame by plugin_host::read_frame, the host's only entry point for
// them. Besides "no crash", a decoded frame is always an object with a string
// "op", and a bad stream ends in a ProtocolError.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "plugin_host/protocol.h"

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "plugin frame fuzz: %s\n", what);
  std::abort();
}

// One memory file reused for every input: read_frame needs a descriptor.
int stream_fd() {
  static const int fd = [] {
    const int f = ::memfd_create("plugin_frame_fuzz", MFD_CLOEXEC);
    if (f < 0) fail("memfd_create failed");
    return f;
  }();
  return fd;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using backupdrill::plugin_host::ProtocolError;
  using backupdrill::plugin_host::read_frame;
  const int fd = stream_fd();
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, data, size, 0) != static_cast<ssize_t>(size) ||
      ::lseek(fd, 0, SEEK_SET) != 0) {
    fail("cannot fill the memory file");
  }
  try {
    while (auto frame = read_frame(fd)) {
      if (!frame->is_object() || !(*frame)["op"].is_string()) fail("a frame without a string op");
    }
  } catch (const ProtocolError& e) {
    if (e.what()[0] == '\0') fail("a protocol error without a message");
  }
  return 0;
}
