#!/usr/bin/env bash
# Memory per backend, not per scan (issue 19): a session that keeps many
# foreign scans open (cursors) against an API that answers every page with
# one 15 MB item.  The VmHWM of the backend, less that of the same backend
# after the same cursors over small pages (the warm-up), must stay under
# 512 MB with 8 cursors and no error; 64 cursors must end in a clean ERROR
# (SQLSTATE 54000, the backend alive), never an out-of-memory kill.
set -uo pipefail
. "$CIVIS_ROOT/scripts/lib.sh"

inner() {
  set -uo pipefail
  . "$CIVIS_ROOT/scripts/lib.sh"
  SUITE=memory
  . "$CIVIS_ROOT/test/suites/lib_suite.sh"
  start_suite_mock --rate-limit 1000000
  M="python3 test/mock/mockctl.py"
  WORK=$(mktemp -d)

  psql -X -q -v ON_ERROR_STOP=1 <<SQL || { fail setup "could not create the tables"; exit 1; }
CREATE EXTENSION civis_fdw;
CREATE SERVER mem FOREIGN DATA WRAPPER civis_fdw OPTIONS (api_url '$CIVIS_MOCK_URL');
CREATE USER MAPPING FOR CURRENT_USER SERVER mem OPTIONS (api_key 'test-key-0123456789');
CREATE FOREIGN TABLE t (id bigint, name text) SERVER mem
  OPTIONS (endpoint '/jobs/', paging 'pages', page_size '1');
SQL

  # the psql script: n cursors, MOVE 1 in each, three rounds; VmHWM after
  cursors() { # n
    local n=$1 i r
    for i in $(seq 1 "$n"); do echo "DECLARE c$i CURSOR FOR SELECT id, length(name) FROM t;"; done
    for r in 1 2 3; do
      for i in $(seq 1 "$n"); do echo "MOVE 1 FROM c$i;"; done
    done
  }
  hwm='\! echo "hwm=$(sed -n "s/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p" /proc/$BPID/status)"'

  # $1 name, $2 cursors: warm-up over small pages, then the 15 MB items
  run_case() {
    local n=$2
    {
      echo "SELECT pg_backend_pid() AS pid \\gset"
      echo "\\setenv BPID :pid"
      echo "\\! python3 test/mock/mockctl.py faults null"
      echo "BEGIN;"; cursors "$n"; echo "COMMIT;"
      echo "$hwm"
      echo "\\! python3 test/mock/mockctl.py faults '{\"always\": \"bigitem\", \"huge_mb\": 15, \"path_prefix\": \"/jobs\"}'"
      echo "BEGIN;"; cursors "$n"
      echo "$hwm"
      echo "ROLLBACK;"
      echo "\\! python3 test/mock/mockctl.py faults null"
      echo "SELECT 'alive=' || (pg_backend_pid() = :pid) AS alive;"
    } >"$WORK/$1.sql"
    timeout 300 psql -X -v VERBOSITY=verbose -f "$WORK/$1.sql" >"$WORK/$1.out" 2>&1
  }

  run_case eight 8
  warm=$(sed -n 's/^hwm=\([0-9]*\)$/\1/p' "$WORK/eight.out" | sed -n 1p)
  hot=$(sed -n 's/^hwm=\([0-9]*\)$/\1/p' "$WORK/eight.out" | sed -n 2p)
  echo "  8 cursors: VmHWM ${warm:-?} kB after the warm-up, ${hot:-?} kB with 15 MB items: $(( ${hot:-0} - ${warm:-0} )) kB more"
  if [ -z "$warm" ] || [ -z "$hot" ] || ! grep -q 'alive=true' "$WORK/eight.out"; then
    fail eight_cursors_under_512mb "no figure or backend gone: $(head -c 800 "$WORK/eight.out")"
  elif grep -q 'ERROR' "$WORK/eight.out"; then
    fail eight_cursors_under_512mb "an error: $(grep -m1 -A2 ERROR "$WORK/eight.out")"
  elif [ $((hot - warm)) -ge 524288 ]; then
    fail eight_cursors_under_512mb "$((hot - warm)) kB over the warm-up"
  else
    pass eight_cursors_under_512mb
  fi

  run_case sixtyfour 64
  err=$(grep -m1 'ERROR' "$WORK/sixtyfour.out")
  hot=$(sed -n 's/^hwm=\([0-9]*\)$/\1/p' "$WORK/sixtyfour.out" | sed -n 2p)
  echo "  64 cursors: ${err:-no error}; VmHWM ${hot:-?} kB"
  if grep -q '54000' "$WORK/sixtyfour.out" &&
     grep -q 'cannot read its next page within the memory' "$WORK/sixtyfour.out" &&
     grep -q 'alive=true' "$WORK/sixtyfour.out"; then
    pass sixtyfour_cursors_clean_error
  else
    fail sixtyfour_cursors_clean_error "$(head -c 1500 "$WORK/sixtyfour.out")"
  fi

  check_no_crash
  rm -rf "$WORK"
  [ "$FAILS" -eq 0 ]
}
export -f inner

virtualenv bash -c inner
