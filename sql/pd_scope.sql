--
-- pd_scope: the default rowset is everything the API can express:
-- archived=all unless the query asks otherwise.
--
SET timezone = 'UTC';
EXPLAIN (VERBOSE, COSTS OFF) SELECT archived, count(1) FROM civis.jobs GROUP BY archived ORDER BY archived;
\set _ `python3 test/mock/mockctl.py mark`
SELECT archived, count(1) FROM civis.jobs GROUP BY archived ORDER BY archived;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(1) FROM civis.jobs WHERE NOT archived;
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM civis.jobs WHERE NOT archived;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(1) FROM civis.jobs WHERE archived = true;
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM civis.jobs WHERE archived = true;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- scope parameters stay with the optimisations off
SET civis_fdw.enable_pushdown = off;
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(1) FROM civis.jobs WHERE NOT archived;
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM civis.jobs WHERE NOT archived;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
RESET civis_fdw.enable_pushdown;
-- hidden cannot be asked as 'all': it is parameter-only and the API's
-- default (not hidden) stays; WHERE hidden lists the hidden ones
-- (README, "Scope exceptions")
EXPLAIN (VERBOSE, COSTS OFF) SELECT hidden, count(1) FROM civis.jobs GROUP BY hidden;
\set _ `python3 test/mock/mockctl.py mark`
SELECT hidden, count(1) FROM civis.jobs GROUP BY hidden;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
