--
-- pd_ranges: >, >=, <, <= on columns with range parameters
-- (created_after / created_before); bounds may be inclusive, so rechecked.
--
SET timezone = 'UTC';
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(1) FROM civis.queries WHERE created_at > '2024-01-08';
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM civis.queries WHERE created_at > '2024-01-08';
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(1) FROM civis.queries WHERE created_at >= '2024-01-08 00:00:00+00' AND created_at < '2024-01-12';
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM civis.queries WHERE created_at >= '2024-01-08 00:00:00+00' AND created_at < '2024-01-12';
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(1) FROM civis.workflows WHERE '2024-01-10'::date <= created_at;
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM civis.workflows WHERE '2024-01-10'::date <= created_at;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- the same column twice: one bound per parameter
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(1) FROM civis.queries WHERE created_at > '2024-01-01' AND created_at > '2024-01-10';
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM civis.queries WHERE created_at > '2024-01-01' AND created_at > '2024-01-10';
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- cursor logs: id > n starts the cursor (exact)
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM civis.jobs_runs_logs WHERE job_id = 7 AND run_id = 3 AND id > 380 ORDER BY id;
\set _ `python3 test/mock/mockctl.py mark`
SELECT id FROM civis.jobs_runs_logs WHERE job_id = 7 AND run_id = 3 AND id > 380 ORDER BY id;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(1) FROM civis.jobs_runs_logs WHERE job_id = 7 AND run_id = 3 AND id >= 385;
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM civis.jobs_runs_logs WHERE job_id = 7 AND run_id = 3 AND id >= 385;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
