#!/usr/bin/env bash
# The mock Civis API's own tests (python3 standard library unittest), and
# the checks that read the source without running it:
#   mock:long_functions_have_reasons  every function of src/*.c over 80
#     lines says why above it ("Long because ..."; scripts/long_functions.py)
#   mock:layout_*  what README's "Layout of the source" promises
#     (scripts/layout_check.sh: libcurl only in transport.c, PG_VERSION_NUM
#     only in compat.h, the transport's includes)
#   mock:quirks_exact_rows_have_evidence  an exact row of src/quirks.c
#     names its evidence (scripts/quirks_check.py)
# Prints the PASS/FAIL lines it records (unittest's own lines only when a
# test fails), as README's Testing section says.
set -uo pipefail
cd "$CIVIS_ROOT"
out=$(python3 test/mock/test_mock.py -v 2>&1)
rc=$?
echo "$out" | sed -n 's/^\(test[a-z0-9_]*\) (.*) \.\.\. ok$/PASS mock:\1/p;s/^\(test[a-z0-9_]*\) (.*) \.\.\. \(FAIL\|ERROR\|skipped.*\)$/FAIL mock:\1/p' | tee -a "$RESULTS"
[ $rc -eq 0 ] || echo "$out" | tail -40

if long=$(python3 scripts/long_functions.py 2>&1); then
  echo "PASS mock:long_functions_have_reasons" | tee -a "$RESULTS"
else
  echo "$long"
  echo "FAIL mock:long_functions_have_reasons: $(echo "$long" | grep -c '^MISS') function(s) over 80 lines without a reason" | tee -a "$RESULTS"
  rc=1
fi

layout=$(bash scripts/layout_check.sh) || rc=1
echo "$layout" | sed -n 's/^\(PASS\|FAIL\) /\1 mock:/p' | tee -a "$RESULTS"

quirks=$(python3 scripts/quirks_check.py 2>&1) || rc=1
echo "$quirks" | sed -n 's/^\(PASS\|FAIL\) /\1 mock:/p' | tee -a "$RESULTS"
exit $rc
