#!/usr/bin/env bash
# Memory leak check of civis_fdw (not part of CI: about a minute).
#
#   bash scripts/leakcheck.sh [SCANS [FAILING]]     defaults 10000 and 1000
#
# In a throwaway cluster against the mock: pgbench -n -c1 -t SCANS runs
# successful scans in one backend (a detail GET and a 17-row listing, every
# column decoded), then pgbench -n -c1 -t FAILING runs failing scans in
# another backend (broken JSON, HTTP 401, a refused connection, a body over
# max_response_bytes), each caught in an exception block.  About every 50th
# transaction records the backend's RssAnon (/proc/PID/status) and the sum of
# total_bytes of pg_backend_memory_contexts.  Prints first and last samples
# after a warm-up and fails if either grew by more than LEAK_LIMIT_KB
# (default 1024 kB).  Needs the extension installed (scripts/test.sh does it).
set -uo pipefail
CIVIS_ROOT=$(cd "$(dirname "$0")/.." && pwd)
export CIVIS_ROOT
export SCANS=${1:-10000} FAILING=${2:-1000} LEAK_LIMIT_KB=${LEAK_LIMIT_KB:-1024}
. "$CIVIS_ROOT/scripts/lib.sh"

inner() {
  set -uo pipefail
  . "$CIVIS_ROOT/scripts/lib.sh"
  start_mock --rate-limit 1000000000 || exit 1
  trap stop_mock EXIT
  cd "$CIVIS_ROOT"
  W=$(mktemp -d)
  psql -X -q -v ON_ERROR_STOP=1 <<SQL || exit 1
CREATE EXTENSION civis_fdw;
CREATE SERVER civis FOREIGN DATA WRAPPER civis_fdw
  OPTIONS (api_url '$CIVIS_MOCK_URL', max_retries '0');
CREATE SERVER small FOREIGN DATA WRAPPER civis_fdw
  OPTIONS (api_url '$CIVIS_MOCK_URL', max_retries '0', max_response_bytes '20000');
CREATE USER MAPPING FOR CURRENT_USER SERVER small OPTIONS (api_key 'test-key-0123456789');
CREATE USER MAPPING FOR CURRENT_USER SERVER civis OPTIONS (api_key 'test-key-0123456789');
CREATE SERVER wrong FOREIGN DATA WRAPPER civis_fdw OPTIONS (api_url '$CIVIS_MOCK_URL', max_retries '0');
CREATE USER MAPPING FOR CURRENT_USER SERVER wrong OPTIONS (api_key 'dummy-wrong-key');
CREATE SCHEMA civis;
IMPORT FOREIGN SCHEMA civis LIMIT TO (jobs, remote_hosts_data_sets, databases)
  FROM SERVER civis INTO civis;
CREATE FOREIGN TABLE wrong_jobs (id bigint) SERVER wrong OPTIONS (endpoint '/jobs/');
CREATE SERVER gone FOREIGN DATA WRAPPER civis_fdw OPTIONS (api_url 'http://127.0.0.1:9', max_retries '0');
CREATE USER MAPPING FOR CURRENT_USER SERVER gone OPTIONS (api_key 'test-key-0123456789');
CREATE FOREIGN TABLE unreachable (id bigint) SERVER gone OPTIONS (endpoint '/jobs/', paging 'pages', page_size '50');
CREATE FOREIGN TABLE big_jobs (id bigint, name text) SERVER small
  OPTIONS (endpoint '/jobs/', paging 'pages', page_size '50');
CREATE TABLE memlog (phase text, at timestamptz, pid int, context_bytes bigint, rss_anon_kb bigint);
CREATE FUNCTION sample(phase text) RETURNS void LANGUAGE sql AS \$\$
  INSERT INTO memlog SELECT phase, clock_timestamp(), pg_backend_pid(),
    (SELECT sum(total_bytes) FROM pg_backend_memory_contexts),
    (regexp_match(pg_read_file('/proc/' || pg_backend_pid() || '/status'), 'RssAnon:\s+(\d+)'))[1]::bigint
\$\$;
CREATE FUNCTION fail_scan(n int) RETURNS void LANGUAGE plpgsql AS \$\$
BEGIN
  CASE n % 4
    WHEN 0 THEN PERFORM sum(length(t::text)) FROM civis.databases t;   -- malformed JSON
    WHEN 1 THEN PERFORM count(*) FROM wrong_jobs;                      -- 401
    WHEN 2 THEN PERFORM sum(id) FROM big_jobs;                         -- over max_response_bytes
    ELSE PERFORM count(*) FROM unreachable;                            -- connection refused
  END CASE;
  RAISE EXCEPTION 'scan % did not fail', n USING ERRCODE = 'P0009';
EXCEPTION WHEN OTHERS THEN
  IF SQLSTATE = 'P0009' THEN RAISE; END IF;
END \$\$;
SQL
  cat >"$W/scan.sql" <<'SQL'
\set r random(1, 50)
SELECT sum(length(t::text)) FROM civis.jobs t WHERE id = 406;
SELECT sum(length(t::text)) FROM civis.remote_hosts_data_sets t WHERE remote_host_id = 3;
\if :r = 1
SELECT sample('scans');
\endif
SQL
  cat >"$W/fail.sql" <<'SQL'
\set r random(1, 50)
\set n random(0, 3)
SELECT fail_scan(:n);
\if :r = 1
SELECT sample('failing');
\endif
SQL
  echo "== $SCANS scans (2 requests each) in one backend"
  pgbench -n -c1 -t "$SCANS" -f "$W/scan.sql" 2>&1 | grep -E "processed|tps|latency average|error" || exit 1
  # /databases/ answers broken JSON; the other failing tables fail by themselves
  python3 test/mock/mockctl.py faults '{"path_prefix": "/databases/", "always": "malformed"}'
  echo "== $FAILING failing scans in one backend"
  pgbench -n -c1 -t "$FAILING" -f "$W/fail.sql" 2>&1 | grep -E "processed|tps|latency average|error" || exit 1
  python3 test/mock/mockctl.py faults null
  psql -X <<'SQL'
\pset footer off
WITH s AS (
  SELECT phase, at, context_bytes, rss_anon_kb,
         row_number() OVER (PARTITION BY phase ORDER BY at) AS k,
         count(*) OVER (PARTITION BY phase) AS n
    FROM memlog
), w AS (                      -- skip the first fifth: warm-up (caches, libcurl)
  SELECT * FROM s WHERE k > n / 5
)
SELECT phase, count(*) AS samples,
       (array_agg(rss_anon_kb ORDER BY at))[1] AS rss_anon_kb_first,
       (array_agg(rss_anon_kb ORDER BY at DESC))[1] AS rss_anon_kb_last,
       (array_agg(context_bytes ORDER BY at))[1] AS context_bytes_first,
       (array_agg(context_bytes ORDER BY at DESC))[1] AS context_bytes_last,
       max(context_bytes) AS context_bytes_max
  FROM w GROUP BY phase ORDER BY phase DESC;
SQL
  verdict=$(psql -X -At -v limit="$LEAK_LIMIT_KB" <<'SQL'
WITH s AS (
  SELECT phase, at, context_bytes, rss_anon_kb,
         row_number() OVER (PARTITION BY phase ORDER BY at) AS k,
         count(*) OVER (PARTITION BY phase) AS n
    FROM memlog
), w AS (SELECT * FROM s WHERE k > n / 5),
g AS (
  SELECT phase,
         (array_agg(rss_anon_kb ORDER BY at DESC))[1] - (array_agg(rss_anon_kb ORDER BY at))[1] AS rss_growth_kb,
         ((array_agg(context_bytes ORDER BY at DESC))[1] - (array_agg(context_bytes ORDER BY at))[1]) / 1024 AS ctx_growth_kb,
         count(*) AS samples
    FROM w GROUP BY phase
)
SELECT CASE WHEN count(*) = 2 AND bool_and(rss_growth_kb <= :limit AND ctx_growth_kb <= :limit AND samples >= 3)
            THEN 'flat' ELSE 'GROWING' END
  FROM g;
SQL
)
  echo "verdict: $verdict (limit ${LEAK_LIMIT_KB} kB growth after warm-up)"
  rm -rf "$W"
  [ "$verdict" = flat ]
}
export -f inner

virtualenv bash -c inner
