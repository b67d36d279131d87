--
-- pd_get_by_id: id = value uses the detail endpoint where import verified
-- that the list item's fields are a subset of the detail's; a 404 is zero
-- rows; id IN (...) is one detail request per value up to fanout_limit.
--
SET timezone = 'UTC';
EXPLAIN (VERBOSE, COSTS OFF) SELECT id, name, state FROM civis.jobs WHERE id = 406;
\set _ `python3 test/mock/mockctl.py mark`
SELECT id, name, state FROM civis.jobs WHERE id = 406;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
EXPLAIN (VERBOSE, COSTS OFF) SELECT id, name FROM civis.jobs WHERE id = 999999;
\set _ `python3 test/mock/mockctl.py mark`
SELECT id, name FROM civis.jobs WHERE id = 999999;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM civis.jobs WHERE id IN (406, 415, 999999, 415) ORDER BY id;
\set _ `python3 test/mock/mockctl.py mark`
SELECT id FROM civis.jobs WHERE id IN (406, 415, 999999, 415) ORDER BY id;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- above the cap: the listing
ALTER FOREIGN TABLE civis.jobs OPTIONS (ADD fanout_limit '2');
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM civis.jobs WHERE id IN (406, 415, 420) ORDER BY id;
\set _ `python3 test/mock/mockctl.py mark`
SELECT id FROM civis.jobs WHERE id IN (406, 415, 420) ORDER BY id;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
ALTER FOREIGN TABLE civis.jobs OPTIONS (DROP fanout_limit);
-- /scripts/: the detail defines lastRun differently, so no get-by-id
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(1) FROM civis.scripts WHERE id = 1;
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM civis.scripts WHERE id = 1;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- a parameter-only condition cannot be applied to a detail: the listing
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM civis.jobs WHERE id = 406 AND q = 'a';
\set _ `python3 test/mock/mockctl.py mark`
SELECT id FROM civis.jobs WHERE id = 406 AND q = 'a';
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- the detail row matches the listing's row
SELECT (SELECT j::text FROM civis.jobs j WHERE id = 415) = (SELECT j::text FROM civis.jobs j WHERE id + 0 = 415) AS same_row;
