--
-- options: validation of server, table, column and user mapping options.
-- Negative tests use dummy keys: PostgreSQL logs the text of a failing
-- statement.
--
SET client_min_messages = warning;
-- api_key belongs on a user mapping only: server and table options are
-- readable by every role.
CREATE SERVER bad1 FOREIGN DATA WRAPPER civis_fdw OPTIONS (api_key 'dummy-key');
CREATE FOREIGN TABLE bad_t (id bigint) SERVER civis
  OPTIONS (endpoint '/jobs/', api_key 'dummy-key');
CREATE FOREIGN TABLE bad_t (id bigint OPTIONS (api_key 'dummy-key')) SERVER civis
  OPTIONS (endpoint '/jobs/');
-- unknown options list the valid ones
CREATE SERVER bad2 FOREIGN DATA WRAPPER civis_fdw OPTIONS (url 'https://x');
CREATE FOREIGN TABLE bad_t (id bigint) SERVER civis OPTIONS (path '/jobs/');
CREATE FOREIGN TABLE bad_t (id bigint OPTIONS (json 'id')) SERVER civis
  OPTIONS (endpoint '/jobs/');
CREATE USER MAPPING FOR PUBLIC SERVER civis OPTIONS (key 'dummy-key');
-- values are checked
CREATE SERVER bad3 FOREIGN DATA WRAPPER civis_fdw OPTIONS (api_url 'ftp://example.com');
CREATE SERVER bad3 FOREIGN DATA WRAPPER civis_fdw OPTIONS (api_url 'http://example.com');
CREATE SERVER bad3 FOREIGN DATA WRAPPER civis_fdw OPTIONS (api_url 'https://user:pw@example.com');
CREATE SERVER bad3 FOREIGN DATA WRAPPER civis_fdw OPTIONS (api_url 'https://example.com/?x=1');
CREATE SERVER bad3 FOREIGN DATA WRAPPER civis_fdw OPTIONS (connect_timeout '0');
CREATE SERVER bad3 FOREIGN DATA WRAPPER civis_fdw OPTIONS (request_timeout 'soon');
CREATE SERVER bad3 FOREIGN DATA WRAPPER civis_fdw OPTIONS (max_retries '-1');
CREATE SERVER bad3 FOREIGN DATA WRAPPER civis_fdw OPTIONS (pushdown 'maybe');
CREATE SERVER bad3 FOREIGN DATA WRAPPER civis_fdw OPTIONS (request_cost '-5');
CREATE SERVER bad3 FOREIGN DATA WRAPPER civis_fdw OPTIONS (max_in_flight '8', max_in_flight '9');
CREATE FOREIGN TABLE bad_t (id bigint) SERVER civis OPTIONS (endpoint 'jobs');
CREATE FOREIGN TABLE bad_t (id bigint) SERVER civis OPTIONS (endpoint '/jobs/?x=1');
CREATE FOREIGN TABLE bad_t (id bigint) SERVER civis OPTIONS (endpoint '/jobs/', paging 'sometimes');
CREATE FOREIGN TABLE bad_t (id bigint OPTIONS (list 'tsv')) SERVER civis OPTIONS (endpoint '/jobs/');
-- good ones
CREATE SERVER good1 FOREIGN DATA WRAPPER civis_fdw;
CREATE SERVER good2 FOREIGN DATA WRAPPER civis_fdw OPTIONS (
  api_url 'https://api.civisanalytics.com/', connect_timeout '5', request_timeout '30',
  max_retries '3', retry_max_time '60', max_response_bytes '1000000', max_pages '500',
  max_in_flight '4', page_size_cap '20', pushdown 'off', fanout_limit '10',
  use_remote_estimate 'false', request_cost '50', row_cost '0.02', default_rows '200');
CREATE SERVER good3 FOREIGN DATA WRAPPER civis_fdw
  OPTIONS (api_url 'http://civis.example.com', allow_insecure_http 'true');
CREATE SERVER good4 FOREIGN DATA WRAPPER civis_fdw OPTIONS (api_url 'http://localhost:1/');
ALTER SERVER good4 OPTIONS (SET api_url 'http://example.org');
ALTER SERVER good3 OPTIONS (SET allow_insecure_http 'false');
-- ca_file names a file on the server: superusers only
CREATE ROLE civis_regress_user;
GRANT USAGE ON FOREIGN DATA WRAPPER civis_fdw TO civis_regress_user;
SET ROLE civis_regress_user;
CREATE SERVER bad4 FOREIGN DATA WRAPPER civis_fdw OPTIONS (ca_file '/etc/passwd');
RESET ROLE;
CREATE SERVER good5 FOREIGN DATA WRAPPER civis_fdw OPTIONS (ca_file '/etc/ssl/certs/ca-certificates.crt');
-- other roles cannot read a user's key
CREATE USER MAPPING FOR civis_regress_user SERVER good1 OPTIONS (api_key 'dummy-key-of-someone');
SET ROLE civis_regress_user;
SELECT srvname, umoptions FROM pg_user_mappings WHERE srvname = 'good1';
RESET ROLE;
CREATE USER MAPPING FOR CURRENT_USER SERVER good1 OPTIONS (api_key 'dummy-key-mine');
SET ROLE civis_regress_user;
SELECT usename, umoptions FROM pg_user_mappings WHERE srvname = 'good1' ORDER BY 1;
RESET ROLE;
-- a table without endpoint is accepted but cannot be scanned
CREATE FOREIGN TABLE no_endpoint (id bigint) SERVER civis;
SELECT * FROM no_endpoint;
-- a role without a user mapping gets a clear error
GRANT USAGE ON FOREIGN SERVER civis TO civis_regress_user;
CREATE FOREIGN TABLE opt_jobs (id bigint) SERVER civis OPTIONS (endpoint '/jobs/');
GRANT SELECT ON opt_jobs TO civis_regress_user;
SET ROLE civis_regress_user;
SELECT * FROM opt_jobs LIMIT 1;
RESET ROLE;
-- a mapping without api_key
CREATE USER MAPPING FOR civis_regress_user SERVER civis OPTIONS (api_key 'dummy');
ALTER USER MAPPING FOR civis_regress_user SERVER civis OPTIONS (DROP api_key);
SET ROLE civis_regress_user;
SELECT * FROM opt_jobs LIMIT 1;
RESET ROLE;
SELECT civis_fdw_version() ~ ('^civis_fdw 1\.2\.0, libcurl [0-9.]+, cJSON [0-9.]+, PostgreSQL '
                               || current_setting('server_version_num')::int / 10000 || '\M') AS version_ok;
DROP FOREIGN TABLE no_endpoint, opt_jobs;
DROP SERVER good1, good2, good3, good4, good5 CASCADE;
DROP USER MAPPING FOR civis_regress_user SERVER civis;
REVOKE ALL ON FOREIGN SERVER civis FROM civis_regress_user;
REVOKE ALL ON FOREIGN DATA WRAPPER civis_fdw FROM civis_regress_user;
DROP ROLE civis_regress_user;
