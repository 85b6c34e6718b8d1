#!/usr/bin/env bash
# browser_test.sh EXPORTER CLUSTERS_DIR TOOLS_DIR OUT_DIR
#
# The web pages in a real browser (issue 15): headless Chromium (Debian's
# chromium) driven by playwright-core (npm, installed into TOOLS_DIR on
# first use) against the real exporter in serve mode, with real drills on
# the integration fixture's clusters:
#   web-pass  a -> a, passes; then runs again slowly (a pg_dump wrapper that
#             waits) so the landing page shows it running next to its
#             previous result;
#   web-fail  a -> b, fails in its restore: cluster b lacks the Supabase
#             roles, so pg_restore reports errors with their archive entries;
#   web-long  a -> a, fails in its checks with an 800-character error that
#             has no place to break.
# browser_check.js loads / and the failed runs' pages at 1280 px and checks
# what a person needs (see there). Then the exporter restarts behind
# web-config basic auth: the pages and files answer 401 without the
# credentials, and the browser check passes again with them. Screenshots go
# to OUT_DIR (and OUT_DIR/auth).
# Every wait is bounded; every process and database is removed on exit.
set -euo pipefail
EXPORTER=${1:?usage: browser_test.sh EXPORTER CLUSTERS_DIR TOOLS_DIR OUT_DIR}
CLUSTERS=${2:?}
TOOLS=${3:?}
OUT=${4:?}
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
WORK=$(mktemp -d /tmp/backupdrill-browser.XXXXXX)
PIDS=()
fail() { echo "FAIL: $*" >&2; exit 1; }

CHROMIUM=${CHROMIUM:-/usr/lib/chromium/chromium}
[[ -x $CHROMIUM ]] || fail "Chromium not found at $CHROMIUM (apt-get install chromium)"
command -v node >/dev/null || fail "node not found (apt-get install nodejs)"
command -v npm >/dev/null || fail "npm not found (apt-get install npm)"
command -v htpasswd >/dev/null || fail "htpasswd not found (apt-get install apache2-utils)"
if [[ ! -d $TOOLS/node_modules/playwright-core ]]; then
  mkdir -p "$TOOLS"
  npm install --prefix "$TOOLS" --no-audit --no-fund --loglevel=error playwright-core ||
    fail "npm install playwright-core failed (no access to the npm registry?)"
fi

# Cluster a (with demo_template) and cluster b (plain, no Supabase roles).
. "$HERE/../support/lib.sh"
A_PORT=$(cluster_var a PGPORT); A_USER=$(cluster_var a PGUSER)
B_PORT=$(cluster_var b PGPORT); B_USER=$(cluster_var b PGUSER)
A_PSQL() { (set -a; . "$CLUSTERS/a/env"; set +a; psql -qX -v ON_ERROR_STOP=1 "$@"); }
B_PSQL() { (set -a; . "$CLUSTERS/b/env"; set +a; psql -qX -v ON_ERROR_STOP=1 "$@"); }
SRC=web_browser_src

cleanup() {
  local rc=$?
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for db in $SRC web_pass_tgt web_long_tgt; do
    A_PSQL -c "drop database if exists $db with (force)" 2>/dev/null || true
  done
  B_PSQL -c "drop database if exists web_fail_tgt with (force)" 2>/dev/null || true
  if [[ $rc -ne 0 ]]; then
    echo "--- exporter log (last 40 lines)"; tail -n 40 "$WORK/exporter.log" 2>/dev/null || true
  fi
  cp "$WORK/exporter.log" "$OUT/" 2>/dev/null || true
  # The runs' text files next to the screenshots (not the dumps).
  (cd "$WORK" && find artifacts -type f ! -name '*.dump' -exec cp --parents {} "$OUT/" \;) 2>/dev/null || true
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT

rm -rf "$OUT"
mkdir -p "$OUT"
A_PSQL -c "drop database if exists $SRC with (force)"
A_PSQL -c "create database $SRC template demo_template"
for db in web_pass_tgt web_long_tgt; do A_PSQL -c "drop database if exists $db with (force)"; done
B_PSQL -c "drop database if exists web_fail_tgt with (force)"

# web-pass's tools: the real ones, but pg_dump waits 40 s while $WORK/slow exists.
mkdir -p "$WORK/bin"
PG_BIN=$(cluster_var a PG_BIN_DIR)
ln -s "$PG_BIN/pg_restore" "$WORK/bin/pg_restore"
cat >"$WORK/bin/pg_dump" <<SH
#!/bin/sh
if [ "\$1" != --version ] && [ -e "$WORK/slow" ]; then sleep 40; fi
exec "$PG_BIN/pg_dump" "\$@"
SH
chmod 0755 "$WORK/bin/pg_dump"

TOKEN=browser-token-$RANDOM$RANDOM
cat >"$WORK/exporter.toml" <<TOML
[exporter]
artifact_dir = "$WORK/artifacts"
admin_token = "\${BROWSER_TOKEN}"

[[drill]]
name = "web-pass"
source_url = "postgresql://$A_USER:\${A_PASSWORD}@127.0.0.1:$A_PORT/$SRC"
target_url = "postgresql://$A_USER:\${A_PASSWORD}@127.0.0.1:$A_PORT/web_pass_tgt"
pg_bin_dir = "$WORK/bin"
[[drill.check]]
plugin = "table_counts"
tables = ["public.profiles", "auth.users"]
compare_source = true

[[drill]]
name = "web-fail"
source_url = "postgresql://$A_USER:\${A_PASSWORD}@127.0.0.1:$A_PORT/$SRC"
target_url = "postgresql://$B_USER:\${B_PASSWORD}@127.0.0.1:$B_PORT/web_fail_tgt"
[[drill.check]]
plugin = "table_counts"
tables = ["public.profiles"]

[[drill]]
name = "web-long"
source_url = "postgresql://$A_USER:\${A_PASSWORD}@127.0.0.1:$A_PORT/$SRC"
target_url = "postgresql://$A_USER:\${A_PASSWORD}@127.0.0.1:$A_PORT/web_long_tgt"
[[drill.check]]
plugin = "sql_assert"
name = "long_answer"
query = "select 'no_number_' || repeat('x', 800)"
expect = 0
TOML

start_exporter() { # [--web.config.file=...]
  PORT=$(free_port)
  BASE=http://127.0.0.1:$PORT
  env -u PGPASSWORD BROWSER_TOKEN="$TOKEN" A_PASSWORD="$(cluster_var a PGPASSWORD)" \
    B_PASSWORD="$(cluster_var b PGPASSWORD)" \
    "$EXPORTER" --config.file="$WORK/exporter.toml" --web.listen-address="127.0.0.1:$PORT" \
    "$@" 2>>"$WORK/exporter.log" &
  EXPORTER_PID=$!
  PIDS+=($EXPORTER_PID)
}
stop_exporter() {
  kill "$EXPORTER_PID"
  local end=$((SECONDS + 30))
  while kill -0 "$EXPORTER_PID" 2>/dev/null; do
    ((SECONDS < end)) || fail "the exporter did not stop within 30 s of SIGTERM"
    sleep 0.2
  done
}
start_exporter

get() { curl -s "$@"; }
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
up() { [[ $(code "$BASE/-/ready") == 200 ]]; }
wait_for 90 "the exporter to answer /-/ready" up

trigger() {
  local c
  c=$(code -X POST -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/drills/$1/run")
  [[ $c == 202 ]] || fail "triggering $1 answered $c"
}
metric() { get "$BASE/metrics" | awk -v s="$1" '$1 == s {print $2}'; }
runs_at_least() { [[ $(metric "backupdrill_runs_total{drill=\"$1\"}") -ge $2 ]] 2>/dev/null; }
running() { [[ $(metric "backupdrill_running{drill=\"$1\"}") == 1 ]]; }

for d in web-pass web-fail web-long; do trigger "$d"; done
for d in web-pass web-fail web-long; do wait_for 240 "drill $d to finish" runs_at_least "$d" 1; done
[[ $(metric 'backupdrill_last_run_success{drill="web-pass"}') == 1 ]] || fail "web-pass did not pass"
[[ $(metric 'backupdrill_failures_total{drill="web-fail",phase="restore"}') == 1 ]] ||
  fail "web-fail did not fail in its restore"
[[ $(metric 'backupdrill_failures_total{drill="web-long",phase="checks"}') == 1 ]] ||
  fail "web-long did not fail in its checks"
run_of() { get "$BASE/api/v1/drills/$1/runs" | jq -r '.runs[0].run_id'; }
FAIL_RUN=$(run_of web-fail)
LONG_RUN=$(run_of web-long)
PASS_RUN=$(run_of web-pass)

# Files: only what the run's summary lists, never the dump, nothing outside
# its folder, whatever the encoding of the name.
echo "not an artifact" >"$WORK/artifacts/web-fail/secret.txt"
FILES="$BASE/drills/web-fail/runs/$FAIL_RUN/files"
[[ $(code "$FILES/restore_$FAIL_RUN.log") == 200 ]] || fail "the restore log is not served"
ctype=$(curl -s -o /dev/null -w '%{content_type}' "$FILES/restore_$FAIL_RUN.log")
[[ $ctype == text/plain* ]] || fail "the restore log is served as $ctype, not text/plain"
for name in "backup_$FAIL_RUN.dump" secret.txt ..%2F..%2F..%2F..%2Fetc%2Fpasswd %2Fetc%2Fpasswd \
  ..%2Fweb-pass%2Fdrill_summary_$PASS_RUN.json "drill_summary_$FAIL_RUN.md%00" \
  "drill_summary_$FAIL_RUN.md%00.txt" %2E%2E "restore_$FAIL_RUN.log%2F" .. .; do
  c=$(code --path-as-is "$FILES/$name")
  [[ $c == 404 || $c == 400 ]] || fail "files/$name answered $c, not 404"
done
for url in "$BASE/drills/web-fail/runs/..%2F..%2Fweb-pass" "$BASE/drills/web-fail/runs/20990101T000000Z" \
  "$BASE/drills/nope/runs/$FAIL_RUN" "$BASE/drills/..%2Fetc/runs/$FAIL_RUN"; do
  c=$(code --path-as-is "$url")
  [[ $c == 404 ]] || fail "$url answered $c, not 404"
done
echo "ok: only the run's listed text files are served"

# web-pass again, slowly: it is running while the browser looks.
touch "$WORK/slow"
trigger web-pass
wait_for 30 "web-pass to run again" running web-pass

node "$HERE/browser_check.js" --tools="$TOOLS" --chromium="$CHROMIUM" --base="$BASE" --out="$OUT" \
  --expect-running=web-pass --failed-run="web-fail/$FAIL_RUN" --long-run="web-long/$LONG_RUN" --passed-run="web-pass/$PASS_RUN"
running web-pass || fail "web-pass stopped running before the browser was done (make the wait longer)"
stop_exporter

# The same access rules as the API: with web-config basic auth, no page and
# no file without credentials; with them, both (and the browser, too).
USER_NAME=pager
PASSWORD=browser-$RANDOM$RANDOM
HASH=$(htpasswd -nbBC 10 "$USER_NAME" "$PASSWORD" | cut -d: -f2)
printf 'basic_auth_users:\n  %s: %s\n' "$USER_NAME" "$HASH" >"$WORK/web-config.yml"
start_exporter --web.config.file="$WORK/web-config.yml"
up_auth() { [[ $(code -u "$USER_NAME:$PASSWORD" "$BASE/-/ready") == 200 ]]; }
wait_for 90 "the exporter with basic auth to answer /-/ready" up_auth
PAGE="$BASE/drills/web-fail/runs/$FAIL_RUN"
FILE="$PAGE/files/drill_summary_$FAIL_RUN.md"
for url in "$BASE/" "$PAGE" "$FILE"; do
  [[ $(code "$url") == 401 ]] || fail "$url answers without credentials"
  [[ $(code -u "$USER_NAME:wrong" "$url") == 401 ]] || fail "$url answers a wrong password"
  [[ $(code -u "$USER_NAME:$PASSWORD" "$url") == 200 ]] || fail "$url refuses the right credentials"
done
echo "ok: the pages and files ask for the web config's credentials"
node "$HERE/browser_check.js" --tools="$TOOLS" --chromium="$CHROMIUM" --base="$BASE" --out="$OUT/auth" \
  --user="$USER_NAME" --password="$PASSWORD" \
  --failed-run="web-fail/$FAIL_RUN" --long-run="web-long/$LONG_RUN" --passed-run="web-pass/$PASS_RUN"
stop_exporter
echo "screenshots: $OUT"
echo "1 passed, 0 failed"
