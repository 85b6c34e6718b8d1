#!/usr/bin/env bash
# scripts/test.sh [ctest args...] — install missing deps, build, run the whole test suite.
# Exits with ctest's exit code. Example: scripts/test.sh -R config -V
set -euo pipefail
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
# shellcheck source=scripts/lib/deps.sh
. "$ROOT/scripts/lib/deps.sh"

backupdrill_install_deps
backupdrill_build

rc=0
ctest --test-dir "$ROOT/build" --output-on-failure -j2 "$@" || rc=$?
exit "$rc"
