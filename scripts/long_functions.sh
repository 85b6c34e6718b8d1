#!/usr/bin/env bash
# scripts/long_functions.sh [--max N] [--report-only]
#
# Prints the ten longest functions of exporter/, plugins/ and checks/ (*.cpp,
# *.h, *.hpp), longest first, with their line counts (first to last line of
# the definition, as Universal Ctags finds them), then how many are over the
# limit.
#
#   --max N          the limit in lines (default 80)
#   --report-only    print the report, always exit 0 (.ci/run prints it;
#                    the function_length test is the gate)
#
# Exit codes: 0 none over the limit (or --report-only), 1 some over it,
# 2 usage error or no Universal Ctags (Debian: universal-ctags).
set -euo pipefail
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
DIRS=(exporter plugins checks)
TOP=10

max=80
report_only=0

# The header above; exits with $1 (default 2, a usage error).
usage() {
  sed -n '2,15s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
  exit "${1:-2}"
}

parse_args() {
  while (($#)); do
    case $1 in
      --max) (($# >= 2)) || usage; max=$2; shift 2 ;;
      --max=*) max=${1#--max=}; shift ;;
      --report-only) report_only=1; shift ;;
      -h | --help) usage 0 ;;
      *) echo "long_functions.sh: unknown argument: $1" >&2; usage ;;
    esac
  done
  [[ $max =~ ^[0-9]+$ ]] || { echo "long_functions.sh: --max takes a number, not '$max'" >&2; exit 2; }
}

# Universal Ctags, not Exuberant Ctags (which has no end lines nor --_xformat).
have_universal_ctags() {
  command -v ctags >/dev/null 2>&1 && ctags --version 2>/dev/null | grep -q 'Universal Ctags'
}

# The sources to measure, relative to the repository root.
source_files() {
  (cd "$ROOT" && find "${DIRS[@]}" -type f \( -name '*.cpp' -o -name '*.h' -o -name '*.hpp' \) | sort)
}

# "<lines>\t<file>:<line>\t<name>" for each function definition, longest first.
function_lengths() {
  source_files | (cd "$ROOT" && ctags -x -L - --languages=C++ --kinds-C++=f --fields=+ne \
    --_xformat='%{end} %{line} %F %N') |
    awk '$1 ~ /^[0-9]+$/ && $2 ~ /^[0-9]+$/ {
           name = $4; for (i = 5; i <= NF; i++) name = name " " $i
           printf "%d\t%s:%d\t%s\n", $1 - $2 + 1, $3, $2, name
         }' |
    sort -t $'\t' -k1,1nr -k2,2
}

# The first TOP lines of function_lengths, aligned.
print_longest() {
  echo "The $TOP longest functions in ${DIRS[*]} (lines, where, name):"
  head -n "$TOP" <<<"$1" | awk -F '\t' '{ printf "%6d  %s  %s\n", $1, $2, $3 }'
}

# How many functions of function_lengths are over the limit.
count_over() {
  awk -F '\t' -v max="$max" '$1 > max' <<<"$1" | wc -l
}

main() {
  local lengths over
  parse_args "$@"
  if ! have_universal_ctags; then
    echo "long_functions.sh: Universal Ctags not found (Debian: apt-get install universal-ctags)" >&2
    ((report_only)) && exit 0
    exit 2
  fi
  lengths=$(function_lengths)
  if [[ -z $lengths ]]; then
    echo "long_functions.sh: ctags found no function in ${DIRS[*]}" >&2
    ((report_only)) && exit 0
    exit 2
  fi
  print_longest "$lengths"
  over=$(count_over "$lengths")
  echo "$over function(s) over $max lines"
  ((over == 0 || report_only)) || exit 1
}

main "$@"
