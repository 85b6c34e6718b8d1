#!/usr/bin/env bash
# bench/drill_bench.sh [ROWS]: how long a whole drill takes next to the bare
# commands a person would run by hand on the same database and machine, and
# how much memory the exporter uses meanwhile (issue 16).
#   bare:  pg_dump -Fc (its default compression) ; sha256sum ; createdb ;
#          pg_restore (one job)
#   drill: one run of a drill with the default settings, triggered through the
#          HTTP API of the exporter in serve mode (backup with in-stream
#          SHA-256 and decode, verify, restore, a table_counts check, report)
# The database: ROWS (default 2,500,000, about 1 GB with its indexes) rows of
# mixed data (uuid, jsonb, text, timestamps, numeric) with a primary key and
# two secondary indexes. RUNS (default 3) pairs bare/drill are run alternately
# with a checkpoint before each; the medians are compared.
# Goals: drill / bare <= 0.60; exporter RSS idle <= 13 MB, peak (VmHWM, the
# exporter process itself: pg_dump, pg_restore and the check workers are
# separate processes) < 32 MB.
# Use the small knob (e.g. 200000 rows) for quick iterations only.
# Not part of the test suite. Run it under the CPU lock on a shared machine.
set -euo pipefail
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
ROWS=${1:-2500000}
RUNS=${RUNS:-3}
EXPORTER=${BACKUPDRILL_EXPORTER:-$ROOT/build/bin/backupdrill_exporter}
WORK=$(mktemp -d /tmp/backupdrill-bench.XXXXXX)
CLUSTER=$WORK/pg
PID=
cleanup() {
  [[ -n $PID ]] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
  "$ROOT/tests/support/pg_cluster.sh" stop "$CLUSTER" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
[[ -x $EXPORTER ]] || { echo "build first: $EXPORTER is missing" >&2; exit 1; }
for tool in jq bc curl; do
  command -v "$tool" >/dev/null || { echo "drill_bench: needs $tool" >&2; exit 2; }
done
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

"$ROOT/tests/support/pg_cluster.sh" start "$CLUSTER" >/dev/null
set -a
. "$CLUSTER/env"
set +a
export PATH="$PG_BIN_DIR:$PATH"
secs() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
kib() { awk -v k="$1" '$1 == k":" {print $2}' "/proc/$PID/status"; }

echo "building a database of $ROWS rows of mixed data ..."
psql -qc "create database bench_src"
psql -q -v ON_ERROR_STOP=1 -d bench_src <<SQL
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
       repeat(md5((i * 31)::text), 2 + i % 3)
from generate_series(1, $ROWS) as i;
create index on public.events (account);
create index on public.events (happened_at);
vacuum analyze;
SQL
size=$(psql -Atc "select pg_database_size('bench_src')")
echo "source database: $size bytes ($(psql -Atc "select pg_size_pretty($size::bigint)"))"

# --- the exporter, serving, with one drill at the default settings ---------
PORT=$(free_port)
cat >"$WORK/bench.toml" <<TOML
[exporter]
artifact_dir = "$WORK/artifacts"
admin_token = "bench-token"
[[drill]]
name = "bench"
schedule = "0 4 1 1 *"
source_url = "postgresql://$PGUSER@127.0.0.1:$PGPORT/bench_src"
target_url = "postgresql://$PGUSER@127.0.0.1:$PGPORT/bench_tgt"
[[drill.check]]
plugin = "table_counts"
tables = ["public.events"]
compare_source = true
TOML
"$EXPORTER" --config.file="$WORK/bench.toml" --web.listen-address="127.0.0.1:$PORT" \
  --log.level=warn 2>"$WORK/exporter.log" &
PID=$!
until curl -fs "http://127.0.0.1:$PORT/-/ready" >/dev/null 2>&1; do sleep 0.05; done
# Idle: after start-up settled and one scrape of each page a person looks at.
curl -fs "http://127.0.0.1:$PORT/metrics" >/dev/null
curl -fs "http://127.0.0.1:$PORT/" >/dev/null
sleep 2
rss_idle=$(kib VmRSS)
runs_done() {
  curl -fs "http://127.0.0.1:$PORT/metrics" |
    awk '/^backupdrill_runs_total\{drill="bench"\}/ {print $2}'
}

bare_run() {
  local t0 t1 t2 t3
  t0=$(secs); pg_dump -Fc -d bench_src -f "$WORK/bare.dump"; t1=$(secs)
  sha256sum "$WORK/bare.dump" >"$WORK/bare.sha256"; t2=$(secs)
  createdb bare_tgt
  pg_restore -d bare_tgt "$WORK/bare.dump"; t3=$(secs)
  bare_dump+=("$(elapsed "$t0" "$t1")"); bare_sha+=("$(elapsed "$t1" "$t2")")
  bare_restore+=("$(elapsed "$t2" "$t3")"); bare_total+=("$(elapsed "$t0" "$t3")")
  bare_size=$(stat -c %s "$WORK/bare.dump")
  psql -qc "drop database bare_tgt"
  rm -f "$WORK/bare.dump" "$WORK/bare.sha256"
}

drill_run() {
  local before t0 t1 summary p
  before=$(runs_done)
  t0=$(secs)
  curl -fs -X POST -H "Authorization: Bearer bench-token" \
    "http://127.0.0.1:$PORT/api/v1/drills/bench/run" >/dev/null
  until [[ $(runs_done) != "$before" ]]; do sleep 0.05; done
  t1=$(secs)
  drill_total+=("$(elapsed "$t0" "$t1")")
  summary=$(ls -t "$WORK"/artifacts/bench/drill_summary_*.json | head -1)
  [[ $(jq -r .success "$summary") == true ]] || {
    echo "the drill failed:" >&2; jq . "$summary" >&2; exit 1
  }
  for p in guard backup verify restore checks report; do
    eval "drill_$p+=(\"$(jq -r --arg p "$p" '[.phases[] | select(.phase == $p) | .seconds][0] // 0' "$summary")\")"
  done
  drill_size=$(jq -r '.backup.size_bytes' "$summary")
}

bare_dump=() bare_sha=() bare_restore=() bare_total=() drill_total=()
drill_guard=() drill_backup=() drill_verify=() drill_restore=() drill_checks=() drill_report=()
for ((i = 1; i <= RUNS; i++)); do
  psql -qc checkpoint
  bare_run
  psql -qc checkpoint
  drill_run
  printf 'pair %d: bare %6.2f s   drill %6.2f s   ratio %.2f\n' "$i" "${bare_total[-1]}" \
    "${drill_total[-1]}" "$(echo "${drill_total[-1]} / ${bare_total[-1]}" | bc -l)"
done
rss_peak=$(kib VmHWM)
rss_after=$(kib VmRSS)

bare_m=$(median "${bare_total[@]}")
drill_m=$(median "${drill_total[@]}")
printf '\nsource %s rows, %s bytes; archives: bare %s bytes (gzip -Z default), drill %s bytes\n' \
  "$ROWS" "$size" "$bare_size" "$drill_size"
printf '\n%-22s %8s   %s\n' "bare commands" "median" "runs (s)"
row() { printf '%-22s %8.2f   %s\n' "$1" "$(median "${@:2}")" "$(printf '%.2f ' "${@:2}")"; }
row "pg_dump -Fc" "${bare_dump[@]}"
row "sha256sum" "${bare_sha[@]}"
row "createdb + pg_restore" "${bare_restore[@]}"
row "total" "${bare_total[@]}"
printf '\n%-22s %8s   %s\n' "drill (serve + API)" "median" "runs (s)"
for p in guard backup verify restore checks report; do
  eval "row \"$p\" \"\${drill_$p[@]}\""
done
row "total (trigger->done)" "${drill_total[@]}"
printf '\nratio drill / bare = %.2f (medians %.2f / %.2f s; goal at most 0.60)\n' \
  "$(echo "$drill_m / $bare_m" | bc -l)" "$drill_m" "$bare_m"
printf 'exporter RSS: idle %.1f MB (goal <= 13), peak VmHWM %.1f MB over start-up and %d drills (goal < 32), after %.1f MB\n' \
  "$(echo "$rss_idle / 1024" | bc -l)" "$(echo "$rss_peak / 1024" | bc -l)" "$RUNS" \
  "$(echo "$rss_after / 1024" | bc -l)"
