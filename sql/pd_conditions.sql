--
-- pd_conditions: WHERE conditions on real fields become query parameters
-- when the API's filter is equal to or looser than SQL's; inexact ones stay
-- in the local Filter (rechecked), exact ones leave it.  Each query shows the
-- plan (the exact request), the rows and the request the mock received.
--
SET timezone = 'UTC';
-- state: inexact (case-insensitive in the API), so rechecked
EXPLAIN (VERBOSE, COSTS OFF) SELECT id, state FROM civis.jobs WHERE state = 'failed' ORDER BY id LIMIT 3;
\set _ `python3 test/mock/mockctl.py mark`
SELECT id, state FROM civis.jobs WHERE state = 'failed' ORDER BY id LIMIT 3;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- a value outside the documented values is not sent (idle is a state, not a filter value)
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(1) FROM civis.jobs WHERE state = 'idle';
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM civis.jobs WHERE state = 'idle';
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- author_id: the synthetic column reading author.id; the author filter is exact
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(1) FROM civis.jobs WHERE author_id = 13;
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM civis.jobs WHERE author_id = 13;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- type: inexact, rechecked: mixed case matches in the API, not in SQL
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(1) FROM civis.jobs WHERE type = 'jobtypes::import';
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM civis.jobs WHERE type = 'jobtypes::import';
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(1) FROM civis.jobs WHERE type = 'JobTypes::Import';
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM civis.jobs WHERE type = 'JobTypes::Import';
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- /queries/: state filters the last run, so it is the parameter-only last_run_state
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(1) FROM civis.queries WHERE state = 'failed';
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM civis.queries WHERE state = 'failed';
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(1) FROM civis.queries WHERE last_run_state = 'failed';
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM civis.queries WHERE last_run_state = 'failed';
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- several conditions at once, one of them local
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM civis.jobs WHERE author_id = 13 AND state = 'running' AND name LIKE '%a%' ORDER BY id;
\set _ `python3 test/mock/mockctl.py mark`
SELECT id FROM civis.jobs WHERE author_id = 13 AND state = 'running' AND name LIKE '%a%' ORDER BY id;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- conditions no parameter expresses stay local and send nothing
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(1) FROM civis.jobs WHERE id % 2 = 0 AND name IS NOT NULL;
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM civis.jobs WHERE id % 2 = 0 AND name IS NOT NULL;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- the switch: optimisations off, the same rows, no filter parameters
SET civis_fdw.enable_pushdown = off;
EXPLAIN (VERBOSE, COSTS OFF) SELECT id, state FROM civis.jobs WHERE state = 'failed' ORDER BY id LIMIT 3;
\set _ `python3 test/mock/mockctl.py mark`
SELECT id, state FROM civis.jobs WHERE state = 'failed' ORDER BY id LIMIT 3;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(1) FROM civis.jobs WHERE author_id = 13;
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM civis.jobs WHERE author_id = 13;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
RESET civis_fdw.enable_pushdown;
-- the table option does the same for one table
ALTER FOREIGN TABLE civis.jobs OPTIONS (ADD pushdown 'false');
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(1) FROM civis.jobs WHERE author_id = 13;
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM civis.jobs WHERE author_id = 13;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
ALTER FOREIGN TABLE civis.jobs OPTIONS (DROP pushdown);
