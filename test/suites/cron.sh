#!/usr/bin/env bash
# A materialized view over a Civis table joined with a local table,
# refreshed on a real pg_cron schedule (Debian's postgresql-15-cron, 1.4:
# minute granularity) in a throwaway cluster with pg_cron preloaded and
# cron.use_background_workers = on.
#
#   1. the mock's data changes; a scheduled REFRESH MATERIALIZED VIEW
#      CONCURRENTLY that started after the change succeeds
#      (cron.job_run_details) and the view shows the change;
#   2. the mock answers 503; a scheduled refresh that started after that
#      fails, says why in cron.job_run_details.return_message, and the view
#      keeps its contents.
#
# Takes two to three minutes (two scheduled runs).  Reports PASS/FAIL lines
# into $RESULTS.
set -uo pipefail
. "$CIVIS_ROOT/scripts/lib.sh"

CRON_DB=civis_cron

inner() {
  set -uo pipefail
  . "$CIVIS_ROOT/scripts/lib.sh"
  cd "$CIVIS_ROOT"
  start_mock --rate-limit 1000000 || { echo "FAIL cron:setup: the mock did not start" >>"$RESULTS"; exit 1; }
  trap stop_mock EXIT

  q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$CRON_DB" "$@"; }
  fail() { echo "FAIL cron:$1: $2" | tee -a "$RESULTS"; }
  pass() { echo "PASS cron:$1" | tee -a "$RESULTS"; }
  mockctl() { python3 test/mock/mockctl.py "$@"; }

  # Wait (at most $2 seconds) for a run of job $1 that started after $3
  # and ended; prints "status|return_message".
  wait_run() {
    local job=$1 limit=$2 after=$3 waited=0 row
    while [ "$waited" -le "$limit" ]; do
      row=$(q -c "SELECT status || '|' || coalesce(return_message, '')
                    FROM cron.job_run_details
                   WHERE jobid = $job AND start_time > '$after'
                     AND status IN ('succeeded', 'failed')
                   ORDER BY start_time LIMIT 1")
      if [ -n "$row" ]; then
        echo "$row"
        return 0
      fi
      sleep 5
      waited=$((waited + 5))
    done
    return 1
  }

  psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $CRON_DB" || {
    fail setup "could not create the database"; exit 1; }
  if ! q <<EOF
SET client_min_messages = warning;
CREATE EXTENSION pg_cron;
CREATE EXTENSION civis_fdw;
CREATE SERVER civis FOREIGN DATA WRAPPER civis_fdw
  OPTIONS (api_url '$CIVIS_MOCK_URL', max_retries '0');
-- the scheduled job runs as its owner: the mapping is that role's
CREATE USER MAPPING FOR CURRENT_USER SERVER civis
  OPTIONS (api_key 'test-key-0123456789');
CREATE SCHEMA civis;
IMPORT FOREIGN SCHEMA civis LIMIT TO (jobs) FROM SERVER civis INTO civis;
CREATE TABLE teams (job_id bigint PRIMARY KEY, team text NOT NULL);
INSERT INTO teams SELECT id, (ARRAY['red', 'green', 'blue'])[id % 3 + 1] FROM civis.jobs;
CREATE MATERIALIZED VIEW team_jobs AS
  SELECT t.team, j.id, j.name, j.state
    FROM teams t JOIN civis.jobs j ON j.id = t.job_id;
CREATE UNIQUE INDEX team_jobs_id ON team_jobs (id);
EOF
  then
    fail setup "could not create the extension, the foreign table or the view"
    exit 1
  fi

  rows=$(q -c "SELECT count(*) FROM team_jobs")
  renamed=$(q -c "SELECT count(*) FROM team_jobs WHERE name LIKE '% (v1)'")
  if [ "$rows" -lt 100 ] || [ "$renamed" -ne 0 ]; then
    fail setup "unexpected view contents before the schedule: $rows rows, $renamed renamed"
    exit 1
  fi
  job=$(q -c "SELECT cron.schedule('refresh-team-jobs', '* * * * *',
                'REFRESH MATERIALIZED VIEW CONCURRENTLY team_jobs')")
  echo "scheduled job $job; the view has $rows rows"
  pass setup

  # 1. the data changes; the next scheduled refresh shows it
  changed_at=$(q -c "SELECT now()")
  mockctl data '{"path": "/jobs/", "action": "rename", "n": 3}' >/dev/null
  echo "renamed 3 jobs in the mock at $changed_at; waiting for a scheduled refresh"
  if ! run=$(wait_run "$job" 150 "$changed_at"); then
    fail scheduled_refresh "no scheduled run finished within 150 s"
    q -c "SELECT jobid, status, return_message, start_time FROM cron.job_run_details" || true
  else
    renamed=$(q -c "SELECT count(*) FROM team_jobs WHERE name LIKE '% (v1)'")
    rows_after=$(q -c "SELECT count(*) FROM team_jobs")
    echo "run: $run; $renamed renamed rows, $rows_after rows"
    if [ "${run%%|*}" = succeeded ] && [ "$renamed" -eq 3 ] && [ "$rows_after" -eq "$rows" ]; then
      pass scheduled_refresh
    else
      fail scheduled_refresh "run: $run; renamed rows: $renamed (want 3), rows: $rows_after (want $rows)"
    fi
  fi

  # 2. the API fails; the scheduled refresh fails, says why, changes nothing
  before=$(q -c "SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM team_jobs t")
  failed_at=$(q -c "SELECT now()")
  mockctl data '{"path": "/jobs/", "action": "rename", "n": 3}' >/dev/null
  mockctl faults '{"path_prefix": "/jobs/", "always": "503"}' >/dev/null
  echo "the mock answers 503 from $failed_at; waiting for a scheduled refresh"
  if ! run=$(wait_run "$job" 150 "$failed_at"); then
    fail failed_refresh "no scheduled run finished within 150 s"
  else
    after=$(q -c "SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM team_jobs t")
    echo "run: $run"
    if [ "${run%%|*}" = failed ] && [[ "$run" == *"503"* ]] && [ "$before" = "$after" ]; then
      pass failed_refresh
    else
      fail failed_refresh "run: $run; contents unchanged: $([ "$before" = "$after" ] && echo yes || echo no)"
    fi
  fi
  mockctl faults null >/dev/null

  q -c "SELECT cron.unschedule($job)" >/dev/null || true
}
if [ "${1:-}" = "--inner" ]; then
  inner
  exit $?
fi
export CRON_DB

# pg_cron runs its jobs in background workers (no libpq connection, no
# password) in the database named by cron.database_name.
virtualenv -o "shared_preload_libraries=pg_cron" \
  -o "cron.database_name=$CRON_DB" \
  -o "cron.use_background_workers=on" \
  -o "max_worker_processes=20" \
  bash "$CIVIS_ROOT/test/suites/cron.sh" --inner
rc=$?
grep -q '^\(PASS\|FAIL\) cron:scheduled_refresh' "$RESULTS" ||
  echo "FAIL cron: the suite did not run (exit $rc)" >>"$RESULTS"
[ $rc -eq 0 ] && ! grep -q '^FAIL cron' "$RESULTS"
