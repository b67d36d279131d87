#!/usr/bin/env bash
# pg_regress (sql/ + expected/) in a throwaway cluster against the mock API.
# Reports one PASS/FAIL line per regression test into $RESULTS.
set -uo pipefail
. "$CIVIS_ROOT/scripts/lib.sh"

inner() {
  set -uo pipefail
  . "$CIVIS_ROOT/scripts/lib.sh"
  # the rate limit has its own tests; here it would only slow things down
  start_mock --rate-limit 1000000 || exit 1
  trap stop_mock EXIT
  cd "$CIVIS_ROOT"
  make -s installcheck PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config >"$CIVIS_ROOT/regress.out.log" 2>&1
  rc=$?
  cat "$CIVIS_ROOT/regress.out.log"
  return $rc
}
export -f inner

out=$(virtualenv bash -c inner 2>&1)
rc=$?
echo "$out" | grep -E '^(ok|not ok|test |     )|\.\.\.' || true
echo "$out" | grep -E '^(ok|not ok) ' >/dev/null && pattern=tap || pattern=classic
# PostgreSQL 15: "test name ... ok 12 ms" / "... FAILED"
echo "$out" | sed -n 's/^\(test \| \{5\}\)\?\([a-z0-9_]*\) *\.\.\. ok.*/PASS regress:\2/p;s/^\(test \| \{5\}\)\?\([a-z0-9_]*\) *\.\.\. FAILED.*/FAIL regress:\2/p' >>"$RESULTS"
if [ $rc -ne 0 ]; then
  [ -f "$CIVIS_ROOT/regression.diffs" ] && head -c 20000 "$CIVIS_ROOT/regression.diffs"
  grep -q '^FAIL regress' "$RESULTS" || echo "FAIL regress: pg_regress did not run (see above)" >>"$RESULTS"
  echo "$out" | tail -20
fi
exit $rc
