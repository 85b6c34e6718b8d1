#!/usr/bin/env bash
# scripts/ops/ci-build.sh: what a CI drill job needs, on Debian 12 (root or
# sudo): the project's Debian packages, then only the exporter and the bundled
# check plugins (target backupdrill_runtime) in build/ (or $BACKUPDRILL_BUILD_DIR). Used by
# .github/workflows/backup-drill.yml.
#
# PG_CLIENT_MAJOR=N (optional): also install postgresql-client-N from
# apt.postgresql.org, for servers newer than Debian's client (15); the
# exporter picks /usr/lib/postgresql/<N>/bin by the server's version.
set -euo pipefail
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd -P)
# shellcheck source=scripts/lib/deps.sh
. "$ROOT/scripts/lib/deps.sh"

sudo=()
[[ $(id -u) -eq 0 ]] || sudo=(sudo)
backupdrill_install_deps

if [[ -n ${PG_CLIENT_MAJOR:-} ]]; then
  [[ $PG_CLIENT_MAJOR =~ ^[0-9]+$ ]] || { echo "ci-build.sh: PG_CLIENT_MAJOR=$PG_CLIENT_MAJOR is not a major version like 17" >&2; exit 2; }
  . /etc/os-release
  "${sudo[@]}" install -d /usr/share/postgresql-common/pgdg
  "${sudo[@]}" curl -fsSL -o /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc \
    https://www.postgresql.org/media/keys/ACCC4CF8.asc
  echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt ${VERSION_CODENAME}-pgdg main" |
    "${sudo[@]}" tee /etc/apt/sources.list.d/pgdg.list >/dev/null
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    "postgresql-client-$PG_CLIENT_MAJOR"
fi

build=${BACKUPDRILL_BUILD_DIR:-$ROOT/build}
if [[ ! -f $build/CMakeCache.txt ]]; then
  cmake -S "$ROOT" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
cmake --build "$build" --target backupdrill_runtime -j"$(nproc)"
"$build/bin/backupdrill_exporter" --version
"$build/bin/backupdrill_exporter" --list-checks
