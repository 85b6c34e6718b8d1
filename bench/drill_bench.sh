#!/usr/bin/env bash
# bench/drill_bench.sh [ROWS]: how long a whole drill takes next to the bare
# commands a person would run by hand on the same database and machine, and
# how much memory the exporter uses meanwhile (issue 16).
#   bare:  pg_dump -Fc (its default compression) ; sha256sum ; createdb ;
#          pg_restore (one job)
#   drill: one run of a drill with the default settings, triggered through the
#          HTTP API of the exporter in serve mode, timed by its summary's
#          duration_seconds (backup with in-stream
#          SHA-256 and decode, verify, restore, a table_counts check, report)
# The database: ROWS (default 2,500,000, about 1 GB with its indexes) rows of
# mixed data (uuid, jsonb, text, timestamps, numeric) with a primary key and
# two secondary indexes. RUNS (default 3) pairs bare/drill are run alternately
# (odd rounds bare first, even rounds drill first), each after a checkpoint
# and a sync; the medians are compared.
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
# shellcheck source=tests/support/lib.sh
. "$ROOT/tests/support/lib.sh"

"$ROOT/tests/support/pg_cluster.sh" start "$CLUSTER" >/dev/null
set -a
. "$CLUSTER/env"
set +a
export PATH="$PG_BIN_DIR:$PATH"
# On this project's VM, a restore that writes into recycled WAL segments took
# 16 s where one writing new segments took 12 s (same archive, same cluster,
# a checkpoint before each). With recycling, whichever restore came second in
# a round paid that, which made the comparison about WAL file reuse rather
# than about the drill. Neither pipeline controls it; both get fresh segments.
psql -qc "alter system set wal_recycle = off" -c "select pg_reload_conf()" >/dev/null
secs() { date +%s.%N; }
# Before each timed run: a checkpoint, and the page cache's dirty pages
# written out. A restore writes ~2 GB (table, indexes, WAL); left dirty, the
# kernel's write-back of one run throttled the next (the same pg_restore took
# 12 to 17 s depending on what ran before it).
settle() { psql -qc checkpoint; sync; }
elapsed() { echo "$2 - $1" | bc; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
kib() { awk -v k="$1" '$1 == k":" {print $2}' "/proc/$PID/status"; }
pss() { awk '$1 == "Pss:" {print $2}' "/proc/$PID/smaps_rollup"; }

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
       repeat(md5((i * 31)::text), 3 + i % 3)
from generate_series(1, $ROWS) as i;
create index on public.events (account);
create index on public.events (happened_at);
vacuum analyze;
SQL
size=$(psql -Atc "select pg_database_size('bench_src')")
echo "source database: $size bytes ($(psql -Atc "select pg_size_pretty($size::bigint)"))"

# --- the exporter, serving, with one drill at the default settings ---------
# EXTRA_COMPRESSIONS="none ..." adds a drill per compression setting to the
# same exporter; COMPARE_EXPORTER=<binary> serves the default drill from a
# second exporter (e.g. an older build): each is run in every round too and
# reported next to the default, for measuring an idea in the same run.
drill_toml() { # name target compression
  cat <<TOML
[[drill]]
name = "$1"
schedule = "0 4 1 1 *"
source_url = "postgresql://$PGUSER@127.0.0.1:$PGPORT/bench_src"
target_url = "postgresql://$PGUSER@127.0.0.1:$PGPORT/$2"
TOML
  [[ -z $3 ]] || printf '[drill.backup]\ncompression = "%s"\n' "$3"
  cat <<TOML
[[drill.check]]
plugin = "table_counts"
tables = ["public.events"]
compare_source = true
TOML
}
exporter_toml() { # artifact_dir
  printf '[exporter]\nartifact_dir = "%s"\nadmin_token = "bench-token"\n' "$1"
}
{
  exporter_toml "$WORK/artifacts"
  drill_toml bench bench_tgt ""
  for c in ${EXTRA_COMPRESSIONS:-}; do drill_toml "bench-${c//:/}" "bench_tgt_${c//:/}" "$c"; done
} >"$WORK/bench.toml"
{
  exporter_toml "$WORK/artifacts-compare"
  drill_toml bench bench_tgt_compare ""
} >"$WORK/compare.toml"

serve() { # binary config port
  "$1" --config.file="$2" --web.listen-address="127.0.0.1:$3" --log.level=warn \
    2>>"$WORK/exporter.log" &
  local pid=$!
  until curl -fs "http://127.0.0.1:$3/-/ready" >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || { echo "$1 did not start:" >&2; tail -3 "$WORK/exporter.log" >&2; exit 1; }
    sleep 0.05
  done
  echo "$pid" >"$WORK/pid.$3"
}
PORT=$(free_port)
serve "$EXPORTER" "$WORK/bench.toml" "$PORT"
PID=$(cat "$WORK/pid.$PORT")
COMPARE_PORT=
if [[ -n ${COMPARE_EXPORTER:-} ]]; then
  COMPARE_PORT=$(free_port)
  serve "$COMPARE_EXPORTER" "$WORK/compare.toml" "$COMPARE_PORT"
  COMPARE_PID=$(cat "$WORK/pid.$COMPARE_PORT")
  trap 'kill "$COMPARE_PID" 2>/dev/null || true; cleanup' EXIT
fi
# Idle: after start-up settled and one scrape of each page a person looks at.
curl -fs "http://127.0.0.1:$PORT/metrics" >/dev/null
curl -fs "http://127.0.0.1:$PORT/" >/dev/null
sleep 2
rss_idle=$(kib VmRSS)
anon_idle=$(kib RssAnon)
file_idle=$(kib RssFile)
pss_idle=$(pss)

declare -A T  # "<variant>:<phase>" -> the seconds of each round, space-separated
VARIANTS=(drill)
for c in ${EXTRA_COMPRESSIONS:-}; do VARIANTS+=("compression=$c"); done
[[ -z $COMPARE_PORT ]] || VARIANTS+=(compare)
declare -A SIZE

bare_run() {
  local t0 t1 t2 t3
  t0=$(secs); pg_dump -Fc -d bench_src -f "$WORK/bare.dump"; t1=$(secs)
  sha256sum "$WORK/bare.dump" >"$WORK/bare.sha256"; t2=$(secs)
  createdb bare_tgt
  pg_restore -d bare_tgt "$WORK/bare.dump"; t3=$(secs)
  T[bare:dump]+=" $(elapsed "$t0" "$t1")"; T[bare:sha]+=" $(elapsed "$t1" "$t2")"
  T[bare:restore]+=" $(elapsed "$t2" "$t3")"; T[bare:total]+=" $(elapsed "$t0" "$t3")"
  SIZE[bare]=$(stat -c %s "$WORK/bare.dump")
  psql -qc "drop database bare_tgt"
  rm -f "$WORK/bare.dump" "$WORK/bare.sha256"
}

# The floor of any drill that takes a fresh custom-format dump at the
# drill's default compression and restores it only after verifying it: that
# pg_dump alone, plus the bare pg_restore above. Guard, verify and checks add
# to it; only a dump without compression or a restore that starts before the
# archive is verified could go below it.
floor_run() {
  local t0 t1
  t0=$(secs); pg_dump -Fc -Z1 -d bench_src -f "$WORK/floor.dump"; t1=$(secs)
  T[floor:dump]+=" $(elapsed "$t0" "$t1")"
  rm -f "$WORK/floor.dump"
}

runs_done() { # port drill
  curl -fs "http://127.0.0.1:$1/metrics" |
    awk -v d="backupdrill_runs_total{drill=\"$2\"}" '$1 == d {print $2}'
}

drill_run() { # variant port drill artifact_dir
  local before summary p
  before=$(runs_done "$2" "$3")
  curl -fs -X POST -H "Authorization: Bearer bench-token" \
    "http://127.0.0.1:$2/api/v1/drills/$3/run" >/dev/null
  # A slow poll: at 20 scrapes a second, the curl processes and the scrapes
  # took 4-5 s of a 24 s drill from the two cores. The drill's time is its
  # own (the summary's duration), so the poll's lag does not count either.
  until [[ $(runs_done "$2" "$3") != "$before" ]]; do sleep 0.5; done
  summary=$(ls -t "$4/$3"/drill_summary_*.json | head -1)
  T[$1:total]+=" $(jq -r .duration_seconds "$summary")"
  [[ $(jq -r .result "$summary") == passed ]] || {
    echo "the drill failed:" >&2; jq . "$summary" >&2; exit 1
  }
  for p in guard backup verify restore checks report; do
    T[$1:$p]+=" $(jq -r --arg p "$p" '[.phases[] | select(.phase == $p) | .seconds][0] // 0' "$summary")"
  done
  SIZE[$1]=$(jq -r '.backup.size_bytes' "$summary")
}

run_variant() { # variant
  settle
  case $1 in
    drill) drill_run drill "$PORT" bench "$WORK/artifacts" ;;
    compression=*) drill_run "$1" "$PORT" "bench-${1#compression=}" "$WORK/artifacts" ;;
    compare) drill_run compare "$COMPARE_PORT" bench "$WORK/artifacts-compare" ;;
  esac
}
last() { echo "${1##* }"; }
for ((i = 1; i <= RUNS; i++)); do
  # Alternated: odd rounds start with the bare commands, even ones with the
  # drill, so neither always follows the other's writes.
  if ((i % 2)); then
    settle
    bare_run
    for v in "${VARIANTS[@]}"; do run_variant "$v"; done
  else
    for v in "${VARIANTS[@]}"; do run_variant "$v"; done
    settle
    bare_run
  fi
  settle
  floor_run
  printf 'pair %d: bare %6.2f s   drill %6.2f s   ratio %.2f\n' "$i" "$(last "${T[bare:total]}")" \
    "$(last "${T[drill:total]}")" \
    "$(echo "$(last "${T[drill:total]}") / $(last "${T[bare:total]}")" | bc -l)"
done
rss_peak=$(kib VmHWM)
rss_after=$(kib VmRSS)

# shellcheck disable=SC2086 # the lists are meant to split
row() { printf '%-24s %8.2f   %s\n' "$1" "$(median $2)" "$(printf '%.2f ' $2)"; }
printf '\nsource %s rows, %s bytes; archive bytes: bare %s (pg_dump -Fc default level)' \
  "$ROWS" "$size" "${SIZE[bare]}"
for v in "${VARIANTS[@]}"; do printf ', %s %s' "$v" "${SIZE[$v]}"; done
printf '\n\n%-24s %8s   %s\n' "bare commands" "median" "rounds (s)"
row "pg_dump -Fc" "${T[bare:dump]}"
row "sha256sum" "${T[bare:sha]}"
row "createdb + pg_restore" "${T[bare:restore]}"
row "total" "${T[bare:total]}"
bare_m=$(median ${T[bare:total]})
row "pg_dump -Fc -Z1" "${T[floor:dump]}"
floor_m=$(echo "$(median ${T[floor:dump]}) + $(median ${T[bare:restore]})" | bc -l)
printf '%-24s %8.2f   ratio %.2f: pg_dump -Z1 + pg_restore, nothing else (the floor of a verify-then-restore drill)\n' \
  "floor" "$floor_m" "$(echo "$floor_m / $bare_m" | bc -l)"
for v in "${VARIANTS[@]}"; do
  printf '\n%-24s %8s   %s\n' "$v (serve + API)" "median" "rounds (s)"
  for p in guard backup verify restore checks report; do row "$p" "${T[$v:$p]}"; done
  row "total (its duration)" "${T[$v:total]}"
  printf '%-24s %8.2f\n' "ratio to bare" "$(echo "$(median ${T[$v:total]}) / $bare_m" | bc -l)"
done
drill_m=$(median ${T[drill:total]})
printf '\nratio drill / bare = %.2f (medians %.2f / %.2f s; goal at most 0.60)\n' \
  "$(echo "$drill_m / $bare_m" | bc -l)" "$drill_m" "$bare_m"
printf 'exporter RSS (VmRSS of the serving process; its children not counted): idle %.1f MB (goal <= 13), peak VmHWM %.1f MB over start-up and %d rounds (goal < 32), after %.1f MB\n' \
  "$(echo "$rss_idle / 1024" | bc -l)" "$(echo "$rss_peak / 1024" | bc -l)" "$RUNS" \
  "$(echo "$rss_after / 1024" | bc -l)"
printf 'idle RSS split: anonymous %.1f MB, file-backed %.1f MB (code and data of the binary and its %d shared libraries, shared with other processes); PSS %.1f MB\n' \
  "$(echo "$anon_idle / 1024" | bc -l)" "$(echo "$file_idle / 1024" | bc -l)" \
  "$(awk '$6 ~ /\.so/ {print $6}' "/proc/$PID/maps" | sort -u | wc -l)" "$(echo "$pss_idle / 1024" | bc -l)"
