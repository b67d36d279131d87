--
-- joins: local tables joined with Civis tables, and what the planner knows.
--
-- Every join shape is shown with EXPLAIN VERBOSE (the request template, $n
-- or the outer column where a value comes from the outer side) and with the
-- mock's request log: one request per outer row where a join supplies a
-- path parameter or an id.  Then sizes and costs (the nested loop against
-- the hash join over one listing), ANALYZE, use_remote_estimate, and a
-- materialized view refreshed concurrently, also when the API fails.
--
-- The tables are imported into a schema of their own from a server of
-- their own, so that their options and statistics touch no other test.
--
\getenv mock_url CIVIS_MOCK_URL
SET timezone = 'UTC';
SET client_min_messages = warning;
\set mockctl 'python3 test/mock/mockctl.py'
\set _ `python3 test/mock/mockctl.py reset`
CREATE SERVER civis_joins FOREIGN DATA WRAPPER civis_fdw
  OPTIONS (api_url :'mock_url', max_retries '0');
CREATE USER MAPPING FOR CURRENT_USER SERVER civis_joins
  OPTIONS (api_key 'test-key-0123456789');
CREATE SCHEMA joins;
IMPORT FOREIGN SCHEMA civis LIMIT TO (jobs, jobs_runs)
  FROM SERVER civis_joins INTO joins;
SET search_path = joins, public;
-- EXPLAIN ANALYZE without the lines that depend on timing; BUFFERS OFF
-- and actual rows rounded to whole rows as 15 to 17 show them (18 turns
-- BUFFERS on by default and shows rows=32.80)
CREATE FUNCTION explain_filter(query text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
  ln text;
  m text[];
BEGIN
  FOR ln IN EXECUTE 'EXPLAIN (ANALYZE, VERBOSE, BUFFERS OFF, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || query
  LOOP
    CONTINUE WHEN ln ~ 'Civis (Network Wait|Slowest Request|Bytes Received|Peak In Flight|Fetched Ahead Unused|Retries)';
    ln := regexp_replace(ln, 'Memory Usage: \d+kB', 'Memory Usage: NkB');
    m := regexp_match(ln, 'actual rows=(\d+\.\d+)');
    IF m IS NOT NULL THEN
      ln := replace(ln, 'actual rows=' || m[1], 'actual rows=' || round(m[1]::numeric));
    END IF;
    RETURN NEXT ln;
  END LOOP;
END
$$;
-- the estimated rows of a query's top plan node
CREATE FUNCTION estimated_rows(query text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  plan json;
BEGIN
  EXECUTE 'EXPLAIN (FORMAT JSON) ' || query INTO plan;
  RETURN (plan -> 0 -> 'Plan' ->> 'Plan Rows')::bigint;
END
$$;
-- five jobs that exist in the mock
CREATE TABLE my_jobs (job_id bigint PRIMARY KEY);
INSERT INTO my_jobs VALUES (406), (421), (450), (453), (472);
ANALYZE my_jobs;

--
-- 1. A local table joined to a table whose endpoint has a path parameter:
--    GET /jobs/{id}/runs once per outer row, a nested loop.
--
EXPLAIN (VERBOSE, COSTS OFF)
SELECT m.job_id, r.id, r.state
  FROM my_jobs m JOIN jobs_runs r ON r.job_id = m.job_id;
\set _ `python3 test/mock/mockctl.py mark`
SELECT m.job_id, count(1) AS runs, min(r.id) AS first_run, max(r.id) AS last_run
  FROM my_jobs m JOIN jobs_runs r ON r.job_id = m.job_id
 GROUP BY m.job_id ORDER BY m.job_id;
\set log `python3 test/mock/mockctl.py log`
\echo :log
-- the same rows as the five jobs' runs fetched by a fan-out
SELECT (SELECT count(1) FROM my_jobs m JOIN jobs_runs r ON r.job_id = m.job_id) =
       (SELECT count(1) FROM jobs_runs WHERE job_id IN (406, 421, 450, 453, 472)) AS same_rows;
-- rescans: one scan node, five loops, five requests on the same transport
SELECT * FROM explain_filter('SELECT r.id FROM my_jobs m JOIN jobs_runs r ON r.job_id = m.job_id');
-- the join written in WHERE, and through an equivalence class (m = x = r)
EXPLAIN (VERBOSE, COSTS OFF)
SELECT count(1) FROM my_jobs m, jobs_runs r WHERE r.job_id = m.job_id AND m.job_id < 450;
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM my_jobs m, jobs_runs r WHERE r.job_id = m.job_id AND m.job_id < 450;
\set log `python3 test/mock/mockctl.py log`
\echo :log
-- LEFT JOIN: a NULL outer value sends nothing, a job that does not exist
-- (404) has no runs
CREATE TABLE odd_jobs (job_id bigint);
INSERT INTO odd_jobs VALUES (406), (NULL), (0);
\set _ `python3 test/mock/mockctl.py mark`
SELECT o.job_id, count(r.id) AS runs
  FROM odd_jobs o LEFT JOIN jobs_runs r ON r.job_id = o.job_id
 GROUP BY o.job_id ORDER BY o.job_id NULLS LAST;
\set log `python3 test/mock/mockctl.py log`
\echo :log

--
-- 2. LATERAL: the latest run of each job, one request per job.
--
EXPLAIN (VERBOSE, COSTS OFF)
SELECT m.job_id, r.id AS latest_run, r.state
  FROM my_jobs m
 CROSS JOIN LATERAL (SELECT * FROM jobs_runs r WHERE r.job_id = m.job_id
                      ORDER BY id DESC LIMIT 1) r;
\set _ `python3 test/mock/mockctl.py mark`
SELECT m.job_id, r.id AS latest_run, r.state
  FROM my_jobs m
 CROSS JOIN LATERAL (SELECT * FROM jobs_runs r WHERE r.job_id = m.job_id
                      ORDER BY id DESC LIMIT 1) r
 ORDER BY m.job_id;
\set log `python3 test/mock/mockctl.py log`
\echo :log

--
-- 3. Two foreign tables: the failed jobs filtered by the API, then the runs
--    of each of them.
--
EXPLAIN (VERBOSE, COSTS OFF)
SELECT j.id, j.name, r.id AS run_id
  FROM jobs j JOIN jobs_runs r ON r.job_id = j.id
 WHERE j.state = 'failed';
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(DISTINCT j.id) AS failed_jobs, count(1) AS runs
  FROM jobs j JOIN jobs_runs r ON r.job_id = j.id
 WHERE j.state = 'failed';
\set log `python3 test/mock/mockctl.py log`
\echo :log

--
-- 4. IN and = ANY on a path parameter: one request per distinct value.
--
EXPLAIN (VERBOSE, COSTS OFF)
SELECT job_id, count(1) FROM jobs_runs WHERE job_id IN (406, 421, 406, NULL) GROUP BY job_id;
\set _ `python3 test/mock/mockctl.py mark`
SELECT job_id, count(1) FROM jobs_runs WHERE job_id IN (406, 421, 406, NULL)
 GROUP BY job_id ORDER BY job_id;
\set log `python3 test/mock/mockctl.py log | LC_ALL=C sort`
\echo :log
-- an array known only at execution
PREPARE runs_of(bigint[]) AS
  SELECT job_id, count(1) FROM jobs_runs WHERE job_id = ANY ($1) GROUP BY job_id ORDER BY job_id;
SET plan_cache_mode = force_generic_plan;
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE runs_of('{450,453}');
\set _ `python3 test/mock/mockctl.py mark`
EXECUTE runs_of('{450,453}');
EXECUTE runs_of('{472}');
\set log `python3 test/mock/mockctl.py log | LC_ALL=C sort`
\echo :log
RESET plan_cache_mode;
DEALLOCATE runs_of;
-- a subquery: a semi join, one request per value
EXPLAIN (VERBOSE, COSTS OFF)
SELECT count(1) FROM jobs_runs r WHERE r.job_id IN (SELECT job_id FROM my_jobs WHERE job_id > 450);
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM jobs_runs r WHERE r.job_id IN (SELECT job_id FROM my_jobs WHERE job_id > 450);
\set log `python3 test/mock/mockctl.py log`
\echo :log

--
-- 5. Nothing supplies the path parameter: the disabled plain path is all
--    there is, and it says what is missing, before any request.
--
\set _ `python3 test/mock/mockctl.py mark`
SELECT * FROM jobs_runs;
SELECT * FROM jobs_runs WHERE state = 'failed';
-- an inequality cannot supply a path value
SELECT count(1) FROM my_jobs m JOIN jobs_runs r ON r.job_id > m.job_id;
\set log `python3 test/mock/mockctl.py log`
\echo 'requests:' :log

--
-- 6. Get-by-id against the listing: the planner's choice follows the size
--    of the local side.  jobs is given the size of a large account
--    (default_rows), which is what ANALYZE or use_remote_estimate would
--    say of one: 100,000 jobs are 2,000 pages.
--
ALTER FOREIGN TABLE jobs OPTIONS (ADD default_rows '100000');
-- 5 local rows: a nested loop, GET /jobs/{id} per row
EXPLAIN (VERBOSE, COSTS OFF)
SELECT m.job_id, j.name, j.state FROM my_jobs m JOIN jobs j ON j.id = m.job_id;
\set _ `python3 test/mock/mockctl.py mark`
SELECT m.job_id, j.name, j.state FROM my_jobs m JOIN jobs j ON j.id = m.job_id ORDER BY m.job_id;
\set log `python3 test/mock/mockctl.py log`
\echo :log
-- 5,000 local rows: 5,000 requests cost more than one listing, a hash join
CREATE TABLE many_jobs (job_id bigint PRIMARY KEY);
INSERT INTO many_jobs SELECT g FROM generate_series(1, 5000) g;
ANALYZE many_jobs;
EXPLAIN (COSTS OFF)
SELECT m.job_id, j.name, j.state FROM many_jobs m JOIN jobs j ON j.id = m.job_id;
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM many_jobs m JOIN jobs j ON j.id = m.job_id;
\set log `python3 test/mock/mockctl.py log | LC_ALL=C sort`
\echo :log
-- the costs behind the choice
SELECT estimated_rows('SELECT * FROM jobs') AS listing_rows,
       estimated_rows('SELECT * FROM jobs WHERE id = 406') AS by_id_rows;
-- request_cost is the lever: with free requests even 5,000 of them win
ALTER FOREIGN TABLE jobs OPTIONS (ADD request_cost '0');
EXPLAIN (COSTS OFF)
SELECT m.job_id, j.name FROM many_jobs m JOIN jobs j ON j.id = m.job_id;
ALTER FOREIGN TABLE jobs OPTIONS (DROP request_cost, DROP default_rows);

--
-- 7. use_remote_estimate: X-Pagination-Total-Entries of a limit=1 request,
--    pushed conditions included, cached per backend.
--
ALTER SERVER civis_joins OPTIONS (ADD use_remote_estimate 'true');
\set _ `python3 test/mock/mockctl.py mark`
SELECT estimated_rows('SELECT * FROM jobs') AS rows_all,
       estimated_rows('SELECT * FROM jobs WHERE state = ''failed''') AS rows_failed,
       estimated_rows('SELECT * FROM jobs WHERE state IN (''failed'', ''running'')') AS rows_two_states,
       estimated_rows('SELECT * FROM jobs_runs WHERE job_id = 406') AS runs_406,
       estimated_rows('SELECT * FROM jobs_runs WHERE job_id IN (406, 421)') AS runs_406_421;
\set log `python3 test/mock/mockctl.py log | LC_ALL=C sort`
\echo :log
-- the same requests again: from the cache, no request
\set _ `python3 test/mock/mockctl.py mark`
SELECT estimated_rows('SELECT * FROM jobs WHERE state = ''failed''') AS rows_failed,
       estimated_rows('SELECT * FROM jobs_runs WHERE job_id = 406') AS runs_406;
\set log `python3 test/mock/mockctl.py log`
\echo 'requests:' :log
-- values known only at execution: no request, the local estimate
\set _ `python3 test/mock/mockctl.py mark`
SELECT estimated_rows('SELECT * FROM my_jobs m JOIN jobs_runs r ON r.job_id = m.job_id') > 0 AS estimated;
\set log `python3 test/mock/mockctl.py log`
\echo 'requests:' :log
-- the API down at plan time: the local estimate (default_rows), no error
\set _ `python3 test/mock/mockctl.py faults '{"always": "503"}'`
SELECT estimated_rows('SELECT * FROM jobs WHERE state = ''cancelled''') AS rows_cancelled;
\set _ `python3 test/mock/mockctl.py faults null`
-- a key the API refuses is an error at plan time already
CREATE ROLE regress_joins_badkey;
GRANT USAGE ON SCHEMA joins TO regress_joins_badkey;
GRANT SELECT ON jobs TO regress_joins_badkey;
CREATE USER MAPPING FOR regress_joins_badkey SERVER civis_joins
  OPTIONS (api_key 'dummy-wrong-key');
SET ROLE regress_joins_badkey;
EXPLAIN (COSTS OFF) SELECT * FROM jobs WHERE state = 'queued';
RESET ROLE;
DROP USER MAPPING FOR regress_joins_badkey SERVER civis_joins;
DROP OWNED BY regress_joins_badkey;
DROP ROLE regress_joins_badkey;
ALTER SERVER civis_joins OPTIONS (DROP use_remote_estimate);

--
-- 8. ANALYZE samples the listing and stores statistics; a table with path
--    parameters has no listing of its own: a WARNING, nothing stored.
--
SELECT reltuples FROM pg_class WHERE oid = 'jobs'::regclass;
\set _ `python3 test/mock/mockctl.py mark`
ANALYZE jobs;
\set log `python3 test/mock/mockctl.py log | LC_ALL=C sort`
\echo :log
SELECT reltuples FROM pg_class WHERE oid = 'jobs'::regclass;
SELECT attname, null_frac, n_distinct FROM pg_stats
 WHERE schemaname = 'joins' AND tablename = 'jobs' AND attname IN ('id', 'state', 'archived')
 ORDER BY attname;
-- the statistics reach the planner
SELECT estimated_rows('SELECT * FROM jobs') AS rows_all,
       estimated_rows('SELECT * FROM jobs WHERE state = ''failed''') AS rows_failed;
-- a page cap: the sample is the first pages, the total the API's count
-- (the limit=1 request of use_remote_estimate, cached by now)
-- (ANALYZE VERBOSE in a session of its own, to leave out the INFO with I/O
-- and timing figures that 18 adds: "finished analyzing table ...")
ALTER FOREIGN TABLE jobs OPTIONS (ADD analyze_max_pages '2');
\set analyze_verbose `psql -X -q -d :DBNAME -c 'ANALYZE VERBOSE joins.jobs' 2>&1 | grep '^INFO: ' | grep -v '^INFO:  finished analyzing'`
\echo :analyze_verbose
SELECT reltuples FROM pg_class WHERE oid = 'jobs'::regclass;
ALTER FOREIGN TABLE jobs OPTIONS (DROP analyze_max_pages);
\set _ `python3 test/mock/mockctl.py mark`
ANALYZE jobs_runs;
\set log `python3 test/mock/mockctl.py log`
\echo 'requests:' :log
SELECT reltuples, (SELECT count(1) FROM pg_stats WHERE schemaname = 'joins' AND tablename = 'jobs_runs') AS stats
  FROM pg_class WHERE oid = 'jobs_runs'::regclass;
-- the option is checked
ALTER FOREIGN TABLE jobs OPTIONS (ADD analyze_max_pages '0');

--
-- 9. A materialized view over a Civis table joined with a local one,
--    refreshed concurrently; a failed refresh keeps the old contents.
--
CREATE TABLE teams (job_id bigint PRIMARY KEY, team text NOT NULL);
INSERT INTO teams
  SELECT id, (ARRAY['red', 'green', 'blue'])[id % 3 + 1] FROM jobs;
CREATE MATERIALIZED VIEW team_jobs AS
  SELECT t.team, j.id, j.name, j.state
    FROM teams t JOIN jobs j ON j.id = t.job_id;
CREATE UNIQUE INDEX team_jobs_id ON team_jobs (id);
SELECT team, count(1) FROM team_jobs GROUP BY team ORDER BY team;
SELECT md5(string_agg(t::text, ',' ORDER BY id)) AS contents FROM team_jobs t \gset before_
-- the API's data changes: three jobs renamed
\set _ `python3 test/mock/mockctl.py data '{"path": "/jobs/", "action": "rename", "n": 3}'`
SELECT count(1) AS renamed FROM team_jobs WHERE name LIKE '% (v1)';
REFRESH MATERIALIZED VIEW CONCURRENTLY team_jobs;
SELECT count(1) AS renamed FROM team_jobs WHERE name LIKE '% (v1)';
SELECT md5(string_agg(t::text, ',' ORDER BY id)) <> :'before_contents' AS changed FROM team_jobs t;
SELECT md5(string_agg(t::text, ',' ORDER BY id)) AS contents FROM team_jobs t \gset before_
-- the API down: the refresh fails, the old contents stay
\set _ `python3 test/mock/mockctl.py data '{"path": "/jobs/", "action": "rename", "n": 3}'`
\set _ `python3 test/mock/mockctl.py faults '{"always": "503"}'`
REFRESH MATERIALIZED VIEW CONCURRENTLY team_jobs;
SELECT count(1) AS rows, md5(string_agg(t::text, ',' ORDER BY id)) = :'before_contents' AS unchanged
  FROM team_jobs t;
\set _ `python3 test/mock/mockctl.py faults null`
-- a key the API refuses (401): the same
ALTER USER MAPPING FOR CURRENT_USER SERVER civis_joins OPTIONS (SET api_key 'dummy-wrong-key');
REFRESH MATERIALIZED VIEW CONCURRENTLY team_jobs;
SELECT count(1) AS rows, md5(string_agg(t::text, ',' ORDER BY id)) = :'before_contents' AS unchanged
  FROM team_jobs t;
ALTER USER MAPPING FOR CURRENT_USER SERVER civis_joins OPTIONS (SET api_key 'test-key-0123456789');
-- and once the API is back, the refresh catches up
REFRESH MATERIALIZED VIEW CONCURRENTLY team_jobs;
SELECT count(1) AS rows, count(1) FILTER (WHERE name LIKE '% (v2)') AS renamed_again FROM team_jobs;

-- leave the mock as it was found
\set _ `python3 test/mock/mockctl.py reset`
RESET search_path;
DROP SCHEMA joins CASCADE;
DROP USER MAPPING FOR CURRENT_USER SERVER civis_joins;
DROP SERVER civis_joins;
