#!/usr/bin/env bash
# Shows (once, by hand; not a test suite) that civis_fdw 1.0.0 hangs on a
# hostile spec beyond statement_timeout, pg_cancel_backend and
# pg_terminate_backend, and that the build in this tree does not.
#
#   sudo bash scripts/show_import_hang.sh [REV|DIR]  (REV defaults to 0f8e136, 1.0.0;
#                                                    DIR: a source tree of it)
#
# Like scripts/test.sh it INSTALLS into PostgreSQL 15 (first REV, at the end
# this tree's build again), so run it in a throwaway root, never on a shared
# host.  For each build: IMPORT FOREIGN SCHEMA of the spec with two parallel
# 31-deep $ref chains (test/mock/mock_faults.py hostile_spec("refs")) under
# statement_timeout = 1s; after 5 s pg_cancel_backend, after 5 s more
# pg_terminate_backend, after 5 s more SIGKILL (which restarts the cluster).
# Prints at each step whether the backend is still there.
set -uo pipefail
CIVIS_ROOT=$(cd "$(dirname "$0")/.." && pwd)
export CIVIS_ROOT
cd "$CIVIS_ROOT"
. scripts/lib.sh
REV=${1:-0f8e136}
export PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config

install_rev() {
  local dir
  dir=$(mktemp -d)
  if [ -d "$1" ]; then
    cp -r "$1"/. "$dir"
  else
    git -C "$CIVIS_ROOT" archive "$1" | tar -x -C "$dir"
  fi
  (cd "$dir" && make -s >/dev/null && make -s install >/dev/null) || { echo "build of $1 failed"; exit 1; }
  rm -rf "$dir"
}

run_one() {
  set -uo pipefail
  . "$CIVIS_ROOT/scripts/lib.sh"
  start_mock --rate-limit 1000000 || exit 1
  trap stop_mock EXIT
  cd "$CIVIS_ROOT"
  python3 test/mock/mockctl.py faults '{"path_prefix": "/endpoints", "always": "spec", "spec": "refs"}'
  psql -X -q <<SQL
CREATE EXTENSION civis_fdw;
CREATE SERVER cw FOREIGN DATA WRAPPER civis_fdw OPTIONS (api_url '$CIVIS_MOCK_URL');
CREATE USER MAPPING FOR CURRENT_USER SERVER cw OPTIONS (api_key 'test-key-0123456789');
CREATE SCHEMA s;
SQL
  t0=$(date +%s%3N)
  psql -X -c "SET application_name = 'hang_victim'" -c "SET statement_timeout = '1s'" \
    -c "IMPORT FOREIGN SCHEMA civis FROM SERVER cw INTO s" >/tmp/hang_victim.out 2>&1 &
  vpid=$!
  alive() { psql -X -At -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'hang_victim'" 2>/dev/null | grep -q .; }
  step() {
    sleep 5
    if alive; then echo "  $(( ($(date +%s%3N) - t0) / 1000 )) s: backend still running $1"; return 0; fi
    echo "  $(( ($(date +%s%3N) - t0) / 1000 )) s: IMPORT over: $(tr '\n' ' ' </tmp/hang_victim.out)"
    return 1
  }
  step "(statement_timeout = 1s ignored)" &&
    psql -X -Atq -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'hang_victim'" >/dev/null &&
    step "after pg_cancel_backend" &&
    psql -X -Atq -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'hang_victim'" >/dev/null &&
    step "after pg_terminate_backend" &&
    { psql -X -At -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'hang_victim'" |
        while read -r p; do kill -KILL "$p"; done
      echo "  SIGKILL sent (the postmaster restarts every backend)"; sleep 3; }
  wait $vpid 2>/dev/null
  rm -f /tmp/hang_victim.out
}
export -f run_one

ensure_packages
echo "== $REV"
install_rev "$REV"
virtualenv bash -c run_one
echo "== this tree"
make -s clean >/dev/null; make -s && make -s install >/dev/null
virtualenv bash -c run_one
