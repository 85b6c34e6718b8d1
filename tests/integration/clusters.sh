#!/usr/bin/env bash
# The PostgreSQL servers of the integration tests (a ctest fixture):
#   clusters.sh start DIR  two throwaway clusters, DIR/a (source side, with the
#                          Supabase-shaped fixture loaded as database
#                          demo_template) and DIR/b (a second, plain server)
#   clusters.sh stop DIR   stop both and remove DIR
set -euo pipefail
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(cd -- "$HERE/../.." && pwd -P)
cmd=${1:?usage: clusters.sh start|stop DIR}
dir=${2:?usage: clusters.sh start|stop DIR}

case $cmd in
  start)
    mkdir -p "$dir"
    "$ROOT/tests/support/pg_cluster.sh" start "$dir/a"
    "$ROOT/tests/support/pg_cluster.sh" start "$dir/b"
    (
      set -a
      . "$dir/a/env"
      set +a
      psql -q -v ON_ERROR_STOP=1 -c "create database demo_template"
      psql -q -v ON_ERROR_STOP=1 -d demo_template -f "$ROOT/tests/fixtures/supabase_demo.sql" >/dev/null
    )
    ;;
  stop)
    "$ROOT/tests/support/pg_cluster.sh" stop "$dir/a" || true
    "$ROOT/tests/support/pg_cluster.sh" stop "$dir/b" || true
    rm -rf "$dir"
    ;;
  *)
    echo "usage: clusters.sh start|stop DIR" >&2
    exit 2
    ;;
esac
