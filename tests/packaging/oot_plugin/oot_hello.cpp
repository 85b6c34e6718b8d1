// A minimal out-of-tree check plugin: proves that the installed SDK headers,
// backupdrill_add_check() and the embedded sample work outside this tree.
#include <backupdrill/check.hpp>

#include "oot_hello_sample.h"

namespace {

class OotHello : public backupdrill::sdk::Check {
 public:
  OotHello(const std::string& /*config*/, backupdrill::sdk::Host& /*host*/) {}
  void run(const backupdrill::sdk::RunContext& ctx, backupdrill::sdk::Host& host) override {
    host.line(ctx.check, "ok");
  }
};

}  // namespace

BACKUPDRILL_CHECK(OotHello, "oot_hello", "1.2.3", "out-of-tree packaging test plugin",
                  BACKUPDRILL_SAMPLE_CONFIG, /*source phase*/ false)
