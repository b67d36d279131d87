--
-- pd_limit: LIMIT/OFFSET are pushed only through the upper relations, when
-- nothing stays local; then exactly the needed pages are requested.
--
SET timezone = 'UTC';
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM civis.jobs LIMIT 10;
\set _ `python3 test/mock/mockctl.py mark`
SELECT id FROM civis.jobs LIMIT 10;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- 120 rows with pages of at most 50: three requests of 40
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(1) FROM (SELECT id FROM civis.jobs LIMIT 120) s;
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM (SELECT id FROM civis.jobs LIMIT 120) s;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM civis.jobs OFFSET 100 LIMIT 10;
\set _ `python3 test/mock/mockctl.py mark`
SELECT id FROM civis.jobs OFFSET 100 LIMIT 10;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- OFFSET alone reads from the right page on
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(1) FROM (SELECT id FROM civis.jobs OFFSET 150) s;
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM (SELECT id FROM civis.jobs OFFSET 150) s;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM civis.jobs LIMIT 0;
\set _ `python3 test/mock/mockctl.py mark`
SELECT id FROM civis.jobs LIMIT 0;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- an exact condition keeps the pushdown
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM civis.jobs WHERE author_id = 13 LIMIT 2;
\set _ `python3 test/mock/mockctl.py mark`
SELECT id FROM civis.jobs WHERE author_id = 13 LIMIT 2;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- not pushed: a condition that stays local
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM civis.jobs WHERE state = 'failed' LIMIT 2;
\set _ `python3 test/mock/mockctl.py mark`
SELECT id FROM civis.jobs WHERE state = 'failed' LIMIT 2;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- not pushed: a join
EXPLAIN (VERBOSE, COSTS OFF) SELECT j.id FROM civis.jobs j JOIN (VALUES (406), (415)) v(id) ON v.id = j.id + 0 LIMIT 1;
\set _ `python3 test/mock/mockctl.py mark`
SELECT j.id FROM civis.jobs j JOIN (VALUES (406), (415)) v(id) ON v.id = j.id + 0 LIMIT 1;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- not pushed: DISTINCT, GROUP BY, WITH TIES
EXPLAIN (VERBOSE, COSTS OFF) SELECT DISTINCT state FROM civis.jobs LIMIT 2;
\set _ `python3 test/mock/mockctl.py mark`
SELECT DISTINCT state FROM civis.jobs LIMIT 2;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
EXPLAIN (VERBOSE, COSTS OFF) SELECT state, count(1) FROM civis.jobs GROUP BY state LIMIT 2;
\set _ `python3 test/mock/mockctl.py mark`
SELECT state, count(1) FROM civis.jobs GROUP BY state LIMIT 2;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM civis.jobs ORDER BY id FETCH FIRST 2 ROWS WITH TIES;
\set _ `python3 test/mock/mockctl.py mark`
SELECT id FROM civis.jobs ORDER BY id FETCH FIRST 2 ROWS WITH TIES;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- LIMIT $1
PREPARE lim(bigint, bigint) AS SELECT id FROM civis.jobs LIMIT $1 OFFSET $2;
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE lim(3, 49);
\set _ `python3 test/mock/mockctl.py mark`
EXECUTE lim(3, 49);
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- negative values are errors, as without pushdown
EXECUTE lim(-1, 0);
-- cursor logs read offset + count rows
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM civis.jobs_runs_logs WHERE job_id = 7 AND run_id = 3 LIMIT 2 OFFSET 3;
\set _ `python3 test/mock/mockctl.py mark`
SELECT id FROM civis.jobs_runs_logs WHERE job_id = 7 AND run_id = 3 LIMIT 2 OFFSET 3;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- LIMIT inside LATERAL (latest run per job): not pushed, the scan stops early
CREATE TEMP TABLE some_jobs(job_id bigint); INSERT INTO some_jobs VALUES (406), (415);
EXPLAIN (VERBOSE, COSTS OFF) SELECT s.job_id, r.id FROM some_jobs s CROSS JOIN LATERAL (SELECT id FROM civis.jobs_runs r WHERE r.job_id = s.job_id ORDER BY id DESC LIMIT 1) r ORDER BY 1;
\set _ `python3 test/mock/mockctl.py mark`
SELECT s.job_id, r.id FROM some_jobs s CROSS JOIN LATERAL (SELECT id FROM civis.jobs_runs r WHERE r.job_id = s.job_id ORDER BY id DESC LIMIT 1) r ORDER BY 1;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
