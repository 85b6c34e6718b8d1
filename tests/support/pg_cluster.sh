#!/usr/bin/env bash
# tests/support/pg_cluster.sh — a throwaway PostgreSQL cluster for tests and the demo.
#
#   pg_cluster.sh start DIR   create and start a cluster in DIR (DIR/data, socket DIR/sock);
#                             a cluster already in DIR is stopped and wiped first
#   pg_cluster.sh stop DIR    stop it (if running) and remove DIR
#   pg_cluster.sh env DIR     print DIR/env
#
# DIR/env (mode 0600) holds shell-sourceable KEY=VALUE lines (no quoting needed):
#   PGHOST=127.0.0.1
#   PGPORT=<port>
#   PGUSER=drill_admin
#   PGPASSWORD=<32 hex chars>
#   PGDATABASE=postgres
#   PG_BIN_DIR=/usr/lib/postgresql/<major>/bin
#   ADMIN_URL=postgresql://drill_admin:<password>@127.0.0.1:<port>/postgres
#   PG_SOCKET_DIR=<socket directory>      (local trust connections: psql -h "$PG_SOCKET_DIR")
#   PG_DATA_DIR=<data directory>
# Use it with:  set -a; . DIR/env; set +a
#
# The server listens on 127.0.0.1:<free port> (scram-sha-256) and on a unix socket
# in its own directory (trust). drill_admin is a superuser with a random password.
# PostgreSQL refuses to run as root: as root the cluster runs as the `postgres` user.
# When `postgres` cannot traverse to DIR (e.g. DIR under /root) or the socket path
# would be too long, the data and socket live in a private directory under /tmp
# and DIR/data and DIR/sock are symlinks to them; `stop` removes both.
set -euo pipefail

PROG=pg_cluster.sh
MARKER=.backupdrill_pg_cluster   # only a DIR holding this file is ever stopped or wiped
READY_TIMEOUT=${PG_CLUSTER_READY_TIMEOUT:-30}
ADMIN_ROLE=drill_admin

die() {
  echo "$PROG: error: $*" >&2
  exit 1
}
log() { echo "$PROG: $*" >&2; }

usage() {
  echo "usage: $PROG start|stop|env DIR" >&2
  exit 2
}

is_root() { [[ $(id -u) -eq 0 ]]; }

# Run a command as the cluster's owner (postgres when we are root), from a safe cwd.
# Closes every descriptor above 2 in this (sub)shell.
close_inherited_fds() {
  local fd
  for fd in /proc/$BASHPID/fd/*; do
    fd=${fd##*/}
    [[ $fd =~ ^[0-9]+$ ]] && ((fd > 2)) && eval "exec $fd>&-" 2>/dev/null
  done
  return 0
}

as_owner() {
  if is_root; then
    (cd / && runuser -u postgres -- "$@")
  else
    (cd / && "$@")
  fi
}

find_bin_dir() {
  local d best=""
  if [[ -n ${PG_BIN_DIR:-} && -x ${PG_BIN_DIR}/initdb && -x ${PG_BIN_DIR}/pg_ctl ]]; then
    echo "$PG_BIN_DIR"
    return
  fi
  for d in /usr/lib/postgresql/*/bin; do
    [[ -x $d/initdb && -x $d/pg_ctl ]] || continue
    if [[ -z $best ]] || [[ $(printf '%s\n%s\n' "$best" "$d" | sort -V | tail -n1) == "$d" ]]; then
      best=$d
    fi
  done
  [[ -n $best ]] || die "no PostgreSQL server found (/usr/lib/postgresql/*/bin/initdb); install the 'postgresql' package"
  echo "$best"
}

# True when the cluster owner can reach and write DIR.
owner_can_use() {
  local dir=$1
  if is_root; then
    runuser -u postgres -- test -x "$dir" 2>/dev/null
  else
    test -x "$dir" -a -w "$dir"
  fi
}

# Is TCP port $1 on 127.0.0.1 free (nobody accepting)?
port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

pick_port() {
  local p tries
  p=$((20000 + (RANDOM * 32768 + RANDOM) % 20000))
  for ((tries = 0; tries < 200; tries++)); do
    if port_free "$p"; then
      echo "$p"
      return
    fi
    p=$((p + 1))
    ((p < 40000)) || p=20000
  done
  die "no free TCP port found on 127.0.0.1 in 20000-40000"
}

resolve_dir() {
  local dir=$1
  [[ -n $dir ]] || usage
  mkdir -p -- "$dir" || die "cannot create $dir"
  (cd -- "$dir" && pwd -P)
}

# The runtime dir (where data/ and sock/ really are) of an existing cluster DIR.
runtime_of() {
  local dir=$1
  if [[ -f $dir/.runtime ]]; then
    cat "$dir/.runtime"
  else
    echo "$dir"
  fi
}

stop_server() {
  local dir=$1 rt bin
  rt=$(runtime_of "$dir")
  [[ -f $rt/data/postmaster.pid ]] || return 0
  bin=$(find_bin_dir)
  if ! as_owner "$bin/pg_ctl" -D "$rt/data" -m fast -w -t 30 stop >/dev/null 2>&1; then
    # not running (stale pid file) or too slow: make sure nothing is left behind
    as_owner "$bin/pg_ctl" -D "$rt/data" -m immediate -w -t 10 stop >/dev/null 2>&1 || true
  fi
}

wipe() {
  local dir=$1 rt
  rt=$(runtime_of "$dir")
  if [[ $rt != "$dir" ]]; then
    case $rt in
      /tmp/backupdrill-pg.*) rm -rf -- "$rt" ;;
      *) log "warning: not removing unexpected runtime dir '$rt'" ;;
    esac
  fi
  rm -rf -- "$dir"
}

# Refuse to touch a non-empty directory that is not one of ours.
check_ours() {
  local dir=$1
  [[ $dir != / ]] || die "refusing to use / as a cluster directory"
  if [[ -n $(ls -A -- "$dir" 2>/dev/null) && ! -f $dir/$MARKER ]]; then
    die "$dir is not empty and is not a cluster made by $PROG; refusing to touch it"
  fi
}

cmd_stop() {
  local dir=$1
  [[ -n $dir ]] || usage
  [[ -e $dir ]] || return 0
  dir=$(cd -- "$dir" && pwd -P)
  check_ours "$dir"
  stop_server "$dir"
  wipe "$dir"
}

cmd_env() {
  local dir=$1
  [[ -n $dir ]] || usage
  [[ -f $dir/env ]] || die "$dir/env not found: no cluster started in $dir"
  cat -- "$dir/env"
}

cmd_start() {
  local dir bin rt port pw logf attempt ok sockpath
  dir=$(resolve_dir "$1")
  check_ours "$dir"

  # Idempotent: stop and wipe whatever cluster is here.
  if [[ -f $dir/$MARKER ]]; then
    log "stopping and wiping the previous cluster in $dir"
    stop_server "$dir"
    wipe "$dir"
    mkdir -p -- "$dir"
  fi
  : >"$dir/$MARKER"

  bin=$(find_bin_dir)
  local tool
  for tool in postgres pg_isready psql; do
    [[ -x $bin/$tool ]] || die "$bin/$tool missing (install the 'postgresql' and 'postgresql-client' packages)"
  done
  command -v openssl >/dev/null || die "openssl not found (needed for the password)"
  if is_root; then
    id -u postgres >/dev/null 2>&1 || die "running as root but there is no 'postgres' user to run the server (install the 'postgresql' package)"
    command -v runuser >/dev/null || die "runuser not found (util-linux)"
  fi

  # Where the server's files live: DIR itself, or a private dir under /tmp when the
  # owner cannot reach DIR or the socket path would exceed the 107-byte limit.
  rt=$dir
  sockpath="$dir/sock/.s.PGSQL.40000.lock"
  if is_root; then chown postgres: "$dir"; fi
  if ! owner_can_use "$dir" || ((${#sockpath} > 100)); then
    rt=$(mktemp -d /tmp/backupdrill-pg.XXXXXXXX)
    chmod 0755 "$rt"
    echo "$rt" >"$dir/.runtime"
    log "postgres cannot use $dir directly (permissions or path length); data in $rt"
  fi
  mkdir -p -- "$rt/data" "$rt/sock"
  chmod 0700 "$rt/data"
  chmod 0755 "$rt/sock"
  if is_root; then chown -R postgres: "$rt"; fi
  if [[ $rt != "$dir" ]]; then
    ln -sfn "$rt/data" "$dir/data"
    ln -sfn "$rt/sock" "$dir/sock"
  fi
  logf=$rt/postgres.log

  local initlog
  initlog=$(mktemp)
  if ! as_owner env LC_ALL=C.UTF-8 LANG=C.UTF-8 "$bin/initdb" -D "$rt/data" -U postgres -E UTF8 \
      --locale=C.UTF-8 --auth-local=trust --auth-host=scram-sha-256 >"$initlog" 2>&1; then
    cat "$initlog" >&2
    rm -f "$initlog"
    die "initdb failed in $rt/data"
  fi
  rm -f "$initlog"

  # pg_hba: exactly these two rules
  as_owner tee "$rt/data/pg_hba.conf" >/dev/null <<'EOF'
# written by tests/support/pg_cluster.sh
local all all                trust
host  all all 127.0.0.1/32   scram-sha-256
EOF
  as_owner tee -a "$rt/data/postgresql.conf" >/dev/null <<EOF

# --- tests/support/pg_cluster.sh: throwaway test cluster ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$rt/sock'
max_connections = 100
shared_buffers = 32MB
fsync = off
synchronous_commit = off
full_page_writes = off
password_encryption = 'scram-sha-256'
logging_collector = off
log_min_messages = warning
include_if_exists = 'port.conf'
EOF

  ok=0
  for attempt in 1 2 3 4 5; do
    port=$(pick_port)
    echo "port = $port" | as_owner tee "$rt/data/port.conf" >/dev/null
    rm -f -- "$logf"
    # The server outlives this script: it must not hold the caller's
    # descriptors (a test runner's lock or pipe would stay held by it).
    if (close_inherited_fds; as_owner env LC_ALL=C.UTF-8 "$bin/pg_ctl" -D "$rt/data" -l "$logf" -w -t "$READY_TIMEOUT" start >/dev/null 2>&1); then
      ok=1
      break
    fi
    if grep -q -e 'could not bind' -e 'Address already in use' -e 'could not create any TCP/IP sockets' "$logf" 2>/dev/null; then
      log "port $port was taken, retrying (attempt $attempt)"
      as_owner "$bin/pg_ctl" -D "$rt/data" -m immediate stop >/dev/null 2>&1 || true
      continue
    fi
    break
  done
  if ((ok == 0)); then
    echo "----- $logf -----" >&2
    tail -n 40 "$logf" >&2 || true
    stop_server "$dir" || true
    die "the PostgreSQL server in $rt/data did not start"
  fi

  local waited=0
  until "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -t 2; do
    if ((waited >= READY_TIMEOUT)); then
      tail -n 40 "$logf" >&2 || true
      stop_server "$dir" || true
      die "server on 127.0.0.1:$port not ready after ${READY_TIMEOUT}s"
    fi
    sleep 1
    waited=$((waited + 1))
  done

  pw=$(openssl rand -hex 16)
  # the password goes through stdin, never argv
  if ! printf "set password_encryption = 'scram-sha-256';\ncreate role %s login superuser password '%s';\n" \
      "$ADMIN_ROLE" "$pw" |
      "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$rt/sock" -p "$port" -U postgres -d postgres -f - >/dev/null; then
    stop_server "$dir" || true
    die "could not create role $ADMIN_ROLE"
  fi

  (
    umask 077
    cat >"$dir/env" <<EOF
PGHOST=127.0.0.1
PGPORT=$port
PGUSER=$ADMIN_ROLE
PGPASSWORD=$pw
PGDATABASE=postgres
PG_BIN_DIR=$bin
ADMIN_URL=postgresql://$ADMIN_ROLE:$pw@127.0.0.1:$port/postgres
PG_SOCKET_DIR=$rt/sock
PG_DATA_DIR=$rt/data
EOF
  )
  chmod 0600 "$dir/env"
  log "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') running on 127.0.0.1:$port (data $rt/data); env in $dir/env"
}

main() {
  [[ $# -eq 2 ]] || usage
  case $1 in
    start) cmd_start "$2" ;;
    stop) cmd_stop "$2" ;;
    env) cmd_env "$2" ;;
    *) usage ;;
  esac
}

main "$@"
