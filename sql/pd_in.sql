--
-- pd_in: IN lists and = ANY become comma lists (or name[]= repeats) when the
-- parameter takes several values; a value containing a comma is not sent.
--
SET timezone = 'UTC';
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(1) FROM civis.jobs WHERE state IN ('failed', 'running');
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM civis.jobs WHERE state IN ('failed', 'running');
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(1) FROM civis.jobs WHERE author_id = ANY (ARRAY[13, 3, 21]);
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM civis.jobs WHERE author_id = ANY (ARRAY[13, 3, 21]);
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- a value outside the documented values: not sent
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(1) FROM civis.jobs WHERE state IN ('failed', 'idle');
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM civis.jobs WHERE state IN ('failed', 'idle');
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- a comma inside a value would split it: not sent
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(1) FROM civis.credentials WHERE type IN ('Database', 'a,b');
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM civis.credentials WHERE type IN ('Database', 'a,b');
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(1) FROM civis.credentials WHERE type IN ('Database', 'Custom');
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM civis.credentials WHERE type IN ('Database', 'Custom');
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- duplicates and NULLs in the list
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(1) FROM civis.jobs WHERE author_id IN (13, 13, NULL);
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM civis.jobs WHERE author_id IN (13, 13, NULL);
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- a parameter-only column fans out: one request per value, each row says which
EXPLAIN (VERBOSE, COSTS OFF) SELECT q, count(1) FROM civis.jobs WHERE q IN ('Import', 'Export') GROUP BY q ORDER BY q;
\set _ `python3 test/mock/mockctl.py mark`
SELECT q, count(1) FROM civis.jobs WHERE q IN ('Import', 'Export') GROUP BY q ORDER BY q;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
