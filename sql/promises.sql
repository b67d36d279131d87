--
-- promises: README claims that no other test pins down (docs/promises.md
-- maps every claim to its test).  Rows and the mock's log of requests are
-- asserted, not plans.
--
SET timezone = 'UTC';
-- "civis_fdw is read-only": no write reaches the API
\set _ `python3 test/mock/mockctl.py mark`
INSERT INTO civis.jobs (id) VALUES (1);
UPDATE civis.jobs SET name = 'x' WHERE id = 1;
DELETE FROM civis.jobs WHERE id = 1;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- "Every column is nullable", and import writes a key for every column
-- that reads a field (parameter-only columns read none)
SELECT count(1) AS imported_columns,
       count(1) FILTER (WHERE a.attnotnull) AS not_null,
       count(1) FILTER (WHERE NOT EXISTS (SELECT 1 FROM unnest(a.attfdwoptions) o WHERE o LIKE 'key=%')
                          AND NOT EXISTS (SELECT 1 FROM unnest(a.attfdwoptions) o WHERE o = 'param_only=true'))
         AS field_columns_without_key
  FROM pg_attribute a
  JOIN pg_foreign_table f ON f.ftrelid = a.attrelid
  JOIN pg_class c ON c.oid = f.ftrelid
 WHERE c.relnamespace = 'civis'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped;
-- "Only built-in operators are pushed": a user's operator that means '='
-- is evaluated locally; the listing is read without a state filter (in
-- plpgsql: a SQL function would be inlined into the built-in '=')
CREATE FUNCTION promises_text_same(a text, b text) RETURNS boolean
  LANGUAGE plpgsql IMMUTABLE AS 'BEGIN RETURN a = b; END';
CREATE OPERATOR === (LEFTARG = text, RIGHTARG = text, FUNCTION = promises_text_same);
SELECT count(1) AS failed_jobs FROM civis.jobs WHERE state = 'failed' \gset
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) = :failed_jobs AS same_rows FROM civis.jobs WHERE state === 'failed';
\set log `python3 test/mock/mockctl.py log | grep -c 'state=failed'`
\echo requests with state=failed: :log
-- "... and only under deterministic collations": a case-insensitive
-- comparison is evaluated locally, so 'FAILED' finds the failed jobs
CREATE COLLATION promises_ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) = :failed_jobs AS same_rows, count(1) > 0 AS some_rows
  FROM civis.jobs WHERE state = 'FAILED' COLLATE promises_ci;
\set log `python3 test/mock/mockctl.py log | grep -ci 'state=failed'`
\echo requests with a state filter: :log
-- "An address refused by the address checks is never retried": with ten
-- retries allowed, the refusal comes at once (a retry waits up to 0.5 s,
-- then 1 s, ...), and nothing reaches the mock
CREATE SERVER promises_private FOREIGN DATA WRAPPER civis_fdw
  OPTIONS (api_url 'https://10.1.2.3', max_retries '10');
CREATE USER MAPPING FOR CURRENT_USER SERVER promises_private
  OPTIONS (api_key 'test-key-0123456789');
CREATE FOREIGN TABLE promises_private_jobs (id bigint) SERVER promises_private
  OPTIONS (endpoint '/jobs/', paging 'pages', page_size '50');
CREATE FUNCTION pg_temp.refusal(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  t0 timestamptz := clock_timestamp();
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || CASE WHEN clock_timestamp() - t0 < interval '1 s' THEN ', under 1 s'
                          ELSE ', took ' || (clock_timestamp() - t0)::text END;
END $$;
\set _ `python3 test/mock/mockctl.py mark`
SELECT pg_temp.refusal('SELECT count(1) FROM promises_private_jobs') AS refused;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
