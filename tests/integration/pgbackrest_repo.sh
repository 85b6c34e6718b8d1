#!/usr/bin/env bash
# The pgBackRest fixture of the physical drill tests (issue 14), a ctest fixture:
#   pgbackrest_repo.sh start DIR  a PostgreSQL cluster (DIR/src, tests/support/pg_cluster.sh)
#                                 archiving WAL with archive-push into a repository
#                                 DIR/repo (config DIR/pgbackrest.conf, stanza "main"),
#                                 one full backup, then table public.drill_rows: 100 rows
#                                 committed at T1, 50 more after T2; DIR/facts holds
#                                 T_MID (a time between the two), the counts, and the
#                                 archive range; everything owned by postgres when root
#   pgbackrest_repo.sh stop DIR   stop the cluster and remove DIR
set -euo pipefail
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(cd -- "$HERE/../.." && pwd -P)
cmd=${1:?usage: pgbackrest_repo.sh start|stop DIR}
dir=${2:?usage: pgbackrest_repo.sh start|stop DIR}

as_owner() {
  if [[ $(id -u) -eq 0 ]]; then (cd / && runuser -u postgres -- "$@"); else (cd / && "$@"); fi
}
# The restarted server must not hold the caller's descriptors (ctest's lock).
close_inherited_fds() {
  local fd
  for fd in /proc/$BASHPID/fd/*; do
    fd=${fd##*/}
    [[ $fd =~ ^[0-9]+$ ]] && ((fd > 2)) && eval "exec $fd>&-" 2>/dev/null
  done
  return 0
}

case $cmd in
  start)
    "$0" stop "$dir" || true
    mkdir -p "$dir"
    chmod 0755 "$dir"
    [[ $(id -u) -ne 0 ]] || chown postgres: "$dir"
    "$ROOT/tests/support/pg_cluster.sh" start "$dir/src"
    set -a
    . "$dir/src/env"
    set +a
    rt=$(cat "$dir/src/.runtime" 2>/dev/null || echo "$dir/src")
    as_owner mkdir -p "$dir/repo" "$dir/log" "$dir/lock" "$dir/spool"
    as_owner tee "$dir/pgbackrest.conf" >/dev/null <<CONF
[global]
repo1-path=$dir/repo
repo1-retention-full=2
compress-type=none
log-path=$dir/log
lock-path=$dir/lock
spool-path=$dir/spool
log-level-file=off
start-fast=y

[main]
pg1-path=$PG_DATA_DIR
pg1-socket-path=$PG_SOCKET_DIR
pg1-port=$PGPORT
pg1-user=postgres
CONF
    br="pgbackrest --config=$dir/pgbackrest.conf --stanza=main"
    psql -X -q -v ON_ERROR_STOP=1 -c "alter system set archive_mode = on" \
      -c "alter system set archive_command = '$br archive-push %p'"
    (close_inherited_fds; as_owner "$PG_BIN_DIR/pg_ctl" -D "$PG_DATA_DIR" -l "$rt/postgres.log" -w -t 30 restart >/dev/null)
    as_owner $br stanza-create >/dev/null
    as_owner $br check >/dev/null
    as_owner $br backup --type=full >/dev/null
    q() { psql -X -q -At -v ON_ERROR_STOP=1 -c "$1"; }
    q "create table public.drill_rows (id int primary key, note text)"
    q "insert into public.drill_rows select g, 'before T1' from generate_series(1, 100) g"
    q "select pg_switch_wal()" >/dev/null
    sleep 1.2
    t_mid=$(q "select to_char(now() at time zone 'utc', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'")
    sleep 1.2
    q "insert into public.drill_rows select g, 'after T2' from generate_series(101, 150) g"
    q "select pg_switch_wal()" >/dev/null
    as_owner $br check >/dev/null
    range=$(as_owner $br info --output=json | python3 -c \
      'import json,sys; a=json.load(sys.stdin)[0]["archive"][0]; print(a["min"]+"-"+a["max"])')
    {
      echo "T_MID='$t_mid'"
      echo "ROWS_T1=100"
      echo "ROWS_T2=150"
      echo "ARCHIVE_RANGE=$range"
      echo "PG_BIN_DIR=$PG_BIN_DIR"
      echo "ADMIN_URL=$ADMIN_URL"
      echo "PG_DATA_DIR=$PG_DATA_DIR"
    } >"$dir/facts"
    echo "pgbackrest_repo.sh: stanza main in $dir/repo, archive $range, T_MID $t_mid" >&2
    ;;
  stop)
    "$ROOT/tests/support/pg_cluster.sh" stop "$dir/src" || true
    rm -rf "$dir"
    ;;
  *)
    echo "usage: pgbackrest_repo.sh start|stop DIR" >&2
    exit 2
    ;;
esac
