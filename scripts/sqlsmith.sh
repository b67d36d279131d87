#!/usr/bin/env bash
# Random queries with sqlsmith and a fresh random seed (issue 19), for use
# during development and before every stop; not part of CI's pass/fail (CI
# runs test/suites/sqlsmith.sh with its fixed seed on PostgreSQL 15).
# Builds and installs like scripts/test.sh (Debian 12, root or sudo), then
# runs test/suites/sqlsmith.sh in a throwaway cluster.
#
#   bash scripts/sqlsmith.sh            a random seed, 5000 queries
#   bash scripts/sqlsmith.sh 12345      that seed
#   CIVIS_SQLSMITH_QUERIES=20000 bash scripts/sqlsmith.sh
set -uo pipefail
CIVIS_ROOT=$(cd "$(dirname "$0")/.." && pwd)
export CIVIS_ROOT
cd "$CIVIS_ROOT"
. scripts/lib.sh
build_and_install sqlsmith || { echo "build failed"; exit 1; }
# sqlsmith reads its seed with std::stoi: below 2^31
CIVIS_SQLSMITH_SEED=${1:-$(( $(od -An -N4 -tu4 /dev/urandom | tr -d ' ') % 2147483647 ))}
export CIVIS_SQLSMITH_SEED
echo "== sqlsmith seed $CIVIS_SQLSMITH_SEED"
RESULTS=$(mktemp)
export RESULTS
bash test/suites/sqlsmith.sh
rc=$?
cat "$RESULTS"
rm -f "$RESULTS"
echo "== sqlsmith seed $CIVIS_SQLSMITH_SEED: $([ $rc -eq 0 ] && echo passed || echo FAILED)"
exit $rc
