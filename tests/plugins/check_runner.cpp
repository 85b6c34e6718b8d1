// check_runner: runs one check plugin the way a drill does (in a worker
// process, through the C ABI), outside a drill, and prints the outcome and
// the time of each phase. For benchmarks (bench/fingerprint_bench.sh) and
// plugin development; not part of ctest.
//
//   check_runner PLUGIN.so CONFIG.toml
//   connection strings: $CHECK_SOURCE_URL and $CHECK_TARGET_URL (never argv)
// The source phase runs in a snapshot this tool exports, as the backup does.
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <pqxx/pqxx>
#include <sstream>

#include "plugin_host/check_worker.h"
#include "plugin_host/worker_main.h"

namespace ph = backupdrill::plugin_host;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  if (ph::is_worker_invocation(argc, argv)) return ph::worker_main(argc, argv);
  if (argc != 3) {
    std::cerr << "usage: check_runner PLUGIN.so CONFIG.toml (CHECK_SOURCE_URL, CHECK_TARGET_URL "
                 "in the environment)\n";
    return 2;
  }
  const char* source = std::getenv("CHECK_SOURCE_URL");
  const char* target = std::getenv("CHECK_TARGET_URL");
  std::ifstream in(argv[2]);
  std::stringstream config;
  config << in.rdbuf();
  try {
    ph::CheckWorker worker(argv[1]);
    backupdrill::CheckOutcome out;
    out.name = "bench";
    auto far = Clock::now() + std::chrono::hours(1);
    auto created = worker.create(config.str(), "bench", "bench", far, out);
    if (!created.ok()) {
      std::cerr << "create: " << created.message << "\n";
      return 2;
    }
    ph::CallArgs args;
    args.drill = args.check = "bench";
    args.source = source ? source : "";
    args.target = target ? target : "";
    if (worker.info().source_phase && source) {
      pqxx::connection conn(args.source);
      pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(conn);
      args.snapshot = tx.exec1("select pg_export_snapshot()")[0].as<std::string>();
      args.phase = 1;
      auto t0 = Clock::now();
      auto r = worker.call(args, far, {}, out);
      std::cout << "source_phase_seconds "
                << std::chrono::duration<double>(Clock::now() - t0).count()
                << (r.ok() ? "" : " FAILED " + r.message) << "\n";
    }
    args.phase = 2;
    args.snapshot.clear();
    auto t0 = Clock::now();
    auto r = worker.call(args, far, {}, out);
    std::cout << "target_phase_seconds " << std::chrono::duration<double>(Clock::now() - t0).count()
              << "\n";
    for (const auto& l : out.lines) std::cout << "line " << l.name << "|" << l.value << "\n";
    for (const auto& row : out.rows) {
      std::cout << "rows " << row.table << " source=" << row.source.value_or(-1)
                << " target=" << row.target.value_or(-1)
                << " fingerprint=" << row.target_fingerprint.value_or("") << "\n";
    }
    std::cout << "result " << (r.ok() ? "passed" : "failed: " + r.message) << "\n";
    worker.stop();
    return r.ok() ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
}
