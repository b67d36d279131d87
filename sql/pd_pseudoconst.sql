--
-- pd_pseudoconst: stable expressions without column references are
-- evaluated once when the scan starts; EXPLAIN shows them in braces.
--
SET timezone = 'UTC';
-- a stable value known only when the scan starts (not a planner constant)
SET regress.shift = '1 day';
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(1) FROM civis.queries WHERE created_at > now() - interval '100 years';
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(1) FROM civis.queries WHERE created_at > '2024-01-05'::timestamptz + current_setting('regress.shift')::interval;
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM civis.queries WHERE created_at > '2024-01-05'::timestamptz + current_setting('regress.shift')::interval;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- (InitPlan texts differ between versions: see regress_explain in init.sql)
SELECT * FROM regress_explain('SELECT count(1) FROM civis.jobs WHERE author_id = (SELECT 13)');
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM civis.jobs WHERE author_id = (SELECT 13);
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(1) FROM civis.jobs WHERE state = lower('FAILED');
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM civis.jobs WHERE state = lower('FAILED');
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- volatile expressions are never sent
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(1) FROM civis.jobs WHERE author_id = (random() * 0)::int + 13;
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM civis.jobs WHERE author_id = (random() * 0)::int + 13;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
