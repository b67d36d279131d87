--
-- paging: every paging kind the spec has, with the exact requests sent.
--
SET timezone = 'UTC';
\getenv mock_url CIVIS_MOCK_URL
-- limit + page_num: stop by the X-Pagination headers (no extra empty page)
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM civis.jobs;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- last_id cursor (logs): last_id=0 for id order, stop on an empty page
ALTER FOREIGN TABLE civis.jobs_runs_logs OPTIONS (SET page_size '10');
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1), min(id), max(id) FROM civis.jobs_runs_logs WHERE job_id = 7 AND run_id = 3;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
ALTER FOREIGN TABLE civis.jobs_runs_logs OPTIONS (SET page_size '10000');
-- start_at/end_at window (deployment logs)
ALTER FOREIGN TABLE civis.notebooks_deployments_logs OPTIONS (SET page_size '10');
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM civis.notebooks_deployments_logs WHERE notebook_id = 7 AND deployment_id = 7;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
ALTER FOREIGN TABLE civis.notebooks_deployments_logs OPTIONS (SET page_size '10000');
SELECT count(1) FROM civis.notebooks_deployments_logs WHERE notebook_id = 7 AND deployment_id = 7;
-- offset (/search/)
ALTER FOREIGN TABLE civis.search OPTIONS (SET page_size '25');
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM civis.search;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
ALTER FOREIGN TABLE civis.search OPTIONS (SET page_size '1000');
-- none: one request
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM civis.databases;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- pages are fetched concurrently once the first reveals the total; rows
-- still come in page order
SELECT count(1) = count(DISTINCT id) AS no_duplicates,
       bool_and(id > prev) AS in_page_order
  FROM (SELECT id, lag(id, 1, 0::bigint) OVER () AS prev FROM civis.jobs) s;
-- a page cap: a listing longer than max_pages is an ERROR, never a short result
CREATE SERVER civis_capped FOREIGN DATA WRAPPER civis_fdw OPTIONS (api_url :'mock_url', max_pages '2');
CREATE USER MAPPING FOR CURRENT_USER SERVER civis_capped OPTIONS (api_key 'test-key-0123456789');
CREATE FOREIGN TABLE capped_jobs (id bigint) SERVER civis_capped
  OPTIONS (endpoint '/jobs/', paging 'pages', page_size '50');
SELECT count(1) FROM capped_jobs;
SET client_min_messages = warning;
DROP SERVER civis_capped CASCADE;
RESET client_min_messages;
-- page_size above the endpoint's maximum: the API's 400 is an ERROR
ALTER FOREIGN TABLE civis.jobs OPTIONS (SET page_size '500');
SELECT count(1) FROM civis.jobs;
ALTER FOREIGN TABLE civis.jobs OPTIONS (SET page_size '50');
-- page_size_cap on the server lowers every table's page size
ALTER SERVER civis OPTIONS (ADD page_size_cap '20');
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM civis.jobs;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
ALTER SERVER civis OPTIONS (DROP page_size_cap);
