--
-- pd_param_only: query parameters that are not fields of the response are
-- columns too; they are always sent (they decide which rows exist) and
-- return, in every row, the value the condition asked for.
--
SET timezone = 'UTC';
-- (Group Key lines differ between versions: see regress_explain in init.sql)
SELECT * FROM regress_explain($$SELECT q, count(1) FROM civis.jobs WHERE q = 'import' GROUP BY q$$);
\set _ `python3 test/mock/mockctl.py mark`
SELECT q, count(1) FROM civis.jobs WHERE q = 'import' GROUP BY q;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
SELECT * FROM regress_explain($$SELECT permission, count(1) FROM civis.jobs WHERE permission = 'write' GROUP BY 1$$);
\set _ `python3 test/mock/mockctl.py mark`
SELECT permission, count(1) FROM civis.jobs WHERE permission = 'write' GROUP BY 1;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- without a condition they are NULL
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(1), count(q), count(permission) FROM civis.jobs;
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1), count(q), count(permission) FROM civis.jobs;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- they are sent with the optimisations off too
SET civis_fdw.enable_pushdown = off;
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(1) FROM civis.jobs WHERE q = 'import';
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM civis.jobs WHERE q = 'import';
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
RESET civis_fdw.enable_pushdown;
-- a NULL value matches nothing: no request at all
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(1) FROM civis.jobs WHERE q = NULL::text;
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM civis.jobs WHERE q = NULL::text;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
