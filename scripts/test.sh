#!/usr/bin/env bash
# Runs every test of civis_fdw on this machine (Debian 12, as root or with sudo):
# installs missing Debian packages, builds with warnings as errors, installs,
# then runs each suite in its own throwaway PostgreSQL cluster against the
# bundled mock Civis API.  Ends with "N passed, N failed"; exits non-zero on
# any failure.  A missing package or server is a failure, never a skip.
#
#   bash scripts/test.sh            all suites
#   bash scripts/test.sh regress    only the named suites
set -uo pipefail
CIVIS_ROOT=$(cd "$(dirname "$0")/.." && pwd)
export CIVIS_ROOT
cd "$CIVIS_ROOT"
. scripts/lib.sh

build_and_install || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }

SUITES=${*:-"mock regress fuzz cancel security tls mutation cron hardening"}
RESULTS=$(mktemp)
export RESULTS

for suite in $SUITES; do
  script="test/suites/$suite.sh"
  echo "== suite: $suite"
  if [ ! -f "$script" ]; then
    echo "FAIL $suite: no such suite" | tee -a "$RESULTS"
    continue
  fi
  before=$(grep -c '' "$RESULTS")
  if ! bash "$script"; then
    # a suite that died without reporting its own failure still fails
    after=$(grep -c '' "$RESULTS")
    if [ "$after" -eq "$before" ] || ! tail -n +$((before + 1)) "$RESULTS" | grep -q '^FAIL'; then
      echo "FAIL $suite: exited with an error" | tee -a "$RESULTS"
    fi
  fi
done

passed=$(grep -c '^PASS' "$RESULTS")
failed=$(grep -c '^FAIL' "$RESULTS")
echo
grep '^FAIL' "$RESULTS" || true
echo "$passed passed, $failed failed"
rm -f "$RESULTS"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
