#!/usr/bin/env bash
# Random queries (issue 19): sqlsmith (Debian package "sqlsmith") sends
# CIVIS_SQLSMITH_QUERIES random queries (default 5000) with a fixed seed
# (CIVIS_SQLSMITH_SEED, default 19) against every table imported from the
# mock, as a role that sees only those foreign tables.  Most of its queries
# stop at planning, so it exercises planning, upper paths and EXPLAIN-like
# work, where a new path or a refactor breaks things.  Fails on
#   - a crash (a backend terminated by a signal, in the postmaster's log);
#   - an internal error: SQLSTATE XX000 (every elog(ERROR) of the wrapper
#     is one), "unrecognized node type", "cache lookup failed";
#   - a statement that outlives its timeout (statement_timeout is 1 s for
#     the role; a watcher fails on any of its statements active for 15 s);
#   - a backend of the role whose peak resident size passes 512 MB (the
#     watcher samples VmHWM).
# scripts/test.sh lists this suite on PostgreSQL 15 only; scripts/sqlsmith.sh
# runs it with a fresh random seed (outside CI, as scripts/fuzz.sh does for
# the fuzzer).  Reports PASS/FAIL lines into $RESULTS.
set -uo pipefail
. "$CIVIS_ROOT/scripts/lib.sh"

inner() {
  set -uo pipefail
  . "$CIVIS_ROOT/scripts/lib.sh"
  SUITE=sqlsmith
  . "$CIVIS_ROOT/test/suites/lib_suite.sh"
  command -v sqlsmith >/dev/null || { fail setup "sqlsmith is not installed (Debian package sqlsmith)"; exit 1; }
  start_suite_mock --rate-limit 1000000000
  SEED=${CIVIS_SQLSMITH_SEED:-19}
  QUERIES=${CIVIS_SQLSMITH_QUERIES:-5000}
  WORK=$(mktemp -d)
  chmod 755 "$WORK"

  # the log names each error's SQLSTATE and the application
  psql -X -q -v ON_ERROR_STOP=1 <<SQL || { fail setup "could not configure the server log"; exit 1; }
ALTER SYSTEM SET log_line_prefix = '%m [%p] %e %a: ';
SELECT pg_reload_conf();
SQL
  # a role that sees only the foreign tables (imported by a superuser), with
  # its own user mapping and a short statement_timeout
  psql -X -q -v ON_ERROR_STOP=1 <<SQL || { fail setup "could not create the test objects"; exit 1; }
CREATE EXTENSION civis_fdw;
CREATE SERVER civis FOREIGN DATA WRAPPER civis_fdw
  OPTIONS (api_url '$CIVIS_MOCK_URL', max_retries '0', request_timeout '5');
CREATE SCHEMA civis;
CREATE USER MAPPING FOR CURRENT_USER SERVER civis OPTIONS (api_key 'test-key-0123456789');
IMPORT FOREIGN SCHEMA civis FROM SERVER civis INTO civis;
CREATE ROLE civis_smith LOGIN PASSWORD 'civis_smith';
CREATE USER MAPPING FOR civis_smith SERVER civis OPTIONS (api_key 'test-key-0123456789');
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA civis TO civis_smith;
GRANT SELECT ON ALL TABLES IN SCHEMA civis TO civis_smith;
ALTER ROLE civis_smith SET statement_timeout = '1s';
SQL
  ntables=$(psql -X -At -c "SELECT count(1) FROM information_schema.foreign_tables WHERE foreign_table_schema = 'civis'")
  nrows=$(psql -X -At -c "SET ROLE civis_smith; SELECT (SELECT count(1) FROM civis.jobs) + (SELECT count(1) FROM civis.users) + (SELECT count(1) FROM civis.databases)" | tail -1)
  if [ "${ntables:-0}" -gt 10 ] && [ "${nrows:-0}" -gt 0 ]; then
    pass "setup ($ntables foreign tables, $nrows rows in three of them)"
  else
    fail setup "imported ${ntables:-?} tables, ${nrows:-?} rows"
    exit 1
  fi

  # the log shows each error's SQLSTATE (what no_internal_error reads)
  PGUSER=civis_smith PGPASSWORD=civis_smith psql -X -q -c "SELECT 1 / 0" >/dev/null 2>&1
  sleep 1
  if grep -q -E '\] 22012 [^ ]*: ERROR: +division by zero' $(pg_log_files) /dev/null; then
    pass log_shows_sqlstate
  else
    fail log_shows_sqlstate "the server log does not show SQLSTATEs: $(tail -3 $(pg_log_files) | tr '\n' ' ')"
  fi

  # the watcher: any statement of the role active for 15 s or more
  : >"$WORK/overdue"
  : >"$WORK/hwm"
  (
    while [ ! -e "$WORK/done" ]; do
      psql -X -At -c "SELECT pid || ' ' || (now() - query_start) || ' ' || left(query, 300)
                        FROM pg_stat_activity
                       WHERE usename = 'civis_smith' AND state = 'active'
                         AND now() - query_start > interval '15 s'" >>"$WORK/overdue" 2>/dev/null
      for p in $(psql -X -At -c "SELECT pid FROM pg_stat_activity WHERE usename = 'civis_smith'" 2>/dev/null); do
        sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$p/status" 2>/dev/null
      done >>"$WORK/hwm"
      sleep 2
    done
  ) &
  watcher=$!

  echo "== sqlsmith: seed $SEED, $QUERIES queries"
  start=$SECONDS
  timeout 900 sqlsmith --target="host=$PGHOST port=$PGPORT dbname=$PGDATABASE user=civis_smith password=civis_smith" \
    --seed="$SEED" --max-queries="$QUERIES" --exclude-catalog --verbose \
    >"$WORK/out" 2>&1
  rc=$?
  touch "$WORK/done"
  wait "$watcher"
  elapsed=$((SECONDS - start))
  tail -25 "$WORK/out"
  echo "== sqlsmith ended after $elapsed s (exit $rc)"

  if [ $rc -eq 0 ]; then
    pass "ran (seed $SEED, $QUERIES queries, $elapsed s)"
  else
    fail ran "sqlsmith exited with $rc after $elapsed s (seed $SEED): $(tail -5 "$WORK/out")"
  fi
  check_no_crash no_crash
  # Internal errors of PostgreSQL itself that sqlsmith provokes with no
  # foreign table involved are not the wrapper's: a column of type unknown
  # made by unknownin() and then coerced ("failed to find conversion
  # function from unknown to text", raised by the parser's coerce_type).
  CORE_KNOWN='ERROR: +failed to find conversion function from unknown to '
  internal=$(grep -h -E ' XX000 [^ ]*: ERROR: |unrecognized node type|cache lookup failed|: PANIC: ' \
    $(pg_log_files) /dev/null | grep -v -E "$CORE_KNOWN" | head -5)
  core=$(grep -h -E ' XX000 [^ ]*: ERROR: ' $(pg_log_files) /dev/null | grep -c -E "$CORE_KNOWN")
  [ "$core" -eq 0 ] || echo "== $core internal errors of PostgreSQL itself (not counted): $(grep -h -m1 -o -E "$CORE_KNOWN.*" $(pg_log_files))"
  if [ -n "$internal" ]; then
    # those errors with their whole statements (until the next log line)
    awk '/^20[0-9][0-9]-[0-9][0-9]-[0-9][0-9] / { show = / XX000 |unrecognized node type|cache lookup failed|PANIC/ }
         show' $(pg_log_files) /dev/null | head -150
    fail no_internal_error "seed $SEED: $internal"
  else
    note=""
    [ "$core" -eq 0 ] || note=" ($core of PostgreSQL itself not counted)"
    pass "no_internal_error$note"
  fi
  if [ -s "$WORK/overdue" ]; then
    fail statements_within_timeout "seed $SEED: $(head -3 "$WORK/overdue")"
  else
    pass statements_within_timeout
  fi
  # the peak resident size of the role's backends stays bounded (1.1.0: at
  # most 148 MB over 88,800 queries)
  hwm=$(sort -n "$WORK/hwm" | tail -1)
  if [ -z "$hwm" ]; then
    fail memory_bounded "no backend of the role was sampled"
  elif [ "$hwm" -gt 524288 ]; then
    fail memory_bounded "peak resident size ${hwm} kB > 512 MB"
  else
    pass "memory_bounded (peak resident size $((hwm / 1024)) MB)"
  fi
  # errors by SQLSTATE, for the record
  echo "== errors by SQLSTATE:"
  grep -h -o -E '\] [0-9A-Z]{5} [^ ]*: ERROR: .{0,60}' $(pg_log_files) /dev/null |
    awk '{code = $2; $1 = $2 = $3 = $4 = ""; gsub(/[0-9]+/, "N"); print code, $0}' |
    sort | uniq -c | sort -rn | head -25
  if psql -X -At -c "SELECT 1" | grep -q '^1$'; then
    pass server_answers
  else
    fail server_answers "the server does not answer after the run"
  fi
  rm -rf "$WORK"
  [ "$FAILS" -eq 0 ]
}
export -f inner

virtualenv bash -c inner
