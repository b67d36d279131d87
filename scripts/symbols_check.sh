#!/usr/bin/env bash
# Every symbol the library exports carries the project's prefix (issue 24):
# civis_ for functions and variables, civisXxx for the FDW callbacks (as
# postgres_fdw's postgresXxx), besides PostgreSQL's own entry points
# (_PG_init, Pg_magic_func, pg_finfo_*).  Another extension or library in
# the same backend can then never collide with ours.  Reads the built
# library (default: civis_fdw.so in the source tree), prints one PASS/FAIL
# line, exits non-zero on an unprefixed symbol.
set -uo pipefail
cd "$(dirname "$0")/.."
# --self-test: the check must fail on a library that exports an unprefixed
# symbol (built here from two lines of C) and pass on a prefixed one.
if [ "${1:-}" = --self-test ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  echo 'int quirk_id_key = 1; int civis_ok(void) { return 0; }' >"$tmp/bad.c"
  echo 'int civis_quirk_id_key = 1; int civis_ok(void) { return 0; }' >"$tmp/good.c"
  gcc -shared -fPIC -o "$tmp/bad.so" "$tmp/bad.c" && gcc -shared -fPIC -o "$tmp/good.so" "$tmp/good.c" || {
    echo "FAIL symbols_self_test: could not build the test libraries"; exit 1; }
  if ! bash "$0" "$tmp/bad.so" >/dev/null && bash "$0" "$tmp/good.so" >/dev/null; then
    echo "PASS symbols_self_test"
    exit 0
  fi
  echo "FAIL symbols_self_test: the check did not tell an unprefixed symbol from a prefixed one"
  exit 1
fi
SO=${1:-civis_fdw.so}
if [ ! -f "$SO" ]; then
  echo "FAIL symbols_prefixed: no library at $SO (build first)"
  exit 1
fi
bad=$(nm -D --defined-only "$SO" | awk '{print $NF}' |
  grep -vE '^(civis_|civis[A-Z]|_PG_init$|Pg_magic_func$|pg_finfo_civis_|_init$|_fini$|_edata$|_end$|__bss_start$)')
if [ -n "$bad" ]; then
  echo "FAIL symbols_prefixed: exported without the civis_ prefix: $(echo $bad)"
  exit 1
fi
echo "PASS symbols_prefixed ($(nm -D --defined-only "$SO" | wc -l) exported symbols)"
