#!/usr/bin/env bash
# bench/fingerprint_bench.sh — what table_counts' content fingerprint costs.
#
# Builds a table of 2.5 M rows of mixed data (text, jsonb, uuid, timestamps,
# ~1 GB) in a throwaway cluster, then times
#   a) table_counts with fingerprint = true (the plugin, run in a worker by
#      build/bin/check_runner exactly as a drill runs it: one full pass)
#   b) psql -c "copy t to stdout" > /dev/null (reading every row out once)
# and prints both and the ratio a/b. Each is run RUNS times (default 3) after
# a warm-up read; the best time of each is compared. Not part of ctest.
#
#   bench/fingerprint_bench.sh [BUILD_DIR]     (default: build-plugins, then build)
#   ROWS=2500000 RUNS=3 KEEP=1 (keep the cluster in $BENCH_DIR)
set -euo pipefail
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
BUILD=${1:-}
if [[ -z $BUILD ]]; then
  for b in "$ROOT/build-plugins" "$ROOT/build"; do
    [[ -x $b/bin/check_runner ]] && BUILD=$b && break
  done
fi
[[ -n $BUILD && -x $BUILD/bin/check_runner && -f $BUILD/checks/table_counts.so ]] ||
  { echo "fingerprint_bench: build first (cmake --build <dir>): need bin/check_runner and checks/table_counts.so" >&2; exit 2; }
ROWS=${ROWS:-2500000}
RUNS=${RUNS:-3}
BENCH_DIR=${BENCH_DIR:-$BUILD/fingerprint_bench_pg}

cleanup() { [[ -n ${KEEP:-} ]] || "$ROOT/tests/support/pg_cluster.sh" stop "$BENCH_DIR" >/dev/null 2>&1 || true; }
trap cleanup EXIT
"$ROOT/tests/support/pg_cluster.sh" start "$BENCH_DIR" >/dev/null
set -a; . "$BENCH_DIR/env"; set +a
URL="postgresql://$PGUSER@$PGHOST:$PGPORT/bench"   # the password stays in PGPASSWORD

psql -q -v ON_ERROR_STOP=1 -c "create database bench"
echo "building t: $ROWS rows ..." >&2
psql -q -v ON_ERROR_STOP=1 -d bench <<SQL
create table t (
  id       bigint primary key,
  uid      uuid not null,
  username text not null,
  body     text,
  doc      jsonb not null,
  created  timestamptz not null,
  seen     timestamp,
  score    double precision,
  active   boolean
);
insert into t
select g,
       md5(g::text)::uuid,
       'user_' || g,
       repeat(md5((g * 7)::text), 5),
       jsonb_build_object('id', g, 'tags', jsonb_build_array('a', 'b', g % 7),
                          'note', md5((g * 3)::text),
                          'nested', jsonb_build_object('x', g % 100, 'y', md5((g * 5)::text))),
       timestamptz '2024-01-01' + g * interval '1 second',
       case when g % 3 = 0 then null else timestamp '2024-06-01' + g * interval '1 minute' end,
       (g % 1000) / 7.0,
       g % 2 = 0
from generate_series(1, $ROWS) g;
vacuum analyze t;
SQL
size=$(psql -Atq -d bench -c "select pg_size_pretty(pg_table_size('t'))")
echo "t: $ROWS rows, $size" >&2

cfg=$(mktemp)
printf 'plugin = "table_counts"\nname = "bench"\ntables = ["public.t"]\nfingerprint = true\n' >"$cfg"
now() { date +%s.%N; }

psql -q -d bench -c "copy t to stdout" >/dev/null   # warm-up: both read from cache
best_fp="" best_copy=""
for ((i = 1; i <= RUNS; i++)); do
  t0=$(now)
  CHECK_TARGET_URL=$URL "$BUILD/bin/check_runner" "$BUILD/checks/table_counts.so" "$cfg" >/tmp/fp_bench_out.$$
  t1=$(now)
  psql -q -d bench -c "copy t to stdout" >/dev/null
  t2=$(now)
  fp=$(echo "$t1 - $t0" | bc -l); cp=$(echo "$t2 - $t1" | bc -l)
  printf 'run %d: table_counts fingerprint %.2f s, copy to stdout %.2f s\n' "$i" "$fp" "$cp" >&2
  [[ -z $best_fp || $(echo "$fp < $best_fp" | bc -l) == 1 ]] && best_fp=$fp
  [[ -z $best_copy || $(echo "$cp < $best_copy" | bc -l) == 1 ]] && best_copy=$cp
done
grep -E '^(rows|result)' /tmp/fp_bench_out.$$ >&2; rm -f /tmp/fp_bench_out.$$ "$cfg"
printf 'rows=%s size=%s\n' "$ROWS" "$size"
printf 'table_counts_fingerprint_seconds=%.2f\n' "$best_fp"
printf 'copy_to_stdout_seconds=%.2f\n' "$best_copy"
printf 'ratio=%.2f\n' "$(echo "$best_fp / $best_copy" | bc -l)"
