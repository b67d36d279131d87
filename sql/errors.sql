--
-- errors: HTTP statuses become ERRORs with the right SQLSTATE, a message
-- naming the table and the status, the API's errorDescription as DETAIL, a
-- HINT, and the request as CONTEXT (never the key).
--
SET timezone = 'UTC';
\getenv mock_url CIVIS_MOCK_URL
CREATE FUNCTION pg_temp.sqlstate_of(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE;
END $$;
-- 401: a wrong key
CREATE SERVER civis_wrongkey FOREIGN DATA WRAPPER civis_fdw
  OPTIONS (api_url :'mock_url', max_retries '0');
CREATE USER MAPPING FOR CURRENT_USER SERVER civis_wrongkey OPTIONS (api_key 'dummy-wrong-key');
CREATE FOREIGN TABLE wrongkey_jobs (id bigint) SERVER civis_wrongkey
  OPTIONS (endpoint '/jobs/', paging 'pages', page_size '50');
SELECT * FROM wrongkey_jobs;
SELECT pg_temp.sqlstate_of('SELECT * FROM wrongkey_jobs');
-- 404: an endpoint that does not exist
CREATE FOREIGN TABLE nosuch (id bigint) SERVER civis OPTIONS (endpoint '/nosuch/');
SELECT * FROM nosuch;
SELECT pg_temp.sqlstate_of('SELECT * FROM nosuch');
-- 400: a page size above the endpoint's maximum
CREATE FOREIGN TABLE big_pages (id bigint) SERVER civis
  OPTIONS (endpoint '/jobs/', paging 'pages', page_size '5000');
SELECT * FROM big_pages;
SELECT pg_temp.sqlstate_of('SELECT * FROM big_pages');
-- 500 and 503 after the retries are spent
CREATE SERVER civis_noretry FOREIGN DATA WRAPPER civis_fdw
  OPTIONS (api_url :'mock_url', max_retries '1');
CREATE USER MAPPING FOR CURRENT_USER SERVER civis_noretry OPTIONS (api_key 'test-key-0123456789');
CREATE FOREIGN TABLE noretry_jobs (id bigint) SERVER civis_noretry
  OPTIONS (endpoint '/jobs/', paging 'pages', page_size '50');
\set _ `python3 test/mock/mockctl.py faults '{"always": "500", "path_prefix": "/jobs/"}'`
SELECT * FROM noretry_jobs;
\set _ `python3 test/mock/mockctl.py faults '{"always": "503", "path_prefix": "/jobs/"}'`
SELECT pg_temp.sqlstate_of('SELECT * FROM noretry_jobs');
-- a server that is not there
\set _ `python3 test/mock/mockctl.py faults null`
CREATE SERVER civis_nowhere FOREIGN DATA WRAPPER civis_fdw
  OPTIONS (api_url 'http://127.0.0.1:9', max_retries '0', connect_timeout '2');
CREATE USER MAPPING FOR CURRENT_USER SERVER civis_nowhere OPTIONS (api_key 'dummy-key');
CREATE FOREIGN TABLE nowhere_jobs (id bigint) SERVER civis_nowhere OPTIONS (endpoint '/jobs/');
-- (libcurl's words differ between versions: see regress_run in init.sql)
\set SHOW_CONTEXT never
SELECT regress_run('SELECT * FROM nowhere_jobs');
\set SHOW_CONTEXT errors
-- the backend is still fine
SELECT count(1) > 0 AS still_working FROM civis.databases;
DROP FOREIGN TABLE nosuch, big_pages;
SET client_min_messages = warning;
DROP SERVER civis_wrongkey, civis_noretry, civis_nowhere CASCADE;
RESET client_min_messages;
