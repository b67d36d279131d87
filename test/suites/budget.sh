#!/usr/bin/env bash
# The request budget shared by every backend (issue 20): concurrent psql
# sessions against a mock that enforces a real sliding-window rate limit
# (test/budget/budget_test.py).  On 17 and later the budget is shared with
# no configuration; on 15 it is shared only with shared_preload_libraries,
# so 15 runs the checks twice: preloaded (shared) and not (per session,
# 1.1.0's behaviour, which civis_fdw_budget() must say).
set -uo pipefail
. "$CIVIS_ROOT/scripts/lib.sh"

inner() {
  set -uo pipefail
  . "$CIVIS_ROOT/scripts/lib.sh"
  SUITE=budget
  . "$CIVIS_ROOT/test/suites/lib_suite.sh"
  start_suite_mock --rate-window 2 --latency-ms 20
  /usr/bin/python3 "$CIVIS_ROOT/test/budget/budget_test.py" "$1"
  rc=$?
  check_no_crash "postmaster_log_$1"
  return $rc
}
export -f inner

rc=0
if [ "$PG_VERSION" -ge 17 ]; then
  virtualenv bash -c 'inner shared' || rc=1
else
  virtualenv bash -c 'inner session' || rc=1
  virtualenv -o shared_preload_libraries=civis_fdw bash -c 'inner shared' || rc=1
fi
exit $rc
