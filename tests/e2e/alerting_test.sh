#!/usr/bin/env bash
# End to end with the real servers: PostgreSQL (the integration fixture's
# cluster "a"), backupdrill_exporter in serve mode, Prometheus scraping it
# every second with the bundled rules (their `for:` shortened to 1s in a
# copy), Alertmanager with the bundled routing (timers shortened) and a
# webhook receiver written for this test.
#   1. a drill fails (a failing sql_assert): the paging webhook receives
#      BackupDrillFailed with severity=critical, priority=sev2 and the drill;
#   2. the data is fixed and a drill passes: the resolved notification arrives;
#   3. every PromQL query of the bundled Grafana dashboards parses and returns
#      data from this Prometheus.
# Every wait is bounded; every process is stopped on exit.
set -euo pipefail
EXPORTER=${1:?exporter binary}
CLUSTERS=${2:?clusters dir}
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd -P)
WORK=$(mktemp -d /tmp/backupdrill-e2e.XXXXXX)
PIDS=()
set -a
. "$CLUSTERS/a/env"
set +a
DB_SRC=e2e_alert_src
cleanup() {
  local rc=$?
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql -qc "drop database if exists $DB_SRC with (force)" 2>/dev/null || true
  psql -qc "drop database if exists e2e_alert_tgt with (force)" 2>/dev/null || true
  if [[ $rc -ne 0 ]]; then
    echo "--- exporter log"; tail -n 30 "$WORK/exporter.log" 2>/dev/null || true
    echo "--- notifications"; cat "$WORK/notifications.jsonl" 2>/dev/null || true
  fi
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
. "$ROOT/tests/support/lib.sh"

psql -qc "drop database if exists $DB_SRC with (force)"
psql -qc "create database $DB_SRC template demo_template"
psql -q -d "$DB_SRC" -c "update public.lms_subsection_progress set progress_percent = 150
                         where ctid = (select ctid from public.lms_subsection_progress limit 1)"

BD_PORT=$(free_port); PROM_PORT=$(free_port); AM_PORT=$(free_port); HOOK_PORT=$(free_port)
TOKEN=e2e-token-$RANDOM$RANDOM
cat >"$WORK/exporter.toml" <<TOML
[exporter]
artifact_dir = "$WORK/artifacts"
admin_token = "\${E2E_TOKEN}"
[[drill]]
name = "alerting"
schedule = "0 4 * * 0"   # weekly: gives the NotRecent threshold panels data; never fires during the test
source_url = "postgresql://$PGUSER@127.0.0.1:$PGPORT/$DB_SRC"
target_url = "postgresql://$PGUSER@127.0.0.1:$PGPORT/e2e_alert_tgt"
[[drill.check]]
plugin = "table_counts"
tables = ["public.profiles", "auth.users"]
compare_source = true
[[drill.check]]
plugin = "sql_assert"
name = "invalid_progress"
query = "select count(*) from public.lms_subsection_progress where progress_percent < 0 or progress_percent > 100"
expect = 0
TOML
E2E_TOKEN=$TOKEN "$EXPORTER" --config.file="$WORK/exporter.toml" \
  --web.listen-address="127.0.0.1:$BD_PORT" 2>"$WORK/exporter.log" &
PIDS+=($!)

python3 "$ROOT/tests/e2e/webhook_receiver.py" "$HOOK_PORT" "$WORK/notifications.jsonl" 600 &
PIDS+=($!)

# The bundled Alertmanager config, with fast timers and the receivers'
# placeholder URLs pointed at the test receiver (same paths).
sed -e "s#http://127.0.0.1:[0-9]*/#http://127.0.0.1:$HOOK_PORT/#" \
    -e "s#group_wait: .*#group_wait: 1s#" -e "s#group_interval: .*#group_interval: 1s#" \
    "$ROOT/dashboards/alertmanager/alertmanager.yml" >"$WORK/alertmanager.yml"
prometheus-alertmanager --config.file="$WORK/alertmanager.yml" --storage.path="$WORK/am" \
  --web.listen-address="127.0.0.1:$AM_PORT" --cluster.listen-address= \
  >"$WORK/alertmanager.log" 2>&1 &
PIDS+=($!)

# The bundled rules with every `for:` shortened (the alert logic unchanged).
sed -E "s/^( +for: ).*/\11s/" "$ROOT/dashboards/prometheus/backupdrill.rules.yml" >"$WORK/rules.yml"
cat >"$WORK/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: ["$WORK/rules.yml"]
alerting:
  alertmanagers:
    - static_configs: [{targets: ["127.0.0.1:$AM_PORT"]}]
scrape_configs:
  - job_name: backupdrill
    static_configs: [{targets: ["127.0.0.1:$BD_PORT"]}]
YML
promtool check config "$WORK/prometheus.yml" >/dev/null
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prom" \
  --web.listen-address="127.0.0.1:$PROM_PORT" >"$WORK/prometheus.log" 2>&1 &
PIDS+=($!)

up() { curl -sf "$1" >/dev/null; }
wait_for 30 "exporter ready" up "http://127.0.0.1:$BD_PORT/-/ready"
wait_for 30 "alertmanager ready" up "http://127.0.0.1:$AM_PORT/-/ready"
wait_for 60 "prometheus ready" up "http://127.0.0.1:$PROM_PORT/-/ready"
target_up() {
  curl -s "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode 'query=up{job="backupdrill"}' |
    grep -q '"value":\[[0-9.]*,"1"\]'
}
wait_for 30 "prometheus scraping the exporter" target_up

trigger() {
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
    "http://127.0.0.1:$BD_PORT/api/v1/drills/alerting/run")
  [[ $code == 202 ]] || fail "trigger answered $code"
}
metric() { curl -s "http://127.0.0.1:$BD_PORT/metrics" | awk -v s="$1" '$1 == s {print $2}'; }
runs_at_least() { [[ $(metric 'backupdrill_runs_total{drill="alerting"}') -ge $1 ]] 2>/dev/null; }

# 1. A failing drill pages.
trigger
wait_for 120 "the failing drill to finish" runs_at_least 1
[[ $(metric 'backupdrill_last_run_success{drill="alerting"}') == 0 ]] || fail "the drill did not fail"
[[ $(metric 'backupdrill_failures_total{drill="alerting",phase="checks"}') == 1 ]] ||
  fail "failures_total{phase=checks} is not 1"
notified() { # status
  [[ -f $WORK/notifications.jsonl ]] &&
    python3 - "$WORK/notifications.jsonl" "$1" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    n = json.loads(line)
    if n["path"] != "/backupdrill/page":
        continue
    for a in n["payload"]["alerts"]:
        l = a["labels"]
        if (l.get("alertname") == "BackupDrillFailed" and a["status"] == sys.argv[2]
                and l.get("severity") == "critical" and l.get("priority") == "sev2"
                and l.get("drill") == "alerting" and a["annotations"].get("runbook_url")):
            sys.exit(0)
sys.exit(1)
PY
}
wait_for 90 "BackupDrillFailed (critical, sev2, drill=alerting) at the paging webhook" notified firing
echo "ok: BackupDrillFailed paged"

# 2. Fixed data, a passing drill: the alert resolves.
psql -q -d "$DB_SRC" -c "update public.lms_subsection_progress set progress_percent = 50 where progress_percent > 100"
trigger
wait_for 120 "the passing drill to finish" runs_at_least 2
[[ $(metric 'backupdrill_last_run_success{drill="alerting"}') == 1 ]] || fail "the fixed drill did not pass"
wait_for 120 "the resolved BackupDrillFailed notification" notified resolved
echo "ok: BackupDrillFailed resolved"

# 3. Every dashboard query parses and returns data.
python3 "$ROOT/dashboards/tests/validate_dashboards.py" --print-queries >"$WORK/queries.jsonl"
n=0
while IFS= read -r line; do
  expr=$(jq -r .expr <<<"$line")
  title=$(jq -r '.panel_title // .variable' <<<"$line")
  answer=$(curl -s "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode "query=$expr")
  [[ $(jq -r .status <<<"$answer") == success ]] || fail "dashboard query of \"$title\" failed: $expr: $answer"
  count=$(jq '.data.result | length' <<<"$answer")
  ((count > 0)) || fail "dashboard query of \"$title\" returned no data: $expr"
  n=$((n + 1))
done <"$WORK/queries.jsonl"
((n > 10)) || fail "only $n dashboard queries found"
echo "ok: $n dashboard queries parse and return data"
echo "1 passed, 0 failed"
