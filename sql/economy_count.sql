--
-- economy_count: SELECT count(*) with conditions the API applies exactly is
-- one limit=1 request per request stream, read from the paging headers
-- (X-Pagination-Total-Entries); get-by-id, an endpoint without the header
-- and a value that is not exact at run time count rows instead.  Then
-- get-by-id decided at scan start: id = ANY($1), id = ANY(ARRAY(SELECT
-- ...)) and id = $1 OR id = $2 take the detail endpoint for at most
-- fanout_limit ids and the listing otherwise, with the same rows.  Every
-- result is compared with civis_fdw.enable_pushdown = off, and the mock's
-- request log shows what was sent.
--
SET timezone = 'UTC';
-- the whole listing: one request
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(*) FROM civis.jobs;
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(*) FROM civis.jobs;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- exact conditions (an id filter, the archival scope): one request
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(*) FROM civis.jobs WHERE author_id IN (13, 14) AND NOT archived;
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(*) AS pushed FROM civis.jobs WHERE author_id IN (13, 14) AND NOT archived \gset
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
SET civis_fdw.enable_pushdown = off;
SELECT :pushed AS pushed, count(*) AS not_pushed FROM civis.jobs WHERE author_id IN (13, 14) AND NOT archived;
RESET civis_fdw.enable_pushdown;
-- a fan-out sums its streams' totals: one request per stream
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(*) FROM civis.jobs_runs WHERE job_id IN (406, 421);
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(*) AS pushed FROM civis.jobs_runs WHERE job_id IN (406, 421) \gset
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
SET civis_fdw.enable_pushdown = off;
SELECT :pushed AS pushed, count(*) AS not_pushed FROM civis.jobs_runs WHERE job_id IN (406, 421);
RESET civis_fdw.enable_pushdown;
-- a parent that does not exist counts 0 (job 406 alone has 36 runs)
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(*) FROM civis.jobs_runs WHERE job_id IN (406, 9999999);
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- a condition the API applies loosely stays local: rows are counted
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(*) FROM civis.jobs WHERE state = 'failed';
SELECT count(*) AS pushed FROM civis.jobs WHERE state = 'failed' \gset
SET civis_fdw.enable_pushdown = off;
SELECT :pushed AS pushed, count(*) AS not_pushed FROM civis.jobs WHERE state = 'failed';
RESET civis_fdw.enable_pushdown;
-- count(*) with FILTER, DISTINCT or another aggregate is not pushed
EXPLAIN (COSTS OFF) SELECT count(*) FILTER (WHERE id > 5) FROM civis.jobs;
-- not pushed (the plan above the scan differs between versions: 17 sorts)
SELECT count(*) FILTER (WHERE "QUERY PLAN" ~ 'Civis Count') AS count_pushed,
       count(*) FILTER (WHERE "QUERY PLAN" ~ 'Foreign Scan') AS scans
  FROM regress_explain('SELECT count(DISTINCT id) FROM civis.jobs');
EXPLAIN (COSTS OFF) SELECT count(*), max(id) FROM civis.jobs;
EXPLAIN (COSTS OFF) SELECT state, count(*) FROM civis.jobs GROUP BY state;
-- an exact condition whose run-time value is too long for a URL: the scan
-- evaluates it and counts rows
SET plan_cache_mode = force_generic_plan;
PREPARE by_authors(bigint[]) AS SELECT count(*) FROM civis.jobs WHERE author_id = ANY ($1);
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE by_authors('{13}');
\set _ `python3 test/mock/mockctl.py mark`
EXECUTE by_authors('{13}');
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
SELECT array_agg(g)::text AS big FROM generate_series(13, 20013) g \gset
CREATE FUNCTION pg_temp.count_line(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (ANALYZE, VERBOSE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
    IF line ~ 'Civis Count' THEN RETURN trim(line); END IF;
  END LOOP;
  RETURN 'no Civis Count line';
END $$;
SELECT pg_temp.count_line(format('EXECUTE by_authors(%L)', :'big'));
CREATE FUNCTION pg_temp.chosen_line(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (ANALYZE, VERBOSE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
    IF line ~ 'Get By Id Chosen' THEN RETURN trim(line); END IF;
  END LOOP;
  RETURN 'no Get By Id Chosen line';
END $$;
EXECUTE by_authors(:'big') \gset pushed_
RESET plan_cache_mode;
SET civis_fdw.enable_pushdown = off;
SELECT :pushed_count AS pushed, count(*) AS not_pushed FROM civis.jobs WHERE author_id >= 13 AND author_id <= 20013;
RESET civis_fdw.enable_pushdown;
-- NULL: no request at all
SET plan_cache_mode = force_generic_plan;
\set _ `python3 test/mock/mockctl.py mark`
EXECUTE by_authors(NULL);
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
RESET plan_cache_mode;
-- get-by-id fetches each object, and drops what the listing hides
SELECT min(id) AS hidden_id FROM civis.jobs WHERE hidden \gset
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(*) FROM civis.jobs WHERE id IN (406, 415, 999999, :hidden_id);
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(*) AS pushed FROM civis.jobs WHERE id IN (406, 415, 999999, :hidden_id) \gset
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
SET civis_fdw.enable_pushdown = off;
SELECT :pushed AS pushed, count(*) AS not_pushed FROM civis.jobs WHERE id IN (406, 415, 999999, :hidden_id);
RESET civis_fdw.enable_pushdown;
-- a response without X-Pagination-Total-Entries: rows are counted
CREATE SCHEMA econ;
IMPORT FOREIGN SCHEMA civis LIMIT TO (jobs_runs_logs) FROM SERVER civis INTO econ;
ALTER FOREIGN TABLE econ.jobs_runs_logs OPTIONS (SET paging 'auto');
SELECT pg_temp.count_line('SELECT count(*) FROM econ.jobs_runs_logs WHERE job_id = 7 AND run_id = 71');
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(*) AS pushed FROM econ.jobs_runs_logs WHERE job_id = 7 AND run_id = 71 \gset
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
SET civis_fdw.enable_pushdown = off;
SELECT :pushed AS pushed, count(*) AS not_pushed FROM econ.jobs_runs_logs WHERE job_id = 7 AND run_id = 71;
RESET civis_fdw.enable_pushdown;
-- cursor paging has no totals: counted rows, said at plan time
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(*) FROM civis.jobs_runs_logs WHERE job_id = 7 AND run_id = 71;
DROP SCHEMA econ CASCADE;

--
-- get-by-id decided at scan start
--
SET plan_cache_mode = force_generic_plan;
PREPARE by_ids(bigint[]) AS SELECT id, name, author_id FROM civis.jobs WHERE id = ANY ($1) ORDER BY id;
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE by_ids('{406,415}');
-- few ids: one detail request each (the hidden one is dropped)
\set ids '{406,415,999999,' :hidden_id ',415,NULL}'
\set _ `python3 test/mock/mockctl.py mark`
EXECUTE by_ids(:'ids');
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- more ids than fanout_limit: the listing
ALTER FOREIGN TABLE civis.jobs OPTIONS (ADD fanout_limit '2');
\set _ `python3 test/mock/mockctl.py mark`
EXECUTE by_ids(:'ids');
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
SELECT pg_temp.chosen_line(format('EXECUTE by_ids(%L)', :'ids'));
ALTER FOREIGN TABLE civis.jobs OPTIONS (DROP fanout_limit);
-- an empty list: no request
\set _ `python3 test/mock/mockctl.py mark`
EXECUTE by_ids('{}');
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
RESET plan_cache_mode;
SET civis_fdw.enable_pushdown = off;
SELECT id, name, author_id FROM civis.jobs WHERE id = ANY (:'ids'::bigint[]) ORDER BY id;
RESET civis_fdw.enable_pushdown;
-- id = ANY (ARRAY(SELECT ...)): the ids of an initplan
\set _ `python3 test/mock/mockctl.py mark`
SELECT id FROM civis.jobs WHERE id = ANY (ARRAY(SELECT unnest('{415,406}'::bigint[]))) ORDER BY id;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- id = $1 OR id = $2, with another exact condition the detail endpoint
-- does not take: evaluated by the scan
SET plan_cache_mode = force_generic_plan;
SELECT author_id AS author FROM civis.jobs WHERE id = 406 \gset
PREPARE two(bigint, bigint, bigint) AS SELECT id FROM civis.jobs WHERE (id = $1 OR id = $2) AND author_id = $3 ORDER BY id;
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE two(406, 415, :author);
\set _ `python3 test/mock/mockctl.py mark`
EXECUTE two(406, 415, :author);
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
RESET plan_cache_mode;
SET civis_fdw.enable_pushdown = off;
SELECT id FROM civis.jobs WHERE (id = 406 OR id = 415) AND author_id = :author ORDER BY id;
RESET civis_fdw.enable_pushdown;
-- the listing's size, when known (use_remote_estimate: 167 jobs, 4 pages),
-- caps the ids too: 4 ids are 4 detail requests, 5 ids the 4 pages
CREATE SCHEMA econ;
IMPORT FOREIGN SCHEMA civis LIMIT TO (jobs) FROM SERVER civis INTO econ;
ALTER FOREIGN TABLE econ.jobs OPTIONS (ADD use_remote_estimate 'true');
SET plan_cache_mode = force_generic_plan;
PREPARE sized(bigint[]) AS SELECT id FROM econ.jobs WHERE id = ANY ($1) ORDER BY id;
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE sized('{406}');
\set _ `python3 test/mock/mockctl.py mark`
EXECUTE sized('{406,415,420,424}');
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
\set _ `python3 test/mock/mockctl.py mark`
EXECUTE sized('{406,415,420,424,430}');
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
RESET plan_cache_mode;
SET civis_fdw.enable_pushdown = off;
SELECT id FROM civis.jobs WHERE id = ANY ('{406,415,420,424,430}') ORDER BY id;
RESET civis_fdw.enable_pushdown;
DROP SCHEMA econ CASCADE;
