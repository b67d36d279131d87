--
-- pd_order: ORDER BY is pushed for columns the endpoint's order parameter
-- allows, never text, and a non-unique key only when one request answers
-- the query; the scan checks that rows arrive in that order.
--
SET timezone = 'UTC';
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM civis.jobs ORDER BY id DESC LIMIT 5;
\set _ `python3 test/mock/mockctl.py mark`
SELECT id FROM civis.jobs ORDER BY id DESC LIMIT 5;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
EXPLAIN (VERBOSE, COSTS OFF) SELECT id, updated_at FROM civis.jobs ORDER BY updated_at DESC LIMIT 5;
\set _ `python3 test/mock/mockctl.py mark`
SELECT id, updated_at FROM civis.jobs ORDER BY updated_at DESC LIMIT 5;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- not pushed: more rows than one page for a non-unique key
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(1) FROM (SELECT id FROM civis.jobs ORDER BY updated_at LIMIT 60) s;
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM (SELECT id FROM civis.jobs ORDER BY updated_at LIMIT 60) s;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- not pushed: text (collation), NULLS placement, two keys
EXPLAIN (VERBOSE, COSTS OFF) SELECT name FROM civis.users ORDER BY name LIMIT 3;
\set _ `python3 test/mock/mockctl.py mark`
SELECT name FROM civis.users ORDER BY name LIMIT 3;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM civis.jobs ORDER BY id NULLS FIRST LIMIT 2;
\set _ `python3 test/mock/mockctl.py mark`
SELECT id FROM civis.jobs ORDER BY id NULLS FIRST LIMIT 2;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM civis.jobs ORDER BY updated_at, id LIMIT 2;
\set _ `python3 test/mock/mockctl.py mark`
SELECT id FROM civis.jobs ORDER BY updated_at, id LIMIT 2;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- the unique id sorts all pages
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(1), min(id), max(id) FROM (SELECT id FROM civis.jobs ORDER BY id) s;
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1), min(id), max(id) FROM (SELECT id FROM civis.jobs ORDER BY id) s;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- rows out of the promised order are an error, never a wrong result
\set _ `python3 test/mock/mockctl.py faults '{"always": "unsorted", "path_prefix": "/jobs/"}'`
SELECT id FROM civis.jobs ORDER BY id DESC LIMIT 5;
\set _ `python3 test/mock/mockctl.py faults null`
