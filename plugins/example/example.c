/*
 * example: the smallest check plugin, in plain C against plugin.h only.
 * It writes "<check name>|ok" to validation_<ts>.txt and passes. Build it out
 * of tree with nothing but a C compiler:
 *
 *   cc -std=c11 -shared -fPIC -fvisibility=hidden -I<prefix>/include \
 *      example.c -o example.so
 *
 * and drop example.so into the exporter's plugin_dir.
 */
#include <backupdrill/plugin.h>
#include <stdlib.h>
#include <string.h>

#ifdef BACKUPDRILL_HAS_SAMPLE
#include "example_sample.h"
#else
#define BACKUPDRILL_SAMPLE_CONFIG "[[drill.check]]\nplugin = \"example\"\nname = \"hello\"\n"
#endif

typedef struct example_check {
  int unused; /* a real check keeps its parsed config here */
} example_check;

static int example_create(const char* config_toml, const bd_host_api* host, void** instance) {
  (void)config_toml; /* a real check parses its keys here and rejects unknown ones */
  example_check* self = calloc(1, sizeof *self);
  if (!self) {
    host->fail(host, "out of memory");
    return BD_ERROR;
  }
  *instance = self;
  return BD_OK;
}

static int example_run(void* instance, const bd_run_context* ctx, const bd_host_api* host) {
  (void)instance;
  host->log(host, BD_LOG_INFO, "example check running");
  host->report_line(host, ctx->check_name, "ok");
  host->summary(host, "the example plugin ran");
  return BD_OK;
}

static void example_destroy(void* instance) { free(instance); }

BACKUPDRILL_EXPORT const bd_check_descriptor* backupdrill_check_entry(uint32_t host_abi_version) {
  static bd_check_descriptor descriptor;
  (void)host_abi_version;
  memset(&descriptor, 0, sizeof descriptor);
  descriptor.struct_size = sizeof descriptor;
  descriptor.abi_version = BACKUPDRILL_ABI_VERSION;
  descriptor.name = "example";
  descriptor.version = "1.0.0";
  descriptor.description = "the plain C example: writes <name>|ok to the validation file";
  descriptor.sample_config = BACKUPDRILL_SAMPLE_CONFIG;
  descriptor.create = example_create;
  descriptor.source_phase = NULL; /* no work in the backup's snapshot */
  descriptor.run = example_run;
  descriptor.destroy = example_destroy;
  return &descriptor;
}
