#!/usr/bin/env bash
# drill_script_test.sh CLUSTERS_DIR EXPORTER WORK_DIR
#
# scripts/ops/backup-restore-drill.sh as the runbook and CI run it, against
# the real PostgreSQL of the pg_clusters fixture (cluster a, database
# demo_template: the runbook's tables):
#   - a missing SOURCE_DB_URL / TARGET_DB_URL: exit 2, the message names it
#   - a good source (plus an API smoke check against a local HTTP server):
#     exit 0, every runbook artifact, sha256sum -c passes, validation lines
#   - a source with an invalid progress row: exit 1, the artifacts are kept
set -euo pipefail
CLUSTERS=${1:?usage: drill_script_test.sh CLUSTERS_DIR EXPORTER WORK_DIR}
EXPORTER=${2:?}
WORK=${3:?}
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
SCRIPT=$HERE/../../scripts/ops/backup-restore-drill.sh

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
step() { echo "--- $*"; }

set -a
# shellcheck source=/dev/null
. "$CLUSTERS/a/env"
set +a
SRC_DB=drillscript_src
TGT_DB=drillscript_tgt
psql_admin() { psql -X -q -v ON_ERROR_STOP=1 -d postgres "$@"; }
http_pid=""
cleanup() {
  [[ -n $http_pid ]] && kill "$http_pid" 2>/dev/null
  psql_admin -c "drop database if exists $SRC_DB" -c "drop database if exists $TGT_DB" >/dev/null 2>&1 || true
}
trap cleanup EXIT

rm -rf "$WORK"
mkdir -p "$WORK"
psql_admin -c "drop database if exists $SRC_DB" -c "drop database if exists $TGT_DB" \
  -c "create database $SRC_DB template demo_template" >/dev/null

# The runbook's variables; the password travels in PGPASSWORD, not the URLs.
base="postgresql://$PGUSER@$PGHOST:$PGPORT"
run_script() {
  # Only what the runbook sets: nothing else of this shell leaks in.
  env -i PATH="$PATH" HOME="$WORK" PGPASSWORD="$PGPASSWORD" BACKUPDRILL_EXPORTER="$EXPORTER" \
    PG_BIN_DIR="$PG_BIN_DIR" "$@" bash "$SCRIPT"
}

step "missing variables: exit 2, named"
set +e
out=$(run_script TARGET_DB_URL="$base/$TGT_DB" 2>&1)
rc=$?
set -e
((rc == 2)) || fail "without SOURCE_DB_URL: exit $rc, expected 2: $out"
grep -q "SOURCE_DB_URL is not set" <<<"$out" || fail "the message does not name SOURCE_DB_URL: $out"
set +e
out=$(run_script SOURCE_DB_URL="$base/$SRC_DB" 2>&1)
rc=$?
set -e
((rc == 2)) || fail "without TARGET_DB_URL: exit $rc, expected 2"
grep -q "TARGET_DB_URL is not set" <<<"$out" || fail "the message does not name TARGET_DB_URL: $out"
[[ ! -e $WORK/.drills ]] || fail "a refused run wrote artifacts"

step "passing drill with an API smoke check: exit 0, the runbook's artifacts"
mkdir -p "$WORK/www"
echo ok >"$WORK/www/health"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$WORK/www" >"$WORK/http.log" 2>&1 &
http_pid=$!
for _ in $(seq 50); do curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 0.1; done
backup_dir=$WORK/pass
set +e
run_script SOURCE_DB_URL="$base/$SRC_DB" TARGET_DB_URL="$base/$TGT_DB" BACKUP_DIR="$backup_dir" \
  TARGET_API_URL="http://127.0.0.1:$port/health" API_BEARER_TOKEN=smoke-token-3f9 \
  RPO_TARGET=24h RTO_TARGET=2h >"$WORK/pass.log" 2>&1
rc=$?
set -e
cat "$WORK/pass.log"
((rc == 0)) || fail "passing drill: exit $rc, expected 0"
dir=$backup_dir/default
for prefix in backup_ restore_ validation_ smoke_ drill_summary_; do
  compgen -G "$dir/$prefix*" >/dev/null || fail "no $prefix* artifact in $dir"
done
ts=$(ls "$dir"/drill_summary_*.json | sed 's/.*drill_summary_\(.*\)\.json/\1/')
for f in "backup_$ts.dump" "backup_$ts.sha256" "restore_$ts.log" "validation_$ts.txt" "smoke_$ts.txt" \
  "drill_summary_$ts.md" "drill_summary_$ts.json"; do
  [[ -e $dir/$f ]] || fail "missing $f"
  grep -qF "  $f" "$WORK/pass.log" || fail "the script does not list $f"
done
(cd "$dir" && sha256sum -c --quiet "backup_$ts.sha256") || fail "sha256sum -c fails on the backup"
grep -qx 'profiles|2000' "$dir/validation_$ts.txt" || fail "validation lacks profiles|2000"
grep -qx 'invalid_progress|0' "$dir/validation_$ts.txt" || fail "validation lacks invalid_progress|0"
grep -q '^PASS' "$dir/smoke_$ts.txt" || fail "smoke check did not pass: $(cat "$dir/smoke_$ts.txt")"
grep -q "drill PASSED" "$WORK/pass.log" || fail "the script does not say PASSED"
if grep -rq "smoke-token-3f9\|$PGPASSWORD" "$WORK/pass.log" "$dir"/*.txt "$dir"/*.md "$dir"/*.json "$dir"/*.log; then
  fail "a secret appears in the output or the artifacts"
fi

step "failing drill (invalid progress row): exit 1, artifacts kept"
psql_admin -d "$SRC_DB" -c "update public.lms_subsection_progress set progress_percent = 150
  where id = (select min(id) from public.lms_subsection_progress)" >/dev/null
backup_dir=$WORK/fail
set +e
run_script SOURCE_DB_URL="$base/$SRC_DB" TARGET_DB_URL="$base/$TGT_DB" BACKUP_DIR="$backup_dir" \
  >"$WORK/fail.log" 2>&1
rc=$?
set -e
cat "$WORK/fail.log"
((rc == 1)) || fail "failing drill: exit $rc, expected 1"
dir=$backup_dir/default
grep -qx 'invalid_progress|1' "$dir"/validation_*.txt || fail "validation lacks invalid_progress|1"
compgen -G "$dir/backup_*.dump" >/dev/null || fail "the failed drill did not keep its backup"
grep -q "drill FAILED" "$WORK/fail.log" || fail "the script does not say FAILED"
echo PASS
