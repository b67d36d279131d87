--
-- ssrf: who may point the wrapper where.  A role with USAGE on the wrapper
-- (not a superuser) may only point servers at hosts in
-- civis_fdw.allowed_hosts, may not set the options that widen reach
-- (allow_insecure_http, allow_private_addresses, proxy, ca_file), and is held
-- to hard bounds on concurrency.  Whatever the options, the address actually
-- connected to is checked: loopback, private, link-local and other
-- non-public addresses are refused before any packet is sent, unless the
-- host is allowed or a superuser exempted the server.  Connect failures fail
-- fast.  Each refusal shows its SQLSTATE (psql's LAST_ERROR_SQLSTATE).
--
-- The test cluster allows "api.civisanalytics.com, http://127.0.0.1,
-- http://localhost" (scripts/lib.sh); parts below narrow it per session.
--
\getenv mock_url CIVIS_MOCK_URL
SET client_min_messages = warning;
SET timezone = 'UTC';
SHOW civis_fdw.allowed_hosts;
CREATE ROLE civis_ssrf_user;
GRANT USAGE ON FOREIGN DATA WRAPPER civis_fdw TO civis_ssrf_user;
GRANT CREATE ON SCHEMA public TO civis_ssrf_user;

--
-- 1. At DDL time, as a non-superuser
--
SET ROLE civis_ssrf_user;
-- a host that is not allowed, whatever its scheme or address
CREATE SERVER s_evil FOREIGN DATA WRAPPER civis_fdw OPTIONS (api_url 'https://evil.example.com/api');
\echo :LAST_ERROR_SQLSTATE
CREATE SERVER s_meta FOREIGN DATA WRAPPER civis_fdw OPTIONS (api_url 'https://169.254.169.254');
\echo :LAST_ERROR_SQLSTATE
CREATE SERVER s_ten FOREIGN DATA WRAPPER civis_fdw OPTIONS (api_url 'https://10.0.0.1:8443');
\echo :LAST_ERROR_SQLSTATE
-- a name that merely starts like a loopback address is just another host
CREATE SERVER s_fake FOREIGN DATA WRAPPER civis_fdw OPTIONS (api_url 'http://127.attacker.example');
\echo :LAST_ERROR_SQLSTATE
-- the same address written another way is not the allowed text
CREATE SERVER s_other FOREIGN DATA WRAPPER civis_fdw OPTIONS (api_url 'http://2130706433:80');
\echo :LAST_ERROR_SQLSTATE
-- options that widen reach are superuser-only (false widens nothing)
CREATE SERVER s_http FOREIGN DATA WRAPPER civis_fdw OPTIONS (allow_insecure_http 'true');
\echo :LAST_ERROR_SQLSTATE
CREATE SERVER s_private FOREIGN DATA WRAPPER civis_fdw OPTIONS (allow_private_addresses 'on');
\echo :LAST_ERROR_SQLSTATE
CREATE SERVER s_proxy FOREIGN DATA WRAPPER civis_fdw OPTIONS (proxy 'http://proxy.internal:3128');
\echo :LAST_ERROR_SQLSTATE
CREATE SERVER s_ca FOREIGN DATA WRAPPER civis_fdw OPTIONS (ca_file '/etc/passwd');
\echo :LAST_ERROR_SQLSTATE
-- plain http to an allowed host not listed as http://host
CREATE SERVER s_clear FOREIGN DATA WRAPPER civis_fdw OPTIONS (api_url 'http://api.civisanalytics.com');
\echo :LAST_ERROR_SQLSTATE
-- hard bounds
CREATE SERVER s_wide FOREIGN DATA WRAPPER civis_fdw OPTIONS (max_in_flight '2147483647');
\echo :LAST_ERROR_SQLSTATE
CREATE SERVER s_wide FOREIGN DATA WRAPPER civis_fdw OPTIONS (max_in_flight '65');
\echo :LAST_ERROR_SQLSTATE
CREATE SERVER s_wide FOREIGN DATA WRAPPER civis_fdw OPTIONS (fanout_limit '1001');
\echo :LAST_ERROR_SQLSTATE
-- the session cannot widen the list
SET civis_fdw.allowed_hosts = '*';
\echo :LAST_ERROR_SQLSTATE
-- what a non-superuser may do: the default host, an allowed one, the bounds
CREATE SERVER s_default FOREIGN DATA WRAPPER civis_fdw
  OPTIONS (max_in_flight '64', fanout_limit '1000', allow_insecure_http 'false',
           allow_private_addresses 'false');
CREATE SERVER s_public FOREIGN DATA WRAPPER civis_fdw
  OPTIONS (api_url 'https://API.civisanalytics.com./');
CREATE SERVER s_mock FOREIGN DATA WRAPPER civis_fdw OPTIONS (api_url :'mock_url');
CREATE FOREIGN TABLE ssrf_wide (id bigint) SERVER s_mock
  OPTIONS (endpoint '/jobs/', max_in_flight '100');
\echo :LAST_ERROR_SQLSTATE
-- an allowed server cannot be turned towards another host
ALTER SERVER s_public OPTIONS (SET api_url 'https://evil.example.com');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT srvname, srvoptions FROM pg_foreign_server
 WHERE srvname LIKE 's\_%' AND srvname <> 's_mock' ORDER BY 1;

--
-- 2. ALTER SERVER validates the whole resulting option list, as for
-- postgres_fdw: a non-superuser owner of a server a superuser configured
-- with a superuser-only option (or a host outside the list) cannot change
-- it at all, except by dropping that option.
--
CREATE SERVER su_private FOREIGN DATA WRAPPER civis_fdw
  OPTIONS (api_url :'mock_url', allow_private_addresses 'true', max_retries '0');
CREATE SERVER su_staging FOREIGN DATA WRAPPER civis_fdw
  OPTIONS (api_url 'https://staging.example.com', max_retries '0');
ALTER SERVER su_private OWNER TO civis_ssrf_user;
ALTER SERVER su_staging OWNER TO civis_ssrf_user;
SET ROLE civis_ssrf_user;
ALTER SERVER su_private OPTIONS (SET max_retries '1');
\echo :LAST_ERROR_SQLSTATE
ALTER SERVER su_private OPTIONS (SET api_url 'http://localhost:1');
\echo :LAST_ERROR_SQLSTATE
ALTER SERVER su_staging OPTIONS (SET max_retries '1');
\echo :LAST_ERROR_SQLSTATE
-- dropping the superuser's option gives the owner an ordinary server back
ALTER SERVER su_private OPTIONS (DROP allow_private_addresses, SET max_retries '1');
ALTER SERVER su_staging OPTIONS (SET api_url 'https://api.civisanalytics.com');
RESET ROLE;
SELECT srvname, regexp_replace(srvoptions::text, ':[0-9]+', ':PORT') AS srvoptions
  FROM pg_foreign_server WHERE srvname LIKE 'su\_%' ORDER BY 1;
DROP SERVER su_private, su_staging;

--
-- 3. At connect time: the address, not the text.  A superuser configures
-- servers that reach non-public addresses by name or literal; with the host
-- not in civis_fdw.allowed_hosts and no exemption, every one is refused
-- before a packet is sent, with the same message whatever the port (port
-- probing learns nothing), and the mock receives nothing.
--
CREATE PROCEDURE pg_temp.make_server(name text, url text, extra text DEFAULT '')
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('CREATE SERVER %I FOREIGN DATA WRAPPER civis_fdw OPTIONS (api_url %L, allow_insecure_http %L, max_retries %L, connect_timeout %L%s)',
                 name, url, 'true', '10', '2', extra);
  EXECUTE format('CREATE USER MAPPING FOR civis_ssrf_user SERVER %I OPTIONS (api_key %L)',
                 name, 'test-key-0123456789');
  EXECUTE format('CREATE FOREIGN TABLE %I (id bigint) SERVER %I OPTIONS (endpoint %L, paging %L, page_size %L)',
                 name || '_jobs', name, '/jobs/', 'pages', '50');
  EXECUTE format('GRANT SELECT ON %I TO civis_ssrf_user', name || '_jobs');
END $$;
CALL pg_temp.make_server('c_mock', :'mock_url');
CALL pg_temp.make_server('c_deadport', 'http://127.0.0.1:9');
CALL pg_temp.make_server('c_localhost', replace(:'mock_url', '127.0.0.1', 'localhost'));
CALL pg_temp.make_server('c_mapped', replace(:'mock_url', '127.0.0.1', '[::ffff:127.0.0.1]'));
CALL pg_temp.make_server('c_meta', 'http://169.254.169.254/latest/meta-data');
CALL pg_temp.make_server('c_ten', 'https://10.1.2.3');
CALL pg_temp.make_server('c_zero', 'http://0.0.0.0:80');
CALL pg_temp.make_server('c_cgnat', 'http://100.100.100.200');
CALL pg_temp.make_server('c_ula', 'http://[fd00::1]:8080');
CALL pg_temp.make_server('c_v6lo', 'http://[::1]:8080');
CALL pg_temp.make_server('c_exempt', :'mock_url', ', allow_private_addresses ''true''');
-- as the cluster is configured (127.0.0.1 and localhost allowed) the mock answers
SET ROLE civis_ssrf_user;
SELECT count(1) AS mock_rows FROM c_mock_jobs;
SELECT count(1) AS mock_rows_by_name FROM c_localhost_jobs;
RESET ROLE;
-- the list is checked when it is set
SET civis_fdw.allowed_hosts = 'api.civisanalytics.com, http://exa mple.com';
SET civis_fdw.allowed_hosts = 'api.civisanalytics.com,,localhost';
SET civis_fdw.allowed_hosts = 'ftp://files.example.com';
SET civis_fdw.allowed_hosts = '[::1]:8080, HTTP://Example.COM:8443, 10.0.0.1';
SHOW civis_fdw.allowed_hosts;
-- narrow the list to the default: now only the address decides
SET civis_fdw.allowed_hosts = 'api.civisanalytics.com';
\! python3 test/mock/mockctl.py mark
SET ROLE civis_ssrf_user;
SELECT count(1) FROM c_mock_jobs;
\echo :LAST_ERROR_SQLSTATE
SELECT count(1) FROM c_deadport_jobs;
\echo :LAST_ERROR_SQLSTATE
SELECT count(1) FROM c_localhost_jobs;
\echo :LAST_ERROR_SQLSTATE
SELECT count(1) FROM c_mapped_jobs;
\echo :LAST_ERROR_SQLSTATE
SELECT count(1) FROM c_meta_jobs;
\echo :LAST_ERROR_SQLSTATE
SELECT count(1) FROM c_ten_jobs;
\echo :LAST_ERROR_SQLSTATE
SELECT count(1) FROM c_zero_jobs;
\echo :LAST_ERROR_SQLSTATE
SELECT count(1) FROM c_cgnat_jobs;
\echo :LAST_ERROR_SQLSTATE
SELECT count(1) FROM c_ula_jobs;
\echo :LAST_ERROR_SQLSTATE
SELECT count(1) FROM c_v6lo_jobs;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
-- nothing reached the mock
\set reached `python3 test/mock/mockctl.py count`
SELECT :reached AS requests_reached_mock;
-- a superuser's exemption: the same mock, reached
SET ROLE civis_ssrf_user;
SELECT count(1) AS exempt_rows FROM c_exempt_jobs;
-- a connection the exempt server left in the cache is not reused by a
-- server without the exemption (checked before each request is sent)
SELECT count(1) FROM c_mock_jobs;
\echo :LAST_ERROR_SQLSTATE
SELECT count(1) AS exempt_rows_again FROM c_exempt_jobs;
RESET ROLE;
\set reached `python3 test/mock/mockctl.py count`
SELECT :reached > 0 AS exempt_requests_reached_mock;

--
-- 4. Bodies of error responses are shown only for allowed hosts: the
-- mock's explanation of a 500 appears when 127.0.0.1 is allowed, not when
-- only the exemption lets the request through.
--
\set _ `python3 test/mock/mockctl.py faults '{"always": "500", "path_prefix": "/jobs/"}'`
SET ROLE civis_ssrf_user;
SELECT count(1) FROM c_exempt_jobs;
RESET ROLE;
RESET civis_fdw.allowed_hosts;
SET ROLE civis_ssrf_user;
SELECT count(1) FROM c_exempt_jobs;
RESET ROLE;
\set _ `python3 test/mock/mockctl.py faults null`

--
-- 5. Failing fast: a closed port is tried 3 times (2 retries) in well under
-- 3 seconds, although max_retries is 10 (1.0.0 took 88 s and 11 attempts
-- with the default retry settings).
--
CREATE FUNCTION pg_temp.time_failure(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  t0 timestamptz := clock_timestamp();
  d text;
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
  RETURN SQLSTATE || ', ' || substring(d from 'Gave up after \d+ attempts') ||
         CASE WHEN clock_timestamp() - t0 < interval '3 s' THEN ', under 3 s'
              ELSE ', took ' || (clock_timestamp() - t0)::text END;
END $$;
ALTER SERVER c_deadport OPTIONS (DROP max_retries);
SET ROLE civis_ssrf_user;
-- (libcurl's words differ between versions: see regress_run in init.sql)
\set SHOW_CONTEXT never
SELECT regress_run('SELECT count(1) FROM c_deadport_jobs');
\set SHOW_CONTEXT errors
SELECT pg_temp.time_failure('SELECT count(1) FROM c_deadport_jobs') AS closed_port;
RESET ROLE;
-- a name that does not resolve (RFC 6761 .invalid) fails as fast
CALL pg_temp.make_server('c_nxdomain', 'http://no-such-host.invalid', ', allow_private_addresses ''true''');
ALTER SERVER c_nxdomain OPTIONS (DROP max_retries);
SET ROLE civis_ssrf_user;
SELECT pg_temp.time_failure('SELECT count(1) FROM c_nxdomain_jobs') AS unresolvable;
RESET ROLE;

--
-- 6. api_key_file (superuser only): the key is read from a file on the
-- database server, so it never appears in the text of a statement.
--
SET ROLE civis_ssrf_user;
CREATE USER MAPPING FOR CURRENT_USER SERVER s_mock OPTIONS (api_key_file '/etc/passwd');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
-- files in the data directory, written by the server itself (a relative
-- api_key_file is relative to the data directory)
SELECT current_setting('data_directory') || '/civis_ssrf_key' AS good_key,
       current_setting('data_directory') || '/civis_ssrf_wrong_key' AS wrong_key,
       current_setting('data_directory') || '/civis_ssrf_empty_key' AS empty_key \gset
COPY (SELECT '  test-key-0123456789  ') TO :'good_key';
COPY (SELECT 'dummy-wrong-key-from-file') TO :'wrong_key';
COPY (SELECT '') TO :'empty_key';
CREATE FOREIGN TABLE s_mock_jobs (id bigint) SERVER s_mock
  OPTIONS (endpoint '/jobs/', paging 'pages', page_size '50');
GRANT SELECT ON s_mock_jobs TO civis_ssrf_user;
CREATE USER MAPPING FOR civis_ssrf_user SERVER s_mock
  OPTIONS (api_key 'test-key-0123456789', api_key_file 'civis_ssrf_key');
\echo :LAST_ERROR_SQLSTATE
CREATE USER MAPPING FOR civis_ssrf_user SERVER s_mock OPTIONS (api_key_file 'civis_ssrf_key');
SET ROLE civis_ssrf_user;
SELECT count(1) AS rows_with_key_from_file FROM s_mock_jobs;
-- the mapped user cannot change the mapping while it names a file
ALTER USER MAPPING FOR CURRENT_USER SERVER s_mock OPTIONS (SET api_key_file 'civis_ssrf_wrong_key');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
ALTER USER MAPPING FOR civis_ssrf_user SERVER s_mock OPTIONS (SET api_key_file 'civis_ssrf_wrong_key');
SET ROLE civis_ssrf_user;
SELECT count(1) FROM s_mock_jobs;
RESET ROLE;
ALTER USER MAPPING FOR civis_ssrf_user SERVER s_mock OPTIONS (SET api_key_file 'civis_ssrf_empty_key');
SET ROLE civis_ssrf_user;
SELECT count(1) FROM s_mock_jobs;
RESET ROLE;
ALTER USER MAPPING FOR civis_ssrf_user SERVER s_mock OPTIONS (SET api_key_file 'civis_ssrf_no_such_file');
SET ROLE civis_ssrf_user;
SELECT count(1) FROM s_mock_jobs;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- the backend is still fine
SELECT count(1) > 0 AS still_working FROM civis.databases;
SET client_min_messages = warning;
DROP SERVER c_mock, c_deadport, c_localhost, c_mapped, c_meta, c_ten, c_zero,
  c_cgnat, c_ula, c_v6lo, c_exempt, c_nxdomain CASCADE;
DROP SERVER s_default, s_public, s_mock CASCADE;
REVOKE CREATE ON SCHEMA public FROM civis_ssrf_user;
REVOKE USAGE ON FOREIGN DATA WRAPPER civis_fdw FROM civis_ssrf_user;
DROP ROLE civis_ssrf_user;
