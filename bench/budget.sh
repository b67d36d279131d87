#!/usr/bin/env bash
# Bench of the shared request budget (issue 20); not a test.
#
#   bash bench/budget.sh [WINDOW]      (or: make bench-budget; default 10 s)
#
# Builds and installs civis_fdw, then runs bench/budget.py in throwaway
# clusters against the project's mock enforcing a sliding-window limit of
# 150 requests per WINDOW seconds (the API's 1,000 per 300 s, scaled): on
# PostgreSQL 15 once without shared_preload_libraries (every backend alone,
# 1.1.0's rules: the baseline) and once with it (the shared budget); on 17
# and later the budget is always shared, so only that row.  Prints one
# table: requests, the share answered 429, the four bulk reads' wall time
# against the time the limit allows, and the latency of one-request queries
# started while they run.
set -euo pipefail
CIVIS_ROOT=$(cd "$(dirname "$0")/.." && pwd)
export CIVIS_ROOT
cd "$CIVIS_ROOT"
. scripts/lib.sh
export BENCH_WINDOW=${1:-10}

build_and_install >/dev/null

inner() {
  set -euo pipefail
  . "$CIVIS_ROOT/scripts/lib.sh"
  start_mock --rate-window "$BENCH_WINDOW" --latency-ms 50 --scale 4
  trap stop_mock EXIT
  /usr/bin/python3 "$CIVIS_ROOT/bench/budget.py" "$1" "$BENCH_WINDOW"
}
export -f inner

echo "civis_fdw shared-budget bench: PostgreSQL $PG_VERSION, limit 150 per ${BENCH_WINDOW} s window, mock latency 50 ms"
echo "budget | reads completed | requests | answered 429 | bulk wall | the limit allows | ratio | short query median | short query max | short queries failed"
if [ "$PG_VERSION" -lt 17 ]; then
  virtualenv bash -c 'inner session' 2>/dev/null | grep '^session'
  virtualenv -o shared_preload_libraries=civis_fdw bash -c 'inner shared' 2>/dev/null | grep '^shared'
else
  virtualenv bash -c 'inner shared' 2>/dev/null | grep '^shared'
fi
