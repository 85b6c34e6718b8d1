#!/usr/bin/env bash
# push_gateway_test.sh CLUSTERS_DIR EXPORTER WORK_DIR RULES_FILE
#
# --once --push.gateway against Debian's prometheus-pushgateway on a free
# loopback port (started here, stopped on exit), with the real PostgreSQL of
# the pg_clusters fixture:
#   1. a failing and a passing --once run both appear on the gateway, each in
#      its own group (job="backupdrill", drill=<name>), with their results;
#      --push.job names the job
#   2. promtool: BackupDrillFailed fires on the pushed failure's series (as
#      Prometheus sees them when it scrapes the gateway with honor_labels),
#      not on the pushed success
#   3. a gateway that cannot be reached: the push failure is logged and told
#      on the terminal with where the run is recorded, a passing
#      drill exits 1, a failing drill still exits 1 with its own result logged
#   4. malformed push flags exit 2 before any drill runs
set -euo pipefail
CLUSTERS=${1:?usage: push_gateway_test.sh CLUSTERS_DIR EXPORTER WORK_DIR RULES_FILE}
EXPORTER=${2:?}
WORK=${3:?}
RULES=${4:?}

fail() {
  echo "FAIL: $*" >&2
  for f in "$WORK"/*.log; do [[ -f $f ]] && { echo "== $f" >&2; tail -n 30 "$f" >&2; }; done
  exit 1
}
step() { echo "--- $*"; }

set -a
# shellcheck source=/dev/null
. "$CLUSTERS/a/env"
set +a
SRC_DB=push_src
psql_admin() { psql -X -q -v ON_ERROR_STOP=1 -d postgres "$@"; }
gw_pid=""
cleanup() {
  [[ -n $gw_pid ]] && kill "$gw_pid" 2>/dev/null && wait "$gw_pid" 2>/dev/null
  psql_admin -c "drop database if exists $SRC_DB" -c "drop database if exists push_tgt_pass" \
    -c "drop database if exists push_tgt_fail" >/dev/null 2>&1 || true
}
trap cleanup EXIT
rm -rf "$WORK"
mkdir -p "$WORK"
psql_admin -c "drop database if exists $SRC_DB" -c "create database $SRC_DB template demo_template" >/dev/null

. "$(dirname -- "${BASH_SOURCE[0]}")/../support/lib.sh"
gw_port=$(free_port)
gw=http://127.0.0.1:$gw_port
prometheus-pushgateway --web.listen-address="127.0.0.1:$gw_port" --persistence.file="" \
  >"$WORK/pushgateway.log" 2>&1 &
gw_pid=$!
for _ in $(seq 100); do curl -fsS "$gw/-/ready" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "$gw/-/ready" >/dev/null || fail "the Pushgateway did not become ready"

config=$WORK/backupdrill.toml
drill() { # name target expect
  cat <<TOML
[[drill]]
name = "$1"
source_url = "postgresql://$PGUSER@$PGHOST:$PGPORT/$SRC_DB"
target_url = "postgresql://$PGUSER@$PGHOST:$PGPORT/$2"
pg_bin_dir = "$PG_BIN_DIR"
[[drill.check]]
plugin = "sql_assert"
name = "assert"
query = "select 1"
expect = $3
TOML
}
{
  printf '[exporter]\nartifact_dir = "%s"\n\n' "$WORK/artifacts"
  drill passing push_tgt_pass 1
  drill failing push_tgt_fail 2
} >"$config"

once() { # log drill flags... -> exit code
  local log=$1 name=$2
  shift 2
  local rc=0
  PGPASSWORD=$PGPASSWORD "$EXPORTER" --config.file="$config" --once --drill="$name" "$@" \
    >"$WORK/$log.log" 2>&1 || rc=$?
  echo "$rc"
}
pushed() { # series -> value on the gateway (empty when absent)
  curl -fsS "$gw/metrics" | awk -v s="$1" '$1 == s { print $2 }'
}

step "1. a failing and a passing --once run, pushed"
[[ $(once fail failing --push.gateway="$gw") == 1 ]] || fail "the failing drill did not exit 1"
[[ $(once pass passing --push.gateway="$gw/") == 0 ]] || fail "the passing drill did not exit 0"
grep -q "pushed the drill's series" "$WORK/pass.log" || fail "no push logged for the passing drill"
f='{drill="failing",instance="",job="backupdrill"}'
p='{drill="passing",instance="",job="backupdrill"}'
[[ $(pushed "backupdrill_last_run_success$f") == 0 ]] || fail "the failure is not on the gateway"
[[ $(pushed "backupdrill_last_run_success$p") == 1 ]] || fail "the success is not on the gateway"
[[ $(pushed "backupdrill_runs_total$f") == 1 ]] || fail "runs_total of the failing drill is not 1"
[[ $(pushed "backupdrill_failures_total{drill=\"failing\",instance=\"\",job=\"backupdrill\",phase=\"checks\"}") == 1 ]] ||
  fail "the failure is not counted in phase checks"
[[ $(pushed "backupdrill_check_success{check=\"assert\",drill=\"passing\",instance=\"\",job=\"backupdrill\"}") == 1 ]] ||
  fail "the passing drill's check is not on the gateway"
[[ $(pushed "backupdrill_last_run_timestamp_seconds$f") != 0 ]] || fail "no run timestamp pushed"
# The exporter's own series are not pushed (they would collide across groups).
curl -fsS "$gw/metrics" | grep -q '^backupdrill_exporter_' && fail "the exporter's own series were pushed"
# Each drill is its own group: both are there, with the gateway's push time.
groups=$(curl -fsS "$gw/metrics" | grep -c '^push_time_seconds{drill=')
[[ $groups == 2 ]] || fail "expected 2 push groups, found $groups"
# --push.job names the job; the push replaces only that job's group.
[[ $(once job passing --push.gateway="$gw" --push.job=nightly-ci) == 0 ]] || fail "--push.job run did not exit 0"
[[ $(pushed 'backupdrill_last_run_success{drill="passing",instance="",job="nightly-ci"}') == 1 ]] ||
  fail "--push.job did not set the job label"
[[ $(pushed "backupdrill_last_run_success$f") == 0 ]] || fail "another group was overwritten"

step "2. promtool: BackupDrillFailed fires on the pushed failure"
# The pushed series as Prometheus stores them when it scrapes the gateway with
# honor_labels: true (an empty instance is no label).
series() { # name labels drill
  local v
  v=$(pushed "$1{drill=\"$3\",instance=\"\",job=\"backupdrill\"}")
  [[ -n $v ]] || fail "$1 of $3 is not on the gateway"
  printf "      - series: '%s{job=\"backupdrill\",drill=\"%s\"}'\n        values: '%sx15'\n" "$1" "$3" "$v"
}
{
  cat <<YAML
rule_files:
  - $RULES
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
YAML
  for d in failing passing; do
    for m in backupdrill_last_run_success backupdrill_runs_total backupdrill_last_run_timestamp_seconds; do
      series "$m" "" "$d"
    done
  done
  cat <<YAML
    promql_expr_test:
      - expr: ALERTS{alertname="BackupDrillFailed",alertstate="firing"}
        eval_time: 6m
        exp_samples:
          - labels: 'ALERTS{alertname="BackupDrillFailed",alertstate="firing",drill="failing",job="backupdrill",priority="sev2",severity="critical"}'
            value: 1
YAML
} >"$WORK/pushed_failure_test.yml"
promtool test rules "$WORK/pushed_failure_test.yml" || fail "BackupDrillFailed does not fire on the pushed failure"

step "3. an unreachable gateway"
dead=http://127.0.0.1:$(free_port)
[[ $(once deadpass passing --push.gateway="$dead") == 1 ]] || fail "a failed push did not make a passing run exit 1"
grep -q "cannot push the drill's series" "$WORK/deadpass.log" || fail "the failed push is not logged"
grep -q "drill=passing" "$WORK/deadpass.log" || fail "the failed push does not name the drill"
# The terminal gets a sentence of its own: what failed and where the run is.
grep -q "^backupdrill_exporter: cannot push drill \"passing\"'s series to the Pushgateway $dead" \
  "$WORK/deadpass.log" || fail "no terminal sentence for the failed push"
grep -q "^backupdrill_exporter: .*The run itself is recorded in $WORK/artifacts/passing/drill_summary_.*\.md" \
  "$WORK/deadpass.log" || fail "the push sentence does not say where the run is recorded"
[[ $(once deadfail failing --push.gateway="$dead") == 1 ]] || fail "a failing drill with a failed push did not exit 1"
grep -q "cannot push the drill's series" "$WORK/deadfail.log" || fail "the failed push is not logged (failing drill)"
grep -qi "check.*fail\|failed" "$WORK/deadfail.log" || fail "the drill's own failure is hidden"

step "4. malformed push flags exit 2, nothing runs"
runs_before=$(find "$WORK/artifacts" -name 'drill_summary_*.json' | wc -l)
for flags in "--push.gateway=ftp://127.0.0.1:9091" "--push.gateway=http://u:secret@127.0.0.1:9091" \
  "--push.gateway=http://127.0.0.1:9091/some/path" "--push.gateway=$gw --push.job=a/b"; do
  # shellcheck disable=SC2086
  [[ $(once bad passing $flags) == 2 ]] || fail "$flags did not exit 2"
  grep -q secret "$WORK/bad.log" && fail "a URL's password reached the log"
done
rc=0
PGPASSWORD=$PGPASSWORD "$EXPORTER" --config.file="$config" --push.gateway="$gw" \
  --web.listen-address=127.0.0.1:0 >"$WORK/serve.log" 2>&1 || rc=$?
[[ $rc == 2 ]] || fail "--push.gateway without --once did not exit 2"
runs_after=$(find "$WORK/artifacts" -name 'drill_summary_*.json' | wc -l)
[[ $runs_before == "$runs_after" ]] || fail "a drill ran despite a malformed push flag"
echo "PASS"
