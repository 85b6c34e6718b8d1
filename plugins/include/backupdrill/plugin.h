/*
 * backupdrill/plugin.h: the C ABI between backupdrill_exporter and its check
 * plugins. Plain C, no dependency beyond the C standard library, so a check
 * can be written in any language that can export a C function.
 *
 * A plugin is a shared object exporting one function, backupdrill_check_entry,
 * that returns a static, versioned descriptor. The host:
 *   1. dlopen()s the file (RTLD_NOW | RTLD_LOCAL) in a worker process,
 *   2. reads struct_size and abi_version before touching anything else and
 *      refuses a descriptor smaller than this ABI's or of another ABI version,
 *   3. calls create() with the check's [[drill.check]] table as TOML text,
 *   4. calls source_phase() (when not NULL) during the backup, inside the
 *      backup's exported snapshot, then run() after the restore, both on the
 *      instance create() made (state kept between them lives in it),
 *   5. calls destroy(). It never dlclose()s a plugin.
 * Every call happens on one thread of a worker process that holds only this
 * check: a crash, a hang past the deadline or runaway memory fails only this
 * check.
 *
 * Compatibility: every struct here is APPEND-ONLY. New members are only ever
 * added at the end and announced by a larger struct_size; existing members
 * never change type, meaning or position. A plugin built against an older
 * header keeps working with a newer host (the host reads only the first
 * struct_size bytes); an incompatible change would bump
 * BACKUPDRILL_ABI_VERSION, which the host refuses with a clear error.
 *
 * Strings are UTF-8 and NUL-terminated. Strings the host passes are valid
 * only during the call; strings the plugin passes to callbacks are copied.
 */
#ifndef BACKUPDRILL_PLUGIN_H
#define BACKUPDRILL_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BACKUPDRILL_ABI_VERSION 1u
#define BACKUPDRILL_ENTRY_SYMBOL "backupdrill_check_entry"

#if defined(__GNUC__) || defined(__clang__)
#define BACKUPDRILL_EXPORT __attribute__((visibility("default")))
#else
#define BACKUPDRILL_EXPORT
#endif

/* Return values of create(), source_phase() and run(). */
#define BD_OK 0
#define BD_ERROR 1

/* log() levels. */
#define BD_LOG_DEBUG 0
#define BD_LOG_INFO 1
#define BD_LOG_WARN 2
#define BD_LOG_ERROR 3

/*
 * Output limits, per check (one check = its create(), source_phase() and
 * run() together). Past a limit the host drops that output and everything
 * the check sends after it, cancelled() returns nonzero so the plugin can
 * stop, and the check fails with a message naming the limit and by how much
 * it was exceeded (its report lines, smoke lines and values are not kept).
 * Messages (log, fail, skip, summary) are not refused but cut to
 * BD_MAX_MESSAGE_BYTES with a marker "... (N more bytes)".
 */
#define BD_MAX_NAME_BYTES 256u         /* a report line's, value's or label's name */
#define BD_MAX_TEXT_BYTES 4096u        /* a report line's value, smoke text, label value, secret */
#define BD_MAX_LABELS 16u              /* labels of one emit_value() */
#define BD_MAX_LINES 10000u            /* report_line() + smoke_line() calls */
#define BD_MAX_VALUES 20000u           /* emit_value() calls */
#define BD_MAX_OUTPUT_BYTES (4u << 20) /* bytes of all lines, values and labels */
#define BD_MAX_SECRETS 16u             /* secret() calls */
#define BD_MAX_LOG_LINES 1000u         /* log() calls; past it they are dropped, not failed */
#define BD_MAX_MESSAGE_BYTES 4096u     /* log, fail, skip and summary messages */

/* bd_run_context.phase */
#define BD_PHASE_SOURCE 1 /* during the backup, in its exported snapshot */
#define BD_PHASE_TARGET 2 /* after the restore */

typedef struct bd_label {
  const char* name;
  const char* value;
} bd_label;

/*
 * Callbacks into the host. Pass the struct itself as `self`. Every callback
 * may be called from create(), source_phase() and run().
 */
typedef struct bd_host_api bd_host_api;
struct bd_host_api {
  uint32_t struct_size; /* sizeof(bd_host_api) of the host */
  uint32_t abi_version;

  /* A line of the exporter's log (secrets are masked by the host). */
  void (*log)(const bd_host_api* self, int level, const char* message);
  /* A measured value with labels. The host maps name "rows" with labels
   * table and side ("source" | "target") to backupdrill_check_rows; an
   * optional label "fingerprint" is kept in the drill summary. */
  void (*emit_value)(const bd_host_api* self, const char* name, double value,
                     const bd_label* labels, size_t label_count);
  /* One "name|value" line of validation_<ts>.txt. */
  void (*report_line)(const bd_host_api* self, const char* name, const char* value);
  /* One line of smoke_<ts>.txt; the host writes "PASS " or "FAIL " first. */
  void (*smoke_line)(const bd_host_api* self, int passed, const char* text);
  /* Fails the check (or, in create(), rejects the config) with a message
   * saying what is wrong and what to do. The first call wins. */
  void (*fail)(const bd_host_api* self, const char* message);
  /* Marks the check skipped (not failed), e.g. nothing configured to probe. */
  void (*skip)(const bd_host_api* self, const char* reason);
  /* What a passing check proved, for the summary. */
  void (*summary)(const bd_host_api* self, const char* message);
  /* A string (token, API key) the host must mask in logs and artifacts. */
  void (*secret)(const bd_host_api* self, const char* value);
  /* Nonzero once the drill was cancelled, the call's deadline passed or the
   * check went over an output limit (see BD_MAX_*): stop and return. */
  int (*cancelled)(const bd_host_api* self);
  /* Milliseconds left before the host kills the worker (never negative). */
  int64_t (*remaining_ms)(const bd_host_api* self);
};

typedef struct bd_run_context {
  uint32_t struct_size;
  int32_t phase;               /* BD_PHASE_SOURCE or BD_PHASE_TARGET */
  const char* drill_name;      /* the [[drill]] name */
  const char* check_name;      /* the check's name = "..." */
  const char* source_conninfo; /* libpq connection string of the source */
  const char* target_conninfo; /* libpq connection string of the target */
  const char* snapshot_id;     /* source phase: pg_export_snapshot() id, else NULL */
  /* Appended for backup sources (issue 13); read them only when struct_size
   * covers them (an older host passes a smaller struct). */
  int64_t recovery_point_ms; /* the moment the restored data represents, ms since the
                              * epoch (fresh dump: its snapshot; existing archive: its
                              * creation time); 0 when the host does not know it */
  const char* backup_source; /* "pg_dump" | "file" | "s3" | ...; NULL when not passed */
} bd_run_context;

typedef struct bd_check_descriptor {
  uint32_t struct_size;      /* sizeof(bd_check_descriptor) the plugin was built with */
  uint32_t abi_version;      /* BACKUPDRILL_ABI_VERSION the plugin was built with */
  const char* name;          /* the plugin name, e.g. "table_counts" (= the file's stem) */
  const char* version;       /* the plugin's own version, e.g. "1.0.0" */
  const char* description;   /* one line, for --list-checks */
  const char* sample_config; /* a commented [[drill.check]] table, for --sample-config */

  /* Parses config_toml (the whole [[drill.check]] table, ${VAR} expanded)
   * and returns an instance in *instance. On a bad config: call
   * host->fail() with the key and what is expected, return BD_ERROR. */
  int (*create)(const char* config_toml, const bd_host_api* host, void** instance);
  /* Optional (NULL: not called). Source-side work inside the backup's
   * snapshot; the backup's transaction stays open until it returns. */
  int (*source_phase)(void* instance, const bd_run_context* ctx, const bd_host_api* host);
  /* Validates the restored target. BD_OK without a fail() call passes. */
  int (*run)(void* instance, const bd_run_context* ctx, const bd_host_api* host);
  void (*destroy)(void* instance);
} bd_check_descriptor;

/* The smallest descriptor this ABI version accepts: up to destroy. */
#define BD_CHECK_DESCRIPTOR_V1_SIZE \
  (offsetof(bd_check_descriptor, destroy) + sizeof(void (*)(void*)))

/* The one function a plugin exports. host_abi_version lets a plugin refuse
 * (return NULL) or adapt to an older host. */
typedef const bd_check_descriptor* (*bd_entry_fn)(uint32_t host_abi_version);

BACKUPDRILL_EXPORT const bd_check_descriptor* backupdrill_check_entry(uint32_t host_abi_version);

#ifdef __cplusplus
}
#endif

#endif /* BACKUPDRILL_PLUGIN_H */
