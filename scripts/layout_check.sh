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
set -uo pipefail
cd "$(dirname "$0")/.."
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
report libcurl "libcurl used outside transport.c" \
  "$(grep -nE '#include <curl/|\bcurl_[a-z_]+\(|\bCURL[A-Z]*_[A-Z_]+\b' src/*.c src/*.h | grep -v '^src/transport\.c:' | grep -vE '^[^:]+:[0-9]+:\s*(/?\*|//)')"
report compat "PG_VERSION_NUM tested outside compat.h" \
  "$(grep -n 'PG_VERSION_NUM' src/*.c src/*.h | grep -v '^src/compat\.h:')"
# project headers are the files of src/; PostgreSQL's own headers are fine
project_headers=$(cd src && ls *.h | grep -vE '^(compat|transport|budget)\.h$' | sed 's/\./\\./' | paste -sd'|')
report transport "the transport includes project headers other than compat.h, transport.h and budget.h" \
  "$( (grep -nE "#include \"($project_headers)\"" src/transport.c
       grep -nE "#include \"($project_headers|transport\.h)\"" src/budget.c
       grep -nE "#include \"($project_headers|compat\.h|transport\.h)\"" src/transport.h src/budget.h) )"
exit $rc
