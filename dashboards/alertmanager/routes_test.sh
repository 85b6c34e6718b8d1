#!/usr/bin/env bash
# Routing tests for alertmanager.yml with `amtool config routes test`.
#
#   routes_test.sh [AMTOOL [CONFIG]]
#
# Each case names the receiver(s) an alert with the given labels must reach.
# Exits non-zero if any case routes elsewhere.
set -u

AMTOOL=${1:-amtool}
CONFIG=${2:-"$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/alertmanager.yml"}

if ! command -v "$AMTOOL" >/dev/null 2>&1; then
  echo "routes_test: amtool not found ($AMTOOL); apt-get install prometheus-alertmanager" >&2
  exit 2
fi
if [[ ! -r $CONFIG ]]; then
  echo "routes_test: cannot read $CONFIG" >&2
  exit 2
fi

passed=0
failed=0

# expect RECEIVERS LABEL=VALUE...   (RECEIVERS: comma separated, in route order)
expect() {
  local want=$1
  shift
  local out
  if out=$("$AMTOOL" config routes test --config.file="$CONFIG" --verify.receivers="$want" "$@" 2>&1); then
    passed=$((passed + 1))
    echo "ok   $want <- $*"
  else
    failed=$((failed + 1))
    echo "FAIL $want <- $*: $out"
  fi
}

# expect_not RECEIVERS LABEL=VALUE...: the alert must NOT route to exactly RECEIVERS.
# Guards the harness: amtool must really tell routes apart.
expect_not() {
  local wrong=$1
  shift
  if "$AMTOOL" config routes test --config.file="$CONFIG" --verify.receivers="$wrong" "$@" >/dev/null 2>&1; then
    failed=$((failed + 1))
    echo "FAIL not $wrong <- $*: it routed there"
  else
    passed=$((passed + 1))
    echo "ok   not $wrong <- $*"
  fi
}

# Pages: the sev2 drill alerts and a dead exporter.
expect backupdrill-page alertname=BackupDrillFailed severity=critical priority=sev2 job=backupdrill instance=localhost:10125 drill=supabase-main
expect backupdrill-page alertname=BackupDrillNotRecent severity=critical priority=sev2 job=backupdrill instance=localhost:10125 drill=supabase-main
expect backupdrill-page alertname=BackupDrillExporterDown severity=critical job=backupdrill instance=localhost:10125
expect backupdrill-page alertname=BackupDrillExporterDown severity=critical job=backupdrill

# Tickets: compliance warnings.
expect backupdrill-ticket alertname=BackupDrillRTOBreached severity=warning job=backupdrill instance=localhost:10125 drill=supabase-main
expect backupdrill-ticket alertname=BackupDrillRPOBreached severity=warning job=backupdrill instance=localhost:10125 drill=supabase-main

# Fallback: unknown or missing severity still reaches the ticket receiver.
expect backupdrill-ticket alertname=SomethingElse severity=info
expect backupdrill-ticket alertname=SomethingElse

# The harness can fail.
expect_not backupdrill-ticket alertname=BackupDrillFailed severity=critical drill=supabase-main
expect_not backupdrill-page alertname=BackupDrillRTOBreached severity=warning drill=supabase-main

echo "routes_test: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
