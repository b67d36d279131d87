#!/usr/bin/env bash
# The differential fuzzer with a fresh random seed (issue 9), for use during
# development and before every stop; not part of CI's pass/fail.  Builds
# and installs like scripts/test.sh (Debian 12, root or sudo), then runs
# test/suites/fuzz.sh in a throwaway cluster.  A seed that finds a bug goes
# into test/fuzz/seeds.txt once the bug is fixed.
#
#   bash scripts/fuzz.sh            a random seed, 5000 queries
#   bash scripts/fuzz.sh 12345      that seed
#   CIVIS_FUZZ_QUERIES=20000 bash scripts/fuzz.sh
set -uo pipefail
CIVIS_ROOT=$(cd "$(dirname "$0")/.." && pwd)
export CIVIS_ROOT
cd "$CIVIS_ROOT"
. scripts/lib.sh
build_and_install || { echo "build failed"; exit 1; }
CIVIS_FUZZ_SEED=${1:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
export CIVIS_FUZZ_SEED
echo "== fuzz seed $CIVIS_FUZZ_SEED"
RESULTS=$(mktemp)
export RESULTS
bash test/suites/fuzz.sh
rc=$?
cat "$RESULTS"
rm -f "$RESULTS"
echo "== fuzz seed $CIVIS_FUZZ_SEED: $([ $rc -eq 0 ] && echo passed || echo FAILED)"
exit $rc
