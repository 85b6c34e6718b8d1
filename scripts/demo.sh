#!/usr/bin/env bash
# scripts/demo.sh — see backupdrill work end to end on this machine:
#   1. install missing Debian packages and build;
#   2. start a throwaway PostgreSQL cluster in .demo/pg and load the Supabase-shaped
#      demo database (tests/fixtures/supabase_demo.sql) into `demo_source`;
#   3. run the drill of config/demo.toml once (backup -> sha256 -> restore into
#      `demo_target` -> checks) and show its artifacts and validation file;
#   4. serve the exporter on http://localhost:10125/ until Ctrl-C.
# Everything it starts is stopped on exit.
# Environment: BACKUPDRILL_DEMO_PORT (default 10125); BACKUPDRILL_EXPORTER (another
# exporter binary); BACKUPDRILL_SKIP_BUILD=1 (do not install or build, use what is there).
set -euo pipefail
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
# shellcheck source=scripts/lib/deps.sh
. "$ROOT/scripts/lib/deps.sh"

PG_CLUSTER=$ROOT/tests/support/pg_cluster.sh
PGDIR=$ROOT/.demo/pg
CONFIG=config/demo.toml
EXPORTER=${BACKUPDRILL_EXPORTER:-$ROOT/build/bin/backupdrill_exporter}
FIXTURE=$ROOT/tests/fixtures/supabase_demo.sql
DRILL=supabase-demo
WEB_PORT=${BACKUPDRILL_DEMO_PORT:-10125}

say() { printf '\n==> %s\n' "$*"; }

EXPORTER_PID=""
# shellcheck disable=SC2317  # invoked by the traps
cleanup() {
  local rc=$?
  # A second Ctrl-C (or the signal reaching us twice) must not cut the
  # clean-up short and leave the demo cluster running.
  trap - EXIT
  trap "" INT TERM
  if [[ -n $EXPORTER_PID ]] && kill -0 "$EXPORTER_PID" 2>/dev/null; then
    say "stopping the exporter (pid $EXPORTER_PID)"
    kill -TERM "$EXPORTER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$EXPORTER_PID" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL "$EXPORTER_PID" 2>/dev/null || true
    wait "$EXPORTER_PID" 2>/dev/null || true
  fi
  if [[ -d $PGDIR ]]; then
    say "stopping the demo PostgreSQL cluster"
    "$PG_CLUSTER" stop "$PGDIR" || true
  fi
  exit "$rc"
}
# shellcheck disable=SC2317  # invoked by the traps
on_signal() {
  echo
  exit 0   # runs cleanup through the EXIT trap
}
trap cleanup EXIT
trap on_signal INT TERM

cd "$ROOT"

if [[ ${BACKUPDRILL_SKIP_BUILD:-0} != 1 ]]; then
  say "checking dependencies and building"
  backupdrill_install_deps
  backupdrill_build
fi
[[ -x $EXPORTER ]] || { echo "demo: $EXPORTER was not built" >&2; exit 1; }

say "starting a throwaway PostgreSQL cluster in $PGDIR"
"$PG_CLUSTER" stop "$PGDIR"        # a previous demo's cluster, if any
mkdir -p "$ROOT/.demo"
"$PG_CLUSTER" start "$PGDIR"
set -a
# shellcheck disable=SC1091
. "$PGDIR/env"                    # PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE PG_BIN_DIR ...
set +a

say "loading the Supabase-shaped demo database into demo_source"
"$PG_BIN_DIR/psql" -X -q -v ON_ERROR_STOP=1 -d postgres -c "create database demo_source"
"$PG_BIN_DIR/psql" -X -q -v ON_ERROR_STOP=1 -d demo_source -f "$FIXTURE"
"$PG_BIN_DIR/psql" -X -d demo_source -c "
  select 'auth.users' as table_name, count(*) as rows from auth.users
  union all select 'public.profiles', count(*) from public.profiles
  union all select 'public.tasks', count(*) from public.tasks
  union all select 'public.documents', count(*) from public.documents
  union all select 'public.notifications', count(*) from public.notifications
  union all select 'public.lms_courses', count(*) from public.lms_courses
  union all select 'public.lms_subsections', count(*) from public.lms_subsections
  union all select 'public.lms_subsection_progress', count(*) from public.lms_subsection_progress"

# The exporter reads these; the password only travels in PGPASSWORD.
export SOURCE_DB_URL="postgresql://${PGUSER}@127.0.0.1:${PGPORT}/demo_source"
export TARGET_DB_URL="postgresql://${PGUSER}@127.0.0.1:${PGPORT}/demo_target"
export PGPASSWORD
export BACKUPDRILL_ARTIFACT_DIR=$ROOT/.demo/artifacts
export BACKUPDRILL_PLUGIN_DIR=$ROOT/build/checks
unset ADMIN_URL                   # holds the password; the exporter does not need it

say "running the drill once: $EXPORTER --config.file=$CONFIG --once"
drill_rc=0
"$EXPORTER" --config.file="$CONFIG" --once || drill_rc=$?
case $drill_rc in
  0) say "drill passed" ;;
  1) say "drill FAILED (exit 1): see the restore log and summary below" ;;
  *) say "drill could not run (exit $drill_rc: usage, config or plugin error)" ;;
esac

drill_dir=$BACKUPDRILL_ARTIFACT_DIR/$DRILL
if [[ -d $drill_dir ]]; then
  say "artifacts in $drill_dir"
  ls -l "$drill_dir"
  validation=$(find "$drill_dir" -maxdepth 1 -name 'validation_*.txt' -print | sort | tail -n 1)
  if [[ -n $validation ]]; then
    say "validation file $validation"
    cat "$validation"
  fi
  summary=$(find "$drill_dir" -maxdepth 1 -name 'drill_summary_*.md' -print | sort | tail -n 1)
  [[ -z $summary ]] || echo "summary for people: $summary"
else
  say "no artifacts were written to $drill_dir"
fi

say "serving: $EXPORTER --config.file=$CONFIG --web.listen-address=:$WEB_PORT"
"$EXPORTER" --config.file="$CONFIG" --web.listen-address=":$WEB_PORT" &
EXPORTER_PID=$!
sleep 2
if ! kill -0 "$EXPORTER_PID" 2>/dev/null; then
  serve_rc=0
  wait "$EXPORTER_PID" || serve_rc=$?
  EXPORTER_PID=""
  say "the exporter's serve mode exited at once (exit $serve_rc); see its message above. Stopping."
  exit "$drill_rc"
fi

cat <<EOF

==> backupdrill is serving the demo drill:
      open   http://localhost:$WEB_PORT/
      metrics http://localhost:$WEB_PORT/metrics
      run it again:
        curl -X POST -H 'Authorization: Bearer ${BACKUPDRILL_ADMIN_TOKEN:-demo-admin-token}' \\
             http://localhost:$WEB_PORT/api/v1/drills/$DRILL/run
    Press Ctrl-C to stop the exporter and the demo cluster.
EOF

serve_rc=0
wait "$EXPORTER_PID" || serve_rc=$?
EXPORTER_PID=""
say "the exporter exited (exit $serve_rc)"
exit "$serve_rc"
