#!/usr/bin/env bash
# The PostgreSQL of the plugin tests (a ctest fixture):
#   pg_fixture.sh start DIR  a throwaway cluster in DIR with the Supabase-shaped
#                            demo database as demo_template
#   pg_fixture.sh stop DIR   stop it and remove DIR
set -euo pipefail
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(cd -- "$HERE/../.." && pwd -P)
cmd=${1:?usage: pg_fixture.sh start|stop DIR}
dir=${2:?usage: pg_fixture.sh start|stop DIR}
case $cmd in
  start)
    "$ROOT/tests/support/pg_cluster.sh" start "$dir"
    (
      set -a
      . "$dir/env"
      set +a
      psql -q -v ON_ERROR_STOP=1 -c "create database demo_template"
      psql -q -v ON_ERROR_STOP=1 -d demo_template -f "$ROOT/tests/fixtures/supabase_demo.sql" >/dev/null
    )
    ;;
  stop)
    "$ROOT/tests/support/pg_cluster.sh" stop "$dir"
    ;;
  *)
    echo "usage: pg_fixture.sh start|stop DIR" >&2
    exit 2
    ;;
esac
