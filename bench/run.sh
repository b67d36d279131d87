#!/usr/bin/env bash
# The civis_fdw benchmark ("Performance" issue); not part of the tests.
#
#   bash bench/run.sh            (or: make bench)
#   bash bench/run.sh --quick    one run per measurement instead of three
#   bash bench/run.sh --sections 5   only the request-economy corpus
#                                    (bench/economy.py; --economy-scale N)
#
# Installs missing Debian packages, builds and installs civis_fdw (warnings
# are errors), builds bench/server.c, then in a throwaway cluster
# (pg_virtualenv -t) runs bench/bench.py against the bench server on a free
# loopback port and prints one table.  The whole run is limited to 10 minutes.
set -euo pipefail
CIVIS_ROOT=$(cd "$(dirname "$0")/.." && pwd)
export CIVIS_ROOT
cd "$CIVIS_ROOT"
. scripts/lib.sh

build_and_install

BENCH_TMP=$(mktemp -d /tmp/civis_bench.XXXXXX)
trap 'rm -rf "$BENCH_TMP"' EXIT
gcc -O2 -Wall -Wextra -o "$BENCH_TMP/bench_server" bench/server.c
export BENCH_SERVER="$BENCH_TMP/bench_server"
export BENCH_ARGS="$*"

inner() {
  set -euo pipefail
  # COPY ... TO '/dev/null' and pg_read_file('/proc/self/...') need a superuser
  python3 "$CIVIS_ROOT/bench/bench.py" --server "$BENCH_SERVER" --root "$CIVIS_ROOT" $BENCH_ARGS
}
export -f inner

echo "== benchmark (throwaway cluster; at most 10 minutes)" >&2
# pg_virtualenv may run the cluster as another user: let it read the binary
chmod 755 "$BENCH_TMP"
timeout --kill-after=10 600 bash -c '. "$CIVIS_ROOT/scripts/lib.sh"; virtualenv bash -c inner'
