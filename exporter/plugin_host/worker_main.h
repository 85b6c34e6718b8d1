#pragma once
// The check worker: the exporter re-executed (/proc/self/exe) with the
// hidden flag --plugin-worker=<file.so>. It loads one plugin and serves the
// protocol of protocol.h on its stdin/stdout, so whatever the plugin does
// (crash, hang, throw, eat memory) ends in this process, never the exporter.

namespace backupdrill::plugin_host {

inline constexpr const char* kWorkerFlag = "--plugin-worker=";
inline constexpr const char* kWorkerMemoryFlag = "--plugin-worker-memory-mb=";

// True when argv asks for worker mode (checked before any other parsing).
bool is_worker_invocation(int argc, char** argv);

// Runs the worker; returns the process exit code.
int worker_main(int argc, char** argv);

}  // namespace backupdrill::plugin_host
