#!/usr/bin/env bash
# workflow_test.sh ROOT TOOLS_DIR
#
# The GitHub workflows pass @action-validator/cli (npm, run with this
# machine's Node.js; installed into TOOLS_DIR on first use), and their run:
# steps call only scripts that exist in the repository
# (check_workflow_scripts.py).
set -euo pipefail
ROOT=${1:?usage: workflow_test.sh ROOT TOOLS_DIR}
TOOLS=${2:?}
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)

command -v node >/dev/null || { echo "FAIL: node not found (apt-get install nodejs)" >&2; exit 1; }
command -v npm >/dev/null || { echo "FAIL: npm not found (apt-get install npm)" >&2; exit 1; }
validator=$TOOLS/node_modules/.bin/action-validator
if [[ ! -x $validator ]]; then
  mkdir -p "$TOOLS"
  npm install --prefix "$TOOLS" --no-audit --no-fund --loglevel=error @action-validator/cli ||
    { echo "FAIL: npm install @action-validator/cli failed (no access to the npm registry?)" >&2; exit 1; }
fi
echo "action-validator $(sed -n 's/.*"version": "\(.*\)".*/\1/p' "$TOOLS/node_modules/@action-validator/cli/package.json") on node $(node --version)"

mapfile -t workflows < <(ls "$ROOT"/.github/workflows/*.yml "$ROOT"/.github/workflows/*.yaml 2>/dev/null)
((${#workflows[@]} > 0)) || { echo "FAIL: no workflow in .github/workflows" >&2; exit 1; }
for wf in "${workflows[@]}"; do
  "$validator" "$wf" || { echo "FAIL: action-validator rejects ${wf#$ROOT/}" >&2; exit 1; }
  echo "action-validator: ${wf#$ROOT/} is valid"
done
python3 "$HERE/check_workflow_scripts.py" "$ROOT" "${workflows[@]}"
