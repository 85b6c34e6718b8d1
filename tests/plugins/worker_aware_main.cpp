// main() of the plugin test binaries: like gtest_main, but the binary also
// serves as the check worker (the host re-runs /proc/self/exe with the
// hidden worker flag), so the loader is tested exactly as the exporter uses it.
#include <gtest/gtest.h>

#include "plugin_host/worker_main.h"

int main(int argc, char** argv) {
  if (backupdrill::plugin_host::is_worker_invocation(argc, argv)) {
    return backupdrill::plugin_host::worker_main(argc, argv);
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
