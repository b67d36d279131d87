#!/usr/bin/env bash
# pg_regress (sql/ + expected/) in a throwaway cluster against the mock API.
# Reports (and prints) one PASS/FAIL line per regression test into $RESULTS
# (pg_regress's own lines only when it fails), plus the test
# of the tests: the equivalence test must FAIL when the local recheck of
# loose API filters is skipped (civis_fdw.debug_skip_recheck), and
# scripts/exact_pairs.sh on the fixture spec, which must list the pairs of
# expected/exact_pairs.out (regress:exact_pairs_script).
set -uo pipefail
. "$CIVIS_ROOT/scripts/lib.sh"

inner() {
  set -uo pipefail
  . "$CIVIS_ROOT/scripts/lib.sh"
  # the rate limit has its own tests; here it would only slow things down
  start_mock --rate-limit 1000000 || exit 1
  trap stop_mock EXIT
  cd "$CIVIS_ROOT"
  make -s installcheck
  rc=$?
  [ -f regression.diffs ] && cp regression.diffs /tmp/civis_regression.diffs
  # kept for scripts/test-versions.sh --results-out: the normal build at the
  # end of scripts/test.sh runs make clean, which removes results/
  rm -rf /tmp/civis_regress_results && [ -d results ] && cp -a results /tmp/civis_regress_results
  echo "== the equivalence test without the local recheck (must fail)"
  mkdir -p /tmp/civis_norecheck
  PGOPTIONS="-c civis_fdw.debug_skip_recheck=on" make -s installcheck \
    REGRESS="init equivalence" \
    EXTRA_REGRESS_OPTS="--outputdir=/tmp/civis_norecheck" 2>&1 | grep -E '^test |^(not )?ok '
  return $rc
}
export -f inner

out=$(virtualenv bash -c inner 2>&1)
rc=$?
main=$(echo "$out" | sed -n '1,/== the equivalence test without/p')
check=$(echo "$out" | sed -n '/== the equivalence test without/,$p')
# pg_regress of PostgreSQL 15: "test name ... ok 12 ms" / "... FAILED";
# of 16 and later: "ok 1 - name 12 ms" / "not ok 1 - name 12 ms" (TAP;
# "+" instead of "-" in a parallel group)
echo "$main" | sed -n \
  -e 's/^\(test \| \{5\}\)\?\([a-z0-9_]*\) *\.\.\. ok.*/PASS regress:\2/p' \
  -e 's/^\(test \| \{5\}\)\?\([a-z0-9_]*\) *\.\.\. FAILED.*/FAIL regress:\2/p' \
  -e 's/^ok [0-9][0-9]* *[-+] \([a-z0-9_]*\) .*/PASS regress:\1/p' \
  -e 's/^not ok [0-9][0-9]* *[-+] \([a-z0-9_]*\) .*/FAIL regress:\1/p' | tee -a "$RESULTS"
if grep -qE '^test equivalence +\.\.\. FAILED|^not ok [0-9]+ +[-+] equivalence ' <<<"$check"; then
  echo "PASS regress:equivalence_catches_skipped_recheck" | tee -a "$RESULTS"
else
  echo "FAIL regress:equivalence_catches_skipped_recheck (the equivalence test passed without the recheck)" | tee -a "$RESULTS"
  echo "$check"
fi
# scripts/exact_pairs.sh itself on the fixture spec: the same pairs as the
# committed list expected/exact_pairs.out (the script writes docs/ for the
# real spec, so it must keep working)
script_pairs=$(bash scripts/exact_pairs.sh test/fixture/civis_spec.json 2>&1 |
  grep ' | ' | tail -n +2 | sed 's/ *| */|/g')
committed=$(sed -n '/^-*+-/,/^([0-9]* rows)/p' expected/exact_pairs.out |
  grep ' | ' | sed 's/^ *//; s/ *$//; s/ *| */|/g')
if [ -n "$committed" ] && [ "$script_pairs" = "$committed" ]; then
  echo "PASS regress:exact_pairs_script" | tee -a "$RESULTS"
else
  echo "FAIL regress:exact_pairs_script (scripts/exact_pairs.sh on the fixture differs from expected/exact_pairs.out)" | tee -a "$RESULTS"
  diff <(echo "$committed") <(echo "$script_pairs") | head -20
  rc=1
fi
if [ $rc -ne 0 ]; then
  [ -f /tmp/civis_regression.diffs ] && head -c 30000 /tmp/civis_regression.diffs
  grep -q '^FAIL regress' "$RESULTS" || echo "FAIL regress: pg_regress did not run (see above)" >>"$RESULTS"
  echo "$out" | tail -30
fi
exit $rc
