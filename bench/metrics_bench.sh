#!/usr/bin/env bash
# bench/metrics_bench.sh [SECONDS]: /metrics throughput and latency of the
# exporter with 10 drills configured, idle and while a drill runs, next to
# prometheus-node-exporter serving its own /metrics on the same machine in
# the same run. Load from wrk on loopback; bounded by SECONDS per run
# (default 10). Installs wrk and prometheus-node-exporter when missing.
# Not part of the test suite.
set -euo pipefail
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
SECONDS_PER_RUN=${1:-10}
EXPORTER=${BACKUPDRILL_EXPORTER:-$ROOT/build/bin/backupdrill_exporter}
for pkg in wrk prometheus-node-exporter; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed"; then
    apt-get install -y -qq "$pkg" >/dev/null
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

# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

"$ROOT/tests/support/pg_cluster.sh" start "$WORK/pg" >/dev/null
set -a
. "$WORK/pg/env"
set +a
psql -qc "create database bench_src"
psql -q -v ON_ERROR_STOP=1 -d bench_src -f "$ROOT/tests/fixtures/supabase_demo.sql" >/dev/null

# drill-1 backs up a real ~2 GB database, so "during a drill" means pg_dump,
# verify and pg_restore really load the machine while wrk scrapes.
echo "building a ~2 GB source for the running drill ..."
psql -qc "create database bench_big"
psql -q -d bench_big -c "create table public.events as
  select i as id, md5('acct' || (i % 50000))::uuid as account,
         timestamptz '2026-01-01' + i * interval '7 seconds' as happened_at,
         jsonb_build_object('ref', md5(i::text), 'tags', jsonb_build_array(i % 3, i % 7)) as payload,
         repeat(md5((i * 31)::text), 1 + i % 3) as note
  from generate_series(1, ${BENCH_ROWS:-6000000}) as i"
{
  echo "[exporter]"
  echo "artifact_dir = \"$WORK/artifacts\""
  echo "admin_token = \"bench-token\""
  for i in $(seq 1 10); do
    src=bench_src
    [[ $i == 1 ]] && src=bench_big
    cat <<TOML
[[drill]]
name = "drill-$i"
schedule = "0 4 * * 0"
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

BD_PORT=$(free_port)
"$EXPORTER" --config.file="$WORK/bench.toml" --web.listen-address="127.0.0.1:$BD_PORT" \
  --log.level=warn 2>"$WORK/exporter.log" &
PIDS+=($!)
NE_PORT=$(free_port)
prometheus-node-exporter --web.listen-address="127.0.0.1:$NE_PORT" >/dev/null 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$BD_PORT/-/ready" >/dev/null && curl -sf "http://127.0.0.1:$NE_PORT/metrics" >/dev/null && break
  sleep 0.1
done

bench() { # name url [connections]
  local out rps p99 c=${3:-10}
  out=$(wrk -t"$((c > 1 ? 2 : 1))" -c"$c" -d"${SECONDS_PER_RUN}s" --latency "$2")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  printf '%-58s %10s req/s   p99 %s\n' "$1 [c=$c]" "$rps" "$p99"
}

echo "scrape body: backupdrill $(curl -s "http://127.0.0.1:$BD_PORT/metrics" | wc -c) bytes," \
  "node_exporter $(curl -s "http://127.0.0.1:$NE_PORT/metrics" | wc -c) bytes"
# c=10 saturates both cores (throughput); c=1 is one scraper at a time
# (latency as Prometheus sees it).
bench "node_exporter /metrics" "http://127.0.0.1:$NE_PORT/metrics"
bench "node_exporter /metrics" "http://127.0.0.1:$NE_PORT/metrics" 1
bench "backupdrill /metrics, 10 drills, idle" "http://127.0.0.1:$BD_PORT/metrics"
bench "backupdrill /metrics, 10 drills, idle" "http://127.0.0.1:$BD_PORT/metrics" 1
curl -s -X POST -H "Authorization: Bearer bench-token" "http://127.0.0.1:$BD_PORT/api/v1/drills/drill-1/run" >/dev/null
sleep 2
running=$(curl -s "http://127.0.0.1:$BD_PORT/metrics" | awk '/^backupdrill_running\{drill="drill-1"\}/ {print $2}')
bench "backupdrill /metrics, during a drill (running=$running)" "http://127.0.0.1:$BD_PORT/metrics"
bench "backupdrill /metrics, during a drill" "http://127.0.0.1:$BD_PORT/metrics" 1
running=$(curl -s "http://127.0.0.1:$BD_PORT/metrics" | awk '/^backupdrill_running\{drill="drill-1"\}/ {print $2}')
echo "drill-1 still running at the end of the last run: $running (1 = every 'during' figure was taken during the drill)"
