#!/usr/bin/env bash
# Cancellation (like postgres_fdw's query_cancel): for a server that accepts
# and never answers (hang), a body that stalls halfway (stall) and a retry
# wait after "Retry-After: 3600" (429), each of statement_timeout = '1s',
# pg_cancel_backend from a second session and SIGINT to psql (Ctrl-C) must
# end the query within 2 s with SQLSTATE 57014, and the same backend must
# then run a normal scan (for SIGINT a new session does: psql -f quits after
# a Ctrl-C).  The postmaster log must show no crash.  Prints the latencies:
# statement_timeout from the start of the query, the others from the signal.
set -uo pipefail
. "$CIVIS_ROOT/scripts/lib.sh"

inner() {
  set -uo pipefail
  . "$CIVIS_ROOT/scripts/lib.sh"
  SUITE=cancel
  . "$CIVIS_ROOT/test/suites/lib_suite.sh"
  start_suite_mock --rate-limit 1000000
  M="python3 test/mock/mockctl.py"
  WORK=$(mktemp -d)
  LIMIT_MS=2000

  psql -X -q -v ON_ERROR_STOP=1 <<SQL || { fail setup "could not create the test tables"; exit 1; }
CREATE EXTENSION civis_fdw;
-- waits and timeouts far longer than the test: only a cancel can end them
CREATE SERVER cw FOREIGN DATA WRAPPER civis_fdw
  OPTIONS (api_url '$CIVIS_MOCK_URL', retry_max_time '7200', request_timeout '3600', max_retries '10');
CREATE USER MAPPING FOR CURRENT_USER SERVER cw OPTIONS (api_key 'test-key-0123456789');
CREATE FOREIGN TABLE jobs (id bigint, name text) SERVER cw
  OPTIONS (endpoint '/jobs/', paging 'pages', page_size '50');
SQL

  ms() { date +%s%3N; }

  # the psql script of the victim session: pid, the stuck query, pid again,
  # then a normal scan once the fault is cleared
  victim_script() {
    cat <<SQL
\\set VERBOSITY verbose
SET application_name = 'civis_cancel_victim';
-- the retry wait of a backend that budgets alone: with the shared budget a
-- 429 holds the whole key for its Retry-After (an hour here), and the
-- same backend's next scan would wait too; a wait for the shared budget is
-- cancelled in test/suites/budget.sh (cancel_ends_budget_wait_at_once)
SET civis_fdw.shared_budget = off;
SELECT pg_backend_pid() AS pid_before \\gset
$1
SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS t_start \\gset
SELECT count(1) FROM jobs;
SELECT 'stuck_ms=' || ((extract(epoch FROM clock_timestamp()) * 1000)::bigint - :t_start) AS stuck;
\\! python3 test/mock/mockctl.py faults null
SELECT pg_backend_pid() = :pid_before AS same_backend, count(1) AS rows_after FROM jobs;
SQL
  }

  # judge one run: $1 name, $2 output file, $3 elapsed ms, $4 expected text
  judge() {
    local name=$1 out=$2 elapsed=$3 want=$4 reuse=${5:-yes}
    echo "  $name: ${elapsed} ms"
    if ! grep -q "57014" "$out" || ! grep -q "$want" "$out"; then
      fail "$name" "no 57014 \"$want\" error: $(head -c 600 "$out" | tr '\n' ' ')"
    elif [ "$elapsed" -gt "$LIMIT_MS" ]; then
      fail "$name" "took ${elapsed} ms (limit ${LIMIT_MS} ms)"
    elif [ "$reuse" = yes ] && ! grep -Eq '^ *t *\| *137 *$' "$out"; then
      fail "$name" "backend not usable afterwards: $(tail -c 600 "$out" | tr '\n' ' ')"
    else
      pass "$name"
    fi
  }

  # wait until the victim is inside its stuck query
  wait_active() {
    local i
    for i in $(seq 1 100); do
      backend_pids civis_cancel_victim "state = 'active' AND query LIKE 'SELECT count(1) FROM jobs%'" | grep -q . && return 0
      sleep 0.05
    done
    return 1
  }

  # start the victim session in the background ($vpid: its psql) with the
  # fault set; true once its stuck query is running
  start_victim() {
    $M faults "$profile"
    victim_script "" >"$WORK/v.sql"
    psql -X -f "$WORK/v.sql" >"$WORK/out" 2>&1 &
    vpid=$!
    wait_active || return 1
    sleep 0.3
  }

  # the time (ms) the victim's ERROR shows in its output, up to 4 s from now
  wait_error() {
    for _ in $(seq 1 400); do
      grep -q "ERROR" "$WORK/out" && break
      sleep 0.01
    done
    ms
  }

  for fault in hang stall 429; do
    case $fault in
      hang) profile='{"always": "hang", "stall_s": 3600}' ;;
      stall) profile='{"always": "stall", "stall_s": 3600}' ;;
      429) profile='{"always": "429", "retry_after": "3600"}' ;;
    esac

    # 1. statement_timeout = '1s'
    $M faults "$profile"
    victim_script "SET statement_timeout = '1s';" >"$WORK/v.sql"
    echo "RESET statement_timeout;" >>"$WORK/v.sql"
    psql -X -f "$WORK/v.sql" >"$WORK/out" 2>&1
    # from the start of the query to its end, measured in the session
    stuck=$(sed -n 's/.*stuck_ms=\([0-9]*\).*/\1/p' "$WORK/out" | head -1)
    judge "$fault:statement_timeout" "$WORK/out" "${stuck:-999999}" "statement timeout"

    # 2. pg_cancel_backend from a second session
    if start_victim; then
      # what the stuck backend waits for: its own wait event from
      # PostgreSQL 17 on (the network, or the pause before a retry), the
      # generic "Extension" before
      case $fault in
        429) want=CivisFdwBackoff ;;
        *) want=CivisFdwNetwork ;;
      esac
      [ "$(psql -X -At -c 'SHOW server_version_num')" -ge 170000 ] || want=Extension
      # sampled until seen (up to 3 s): between two waits the backend runs
      # for a moment, and a sample then shows no wait event at all
      for _ in $(seq 1 30); do
        got=$(psql -X -At -c "SELECT wait_event_type || ':' || wait_event FROM pg_stat_activity WHERE application_name = 'civis_cancel_victim'")
        [ "$got" = "Extension:$want" ] && break
        sleep 0.1
      done
      if [ "$got" = "Extension:$want" ]; then
        pass "$fault:wait_event"
      else
        fail "$fault:wait_event" "pg_stat_activity shows '$got', not 'Extension:$want'"
      fi
      victim=$(backend_pids civis_cancel_victim | head -1)
      t0=$(ms)
      psql -X -At -c "SELECT pg_cancel_backend(${victim:-0})" >/dev/null
      # the end of the stuck query shows as the victim's next statement
      t1=$(wait_error)
      wait $vpid 2>/dev/null
      judge "$fault:pg_cancel_backend" "$WORK/out" $((t1 - t0)) "canceling statement due to user request"
    else
      kill $vpid 2>/dev/null; wait $vpid 2>/dev/null
      fail "$fault:pg_cancel_backend" "the query never became active"
    fi

    # 3. SIGINT to psql (Ctrl-C): psql sends a cancel request
    if start_victim; then
      t0=$(ms)
      kill -INT $vpid
      t1=$(wait_error)
      wait $vpid 2>/dev/null
      # a non-interactive psql quits after Ctrl-C once the query is cancelled,
      # so reuse is checked in a new session: a normal scan right away
      $M faults null
      judge "$fault:sigint" "$WORK/out" $((t1 - t0)) "canceling statement due to user request" no
      check "$fault:sigint_then_scan" bash -c "psql -X -At -c 'SELECT count(1) FROM jobs' | grep -qx 137"
    else
      kill $vpid 2>/dev/null; wait $vpid 2>/dev/null
      fail "$fault:sigint" "the query never became active"
    fi
  done
  $M faults null

  check_no_crash
  rm -rf "$WORK"
  [ "$FAILS" -eq 0 ]
}
export -f inner

virtualenv bash -c inner
