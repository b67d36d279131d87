--
-- import: IMPORT FOREIGN SCHEMA reads the spec from GET /endpoints and
-- creates one table per list endpoint; LIMIT TO and EXCEPT; the generated
-- definitions; a hand-written table with only "endpoint".
--
SET timezone = 'UTC';
\getenv mock_url CIVIS_MOCK_URL
CREATE SCHEMA imp_some;
IMPORT FOREIGN SCHEMA civis LIMIT TO (jobs, jobs_runs, enhancements_cass_ncoa_runs_logs, nosuch)
  FROM SERVER civis INTO imp_some;
SELECT foreign_table_name FROM information_schema.foreign_tables
 WHERE foreign_table_schema = 'imp_some' ORDER BY 1;
-- the definitions import wrote (types, keys, parameters, paging)
SELECT c.relname, ft.ftoptions FROM pg_foreign_table ft JOIN pg_class c ON c.oid = ft.ftrelid
 WHERE c.relnamespace = 'imp_some'::regnamespace ORDER BY 1;
SELECT c.relname, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod) AS type, a.attfdwoptions
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
 WHERE c.relnamespace = 'imp_some'::regnamespace AND a.attnum > 0
 ORDER BY 1, 2;
CREATE SCHEMA imp_except;
IMPORT FOREIGN SCHEMA civis EXCEPT (jobs, models) FROM SERVER civis INTO imp_except;
SELECT count(1) AS tables,
       bool_or(foreign_table_name = 'jobs') AS has_jobs,
       bool_or(foreign_table_name = 'jobs_runs') AS has_jobs_runs
  FROM information_schema.foreign_tables WHERE foreign_table_schema = 'imp_except';
-- naming: civis-python's method names without "list", camel_to_snake columns,
-- quoted where needed (user, default, order are real field names)
SELECT foreign_table_name FROM information_schema.foreign_tables
 WHERE foreign_table_schema = 'civis' ORDER BY 1;
SELECT attname FROM pg_attribute
 WHERE attrelid = 'civis.scripts'::regclass AND attname IN ('provide_api_key')
UNION ALL
SELECT attname FROM pg_attribute
 WHERE attrelid = 'civis.credentials'::regclass AND attname = 'default';
-- paging kinds and page sizes
SELECT (SELECT option_value FROM pg_options_to_table(ftoptions) WHERE option_name = 'paging') AS paging,
       count(1)
  FROM pg_foreign_table ft JOIN pg_class c ON c.oid = ft.ftrelid
 WHERE c.relnamespace = 'civis'::regnamespace GROUP BY 1 ORDER BY 1;
-- only the schema "civis" exists remotely
IMPORT FOREIGN SCHEMA public FROM SERVER civis INTO imp_some;
IMPORT FOREIGN SCHEMA civis FROM SERVER civis INTO imp_some OPTIONS (bogus 'x');
-- a key that the API refuses
CREATE SERVER civis_badkey FOREIGN DATA WRAPPER civis_fdw OPTIONS (api_url :'mock_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER civis_badkey OPTIONS (api_key 'dummy-wrong-key');
CREATE SCHEMA imp_bad;
IMPORT FOREIGN SCHEMA civis FROM SERVER civis_badkey INTO imp_bad;
-- a hand-written table with only an endpoint still returns every row: it
-- follows the X-Pagination headers (the API's default scope: not archived)
CREATE FOREIGN TABLE hand_jobs (id bigint, name text, created_at timestamptz, "updatedAt" timestamptz)
  SERVER civis OPTIONS (endpoint '/jobs/');
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1), count(created_at) AS camel_keys_found, count("updatedAt") AS exact_keys_found FROM hand_jobs;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
SELECT (SELECT count(1) FROM hand_jobs) = (SELECT count(1) FROM civis.jobs WHERE NOT archived) AS same_count;
DROP FOREIGN TABLE hand_jobs;
SET client_min_messages = warning;
DROP SCHEMA imp_some, imp_except, imp_bad CASCADE;
DROP SERVER civis_badkey CASCADE;
--
-- Tables that keep up with the API
--
-- the whole item, on request: one jsonb column "whole_item" (key '.')
CREATE SCHEMA imp_whole;
IMPORT FOREIGN SCHEMA civis LIMIT TO (jobs, no_such_table) FROM SERVER civis INTO imp_whole
  OPTIONS (whole_item 'true');
SELECT attname, atttypid::regtype, attfdwoptions FROM pg_attribute
 WHERE attrelid = 'imp_whole.jobs'::regclass AND attname = 'whole_item';
SELECT count(1) AS rows, count(1) FILTER (WHERE whole_item ->> 'name' = name) AS name_in_whole_item,
       count(1) FILTER (WHERE whole_item ? 'lastRun') AS camel_keys_as_sent
  FROM imp_whole.jobs;
-- jsonb keys in snake_case, as civis-python shows them (option jsonb_snake_case)
SELECT count(1) FILTER (WHERE last_run ? 'finishedAt') AS camel FROM imp_whole.jobs;
ALTER FOREIGN TABLE imp_whole.jobs OPTIONS (ADD jsonb_snake_case 'true');
SELECT count(1) FILTER (WHERE last_run ? 'finished_at') AS snake,
       count(1) FILTER (WHERE last_run ? 'finishedAt') AS camel,
       count(1) FILTER (WHERE whole_item ? 'lastRun') AS whole_item_as_sent
  FROM imp_whole.jobs;
ALTER FOREIGN TABLE imp_whole.jobs OPTIONS (SET jsonb_snake_case 'false');
-- a scope parameter is found by its values: account_status includes "all"
SELECT attname, attfdwoptions FROM pg_attribute
 WHERE attrelid = 'civis.users'::regclass AND attname = 'account_status';
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) > 0 AS has_rows FROM civis.users;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- an endpoint whose items declare no fields: imported with the whole item
\set _ `python3 test/mock/mockctl.py faults '{"always": "raw", "path_prefix": "/endpoints", "body": "{\"swagger\": \"2.0\", \"paths\": {\"/jobs/\": {\"get\": {\"parameters\": [{\"name\": \"kind\", \"in\": \"query\", \"type\": \"string\"}], \"responses\": {\"200\": {\"description\": \"ok\", \"schema\": {\"type\": \"array\", \"items\": {\"type\": \"object\"}}}}}}}}"}'`
CREATE SCHEMA imp_nofields;
IMPORT FOREIGN SCHEMA civis FROM SERVER civis INTO imp_nofields;
\set _ `python3 test/mock/mockctl.py faults null`
SELECT attname, atttypid::regtype, attfdwoptions FROM pg_attribute
 WHERE attrelid = 'imp_nofields.jobs'::regclass AND attnum > 0 ORDER BY attnum;
SELECT count(1) AS rows, count(1) FILTER (WHERE whole_item ? 'id') AS items_with_id
  FROM imp_nofields.jobs;
SET client_min_messages = warning;
DROP SCHEMA imp_whole, imp_nofields CASCADE;
RESET client_min_messages;
