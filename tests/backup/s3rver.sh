#!/usr/bin/env bash
# A real S3-compatible server on loopback for the S3 source tests (a ctest
# fixture): s3rver (npm), with one bucket "backups".
#   s3rver.sh start DIR NPM_DIR  install s3rver into NPM_DIR once (npm), start
#                                it on a free 127.0.0.1 port with its data in
#                                DIR/data, and write DIR/env:
#                                  S3_ENDPOINT=http://127.0.0.1:<port>
#                                  S3_BUCKET=backups
#                                  S3_ACCESS_KEY_ID=S3RVER  (the only key s3rver knows)
#                                  S3_SECRET_ACCESS_KEY=S3RVER
#   s3rver.sh stop DIR           stop it and remove DIR
# s3rver checks the access key id (an unknown one gets 403 InvalidAccessKeyId)
# but not SigV4 signatures, so a wrong secret is not detected by it.
set -euo pipefail
S3RVER_VERSION=3.7.1
cmd=${1:?usage: s3rver.sh start DIR NPM_DIR | stop DIR}
dir=${2:?usage: s3rver.sh start DIR NPM_DIR | stop DIR}

die() {
  echo "s3rver.sh: error: $*" >&2
  exit 1
}

stop() {
  if [[ -f $dir/pid ]]; then
    local pid
    pid=$(cat "$dir/pid")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  rm -rf "$dir"
}

case $cmd in
  start)
    npm_dir=${3:?usage: s3rver.sh start DIR NPM_DIR}
    command -v node >/dev/null || die "node not found: install the Debian package nodejs"
    bin=$npm_dir/node_modules/s3rver/bin/s3rver.js
    if [[ ! -f $bin ]]; then
      command -v npm >/dev/null || die "npm not found: install the Debian package npm"
      mkdir -p "$npm_dir"
      npm install --prefix "$npm_dir" --no-audit --no-fund --loglevel=error \
        "s3rver@$S3RVER_VERSION" >&2 || die "npm install s3rver@$S3RVER_VERSION failed"
    fi
    stop
    mkdir -p "$dir/data"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    # Closed descriptors: the server must not hold ctest's or flock's files.
    # s3rver makes its continuation tokens with DES, which OpenSSL 3 keeps in
    # its legacy provider.
    node --openssl-legacy-provider "$bin" --directory "$dir/data" --address 127.0.0.1 --port "$port" --silent \
      --configure-bucket backups </dev/null >"$dir/log" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
    echo $! >"$dir/pid"
    for _ in $(seq 150); do
      if curl -fsS -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null ||
        curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/" 2>/dev/null | grep -q '^[1-5]'; then
        cat >"$dir/env" <<ENV
S3_ENDPOINT=http://127.0.0.1:$port
S3_BUCKET=backups
S3_ACCESS_KEY_ID=S3RVER
S3_SECRET_ACCESS_KEY=S3RVER
ENV
        exit 0
      fi
      kill -0 "$(cat "$dir/pid")" 2>/dev/null || die "s3rver exited: $(tail -5 "$dir/log")"
      sleep 0.1
    done
    die "s3rver did not answer on 127.0.0.1:$port: $(tail -5 "$dir/log")"
    ;;
  stop)
    stop
    ;;
  *)
    die "usage: s3rver.sh start DIR NPM_DIR | stop DIR"
    ;;
esac
