--
-- pd_booleans: boolean columns as conditions: WHERE col, NOT col, IS TRUE,
-- IS FALSE, = true/false.
--
SET timezone = 'UTC';
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(1) FROM civis.jobs WHERE hidden;
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM civis.jobs WHERE hidden;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(1) FROM civis.jobs WHERE NOT hidden;
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM civis.jobs WHERE NOT hidden;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(1) FROM civis.jobs WHERE hidden IS TRUE;
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM civis.jobs WHERE hidden IS TRUE;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(1) FROM civis.jobs WHERE scheduled = false;
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM civis.jobs WHERE scheduled = false;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(1) FROM civis.jobs WHERE archived;
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM civis.jobs WHERE archived;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(1) FROM civis.jobs WHERE archived IS FALSE;
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM civis.jobs WHERE archived IS FALSE;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- IS NOT TRUE includes NULL: not expressible, local
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(1) FROM civis.jobs WHERE archived IS NOT TRUE;
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM civis.jobs WHERE archived IS NOT TRUE;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
