#!/usr/bin/env bash
# What README's "Layout of the source" promises about src/, checked by
# reading the files (run by the mock suite; prints one PASS/FAIL line each,
# exits non-zero on a failure):
#   libcurl      only transport.c includes or calls libcurl
#   compat       the only PG_VERSION_NUM tests are in compat.h
#   transport    transport.c includes no project header (a file of src/)
#                but compat.h, transport.h and budget.h (the shared request
#                budget beneath it), budget.c none but compat.h and budget.h,
#                and transport.h and budget.h none at all (they know nothing
#                of tables or the planner); PostgreSQL's own headers are fine
#   includes     each file of src/ includes only the project headers its row
#                of scripts/layout_includes.txt names (the layers and the
#                one-way rule are described there), and every file has a row
#
#   bash scripts/layout_check.sh               checks src/
#   bash scripts/layout_check.sh --src DIR     checks DIR instead
#   bash scripts/layout_check.sh --self-test   shows that the includes check
#     fails on copies of src/ given an upward include (planner.h into
#     transport.c, scan.h into decode.c, scan.h into request.c) or a file
#     without a row, and passes on an untouched copy: one line,
#     PASS/FAIL layout_self_test
set -uo pipefail
cd "$(dirname "$0")/.."
SRC=src
TABLE=scripts/layout_includes.txt
case "${1:-}" in
  --src) SRC=${2:?--src needs a folder} ;;
  --self-test) self_test=1 ;;
  "") ;;
  *) echo "usage: $0 [--src DIR | --self-test]" >&2; exit 2 ;;
esac

# The includes check on a folder: prints one line per offence.
include_offences() { # dir
  local dir=$1 f h line file rest
  declare -A allowed=()
  while IFS= read -r line; do
    line=${line%%#*}
    [[ $line =~ ^[[:space:]]*$ ]] && continue
    file=${line%%:*}
    file=${file//[[:space:]]/}
    rest=${line#*:}
    if [ "$file" = "$line" ] || [ -z "$file" ]; then
      echo "$TABLE: not \"file: headers\": $line"
      continue
    fi
    [ -n "${allowed[$file]+x}" ] && echo "$TABLE: two rows for $file"
    allowed[$file]=" $(echo $rest) "
    [ -f "$dir/$file" ] || echo "$TABLE: a row for $file, which src/ does not have"
    for h in $rest; do
      [ -f "$dir/$h" ] || echo "$TABLE: $file's row names $h, which src/ does not have"
    done
  done <"$TABLE"
  for f in "$dir"/*.c "$dir"/*.h; do
    file=${f##*/}
    if [ -z "${allowed[$file]+x}" ]; then
      echo "src/$file has no row in $TABLE"
      continue
    fi
    # the quoted includes that name a file of src/ (the project's headers)
    grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[^"/]+"' "$f" |
      while IFS= read -r line; do
        h=${line#*\"}
        h=${h%%\"*}
        [ -f "$dir/$h" ] || continue
        case "${allowed[$file]}" in
          *" $h "*) ;;
          *) echo "src/$file:${line%%:*}: includes $h, not on its row of $TABLE" ;;
        esac
      done
  done
}

if [ "${self_test:-0}" = 1 ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  failed=""
  # $1 case name; $2 file; $3 header to include (empty: the copy as is);
  # $4 1 if the check must fail
  try() {
    rm -rf "$tmp/src"
    cp -r "$SRC" "$tmp/src"
    if [ -n "$2" ]; then
      if [ -f "$tmp/src/$2" ]; then
        # after the file's first #include: a real include, not in a comment
        sed -i "0,/^#include/s//#include \"$3\"\n&/" "$tmp/src/$2"
        grep -q "^#include \"$3\"" "$tmp/src/$2" || { failed="$failed $1(not injected)"; return; }
      else
        printf '#include "postgres.h"\n#include "%s"\n' "$3" >"$tmp/src/$2"
      fi
    fi
    out=$(include_offences "$tmp/src")
    if [ "$4" = 1 ] && [ -z "$out" ]; then
      failed="$failed $1(passed)"
    elif [ "$4" = 0 ] && [ -n "$out" ]; then
      failed="$failed $1($(echo "$out" | head -1))"
    fi
  }
  try untouched "" "" 0
  try transport_planner transport.c planner.h 1
  try decode_scan decode.c scan.h 1
  try request_scan request.c scan.h 1
  try new_file_without_row new_stage.c civis_fdw.h 1
  if [ -z "$failed" ]; then
    echo "PASS layout_self_test"
    exit 0
  fi
  echo "FAIL layout_self_test: the includes check did not do as expected on:$failed"
  exit 1
fi

rc=0
# $1 name, $2 what is wrong, $3 the offending lines (empty: PASS)
report() {
  if [ -z "$3" ]; then
    echo "PASS layout_$1"
  else
    echo "FAIL layout_$1: $2: $(echo "$3" | head -3 | tr '\n' ' ')"
    rc=1
  fi
}
cd "$SRC" || exit 1
report libcurl "libcurl used outside transport.c" \
  "$(grep -nE '#include <curl/|\bcurl_[a-z_]+\(|\bCURL[A-Z]*_[A-Z_]+\b' *.c *.h | grep -v '^transport\.c:' | grep -vE '^[^:]+:[0-9]+:\s*(/?\*|//)')"
report compat "PG_VERSION_NUM tested outside compat.h" \
  "$(grep -n 'PG_VERSION_NUM' *.c *.h | grep -v '^compat\.h:')"
# project headers are the files of src/; PostgreSQL's own headers are fine
project_headers=$(ls *.h | grep -vE '^(compat|transport|budget)\.h$' | sed 's/\./\\./' | paste -sd'|')
report transport "the transport includes project headers other than compat.h, transport.h and budget.h" \
  "$( (grep -nE "#include \"($project_headers)\"" transport.c
       grep -nE "#include \"($project_headers|transport\.h)\"" budget.c
       grep -nE "#include \"($project_headers|compat\.h|transport\.h)\"" transport.h budget.h) )"
cd "$OLDPWD" || exit 1
report includes "the project includes of src/ against scripts/layout_includes.txt" \
  "$(include_offences "$SRC")"
exit $rc
