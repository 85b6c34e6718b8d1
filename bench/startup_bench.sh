#!/usr/bin/env bash
# bench/startup_bench.sh [DRILLS]: how long the exporter takes to validate and
# to become ready with many drills configured (default 100, each with three
# checks of two plugins), and how long a reload (SIGHUP) of that config takes.
# Goal (issue 16): ready within 1 s with 100 drills; --check-config likewise.
# Every check's config is created in a plugin worker, as a run would: one
# worker per plugin, not one per check. No server needed. Not part of the
# test suite.
set -euo pipefail
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
DRILLS=${1:-100}
EXPORTER=${BACKUPDRILL_EXPORTER:-$ROOT/build/bin/backupdrill_exporter}
WORK=$(mktemp -d /tmp/backupdrill-startup-bench.XXXXXX)
PID=
cleanup() {
  [[ -n $PID ]] && kill "$PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# shellcheck source=tests/support/lib.sh
. "$ROOT/tests/support/lib.sh"
now_ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

{
  echo "[exporter]"
  echo "artifact_dir = \"$WORK/artifacts\""
  for i in $(seq 1 "$DRILLS"); do
    cat <<TOML
[[drill]]
name = "drill-$i"
schedule = "$((i % 60)) 4 * * 0"
source_url = "postgresql://app@127.0.0.1:5432/app"
target_url = "postgresql://app@127.0.0.1:5432/drill_$i"
[[drill.check]]
plugin = "table_counts"
schemas = ["public"]
compare_source = true
[[drill.check]]
plugin = "sql_assert"
name = "smoke"
query = "select 0"
expect = 0
[[drill.check]]
plugin = "sql_assert"
name = "users"
query = "select count(*) from public.profiles"
min = 1
TOML
  done
} >"$WORK/bench.toml"

echo "$DRILLS drills, $((DRILLS * 3)) checks of 2 plugins"
check=()
for _ in 1 2 3 4 5; do
  t0=$(now_ms)
  "$EXPORTER" --config.file="$WORK/bench.toml" --check-config >/dev/null 2>&1
  check+=($(($(now_ms) - t0)))
done
echo "--check-config: median $(printf '%s\n' "${check[@]}" | median) ms (runs: ${check[*]})"

ready=()
for _ in 1 2 3; do
  port=$(free_port)
  t0=$(now_ms)
  "$EXPORTER" --config.file="$WORK/bench.toml" --web.listen-address="127.0.0.1:$port" \
    --log.level=info 2>>"$WORK/exporter.log" &
  PID=$!
  until curl -fs "http://127.0.0.1:$port/-/ready" >/dev/null 2>&1; do sleep 0.01; done
  ready+=($(($(now_ms) - t0)))
  # A reload re-validates every check; the log says when it is done.
  before=$(grep -c "configuration reloaded" "$WORK/exporter.log" || true)
  t0=$(now_ms)
  kill -HUP "$PID"
  until [[ $(grep -c "configuration reloaded" "$WORK/exporter.log" || true) -gt $before ]]; do
    sleep 0.01
  done
  reload_ms=$(($(now_ms) - t0))
  kill "$PID"
  wait "$PID" 2>/dev/null || true
  PID=
  echo "  start to ready: ${ready[-1]} ms; reload: ${reload_ms} ms"
done
echo "ready: median $(printf '%s\n' "${ready[@]}" | median) ms (goal: 1000 ms)"
