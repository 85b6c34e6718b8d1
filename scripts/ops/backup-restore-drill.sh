#!/usr/bin/env bash
# scripts/ops/backup-restore-drill.sh: the runbook's backup/restore drill.
#
# Required:  SOURCE_DB_URL  the database to back up (read only)
#            TARGET_DB_URL  the isolated database to restore into (dropped and
#                           recreated; never the source: the exporter refuses)
# Optional:  BACKUP_DIR (artifacts; default ./.drills/backup), TARGET_API_URL and
#            API_BEARER_TOKEN (API smoke check), RPO_TARGET (24h), RTO_TARGET (2h),
#            PG_BIN_DIR, PGPASSWORD, and BACKUPDRILL_EXPORTER (the binary; default
#            backupdrill_exporter on PATH, then this checkout's build/bin/).
#            PUSHGATEWAY_URL: push the drill's series to that Prometheus
#            Pushgateway (--push.gateway; a failed push makes the exit code 1).
#
# Runs `backupdrill_exporter --once` in runbook mode (the environment above
# defines the drill), prints where the artifacts are, and exits with its code:
#   0 the drill passed, 1 the drill failed (artifacts kept), 2 a missing or bad
#   variable, configuration or safety refusal (nothing was touched).
# Secrets stay in the environment: nothing here puts them on a command line.
set -uo pipefail

PROG=backup-restore-drill.sh
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(cd -- "$HERE/../.." && pwd -P)

die_usage() {
  echo "$PROG: $*" >&2
  exit 2
}

for var in SOURCE_DB_URL TARGET_DB_URL; do
  if [[ -z ${!var:-} ]]; then
    die_usage "$var is not set; export it (e.g. $var=postgresql://user@host:5432/dbname) and run again"
  fi
done
if [[ -n ${API_BEARER_TOKEN:-} && -z ${TARGET_API_URL:-} ]]; then
  echo "$PROG: API_BEARER_TOKEN is set but TARGET_API_URL is not: the API smoke check is skipped" >&2
fi

exporter=${BACKUPDRILL_EXPORTER:-}
if [[ -z $exporter ]]; then
  if command -v backupdrill_exporter >/dev/null 2>&1; then
    exporter=$(command -v backupdrill_exporter)
  elif [[ -x $ROOT/build/bin/backupdrill_exporter ]]; then
    exporter=$ROOT/build/bin/backupdrill_exporter
  else
    die_usage "backupdrill_exporter not found: install the backupdrill package, build this checkout (scripts/test.sh or cmake), or set BACKUPDRILL_EXPORTER"
  fi
fi
[[ -x $exporter ]] || die_usage "BACKUPDRILL_EXPORTER=$exporter is not an executable"

export BACKUP_DIR=${BACKUP_DIR:-./.drills/backup}
artifacts=$BACKUP_DIR/default
echo "$PROG: running the drill with $exporter (artifacts: $artifacts)"

push=()
[[ -n ${PUSHGATEWAY_URL:-} ]] && push=(--push.gateway="$PUSHGATEWAY_URL")
"$exporter" --once "${push[@]}"
rc=$?

# The files of this run: the newest summary names its timestamp.
summary=""
if [[ -d $artifacts ]]; then
  summary=$(ls -1 "$artifacts"/drill_summary_*.md 2>/dev/null | sort | tail -n 1)
fi
case $rc in
  0) result="PASSED" ;;
  1) result="FAILED" ;;
  *) result="NOT RUN (usage, configuration or safety refusal; exit $rc)" ;;
esac
echo
echo "$PROG: drill $result"
if [[ -n $summary ]]; then
  ts=${summary##*/drill_summary_}
  ts=${ts%.md}
  echo "$PROG: artifacts of run $ts in $(cd -- "$artifacts" && pwd -P):"
  for f in "$artifacts"/*"$ts"*; do
    echo "  ${f##*/}"
  done
  echo "$PROG: summary: $summary"
  # In GitHub Actions: the summary on the run's page, the folder for later steps.
  if [[ -n ${GITHUB_STEP_SUMMARY:-} ]]; then
    cat -- "$summary" >>"$GITHUB_STEP_SUMMARY" || true
  fi
else
  echo "$PROG: no artifacts were written (see the messages above)"
fi
if [[ -n ${GITHUB_OUTPUT:-} ]]; then
  echo "artifact_dir=$artifacts" >>"$GITHUB_OUTPUT" || true
fi
exit "$rc"
