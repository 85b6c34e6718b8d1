# Shell helpers shared by the test and bench scripts (sourced, not run). Each script
# defines its own fail() (they differ in what they print before exiting);
# wait_for calls it.

# A TCP port on 127.0.0.1 nobody listens on now.
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 20000))
    (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}

# wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.5 s, and
# fails naming DESCRIPTION when it never succeeds.
wait_for() {
  local limit=$1 what=$2
  shift 2
  local end=$((SECONDS + limit))
  until "$@"; do
    ((SECONDS < end)) || fail "timed out after ${limit}s waiting for: $what"
    sleep 0.5
  done
}

# cluster_var NAME VAR: VAR from the env file of test cluster NAME under
# $CLUSTERS (tests/integration/clusters.sh), without changing this shell.
cluster_var() { (set -a; . "$CLUSTERS/$1/env"; eval "echo \"\$$2\""); }
