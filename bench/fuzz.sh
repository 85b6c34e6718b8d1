#!/usr/bin/env bash
# bench/fuzz.sh [SECONDS] [TARGET...]: runs each libFuzzer target (default:
# config http_request plugin_frame) for SECONDS (default 60) and prints, per
# target, how many inputs it executed and how many crashes it found.
#
# Builds a separate Clang tree ($BACKUPDRILL_FUZZ_BUILD, default build-fuzz/)
# with -DBACKUPDRILL_FUZZ=ON: AddressSanitizer, UndefinedBehaviorSanitizer and
# sanitizer coverage over the whole build. The seed corpus (tests/fuzz/corpus/)
# is copied into build-fuzz/fuzz-work/<target>/corpus, which keeps what the
# fuzzer learns between runs; a crashing input lands next to it as crash-*
# (replay it with: build-fuzz/tests/fuzz/<target>_fuzz <file>).
# Uses the whole machine while it runs: on a shared box, run it under the CPU
# lock. Not part of the test suite; exits 1 when any target crashed.
set -euo pipefail
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
SECONDS_PER_TARGET=${1:-60}
shift || true
TARGETS=("$@")
[[ ${#TARGETS[@]} -gt 0 ]] || TARGETS=(config http_request plugin_frame)
BUILD=${BACKUPDRILL_FUZZ_BUILD:-$ROOT/build-fuzz}
JOBS=${FUZZ_JOBS:-$(nproc)}  # libFuzzer processes per target (-fork)
# Throughput without losing detection: no fill of fresh allocations, short
# allocation stacks, a smaller use-after-free quarantine. Override at will.
export ASAN_OPTIONS=${ASAN_OPTIONS:-max_malloc_fill_size=0:malloc_context_size=3:quarantine_size_mb=8}

if ! command -v clang++ >/dev/null; then
  echo "bench/fuzz.sh: clang++ is required (apt-get install clang)" >&2
  exit 2
fi
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
if [[ ! -f $BUILD/CMakeCache.txt ]]; then
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DBACKUPDRILL_FUZZ=ON \
    -DBACKUPDRILL_WERROR=OFF "${launcher[@]}" >/dev/null
fi
cmake --build "$BUILD" -j"$(nproc)" --target "${TARGETS[@]/%/_fuzz}" >/dev/null

results=()
status=0
for target in "${TARGETS[@]}"; do
  work=$BUILD/fuzz-work/$target
  mkdir -p "$work/corpus"
  cp -n "$ROOT/tests/fuzz/corpus/$target/"* "$work/corpus/" 2>/dev/null || true
  dict=()
  [[ -f $ROOT/tests/fuzz/$target.dict ]] && dict=(-dict="$ROOT/tests/fuzz/$target.dict")
  log=$work/last_run.log
  before=$(find "$work" -maxdepth 1 \( -name 'crash-*' -o -name 'leak-*' -o -name 'oom-*' \
    -o -name 'timeout-*' \) | wc -l)
  echo "fuzzing $target for ${SECONDS_PER_TARGET}s (log: $log)" >&2
  set +e
  "$BUILD/tests/fuzz/${target}_fuzz" -fork="$JOBS" -max_total_time="$SECONDS_PER_TARGET" \
    -print_final_stats=1 -timeout=10 -rss_limit_mb=4096 -max_len=8192 \
    -artifact_prefix="$work/" "${dict[@]}" "$work/corpus" >"$log" 2>&1
  rc=$?
  set -e
  after=$(find "$work" -maxdepth 1 \( -name 'crash-*' -o -name 'leak-*' -o -name 'oom-*' \
    -o -name 'timeout-*' \) | wc -l)
  # The fork supervisor's last status line: "#N: cov: ... exec/s R oom/timeout/crash: a/b/c".
  last=$(grep -E '^#[0-9]+: cov:' "$log" | tail -1 || true)
  execs=$(sed -E 's/^#([0-9]+):.*/\1/' <<<"$last")
  elapsed=$(sed -nE 's/.* time: ([0-9]+)s.*/\1/p' <<<"$last")
  rate=$([[ -n $execs && ${elapsed:-0} -gt 0 ]] && echo $((execs / elapsed)) || echo "?")
  crashes=$((after - before))
  if [[ $rc -ne 0 && $crashes -eq 0 ]]; then crashes=1; fi  # e.g. a failure outside an input
  [[ $crashes -eq 0 ]] || status=1
  results+=("$(printf '%-14s %8ss %14s %10s %8s' "$target" "$SECONDS_PER_TARGET" "${execs:-?}" \
    "${rate:-?}" "$crashes")")
done
printf '%-14s %9s %14s %10s %8s\n' target time executions exec/s crashes
printf '%s\n' "${results[@]}"
exit $status
