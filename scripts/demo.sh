#!/usr/bin/env bash
# A tour of civis_fdw on this machine (Debian 12, as root or with sudo):
# installs missing Debian packages, builds with warnings as errors, installs,
# then, in a throwaway PostgreSQL cluster, imports the bundled mock Civis
# API (sample data, no network, no API key needed) and runs a handful of
# queries, printing each query, its plan where that is the point, and its
# result.  Ends with one summary line; exits non-zero on any failure.
#
#   sudo bash scripts/demo.sh
set -euo pipefail
CIVIS_ROOT=$(cd "$(dirname "$0")/.." && pwd)
export CIVIS_ROOT
cd "$CIVIS_ROOT"
. scripts/lib.sh

build_and_install

# Runs inside the throwaway cluster (pg_virtualenv sets PGHOST, PGPORT, ...).
demo() {
  set -euo pipefail
  . "$CIVIS_ROOT/scripts/lib.sh"
  echo "== starting the mock Civis API (sample data)"
  start_mock
  trap stop_mock EXIT
  echo "   listening on $CIVIS_MOCK_URL"
  echo

  psql -X -q -e -v ON_ERROR_STOP=1 -P pager=off -v mock_url="$CIVIS_MOCK_URL" <<'SQL'
\set QUIET on
SET timezone = 'UTC';
SET datestyle = 'ISO';

\echo '== 1. Set up: extension, server, user mapping, IMPORT FOREIGN SCHEMA'
CREATE EXTENSION civis_fdw;
CREATE SERVER civis FOREIGN DATA WRAPPER civis_fdw OPTIONS (api_url :'mock_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER civis OPTIONS (api_key 'test-key-0123456789');
CREATE SCHEMA civis;
IMPORT FOREIGN SCHEMA civis FROM SERVER civis INTO civis;
SELECT count(*) AS imported_tables
  FROM information_schema.foreign_tables WHERE foreign_table_schema = 'civis';

\echo
\echo '== 2. A listing: JSON fields become typed columns (author is jsonb)'
SELECT id, name, state, author->>'name' AS author FROM civis.jobs ORDER BY id LIMIT 5;

\echo
\echo '== 3. A path parameter is a column: /jobs/{id}/runs is civis.jobs_runs(job_id, ...)'
SELECT job_id, id, state, started_at FROM civis.jobs_runs WHERE job_id = 406 ORDER BY id LIMIT 5;

\echo
\echo '== 4. Filters go to the API: EXPLAIN VERBOSE shows the exact request'
\echo '   (author_id is exact and leaves the local filter; state is rechecked locally)'
EXPLAIN (VERBOSE, COSTS OFF)
  SELECT id, name, state FROM civis.jobs WHERE author_id = 13 AND state = 'running';
SELECT id, name, state FROM civis.jobs WHERE author_id = 13 AND state = 'running' ORDER BY id;

\echo
\echo '== 5. Get by id: one request to the detail endpoint, not a listing'
EXPLAIN (VERBOSE, COSTS OFF) SELECT id, name, state FROM civis.jobs WHERE id = 406;
SELECT id, name, state FROM civis.jobs WHERE id = 406;

\echo
\echo '== 6. ORDER BY ... LIMIT pushed down: one request for exactly the rows needed'
EXPLAIN (VERBOSE, COSTS OFF) SELECT id, name FROM civis.jobs ORDER BY id DESC LIMIT 3;
SELECT id, name FROM civis.jobs ORDER BY id DESC LIMIT 3;

\echo
\echo '== 7. A join with a local table: a nested loop, one request per outer row'
CREATE TEMP TABLE watched (job_id bigint PRIMARY KEY, note text);
INSERT INTO watched VALUES (406, 'nightly load'), (415, 'weekly report'), (420, 'ad hoc');
ANALYZE watched;
EXPLAIN (VERBOSE, COSTS OFF)
  SELECT w.job_id, w.note, count(*) AS runs, max(r.finished_at) AS last_finished
    FROM watched w JOIN civis.jobs_runs r ON r.job_id = w.job_id
   GROUP BY w.job_id, w.note ORDER BY w.job_id;
SELECT w.job_id, w.note, count(*) AS runs, max(r.finished_at) AS last_finished
  FROM watched w JOIN civis.jobs_runs r ON r.job_id = w.job_id
 GROUP BY w.job_id, w.note ORDER BY w.job_id;

\echo
\echo '== 8. EXPLAIN ANALYZE: what the network did'
EXPLAIN (ANALYZE, VERBOSE, COSTS OFF, TIMING OFF, SUMMARY OFF)
  SELECT count(*) FROM civis.jobs;

\echo
\echo '== 9. A materialized view: a local snapshot of API data, refreshed on demand'
CREATE MATERIALIZED VIEW job_states AS
  SELECT state, count(*) AS jobs, count(*) FILTER (WHERE archived) AS archived
    FROM civis.jobs GROUP BY state;
SELECT * FROM job_states ORDER BY jobs DESC, state;
REFRESH MATERIALIZED VIEW job_states;
SELECT sum(jobs) AS jobs_after_refresh FROM job_states;

\echo
SELECT civis_fdw_version();
SQL

  local tables requests
  tables=$(psql -X -A -t -v ON_ERROR_STOP=1 -c \
    "SELECT count(*) FROM information_schema.foreign_tables WHERE foreign_table_schema = 'civis'")
  requests=$(python3 "$CIVIS_ROOT/test/mock/mockctl.py" count)
  echo "demo OK: $tables foreign tables imported, 9 steps run, $requests API requests answered by the mock" >"$DEMO_SUMMARY"
}
export -f demo

DEMO_SUMMARY=$(mktemp)
export DEMO_SUMMARY
trap 'rm -f "$DEMO_SUMMARY"' EXIT
if virtualenv bash -c demo && [ -s "$DEMO_SUMMARY" ]; then
  echo
  cat "$DEMO_SUMMARY"
else
  echo
  echo "demo FAILED (see the first error above)"
  exit 1
fi
