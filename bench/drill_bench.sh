#!/usr/bin/env bash
# bench/drill_bench.sh [ROWS]: how long a whole drill takes next to the bare
# commands a person would run by hand on the same database and machine:
#   bare:  pg_dump -Fc (default compression) ; sha256sum ; pg_restore
#   drill: backupdrill_exporter --once (backup with in-stream SHA-256, verify,
#          restore with --jobs, checks, report)
# It builds a throwaway cluster with ROWS rows of mixed data (text, jsonb,
# uuid, timestamps, numeric; 3,500,000 rows is about 1 GB on disk), prints
# per-phase seconds and the ratio drill / bare, then removes everything.
# Not part of the test suite.
set -euo pipefail
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
ROWS=${1:-3500000}
EXPORTER=${BACKUPDRILL_EXPORTER:-$ROOT/build/bin/backupdrill_exporter}
WORK=$(mktemp -d /tmp/backupdrill-bench.XXXXXX)
CLUSTER=$WORK/pg
cleanup() {
  "$ROOT/tests/support/pg_cluster.sh" stop "$CLUSTER" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
[[ -x $EXPORTER ]] || { echo "build first: $EXPORTER is missing" >&2; exit 1; }

"$ROOT/tests/support/pg_cluster.sh" start "$CLUSTER" >/dev/null
set -a
. "$CLUSTER/env"
set +a
export PATH="$PG_BIN_DIR:$PATH"
secs() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc; }

echo "building a database of $ROWS rows of mixed data ..."
psql -qc "create database bench_src"
psql -q -d bench_src <<SQL
create table public.events (
  id bigint primary key,
  account uuid not null,
  happened_at timestamptz not null,
  kind text not null,
  amount numeric(12,2),
  payload jsonb not null,
  note text
);
insert into public.events
select i,
       md5('acct' || (i % 50000))::uuid,
       timestamptz '2026-01-01' + i * interval '7 seconds',
       (array['signup','login','purchase','refund','logout'])[1 + i % 5],
       (i % 100000) / 100.0,
       jsonb_build_object('ip', '10.' || (i % 250) || '.' || (i % 199) || '.7',
                          'agent', 'bench/' || (i % 17), 'tags', jsonb_build_array(i % 3, i % 7),
                          'ref', md5(i::text)),
       repeat(md5((i * 31)::text), 1 + i % 3)
from generate_series(1, $ROWS) as i;
create index on public.events (account);
create index on public.events (happened_at);
analyze;
SQL
size=$(psql -Atc "select pg_size_pretty(pg_database_size('bench_src'))")
echo "source database: $size"

# --- bare commands, the way the runbook did it by hand --------------------
t0=$(secs); pg_dump -Fc -d bench_src -f "$WORK/bare.dump"; t1=$(secs)
sha256sum "$WORK/bare.dump" >/dev/null; t2=$(secs)
psql -qc "create database bare_tgt"
pg_restore -d bare_tgt "$WORK/bare.dump"; t3=$(secs)
bare_dump=$(elapsed "$t0" "$t1"); bare_sha=$(elapsed "$t1" "$t2"); bare_restore=$(elapsed "$t2" "$t3")
bare_total=$(echo "$bare_dump + $bare_sha + $bare_restore" | bc)
psql -qc "drop database bare_tgt"
bare_size=$(stat -c %s "$WORK/bare.dump")
rm -f "$WORK/bare.dump"

# --- the drill -----------------------------------------------------------
cat >"$WORK/bench.toml" <<TOML
[exporter]
artifact_dir = "$WORK/artifacts"
[[drill]]
name = "bench"
source_url = "postgresql://$PGUSER@127.0.0.1:$PGPORT/bench_src"
target_url = "postgresql://$PGUSER@127.0.0.1:$PGPORT/bench_tgt"
[drill.restore]
jobs = 2
[[drill.check]]
plugin = "table_counts"
tables = ["public.events"]
compare_source = true
TOML
t0=$(secs)
"$EXPORTER" --config.file="$WORK/bench.toml" --once --log.level=warn
t1=$(secs)
drill_wall=$(elapsed "$t0" "$t1")
summary=$(ls "$WORK"/artifacts/bench/drill_summary_*.json)
phase() { jq -r --arg p "$1" '.phases[] | select(.phase == $p) | .seconds' "$summary"; }
drill_size=$(jq -r '.backup.size_bytes' "$summary")

printf '\n%-28s %10s\n' "bare commands" "seconds"
printf '%-28s %10.2f   (%s bytes)\n' "pg_dump -Fc" "$bare_dump" "$bare_size"
printf '%-28s %10.2f\n' "sha256sum" "$bare_sha"
printf '%-28s %10.2f\n' "pg_restore" "$bare_restore"
printf '%-28s %10.2f\n' "sum" "$bare_total"
printf '\n%-28s %10s\n' "backupdrill drill" "seconds"
for p in guard backup verify restore checks report; do
  printf '%-28s %10.2f\n' "$p" "$(phase $p)"
done
printf '%-28s %10.2f   (%s bytes)\n' "total (summary)" "$(jq -r .duration_seconds "$summary")" "$drill_size"
printf '%-28s %10.2f\n' "wall clock" "$drill_wall"
printf '\nratio drill / bare = %.2f  (aim: at most 0.75)\n' "$(echo "$drill_wall / $bare_total" | bc -l)"
