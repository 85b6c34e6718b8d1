#!/usr/bin/env bash
# serve_reload_test.sh CLUSTERS_DIR EXPORTER WORK_DIR
#
# SIGHUP reload in serve mode, on the real exporter and the real PostgreSQL of
# the pg_clusters fixture:
#   1. a drill is running (its check sleeps) when the config changes (the
#      drill's check now fails, its RTO target changes, a drill is added) and
#      SIGHUP arrives: the running drill is not interrupted and passes with the
#      config it started with; the new drill is listed and exported, the new
#      RTO target is exported; the next run uses the new config (and fails)
#   2. a broken config: refused with file:line, the previous config stays,
#      backupdrill_config_last_reload_successful 0, the exporter keeps serving
#   3. a drill removed: its series and API entry disappear
#   4. SIGTERM still stops it cleanly (exit 0)
set -euo pipefail
CLUSTERS=${1:?usage: serve_reload_test.sh CLUSTERS_DIR EXPORTER WORK_DIR}
EXPORTER=${2:?}
WORK=${3:?}

fail() {
  echo "FAIL: $*" >&2
  [[ -f $WORK/exporter.log ]] && tail -n 40 "$WORK/exporter.log" >&2
  exit 1
}
step() { echo "--- $*"; }

set -a
# shellcheck source=/dev/null
. "$CLUSTERS/a/env"
set +a
SRC_DB=reload_src
psql_admin() { psql -X -q -v ON_ERROR_STOP=1 -d postgres "$@"; }
pid=""
cleanup() {
  [[ -n $pid ]] && kill -KILL "$pid" 2>/dev/null
  psql_admin -c "drop database if exists $SRC_DB" -c "drop database if exists reload_tgt1" \
    -c "drop database if exists reload_tgt2" >/dev/null 2>&1 || true
}
trap cleanup EXIT
rm -rf "$WORK"
mkdir -p "$WORK"
psql_admin -c "drop database if exists $SRC_DB" -c "create database $SRC_DB template demo_template" >/dev/null

TOKEN=reload-admin-token-5d2
drill() { # name target query expect rto schedule
  cat <<TOML
[[drill]]
name = "$1"
schedule = "$6"
source_url = "\${SRC_URL}"
target_url = "postgresql://$PGUSER@$PGHOST:$PGPORT/$2"
pg_bin_dir = "$PG_BIN_DIR"
rto_target = "$5"
[[drill.check]]
plugin = "sql_assert"
name = "assert"
query = "$3"
expect = $4
TOML
}
header() {
  printf '[exporter]\nartifact_dir = "%s"\nadmin_token = "${TOKEN}"\n\n' "$WORK/artifacts"
}
config=$WORK/backupdrill.toml
# v1: one drill whose check takes 6 s and passes.
{ header; drill first reload_tgt1 "select count(*) from pg_sleep(6)" 1 2h ""; } >"$config"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
SRC_URL="postgresql://$PGUSER@$PGHOST:$PGPORT/$SRC_DB" TOKEN=$TOKEN PGPASSWORD=$PGPASSWORD \
  "$EXPORTER" --config.file="$config" --web.listen-address="127.0.0.1:$port" >"$WORK/exporter.log" 2>&1 &
pid=$!
for _ in $(seq 100); do curl -fsS "$base/-/ready" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "$base/-/ready" >/dev/null || fail "the exporter did not become ready"

metric() { # series -> value (empty when absent)
  curl -fsS "$base/metrics" | awk -v s="$1" '$1 == s { print $2 }'
}
wait_metric() { # series value timeout
  for _ in $(seq $(($3 * 5))); do
    [[ $(metric "$1") == "$2" ]] && return 0
    sleep 0.2
  done
  fail "$1 is $(metric "$1"), expected $2 within $3 s"
}
hup_and_wait() { # log message to wait for
  local before
  before=$(grep -c "$1" "$WORK/exporter.log" || true)
  kill -HUP "$pid"
  for _ in $(seq 100); do
    (($(grep -c "$1" "$WORK/exporter.log" || true) > before)) && return 0
    sleep 0.1
  done
  fail "no \"$1\" in the log after SIGHUP"
}
trigger() {
  curl -sS -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
    "$base/api/v1/drills/$1/run"
}

step "1. reload while a drill runs"
[[ $(trigger first) == 202 ]] || fail "POST run first did not answer 202"
wait_metric 'backupdrill_running{drill="first"}' 1 10
# v2: first's check now fails and its RTO target is 3h; a scheduled drill is added.
{
  header
  drill first reload_tgt1 "select 0" 1 3h ""
  drill second reload_tgt2 "select 0" 0 1h "0 4 * * 0"
} >"$config"
hup_and_wait "configuration reloaded"
grep "configuration reloaded" "$WORK/exporter.log" | tail -n 1 | grep -q 'added=second' ||
  fail "the reload log does not name the added drill"
[[ $(metric 'backupdrill_running{drill="first"}') == 1 ]] || fail "the running drill was interrupted"
wait_metric 'backupdrill_rto_target_seconds{drill="first"}' 10800 2
wait_metric 'backupdrill_config_last_reload_successful' 1 2
[[ -n $(metric 'backupdrill_last_run_success{drill="second"}') ]] || fail "no series for the added drill"
[[ $(metric 'backupdrill_next_run_timestamp_seconds{drill="second"}') != 0 ]] ||
  fail "the added drill's schedule is not armed"
curl -fsS "$base/api/v1/drills" | grep -q '"second"' || fail "/api/v1/drills does not list the added drill"
wait_metric 'backupdrill_running{drill="first"}' 0 90
[[ $(metric 'backupdrill_last_run_success{drill="first"}') == 1 ]] ||
  fail "the drill running across the reload did not pass with its own config"
[[ $(metric 'backupdrill_runs_total{drill="first"}') == 1 ]] || fail "runs_total is not 1"
# The next run uses the reloaded config: its check fails.
[[ $(trigger first) == 202 ]] || fail "second POST run first did not answer 202"
sleep 1
wait_metric 'backupdrill_running{drill="first"}' 0 90
[[ $(metric 'backupdrill_last_run_success{drill="first"}') == 0 ]] ||
  fail "the run after the reload did not use the new (failing) check"
[[ $(metric 'backupdrill_failures_total{drill="first",phase="checks"}') == 1 ]] ||
  fail "failures_total{phase=checks} is not 1"

step "2. a broken config is refused, the old one stays"
cp "$config" "$WORK/good.toml"
{
  header
  drill first reload_tgt1 "select 0" 1 "2 hours" ""
} >"$config"
bad_line=$(grep -n 'rto_target = "2 hours"' "$config" | cut -d: -f1)
hup_and_wait "configuration reload failed"
grep "configuration reload failed" "$WORK/exporter.log" | tail -n 1 | grep -q "backupdrill.toml:$bad_line" ||
  fail "the refusal does not name backupdrill.toml:$bad_line: $(grep 'reload failed' "$WORK/exporter.log" | tail -n 1)"
wait_metric 'backupdrill_config_last_reload_successful' 0 2
curl -fsS "$base/api/v1/drills" | grep -q '"second"' || fail "the previous config was not kept"
[[ $(curl -sS -o /dev/null -w '%{http_code}' "$base/-/ready") == 200 ]] || fail "not ready after a failed reload"

step "3. a drill removed"
{ header; drill first reload_tgt1 "select 0" 1 3h ""; } >"$config"
hup_and_wait "configuration reloaded"
wait_metric 'backupdrill_config_last_reload_successful' 1 2
[[ -z $(metric 'backupdrill_last_run_success{drill="second"}') ]] || fail "the removed drill is still exported"
[[ $(curl -sS -o /dev/null -w '%{http_code}' "$base/api/v1/drills/second/runs") == 404 ]] ||
  fail "the removed drill still answers on the API"
[[ $(trigger second) == 404 ]] || fail "the removed drill can still be triggered"
promtool check metrics < <(curl -fsS "$base/metrics") || fail "promtool check metrics after reloads"

step "4. SIGTERM"
kill -TERM "$pid"
set +e
wait "$pid"
rc=$?
set -e
pid=""
((rc == 0)) || fail "exit $rc after SIGTERM"
echo PASS
