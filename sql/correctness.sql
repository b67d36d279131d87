--
-- correctness: every query shape that returned wrong rows in 1.0.0 (issue
-- "Pushdown never changes a result") returns what it returns with
-- civis_fdw.enable_pushdown = off, or a clear ERROR.  pd_compare runs a
-- query both ways and says whether the rows agree (as a multiset).
--
SET timezone = 'UTC';
CREATE FUNCTION pd_compare(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  n_on bigint; n_off bigint; h_on text; h_off text;
BEGIN
  PERFORM set_config('civis_fdw.enable_pushdown', 'on', true);
  EXECUTE format('SELECT count(1), md5(coalesce(string_agg(t::text, ''|'' ORDER BY t::text), '''')) FROM (%s) t', q)
    INTO n_on, h_on;
  PERFORM set_config('civis_fdw.enable_pushdown', 'off', true);
  EXECUTE format('SELECT count(1), md5(coalesce(string_agg(t::text, ''|'' ORDER BY t::text), '''')) FROM (%s) t', q)
    INTO n_off, h_off;
  PERFORM set_config('civis_fdw.enable_pushdown', 'on', true);
  RETURN CASE WHEN h_on = h_off THEN format('%s rows, same', n_on)
              ELSE format('DIFFERENT: %s rows with pushdown, %s without', n_on, n_off) END;
END $$;

-- 1. An exact condition whose run-time value cannot be sent: NULL, '{}'
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM civis.jobs WHERE author_id = (SELECT NULL::bigint);
SELECT count(1) FROM civis.jobs WHERE author_id = ANY ('{}'::bigint[]);
SELECT count(1) FROM civis.jobs WHERE author_id = ANY ('{NULL,NULL}'::bigint[]);
SELECT count(1) FROM civis.jobs WHERE id = ANY ('{}'::bigint[]);
SELECT count(1) FROM civis.jobs WHERE id = (SELECT NULL::bigint);
\set log `python3 test/mock/mockctl.py log | sort`
\echo 'requests for NULL and empty values (none expected):' :log
SET plan_cache_mode = force_generic_plan;
PREPARE byauthor(bigint) AS SELECT count(1) FROM civis.jobs WHERE author_id = $1;
EXECUTE byauthor(NULL);
EXECUTE byauthor(13);
PREPARE byauthors(bigint[]) AS SELECT count(1) FROM civis.jobs WHERE author_id = ANY ($1);
EXECUTE byauthors('{}');
EXECUTE byauthors('{13,NULL}');
PREPARE byid(bigint) AS SELECT count(1) FROM civis.jobs WHERE id = $1;
EXECUTE byid(NULL);
-- a state outside the documented values, known only at execution: not sent,
-- evaluated by the scan itself although the plan called it exact
PREPARE bystate(text) AS SELECT count(1) FROM civis.jobs WHERE state = $1;
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE bystate('idle');
EXECUTE bystate('idle');
EXECUTE bystate('failed');
SELECT pd_compare($$SELECT id FROM civis.jobs WHERE state = 'failed'$$);
RESET plan_cache_mode;
-- a join whose outer key is NULL pairs with nothing
CREATE TEMP TABLE people (name text, uid bigint);
INSERT INTO people VALUES ('nobody', NULL), ('thirteen', 13);
SET enable_hashjoin = off; SET enable_mergejoin = off;
SELECT p.name, count(j.id) FROM people p JOIN civis.jobs j ON j.author_id = p.uid GROUP BY p.name ORDER BY 1;
RESET enable_hashjoin; RESET enable_mergejoin;
SELECT pd_compare($$SELECT p.name, j.id FROM people p JOIN civis.jobs j ON j.author_id = p.uid$$);
-- cursor starts
PREPARE logs_after(bigint) AS SELECT count(1) FROM civis.jobs_runs_logs WHERE job_id = 7 AND run_id = 71 AND id > $1;
SET plan_cache_mode = force_generic_plan;
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE logs_after(5);
EXECUTE logs_after(NULL);
EXECUTE logs_after(9223372036854775807);
PREPARE logs_from(bigint) AS SELECT count(1) FROM civis.jobs_runs_logs WHERE job_id = 7 AND run_id = 71 AND id >= $1;
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE logs_from(5);
RESET plan_cache_mode;
SELECT pd_compare($$SELECT id FROM civis.jobs_runs_logs WHERE job_id = 7 AND run_id = 71 AND id >= -9223372036854775808$$);
SELECT pd_compare($$SELECT id FROM civis.jobs_runs_logs WHERE job_id = 7 AND run_id = 71 AND id > -5$$);
SELECT count(1) FROM civis.jobs_runs_logs WHERE job_id = 7 AND run_id = 71 AND id > 9223372036854775807;
-- values lists with spaces and commas: one reading everywhere
SELECT pd_compare($$SELECT id FROM civis.jobs WHERE state IN ('failed', 'running')$$);
SELECT pd_compare($$SELECT id FROM civis.credentials WHERE type IN ('Database', 'a,b')$$);
-- infinity has no API form
SELECT pd_compare($$SELECT id FROM civis.queries WHERE created_at > '-infinity'$$);

-- 2. ORDER BY / LIMIT across a fan-out
SELECT pd_compare($$SELECT id FROM civis.jobs_runs WHERE job_id IN (406, 421) ORDER BY id$$);
SELECT id FROM civis.jobs_runs WHERE job_id IN (406, 421) ORDER BY id DESC LIMIT 3;
SET civis_fdw.enable_pushdown = off;
SELECT id FROM civis.jobs_runs WHERE job_id IN (406, 421) ORDER BY id DESC LIMIT 3;
RESET civis_fdw.enable_pushdown;
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM civis.jobs_runs WHERE job_id IN (406, 421) ORDER BY id LIMIT 5 OFFSET 7;
SELECT pd_compare($$SELECT id FROM civis.jobs_runs WHERE job_id IN (406, 421) ORDER BY id LIMIT 5 OFFSET 7$$);

-- 3. Time zones: timestamp and date values mean the session's instants
SET timezone = 'Asia/Tokyo';
SELECT pd_compare($$SELECT id FROM civis.queries WHERE created_at > (SELECT created_at::timestamp FROM civis.queries ORDER BY id LIMIT 1)$$);
SELECT pd_compare($$SELECT id FROM civis.queries WHERE created_at >= (SELECT created_at::date FROM civis.queries ORDER BY id LIMIT 1)$$);
SELECT pd_compare($$SELECT id FROM civis.queries WHERE created_at < (SELECT created_at::timestamp FROM civis.queries ORDER BY id LIMIT 1 OFFSET 5)$$);
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM civis.queries WHERE created_at > '2024-01-08 09:00:00'::timestamp;
SET timezone = 'Pacific/Chatham';
SELECT pd_compare($$SELECT id FROM civis.queries WHERE created_at <= (SELECT created_at::date + 1 FROM civis.queries ORDER BY id LIMIT 1 OFFSET 3)$$);
SET timezone = 'UTC';
-- a bound one microsecond past a stored instant: both readings of the API's
-- bounds must keep the row that SQL keeps
SELECT pd_compare($$SELECT id FROM civis.queries WHERE created_at >= (SELECT created_at - interval '1 microsecond' FROM civis.queries ORDER BY id LIMIT 1)$$);
SELECT pd_compare($$SELECT id FROM civis.queries WHERE created_at <= (SELECT created_at FROM civis.queries ORDER BY id LIMIT 1)$$);

-- 4. OR on one column is one IN; other ORs on parameter-only columns are errors
SELECT pd_compare($$SELECT id, q FROM civis.jobs WHERE q = 'alpha' OR q = 'bravo'$$);
SELECT (SELECT count(1) FROM civis.jobs WHERE q = 'alpha' OR q = 'bravo') =
       (SELECT count(1) FROM civis.jobs WHERE q IN ('alpha', 'bravo')) AS or_is_in;
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM civis.jobs WHERE hidden OR NOT hidden;
SELECT pd_compare($$SELECT id, hidden FROM civis.jobs WHERE hidden OR NOT hidden$$);
SELECT pd_compare($$SELECT id FROM civis.models WHERE status = 'failed' OR status = 'running'$$);
SELECT id FROM civis.jobs WHERE q = 'alpha' OR state = 'failed';
SELECT id FROM civis.jobs WHERE q IS NULL;
SELECT pd_compare($$SELECT job_id, id FROM civis.jobs_runs WHERE job_id = 7 OR job_id = 406$$);

-- 5. Scope: every access path returns the same rows (hidden jobs are not
-- listed unless asked for, so get-by-id drops them too)
CREATE TEMP TABLE all_ids AS
  SELECT id, hidden FROM civis.jobs WHERE hidden OR NOT hidden;
SELECT count(1) FILTER (WHERE hidden) > 0 AS some_hidden FROM all_ids;
SELECT pd_compare($$SELECT id FROM civis.jobs WHERE id IN (SELECT id FROM all_ids ORDER BY id LIMIT 50)$$);
SELECT pd_compare($$SELECT id FROM civis.jobs WHERE id = ANY (ARRAY(SELECT id FROM all_ids ORDER BY id LIMIT 80))$$);
SELECT (SELECT count(1) FROM civis.jobs WHERE id = ANY (ARRAY(SELECT id FROM all_ids ORDER BY id LIMIT 50))) AS by_id,
       (SELECT count(1) FROM civis.jobs WHERE id <= (SELECT max(id) FROM (SELECT id FROM all_ids ORDER BY id LIMIT 50) s)) AS by_listing;
CREATE TEMP TABLE wanted AS SELECT id AS job_id FROM all_ids ORDER BY id LIMIT 60;
SET enable_hashjoin = off; SET enable_mergejoin = off;
SELECT count(1) FROM wanted w JOIN civis.jobs j ON j.id = w.job_id;
RESET enable_hashjoin; RESET enable_mergejoin;
SET enable_nestloop = off;
SELECT count(1) FROM wanted w JOIN civis.jobs j ON j.id = w.job_id;
RESET enable_nestloop;
SELECT count(1) FROM civis.jobs WHERE id = (SELECT min(id) FROM all_ids WHERE hidden);
SELECT count(1) FROM civis.jobs WHERE id = (SELECT min(id) FROM all_ids WHERE hidden) AND hidden;

-- 6. LATERAL references from the plain path
CREATE TEMP TABLE u (x int);
INSERT INTO u VALUES (1), (2);
SELECT u.x, s.y, s.n FROM u LEFT JOIN LATERAL
  (SELECT u.x AS y, count(1) AS n FROM civis.jobs j WHERE j.author_id = 13) s ON true ORDER BY 1;
SELECT count(1), count(s.y) FROM u LEFT JOIN LATERAL (SELECT u.x AS y, j.* FROM civis.jobs j) s ON true;

-- 7. Smaller: a parameter-only timestamptz echoes its own value; LIMIT near
-- the int8 maximum; the pushdown switch drops cached plans
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM (SELECT id FROM civis.jobs LIMIT 9223372036854775807 OFFSET 100) s;
\set log `python3 test/mock/mockctl.py log | wc -l`
\echo 'requests:' :log
PREPARE by_state2 AS SELECT count(1) FROM civis.jobs WHERE state = 'failed';
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE by_state2;
SET civis_fdw.enable_pushdown = off;
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE by_state2;
RESET civis_fdw.enable_pushdown;
-- a 200,000-element = ANY is handled in well under a second
SET statement_timeout = '5s';
SELECT count(1) FROM civis.jobs WHERE author_id = ANY (ARRAY(SELECT generate_series(1, 200000)::bigint));
RESET statement_timeout;
-- the scan's own recheck: an exact condition whose run-time value is too
-- long a list for a URL is evaluated by the scan, and a pushed LIMIT is
-- then counted over the rows that pass
SET plan_cache_mode = force_generic_plan;
PREPARE many_authors(bigint[]) AS SELECT id FROM civis.jobs WHERE author_id = ANY ($1) ORDER BY id LIMIT 5;
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE many_authors('{13}');
SELECT array_agg(g)::text AS big FROM generate_series(13, 20013) g \gset
EXECUTE many_authors(:'big');
EXECUTE many_authors('{13}');
PREPARE many_authors_all(bigint[]) AS SELECT id FROM civis.jobs WHERE author_id = ANY ($1);
CREATE FUNCTION pg_temp.removed(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (ANALYZE, VERBOSE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
    IF line ~ 'Removed by Runtime Recheck' THEN RETURN trim(line); END IF;
  END LOOP;
  RETURN 'no rows removed by the runtime recheck';
END $$;
SELECT pg_temp.removed(format('EXECUTE many_authors_all(%L)', :'big'));
SELECT pg_temp.removed($$EXECUTE many_authors_all('{13}')$$);
RESET plan_cache_mode;
SELECT (SELECT array_agg(id ORDER BY id) FROM (SELECT id FROM civis.jobs WHERE author_id >= 13 AND author_id <= 20013 ORDER BY id LIMIT 5) s)
     = (SELECT array_agg(id ORDER BY id) FROM (SELECT id FROM civis.jobs WHERE author_id = ANY (ARRAY(SELECT generate_series(13, 20013)::bigint)) ORDER BY id LIMIT 5) s)
       AS limited_after_recheck;
-- the remote estimate runs as the user the scan runs as: through a view,
-- its owner (whose user mapping exists), not the caller (who has none)
\getenv mock_url CIVIS_MOCK_URL
CREATE SERVER civis_est FOREIGN DATA WRAPPER civis_fdw
  OPTIONS (api_url :'mock_url', use_remote_estimate 'true');
CREATE ROLE regress_est_owner;
CREATE ROLE regress_est_reader;
CREATE USER MAPPING FOR regress_est_owner SERVER civis_est OPTIONS (api_key 'test-key-0123456789');
CREATE FOREIGN TABLE est_jobs (id bigint, state text)
  SERVER civis_est OPTIONS (endpoint '/jobs/', paging 'pages', page_size '50');
GRANT SELECT ON est_jobs TO regress_est_owner;
CREATE VIEW est_view AS SELECT id, state FROM est_jobs;
ALTER VIEW est_view OWNER TO regress_est_owner;
GRANT SELECT ON est_view TO regress_est_reader;
\set _ `python3 test/mock/mockctl.py mark`
SET ROLE regress_est_reader;
SELECT count(1) > 0 AS has_rows FROM est_view;
RESET ROLE;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
DROP VIEW est_view;
DROP FOREIGN TABLE est_jobs;
DROP USER MAPPING FOR regress_est_owner SERVER civis_est;
DROP SERVER civis_est;
DROP ROLE regress_est_owner;
DROP ROLE regress_est_reader;
-- found by the fuzzer (seed 1, query 253): an OR of = arms of different
-- integer types on a path column is one IN
SELECT pd_compare($$SELECT job_id, run_id, id FROM civis.jobs_runs_logs WHERE job_id = 7 AND (run_id = 71::bigint OR run_id = 71 OR run_id = 3::smallint)$$);
-- found by the fuzzer (seed 1, query 1388): window paging whose boundary
-- instant holds several entries, which the API (and the mock) returns in
-- any order: small windows give exactly the rows of one big window
CREATE FUNCTION pg_temp.window_rows(size int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE h text;
BEGIN
  EXECUTE format('ALTER FOREIGN TABLE civis.notebooks_deployments_logs OPTIONS (SET page_size %L)', size);
  SELECT count(*) || ' rows, ' || md5(string_agg(t::text, '|' ORDER BY t::text)) INTO h
    FROM civis.notebooks_deployments_logs t WHERE notebook_id IN (7, 2) AND deployment_id IN (7, 4);
  RETURN h;
END $$;
SELECT pg_temp.window_rows(3) = pg_temp.window_rows(10000) AS small_windows_same_rows,
       pg_temp.window_rows(2) = pg_temp.window_rows(10000) AS tiny_windows_same_rows;
ALTER FOREIGN TABLE civis.notebooks_deployments_logs OPTIONS (SET page_size '10000');
-- found by the fuzzer (seed 1, queries 107 and 578): OR arms mixing a
-- constant and a run-time value of different integer types on a path column
SELECT pd_compare($$SELECT job_id, run_id, id FROM civis.jobs_runs_logs WHERE job_id = 7 AND (run_id = 71::bigint OR run_id = (SELECT 3))$$);
SELECT pd_compare($$SELECT job_id, run_id, id FROM civis.jobs_runs_logs WHERE job_id = 7 AND (run_id = 3::bigint OR run_id = (CASE WHEN now() IS NOT NULL THEN 71 END))$$);
-- found by the fuzzer (seed 4, query 524): a condition folded to NULL gates
-- the scan off; a missing path parameter is then no error, and no row
SELECT count(*) FROM civis.jobs_runs_logs t WHERE t.job_id IN ((SELECT 7::bigint)) AND t.run_id = NULL::bigint;
-- a parameter-only timestamptz column echoes the condition's own value: a
-- millisecond value comes back equal to the WHERE clause; one with
-- microseconds cannot be sent as it is (the API keeps milliseconds): ERROR
CREATE FOREIGN TABLE echo_since (id bigint, since timestamptz OPTIONS (param 'created_after', param_only 'true'))
  SERVER civis OPTIONS (endpoint '/queries/', paging 'pages', page_size '50');
SELECT count(*) > 0 AS has_rows, bool_and(since = '2024-01-05 10:00:00.123+00') AS echo_equals_where
  FROM echo_since WHERE since = '2024-01-05 10:00:00.123+00';
SELECT count(*) FROM echo_since WHERE since = '2024-01-05 10:00:00.123456+00';
DROP FOREIGN TABLE echo_since;
