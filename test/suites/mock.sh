#!/usr/bin/env bash
# The mock Civis API's own tests (python3 standard library unittest), and
# the checks that read the source without running it:
#   mock:long_functions_have_reasons  every function of src/*.c over 80
#     lines says why above it ("Long because ..."; scripts/long_functions.py)
#   mock:layout_*  what README's "Layout of the source" promises
#     (scripts/layout_check.sh: libcurl only in transport.c, PG_VERSION_NUM
#     only in compat.h, the transport's includes, each file's project
#     includes from scripts/layout_includes.txt); mock:layout_self_test: that
#     check fails on a copy of src/ given upward includes
#   mock:format  src/ is as scripts/format.sh formats it (the diff is shown
#     on a failure).  Checked on Debian 12 only, whose pg-bsd-indent 2.1.1 it
#     needs (installed when missing), and not in scripts/test-versions.sh's
#     roots (CIVIS_IN_ROOT=1: no network to install it, and the root cache
#     is shared): CI checks it once, in its host part.  Another version of
#     the formatter could format differently; the server version does not
#     change the output (15, 17 and 18 give the same)
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
layout=$(bash scripts/layout_check.sh --self-test) || rc=1
echo "$layout" | sed -n 's/^\(PASS\|FAIL\) /\1 mock:/p' | tee -a "$RESULTS"
# exported symbols carry the civis_ prefix (the library scripts/test.sh built)
for arg in "" --self-test; do
  symbols=$(bash scripts/symbols_check.sh $arg) || rc=1
  echo "$symbols" | sed -n 's/^\(PASS\|FAIL\) /\1 mock:/p' | tee -a "$RESULTS"
done

if grep -q '^12\.' /etc/debian_version 2>/dev/null && [ "${CIVIS_IN_ROOT:-0}" != 1 ]; then
  if fmt=$(bash scripts/format_check.sh 2>&1); then
    echo "PASS mock:format" | tee -a "$RESULTS"
  else
    echo "$fmt" | head -60
    n=$(echo "$fmt" | grep -c '^[-+][^-+]')
    if [ "$n" -gt 0 ]; then
      echo "FAIL mock:format: src/ is not as scripts/format.sh formats it ($n lines of the diff; bash scripts/format.sh rewrites src/)" | tee -a "$RESULTS"
    else
      echo "FAIL mock:format: $(echo "$fmt" | tail -1)" | tee -a "$RESULTS"
    fi
    rc=1
  fi
else
  echo "mock:format not checked here: Debian 12's pg-bsd-indent 2.1.1 outside a test-versions root only (CI checks it in its host part)"
fi

quirks=$(python3 scripts/quirks_check.py 2>&1) || rc=1
echo "$quirks" | sed -n 's/^\(PASS\|FAIL\) /\1 mock:/p' | tee -a "$RESULTS"
exit $rc
