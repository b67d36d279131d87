#!/usr/bin/env bash
# The mock Civis API's own tests (python3 standard library unittest).
set -uo pipefail
cd "$CIVIS_ROOT"
out=$(python3 test/mock/test_mock.py -v 2>&1)
rc=$?
echo "$out" | tail -5
echo "$out" | sed -n 's/^\(test[a-z0-9_]*\) (.*) \.\.\. ok$/PASS mock:\1/p;s/^\(test[a-z0-9_]*\) (.*) \.\.\. \(FAIL\|ERROR\|skipped.*\)$/FAIL mock:\1/p' >>"$RESULTS"
[ $rc -eq 0 ] || echo "$out" | tail -40
exit $rc
