--
-- bounds (issue 19): what a non-superuser may raise, and paths that stay
-- under the server's URL.
--
-- 1. The size and time options of a server (connect_timeout,
--    request_timeout, max_retries, retry_max_time, max_response_bytes,
--    max_pages) decide a backend's memory and how long it can be held.  A
--    non-superuser may lower them freely and raise them up to the ceilings
--    superusers set (civis_fdw.<option>_limit, PGC_SUSET, defaulting to the
--    options' defaults).  Checked at CREATE/ALTER SERVER, and again when a
--    server whose owner is not a superuser is used (a value set under 1.1.0,
--    or before ALTER SERVER ... OWNER TO).
-- 2. endpoint, detail_endpoint, spec paths and the path of api_url must
--    start with "/" and have no "." or ".." segment (%2e too), no %2f, %5c
--    or backslash, no empty segment, no control character, no "?" or "#";
--    path parameters only as {name}.  Checked at DDL, at IMPORT (the
--    endpoint is skipped with a WARNING), when a table is used, and when a
--    request's URL is built.  No request leaves the api_url's path.
--
\getenv mock_url CIVIS_MOCK_URL
SET client_min_messages = warning;
SET timezone = 'UTC';
\set VERBOSITY default
CREATE ROLE civis_bounds_user;
GRANT USAGE ON FOREIGN DATA WRAPPER civis_fdw TO civis_bounds_user;
GRANT CREATE ON SCHEMA public TO civis_bounds_user;
LOAD 'civis_fdw';
SELECT name, setting, unit, context, boot_val FROM pg_settings
 WHERE name LIKE 'civis_fdw.%\_limit' ORDER BY 1;

--
-- 1. Ceilings
--
SET ROLE civis_bounds_user;
-- above the ceiling, each option: refused (42501)
CREATE SERVER b_wide FOREIGN DATA WRAPPER civis_fdw OPTIONS (max_response_bytes '2147483647');
\echo :LAST_ERROR_SQLSTATE
CREATE SERVER b_wide FOREIGN DATA WRAPPER civis_fdw OPTIONS (max_response_bytes '16777217');
\echo :LAST_ERROR_SQLSTATE
CREATE SERVER b_wide FOREIGN DATA WRAPPER civis_fdw OPTIONS (request_timeout '2147483647');
\echo :LAST_ERROR_SQLSTATE
CREATE SERVER b_wide FOREIGN DATA WRAPPER civis_fdw OPTIONS (request_timeout '61');
\echo :LAST_ERROR_SQLSTATE
CREATE SERVER b_wide FOREIGN DATA WRAPPER civis_fdw OPTIONS (retry_max_time '2147483647');
\echo :LAST_ERROR_SQLSTATE
CREATE SERVER b_wide FOREIGN DATA WRAPPER civis_fdw OPTIONS (retry_max_time '121');
\echo :LAST_ERROR_SQLSTATE
CREATE SERVER b_wide FOREIGN DATA WRAPPER civis_fdw OPTIONS (max_retries '2147483647');
\echo :LAST_ERROR_SQLSTATE
CREATE SERVER b_wide FOREIGN DATA WRAPPER civis_fdw OPTIONS (max_retries '11');
\echo :LAST_ERROR_SQLSTATE
CREATE SERVER b_wide FOREIGN DATA WRAPPER civis_fdw OPTIONS (max_pages '2147483647');
\echo :LAST_ERROR_SQLSTATE
CREATE SERVER b_wide FOREIGN DATA WRAPPER civis_fdw OPTIONS (max_pages '100001');
\echo :LAST_ERROR_SQLSTATE
CREATE SERVER b_wide FOREIGN DATA WRAPPER civis_fdw OPTIONS (connect_timeout '2147483647');
\echo :LAST_ERROR_SQLSTATE
-- at the ceiling, and below it: allowed
CREATE SERVER b_own FOREIGN DATA WRAPPER civis_fdw
  OPTIONS (api_url :'mock_url', max_response_bytes '16777216', request_timeout '60',
           retry_max_time '120', max_retries '10', max_pages '100000', connect_timeout '10');
ALTER SERVER b_own OPTIONS (SET max_response_bytes '1000000', SET max_retries '0');
-- raising by ALTER: refused
ALTER SERVER b_own OPTIONS (SET request_timeout '86400');
\echo :LAST_ERROR_SQLSTATE
-- the ceilings themselves are the superusers'
SET civis_fdw.max_response_bytes_limit = '1GB';
\echo :LAST_ERROR_SQLSTATE
ALTER ROLE civis_bounds_user SET civis_fdw.request_timeout_limit = '1h';
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
-- a superuser raises a ceiling (here for the session; ALTER ROLE/DATABASE
-- ... SET for a role's or a database's sessions)
ALTER ROLE civis_bounds_user SET civis_fdw.request_timeout_limit = '1h';
SELECT unnest(setconfig) AS role_setting FROM pg_db_role_setting
 WHERE setrole = 'civis_bounds_user'::regrole;
ALTER ROLE civis_bounds_user RESET civis_fdw.request_timeout_limit;
SET civis_fdw.max_response_bytes_limit = '64MB';
SET ROLE civis_bounds_user;
ALTER SERVER b_own OPTIONS (SET max_response_bytes '67108864');
ALTER SERVER b_own OPTIONS (SET max_response_bytes '67108865');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
RESET civis_fdw.max_response_bytes_limit;
-- superusers are not bound
CREATE SERVER b_su FOREIGN DATA WRAPPER civis_fdw
  OPTIONS (api_url :'mock_url', request_timeout '86400', max_retries '0');
CREATE USER MAPPING FOR civis_bounds_user SERVER b_su OPTIONS (api_key 'test-key-0123456789');
CREATE USER MAPPING FOR CURRENT_USER SERVER b_su OPTIONS (api_key 'test-key-0123456789');
CREATE FOREIGN TABLE b_su_jobs (id bigint) SERVER b_su
  OPTIONS (endpoint '/jobs/', paging 'pages', page_size '50');
GRANT SELECT ON b_su_jobs TO civis_bounds_user;
SET ROLE civis_bounds_user;
SELECT count(1) > 0 AS superuser_server_rows FROM b_su_jobs;
RESET ROLE;
-- at use: a server whose owner is not a superuser, with a value above the
-- ceiling (set by a superuser before OWNER TO, or under 1.1.0), is refused
-- for every user, before any request
ALTER SERVER b_su OWNER TO civis_bounds_user;
\! python3 test/mock/mockctl.py mark
SET ROLE civis_bounds_user;
SELECT count(1) FROM b_su_jobs;
\echo :LAST_ERROR_SQLSTATE
EXPLAIN (COSTS OFF) SELECT * FROM b_su_jobs;
\echo :LAST_ERROR_SQLSTATE
-- the owner cannot change anything but that option
ALTER SERVER b_su OPTIONS (SET max_retries '1');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT count(1) FROM b_su_jobs;
\echo :LAST_ERROR_SQLSTATE
-- a value stored as a 1.1.0 server could hold it (the catalog written
-- directly, as no DDL accepts it now)
UPDATE pg_foreign_server SET srvoptions = array['api_url=' || :'mock_url', 'max_response_bytes=2147483647', 'max_pages=2147483647']
 WHERE srvname = 'b_own';
CREATE USER MAPPING FOR civis_bounds_user SERVER b_own OPTIONS (api_key 'test-key-0123456789');
CREATE FOREIGN TABLE b_own_jobs (id bigint) SERVER b_own
  OPTIONS (endpoint '/jobs/', paging 'pages', page_size '50');
ALTER FOREIGN TABLE b_own_jobs OWNER TO civis_bounds_user;
SET ROLE civis_bounds_user;
SELECT count(1) FROM b_own_jobs;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
\set reached `python3 test/mock/mockctl.py count`
SELECT :reached AS requests_reached_mock;
-- each option at use, above and at its ceiling (the query runs as the
-- superuser: the owner decides)
CREATE USER MAPPING FOR CURRENT_USER SERVER b_own OPTIONS (api_key 'test-key-0123456789');
CREATE FUNCTION pg_temp.try_at_use(opt text, url text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  m text;
BEGIN
  UPDATE pg_foreign_server SET srvoptions = array['api_url=' || url, 'max_retries=0', opt]
   WHERE srvname = 'b_own';
  EXECUTE 'SELECT count(1) FROM b_own_jobs';
  RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS m = MESSAGE_TEXT;
  RETURN SQLSTATE || ': ' || m;
END $$;
SELECT opt, pg_temp.try_at_use(opt, :'mock_url') AS at_use
  FROM unnest(array['connect_timeout=11', 'request_timeout=61', 'retry_max_time=121',
                    'max_retries=11', 'max_pages=100001', 'max_response_bytes=16777217',
                    'connect_timeout=2147483647', 'max_response_bytes=2147483647',
                    'request_timeout=60', 'max_response_bytes=16777216']) AS opt;
UPDATE pg_foreign_server SET srvoptions = array['api_url=' || :'mock_url', 'max_response_bytes=2147483647', 'max_pages=2147483647']
 WHERE srvname = 'b_own';
-- a superuser raises the ceiling: the same server is used
SET civis_fdw.request_timeout_limit = '1d';
SET ROLE civis_bounds_user;
SELECT count(1) > 0 AS rows_under_raised_ceiling FROM b_su_jobs;
-- the owner lowers the option: usable under the default ceiling too
ALTER SERVER b_su OPTIONS (SET request_timeout '30');
RESET ROLE;
RESET civis_fdw.request_timeout_limit;
SET ROLE civis_bounds_user;
SELECT count(1) > 0 AS rows_after_lowering FROM b_su_jobs;
RESET ROLE;

--
-- 2. Paths stay under the server's URL
--
CREATE FUNCTION pg_temp.try_endpoint(ep text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  d text;
BEGIN
  EXECUTE format('CREATE FOREIGN TABLE b_path (id bigint) SERVER b_own OPTIONS (endpoint %L)', ep);
  EXECUTE 'DROP FOREIGN TABLE b_path';
  RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
  RETURN SQLSTATE || ': ' || d;
END $$;
UPDATE pg_foreign_server SET srvoptions = array['api_url=' || :'mock_url' || '/prefix']
 WHERE srvname = 'b_own';
SET ROLE civis_bounds_user;
SELECT translate(ep, E'\r\n\t', '___') AS ep, pg_temp.try_endpoint(ep) AS result
  FROM unnest(array[
    '/../../secret/', '/jobs/../../secret/', '/./jobs/', '/jobs/.', '/jobs/..',
    '/%2e%2e/secret/', '/%2E%2E/secret/', '/.%2e/secret/', '/%2e./secret/',
    '/%2e/jobs/', '/jobs/%2E', '/jobs%2fsecret', '/jobs%2F..%2Fsecret',
    '/jobs%5c..%5csecret', '/jobs%5C', E'/jobs\\..\\secret', '/jobs//', '//jobs/',
    E'/jobs/\r\nX-Injected: 1', E'/jobs/\t', '/jobs/?x=1', '/jobs/#x', 'jobs/',
    '', '/jobs/{}', '/jobs/{id', '/jobs/id}', '/jobs/{i d}', '/jobs/{a{b}}',
    -- accepted: ordinary paths, dots inside a segment, a final slash
    '/jobs/', '/jobs', '/jobs/{id}/runs', '/jobs/{job_id}/runs/{id}',
    '/v1.2/jobs/', '/jobs/...', '/jobs/.well-known', '/a%20b/'
  ]) AS ep;
-- ALTER FOREIGN TABLE and detail_endpoint follow the same rule
ALTER FOREIGN TABLE b_own_jobs OPTIONS (SET endpoint '/jobs/../../secret/');
\echo :LAST_ERROR_SQLSTATE
ALTER FOREIGN TABLE b_own_jobs OPTIONS (ADD detail_endpoint '/jobs/%2e%2e/{id}');
\echo :LAST_ERROR_SQLSTATE
-- control characters of an endpoint reach a message escaped
ALTER FOREIGN TABLE b_own_jobs OPTIONS (SET endpoint E'/jobs/\r\nX-Injected: 1');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
-- the path of api_url: the same rule (final slashes are dropped)
CREATE SERVER b_url FOREIGN DATA WRAPPER civis_fdw OPTIONS (api_url 'https://api.civisanalytics.com/prefix/../secret');
\echo :LAST_ERROR_SQLSTATE
CREATE SERVER b_url FOREIGN DATA WRAPPER civis_fdw OPTIONS (api_url 'https://api.civisanalytics.com/prefix/%2E%2e');
\echo :LAST_ERROR_SQLSTATE
CREATE SERVER b_url FOREIGN DATA WRAPPER civis_fdw OPTIONS (api_url 'https://api.civisanalytics.com//prefix');
\echo :LAST_ERROR_SQLSTATE
CREATE SERVER b_url FOREIGN DATA WRAPPER civis_fdw OPTIONS (api_url 'https://api.civisanalytics.com/a%2fb');
\echo :LAST_ERROR_SQLSTATE
CREATE SERVER b_url FOREIGN DATA WRAPPER civis_fdw OPTIONS (api_url 'https://api.civisanalytics.com/{x}');
\echo :LAST_ERROR_SQLSTATE
CREATE SERVER b_url FOREIGN DATA WRAPPER civis_fdw OPTIONS (api_url 'https://api.civisanalytics.com/prefix//');
DROP SERVER b_url;
-- at use: a path stored before the rule (under 1.1.0; the catalog written
-- directly) is refused before any request, its text escaped; so is an
-- api_url path
\! python3 test/mock/mockctl.py mark
UPDATE pg_foreign_table SET ftoptions = array['endpoint=/../../secret/', 'paging=none']
 WHERE ftrelid = 'b_own_jobs'::regclass;
SET ROLE civis_bounds_user;
SELECT count(1) FROM b_own_jobs;
\echo :LAST_ERROR_SQLSTATE
EXPLAIN (COSTS OFF) SELECT * FROM b_own_jobs;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
UPDATE pg_foreign_table SET ftoptions = array[E'endpoint=/jobs/\r\nX-Injected: 1']
 WHERE ftrelid = 'b_own_jobs'::regclass;
SET ROLE civis_bounds_user;
SELECT count(1) FROM b_own_jobs;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
UPDATE pg_foreign_table SET ftoptions = array['endpoint=/jobs/', 'detail_endpoint=/jobs/%2e%2e/{id}']
 WHERE ftrelid = 'b_own_jobs'::regclass;
SET ROLE civis_bounds_user;
SELECT count(1) FROM b_own_jobs WHERE id = 1;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
UPDATE pg_foreign_table SET ftoptions = array['endpoint=/jobs/', 'paging=pages', 'page_size=50']
 WHERE ftrelid = 'b_own_jobs'::regclass;
UPDATE pg_foreign_server SET srvoptions = array['api_url=http://127.0.0.1:1/x/%2e%2e']
 WHERE srvname = 'b_own';
SET ROLE civis_bounds_user;
SELECT count(1) FROM b_own_jobs;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
\set reached `python3 test/mock/mockctl.py count --include-endpoints`
SELECT :reached AS requests_reached_mock;
-- a proper prefix: every request goes under it (the mock answers 404 there)
UPDATE pg_foreign_server SET srvoptions = array['api_url=' || :'mock_url' || '/prefix', 'max_retries=0']
 WHERE srvname = 'b_own';
\! python3 test/mock/mockctl.py mark
SET ROLE civis_bounds_user;
SELECT count(1) FROM b_own_jobs;
RESET ROLE;
\! python3 test/mock/mockctl.py log
--
-- IMPORT: spec paths that would leave the prefix are skipped with a
-- WARNING; the others are imported
--
\! python3 -c 'import json; ok = {"get": {"parameters": [], "responses": {"200": {"description": "ok", "schema": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "integer"}}}}}}}}; paths = ["/../../etc/", "/things/%2e%2e/x/", "/things/%2F/", "/things//x/", "/things/./y/", "/things/%5C/", "/things/{a b}/", "/things/ok/"]; open("/tmp/civis_bounds_spec.json", "w").write(json.dumps({"swagger": "2.0", "paths": {p: ok for p in paths}}))'
\set _ `python3 test/mock/mockctl.py faults '{"path_prefix": "/endpoints", "always": "spec", "spec_file": "/tmp/civis_bounds_spec.json"}'`
CREATE SCHEMA b_import;
SET client_min_messages = warning;
IMPORT FOREIGN SCHEMA civis FROM SERVER b_su INTO b_import;
\set _ `python3 test/mock/mockctl.py faults null`
SELECT foreign_table_name AS imported,
       (SELECT option_value FROM information_schema.foreign_table_options o
         WHERE o.foreign_table_name = t.foreign_table_name
           AND o.foreign_table_schema = 'b_import' AND option_name = 'endpoint') AS endpoint
  FROM information_schema.foreign_tables t
 WHERE foreign_table_schema = 'b_import' ORDER BY 1;

-- the backend is still fine
SELECT count(1) > 0 AS still_working FROM civis.databases;
SET client_min_messages = warning;
DROP SCHEMA b_import CASCADE;
DROP SERVER b_own, b_su CASCADE;
REVOKE CREATE ON SCHEMA public FROM civis_bounds_user;
REVOKE USAGE ON FOREIGN DATA WRAPPER civis_fdw FROM civis_bounds_user;
DROP ROLE civis_bounds_user;
