// The corpus driver for a fuzz target built without libFuzzer (any compiler,
// the normal test suite): runs LLVMFuzzerTestOneInput on every file of the
// given folders, then on every prefix of each file and on a fixed number of
// deterministic byte mutations, so each ctest run exercises the target code
// beyond the seeds. A failed invariant aborts inside the target; a clean
// finish prints the count and exits 0.
//
// Usage: <driver> [--mutations N] DIR...
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

void run(const std::string& input) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
}

}  // namespace

int main(int argc, char** argv) {
  long mutations = 2000;
  std::vector<std::string> corpus;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--mutations" && i + 1 < argc) {
      mutations = std::strtol(argv[++i], nullptr, 10);
      continue;
    }
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(arg, ec)) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      corpus.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    if (ec) {
      std::fprintf(stderr, "cannot read the corpus folder %s: %s\n", arg.c_str(),
                   ec.message().c_str());
      return 2;
    }
  }
  if (corpus.empty()) {
    std::fprintf(stderr, "no corpus files given: usage: %s [--mutations N] DIR...\n", argv[0]);
    return 2;
  }
  std::sort(corpus.begin(), corpus.end());  // directory order is not deterministic
  long runs = 0;
  for (const std::string& input : corpus) {
    run(input);
    ++runs;
    for (size_t n = 0; n < input.size() && input.size() <= 4096; ++n, ++runs) {
      run(input.substr(0, n));
    }
  }
  std::mt19937_64 rng(0x5eed);
  for (long m = 0; m < mutations; ++m, ++runs) {
    std::string s = corpus[rng() % corpus.size()];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t at = s.empty() ? 0 : rng() % s.size();
      switch (rng() % 4) {
        case 0:  // flip a byte
          if (!s.empty()) s[at] = static_cast<char>(rng() & 0xff);
          break;
        case 1:  // delete a span
          if (!s.empty()) s.erase(at, 1 + rng() % 8);
          break;
        case 2:  // duplicate a span
          if (!s.empty()) s.insert(at, s.substr(at, 1 + rng() % 16));
          break;
        default: {  // splice with another entry
          const std::string& other = corpus[rng() % corpus.size()];
          s = s.substr(0, at) + other.substr(other.empty() ? 0 : rng() % other.size());
          break;
        }
      }
    }
    run(s);
  }
  std::printf("%ld inputs from %zu corpus files ran without a failure\n", runs, corpus.size());
  return 0;
}
