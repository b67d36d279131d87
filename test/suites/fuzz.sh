#!/usr/bin/env bash
# The differential fuzzer (test/fuzz/fuzz.py, issue 9) over the mock's fuzz
# data set: every seed of test/fuzz/seeds.txt, deterministically, in one
# throwaway cluster.  CIVIS_FUZZ_QUERIES caps the number of queries (spread
# over the seeds; default 5000).  Set CIVIS_FUZZ_SEED=N to run one seed
# instead of the list (scripts/fuzz.sh does, with a fresh random seed).
# Reports PASS/FAIL lines into $RESULTS.
set -uo pipefail
. "$CIVIS_ROOT/scripts/lib.sh"

inner() {
  set -uo pipefail
  . "$CIVIS_ROOT/scripts/lib.sh"
  SUITE=fuzz
  . "$CIVIS_ROOT/test/suites/lib_suite.sh"
  start_suite_mock --rate-limit 1000000000 --data fuzz
  if python3 test/fuzz/fuzz.py setup; then
    pass setup
  else
    fail setup "could not import the tables or load the local copies"
    exit 1
  fi
  if OUT=$(python3 test/fuzz/fuzz.py regressions 2>&1); then
    pass "earlier_findings ($OUT)"
  else
    fail earlier_findings "$OUT"
  fi
  if OUT=$(python3 test/fuzz/fuzz.py straddle 2>&1); then
    pass "tie_straddles_page ($OUT)"
  else
    fail tie_straddles_page "$OUT"
  fi
  if [ -n "${CIVIS_FUZZ_SEED:-}" ]; then
    set -- --seed "$CIVIS_FUZZ_SEED"
  else
    set -- --seeds-file test/fuzz/seeds.txt
  fi
  OUT=$(mktemp)
  python3 test/fuzz/fuzz.py run "$@" 2>&1 | tee "$OUT"
  rc=${PIPESTATUS[0]}
  summary=$(grep '^fuzz:' "$OUT" | tail -1)
  if [ "$rc" -eq 0 ] && [ -n "$summary" ]; then
    pass "differential ($summary)"
  else
    fail differential "${summary:-the fuzzer did not finish}; $(grep -m3 '^FAIL seed' "$OUT" | tr '\n' ' ')"
  fi
  if grep -q "terminated by signal" $(pg_log_files) /dev/null; then
    fail no_crash "$(grep -h -m3 'terminated by signal' $(pg_log_files))"
  else
    pass no_crash
  fi
  rm -f "$OUT"
  [ "$FAILS" -eq 0 ]
}
export -f inner

virtualenv bash -c inner
