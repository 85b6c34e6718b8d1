# shellcheck shell=bash
# scripts/lib/deps.sh — sourced by scripts/test.sh, scripts/demo.sh and .ci/run.
#
#   backupdrill_install_deps   install the Debian packages that are missing
#                              (nothing, and no apt-get, when all are installed)
#   backupdrill_build          configure build/ once, then build incrementally
#
# Add packages to BACKUPDRILL_DEB_PACKAGES below.

BACKUPDRILL_DEB_PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config git clang-format
  # C++ libraries
  libpqxx-dev libpq-dev libboost-dev libtomlplusplus-dev libssl-dev
  libspdlog-dev libfmt-dev libgtest-dev libgmock-dev libcli11-dev
  nlohmann-json3-dev prometheus-cpp-dev libyaml-cpp-dev libcrypt-dev
  libcmark-gfm-dev libcmark-gfm-extensions-dev
  # backup sources (issue 13): S3 over libcurl (SigV4), its XML answers
  libcurl4-openssl-dev libexpat1-dev
  # PostgreSQL: pg_dump/pg_restore and a real server for the tests
  postgresql postgresql-client postgresql-contrib postgresql-15-cron
  # physical backups (issue 14): pgBackRest for the source and its tests
  pgbackrest
  # observability tests: promtool, amtool
  prometheus prometheus-alertmanager prometheus-pushgateway
  # scripts and tests (universal-ctags: scripts/long_functions.sh)
  python3 jq openssl curl apache2-utils universal-ctags
  # packaging: the man page, generated from --help
  help2man
  # the S3 source's tests run s3rver (npm; npm comes with nodejs from
  # NodeSource, or is Debian's package npm)
  nodejs
)

# The repository root (this file is scripts/lib/deps.sh).
BACKUPDRILL_ROOT=${BACKUPDRILL_ROOT:-$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd -P)}

_backupdrill_log() { echo "[backupdrill] $*" >&2; }

# Echo the packages of BACKUPDRILL_DEB_PACKAGES that are not installed.
backupdrill_missing_deps() {
  local pkg status
  for pkg in "${BACKUPDRILL_DEB_PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    if [[ $status != "install ok installed" ]]; then
      echo "$pkg"
    fi
  done
}

backupdrill_install_deps() {
  local missing=() sudo=()
  if ! command -v dpkg-query >/dev/null 2>&1; then
    _backupdrill_log "dpkg-query not found: not a Debian system, install these yourself: ${BACKUPDRILL_DEB_PACKAGES[*]}"
    return 1
  fi
  mapfile -t missing < <(backupdrill_missing_deps)
  if ((${#missing[@]} == 0)); then
    return 0
  fi
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo=(sudo)
    else
      _backupdrill_log "missing packages and not root (no sudo): ${missing[*]}"
      return 1
    fi
  fi
  _backupdrill_log "installing missing Debian packages: ${missing[*]}"
  "${sudo[@]}" apt-get update -q || { _backupdrill_log "apt-get update failed"; return 1; }
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}" ||
    { _backupdrill_log "apt-get install failed: ${missing[*]}"; return 1; }
}

backupdrill_build() {
  local root=$BACKUPDRILL_ROOT
  # BACKUPDRILL_CMAKE_ARGS: extra cache settings, e.g. -DBACKUPDRILL_WERROR=ON (.ci/run).
  local extra=()
  read -r -a extra <<<"${BACKUPDRILL_CMAKE_ARGS:-}"
  if [[ ! -f $root/build/CMakeCache.txt || ${#extra[@]} -gt 0 ]]; then
    _backupdrill_log "configuring $root/build"
    cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${extra[@]}" ||
      return 1
  fi
  _backupdrill_log "building"
  cmake --build "$root/build" -j2 || return 1
}

# Packaging tests (tests/packaging): dpkg-shlibdeps for cpack -G DEB,
# systemd-analyze verify, Node.js for @action-validator/cli (npm), PyYAML for
# the workflow and Kubernetes checks.
BACKUPDRILL_DEB_PACKAGES+=(dpkg-dev fakeroot systemd adduser nodejs python3-yaml)
# npm only when none is on PATH: NodeSource's nodejs bundles npm and conflicts
# with Debian's npm package.
command -v npm >/dev/null 2>&1 || BACKUPDRILL_DEB_PACKAGES+=(npm)
# The browser test of the web pages (tests/e2e/browser_test.sh): headless
# Chromium, driven by playwright-core from npm.
BACKUPDRILL_DEB_PACKAGES+=(chromium)
