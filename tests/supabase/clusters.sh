#!/usr/bin/env bash
# The PostgreSQL servers of the Supabase tests (a ctest fixture of their own):
#   clusters.sh start DIR   three throwaway clusters:
#     DIR/src    the Supabase project backed up: database supa_source =
#                tests/fixtures/supabase_platform.sql + tests/supabase/fixtures/app.sql
#     DIR/supa   a server prepared like Supabase's: the bootstrap superuser is
#                renamed supabase_admin, `postgres` is a NON-superuser login
#                (its password in DIR/supa/postgres_password, 0600); database
#                `postgres` is a fresh project (the platform fixture only, owned
#                by postgres as on Supabase), database fresh_template another
#                one to copy for tests that must not share it
#     DIR/plain  a plain, empty PostgreSQL server
#   clusters.sh stop DIR    stop all three and remove DIR
set -euo pipefail
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(cd -- "$HERE/../.." && pwd -P)
PG_CLUSTER=$ROOT/tests/support/pg_cluster.sh
cmd=${1:?usage: clusters.sh start|stop DIR}
dir=${2:?usage: clusters.sh start|stop DIR}

# psql as drill_admin over the unix socket of cluster $1 (trust).
admin_psql() {
  local name=$1
  shift
  (
    set -a
    . "$dir/$name/env"
    set +a
    psql -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKET_DIR" "$@"
  )
}

case $cmd in
  start)
    mkdir -p "$dir"
    "$PG_CLUSTER" start "$dir/src"
    "$PG_CLUSTER" start "$dir/supa"
    "$PG_CLUSTER" start "$dir/plain"

    admin_psql src -c "create database supa_source"
    admin_psql src -d supa_source -f "$ROOT/tests/fixtures/supabase_platform.sql" >/dev/null
    admin_psql src -d supa_source -f "$HERE/fixtures/app.sql" >/dev/null

    # Supabase's server: supabase_admin is the superuser, postgres is not.
    pw=$(openssl rand -hex 16)
    admin_psql supa -c "alter role postgres rename to supabase_admin"
    printf "create role postgres login createdb createrole bypassrls password '%s';\n" "$pw" |
      admin_psql supa -f - >/dev/null
    (umask 077 && printf '%s\n' "$pw" >"$dir/supa/postgres_password")
    admin_psql supa -c "alter database postgres owner to postgres"
    admin_psql supa -d postgres -f "$ROOT/tests/fixtures/supabase_platform.sql" >/dev/null
    admin_psql supa -c "create database fresh_template owner postgres"
    admin_psql supa -d fresh_template -f "$ROOT/tests/fixtures/supabase_platform.sql" >/dev/null
    ;;
  stop)
    for name in src supa plain; do "$PG_CLUSTER" stop "$dir/$name" || true; done
    rm -rf "$dir"
    ;;
  *)
    echo "usage: clusters.sh start|stop DIR" >&2
    exit 2
    ;;
esac
