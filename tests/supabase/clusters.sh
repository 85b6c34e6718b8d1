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
#     DIR/bare   another plain server, never given pg_cron: the target that
#                lacks an extension the source has
#   tests/supabase/fixtures/extension (backupdrill_vault, a test-only
#   imitation of supabase_vault) is installed into the server's extension
#   directory (root, or a writable one).
#   The source server preloads pg_cron (Debian's postgresql-15-cron) for its
#   database cron_source, a source whose archive needs pg_cron (two jobs);
#   the Supabase-like server for its database cron_project, a fresh project
#   with pg_cron enabled.
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

# As the clusters' owner (postgres when we are root, as pg_cluster.sh runs them).
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    (cd / && runuser -u postgres -- "$@")
  else
    (cd / && "$@")
  fi
}

# Preload pg_cron in cluster $1 for database $2, and restart it.
preload_cron() {
  local name=$1 db=$2
  (
    set -a
    . "$dir/$name/env"
    set +a
    printf "shared_preload_libraries = 'pg_cron'\ncron.database_name = '%s'\n" "$db" |
      as_owner tee -a "$PG_DATA_DIR/postgresql.conf" >/dev/null
    as_owner "$PG_BIN_DIR/pg_ctl" -D "$PG_DATA_DIR" -w -t 60 restart \
      -l "$PG_DATA_DIR/../postgres.log" >/dev/null
  )
}

case $cmd in
  start)
    mkdir -p "$dir"
    "$PG_CLUSTER" start "$dir/src"
    "$PG_CLUSTER" start "$dir/supa"
    "$PG_CLUSTER" start "$dir/plain"
    "$PG_CLUSTER" start "$dir/bare"

    # The test-only Vault-like extension, where every cluster finds it.
    sharedir=$("$(. "$dir/src/env" && echo "$PG_BIN_DIR")/pg_config" --sharedir)
    install -m 0644 "$HERE"/fixtures/extension/backupdrill_vault.control \
      "$HERE"/fixtures/extension/backupdrill_vault--1.0.sql "$sharedir/extension/"

    # The bare server names a pg_cron database in postgresql.conf without
    # preloading pg_cron (a placeholder setting, as a forgotten
    # shared_preload_libraries leaves it): still a server without pg_cron.
    (
      set -a
      . "$dir/bare/env"
      set +a
      printf "cron.database_name = 'cron_target'\n" |
        as_owner tee -a "$PG_DATA_DIR/postgresql.conf" >/dev/null
      as_owner "$PG_BIN_DIR/pg_ctl" -D "$PG_DATA_DIR" -w reload >/dev/null
    )

    admin_psql src -c "create database cron_source"
    preload_cron src cron_source
    admin_psql src -d cron_source -c "create extension pg_cron" \
      -c "create table public.notes (id int primary key, body text)" \
      -c "select cron.schedule('nightly-notes', '0 3 * * *', 'delete from public.notes where id < 0')" \
      -c "select cron.alter_job(cron.schedule('weekly-report', '0 4 * * 0', 'select 1'), active := false)" \
      >/dev/null

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

    # A project with pg_cron enabled, as Supabase enables it: preloaded for
    # this database, `postgres` may read cron.job and call pg_cron's
    # functions, not write its tables.
    admin_psql supa -c "create database cron_project template fresh_template owner postgres"
    preload_cron supa cron_project
    admin_psql supa -d cron_project -c "create extension pg_cron" \
      -c "grant usage on schema cron to postgres" -c "grant select on cron.job to postgres" \
      -c "grant execute on all functions in schema cron to postgres" >/dev/null
    ;;
  stop)
    for name in src supa plain bare; do "$PG_CLUSTER" stop "$dir/$name" || true; done
    rm -rf "$dir"
    ;;
  *)
    echo "usage: clusters.sh start|stop DIR" >&2
    exit 2
    ;;
esac
