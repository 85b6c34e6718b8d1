#!/usr/bin/env bash
# bench/metrics_bench.sh [SECONDS]: /metrics throughput and latency of the
# exporter with 100 drills configured, each with a run in its history (so
# every per-check and per-table series exists), next to Debian's
# prometheus-node-exporter serving ONLY its textfile collector, fed the very
# exposition the exporter serves, on the same machine in the same run.
# Load: wrk (Debian package) on loopback, SECONDS per run (default 10):
#   c=10 (2 threads) saturates both cores: throughput and its p99;
#   c=1 is one scraper at a time, as Prometheus scrapes: its p99.
# Goal (issue 16): throughput >= 2x node_exporter's, p99 < 5 ms. A scrape of
# an unchanged state is served from the last rendering (DrillMetrics).
# Installs wrk and prometheus-node-exporter when missing (bench-only: not
# the test suite's dependencies). DURING_DRILL_ROWS=N also measures while a
# drill of an N-row database runs (default 0: skipped).
# Not part of the test suite. Run it under the CPU lock on a shared machine.
set -euo pipefail
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
SECONDS_PER_RUN=${1:-10}
DRILLS=${DRILLS:-100}
DURING_DRILL_ROWS=${DURING_DRILL_ROWS:-0}
EXPORTER=${BACKUPDRILL_EXPORTER:-$ROOT/build/bin/backupdrill_exporter}
NODE_EXPORTER=${NODE_EXPORTER:-prometheus-node-exporter}
[[ -x $EXPORTER ]] || { echo "build first: $EXPORTER is missing" >&2; exit 1; }
for pkg in wrk prometheus-node-exporter jq; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed"; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null
  fi
done
WORK=$(mktemp -d /tmp/backupdrill-metrics-bench.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  "$ROOT/tests/support/pg_cluster.sh" stop "$WORK/pg" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# shellcheck source=tests/support/lib.sh
. "$ROOT/tests/support/lib.sh"

"$ROOT/tests/support/pg_cluster.sh" start "$WORK/pg" >/dev/null
set -a
. "$WORK/pg/env"
set +a
psql -qc "create database bench_src"
psql -q -v ON_ERROR_STOP=1 -d bench_src -f "$ROOT/tests/fixtures/supabase_demo.sql" >/dev/null
if ((DURING_DRILL_ROWS > 0)); then
  psql -qc "create database bench_big"
  psql -q -d bench_big -c "create table public.events as
    select i as id, md5('acct' || (i % 50000))::uuid as account,
           timestamptz '2026-01-01' + i * interval '7 seconds' as happened_at,
           jsonb_build_object('ref', md5(i::text), 'tags', jsonb_build_array(i % 3, i % 7)) as payload,
           repeat(md5((i * 31)::text), 1 + i % 3) as note
    from generate_series(1, $DURING_DRILL_ROWS) as i"
fi
{
  echo "[exporter]"
  echo "artifact_dir = \"$WORK/artifacts\""
  echo "admin_token = \"bench-token\""
  for i in $(seq 1 "$DRILLS"); do
    src=bench_src
    [[ $i == 1 && $DURING_DRILL_ROWS -gt 0 ]] && src=bench_big
    cat <<TOML
[[drill]]
name = "drill-$i"
schedule = "$((i % 60)) 4 * * 0"
source_url = "postgresql://$PGUSER@127.0.0.1:$PGPORT/$src"
target_url = "postgresql://$PGUSER@127.0.0.1:$PGPORT/bench_tgt_$i"
[[drill.check]]
plugin = "table_counts"
schemas = ["public"]
compare_source = true
[[drill.check]]
plugin = "sql_assert"
name = "smoke"
query = "select 0"
expect = 0
TOML
  done
} >"$WORK/bench.toml"

# History: one real run (drill-2 on the demo database), its summary then
# given to every other drill, as if each had run once.
echo "one real drill for the history ..."
"$EXPORTER" --config.file="$WORK/bench.toml" --once --drill=drill-2 --log.level=error >/dev/null
summary=$(ls "$WORK"/artifacts/drill-2/drill_summary_*.json)
for i in $(seq 1 "$DRILLS"); do
  [[ $i == 2 ]] && continue
  mkdir -p -m 0700 "$WORK/artifacts/drill-$i"
  jq --arg d "drill-$i" '.drill = $d' "$summary" >"$WORK/artifacts/drill-$i/$(basename "$summary")"
  chmod 0600 "$WORK/artifacts/drill-$i/$(basename "$summary")"
done

BD_PORT=$(free_port)
"$EXPORTER" --config.file="$WORK/bench.toml" --web.listen-address="127.0.0.1:$BD_PORT" \
  --log.level=warn 2>"$WORK/exporter.log" &
PIDS+=($!)
until curl -fs "http://127.0.0.1:$BD_PORT/-/ready" >/dev/null 2>&1; do sleep 0.05; done

# node_exporter, textfile collector only, serving the exporter's exposition.
mkdir -p "$WORK/textfile"
curl -fs "http://127.0.0.1:$BD_PORT/metrics" >"$WORK/textfile/backupdrill.prom"
NE_PORT=$(free_port)
"$NODE_EXPORTER" --web.listen-address="127.0.0.1:$NE_PORT" --collector.disable-defaults \
  --collector.textfile --collector.textfile.directory="$WORK/textfile" >"$WORK/node.log" 2>&1 &
PIDS+=($!)
until curl -fs "http://127.0.0.1:$NE_PORT/metrics" >/dev/null 2>&1; do sleep 0.05; done

series() { grep -vc '^#' || true; }
echo "$DRILLS drills with history; scrape bodies:" \
  "backupdrill $(curl -s "http://127.0.0.1:$BD_PORT/metrics" | wc -c) bytes" \
  "($(curl -s "http://127.0.0.1:$BD_PORT/metrics" | series) series)," \
  "node_exporter $(curl -s "http://127.0.0.1:$NE_PORT/metrics" | wc -c) bytes" \
  "($(curl -s "http://127.0.0.1:$NE_PORT/metrics" | series) series)"

to_ms() { # wrk's "1.23ms", "456.00us", "1.2s" as milliseconds
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); print v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); print v + 0 }
    else if (v ~ /s$/) { sub(/s$/, "", v); print v * 1000 } }'
}
declare -A RPS P99
bench() { # key label url connections
  local out c=$4
  out=$(wrk -t"$((c > 1 ? 2 : 1))" -c"$c" -d"${SECONDS_PER_RUN}s" --latency "$3")
  grep -q "Non-2xx" <<<"$out" && { echo "$2: non-2xx answers" >&2; exit 1; }
  RPS[$1]=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  P99[$1]=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
  printf '%-52s c=%-3s %10.0f req/s   p99 %7.2f ms\n' "$2" "$c" "${RPS[$1]}" "${P99[$1]}"
}

bench ne10 "node_exporter (textfile only) /metrics" "http://127.0.0.1:$NE_PORT/metrics" 10
bench bd10 "backupdrill /metrics, $DRILLS drills" "http://127.0.0.1:$BD_PORT/metrics" 10
bench ne1 "node_exporter (textfile only) /metrics" "http://127.0.0.1:$NE_PORT/metrics" 1
bench bd1 "backupdrill /metrics, $DRILLS drills" "http://127.0.0.1:$BD_PORT/metrics" 1
printf '\nthroughput backupdrill / node_exporter = %.2f (goal >= 2)\n' \
  "$(echo "${RPS[bd10]} / ${RPS[ne10]}" | bc -l)"
printf 'backupdrill p99: %.2f ms at c=10, %.2f ms at c=1 (goal < 5 ms)\n' "${P99[bd10]}" "${P99[bd1]}"

if ((DURING_DRILL_ROWS > 0)); then
  curl -fs -X POST -H "Authorization: Bearer bench-token" \
    "http://127.0.0.1:$BD_PORT/api/v1/drills/drill-1/run" >/dev/null
  sleep 2
  bench bdd10 "backupdrill /metrics, during a drill" "http://127.0.0.1:$BD_PORT/metrics" 10
  bench bdd1 "backupdrill /metrics, during a drill" "http://127.0.0.1:$BD_PORT/metrics" 1
  running=$(curl -s "http://127.0.0.1:$BD_PORT/metrics" |
    awk '/^backupdrill_running\{drill="drill-1"\}/ {print $2}')
  echo "drill-1 still running after the last run: $running (1: every 'during' figure was taken during the drill)"
fi
