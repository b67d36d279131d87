--
-- rate_limit: the request budget, visible (issue 10).
--  * civis_fdw_rate_limit() shows, for each server and user mapping this
--    session sent requests with, the latest X-RateLimit-Limit and
--    X-RateLimit-Remaining the API answered and when.
--  * Pacing (spacing requests out when few remain) is per server and user
--    mapping: one mapping's low budget does not slow another's requests.
--  * EXPLAIN ANALYZE's "Civis Fetched Ahead Unused" counts every request
--    that was sent and never used (still in flight, waiting for a retry, or
--    answered), and no request that never went out.
-- The mock's rate counters are reset first; each key has its own counter,
-- as with the real API.  Two keys: the suite's own (server civis, a mapping
-- for the current user) and a second one (server rl_b, a PUBLIC mapping)
-- with a limit of 6 calls, so that it is paced from its first request.
--
\getenv mock_url CIVIS_MOCK_URL
SET client_min_messages = warning;
-- These are the rules of a backend that budgets alone (1.1.0's, and those
-- of PostgreSQL 15 without shared_preload_libraries): retries counted per
-- request, pacing per backend.  The budget shared by every session has its
-- own suite (test/suites/budget.sh).
SET civis_fdw.shared_budget = off;
SET timezone = 'UTC';
\set _ `python3 test/mock/mockctl.py reset`
\set cfg `python3 test/mock/mockctl.py config '{"rate_limit": 1000, "rate_limits": {"regress-second-key": 6}, "api_keys": ["test-key-0123456789", "regress-second-key"]}'`
-- The foreign scan's EXPLAIN ANALYZE figures (FORMAT JSON: the same on every
-- PostgreSQL version).
CREATE FUNCTION pg_temp.scan_stats(query text)
RETURNS TABLE (requests bigint, pages bigint, retries bigint, unused bigint, wait_ms float8,
               slowest_ms float8)
LANGUAGE plpgsql AS $fn$
DECLARE
  plan json;
BEGIN
  EXECUTE 'EXPLAIN (ANALYZE, FORMAT JSON, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || query
    INTO plan;
  RETURN QUERY
    WITH RECURSIVE node(n) AS (
      SELECT plan->0->'Plan'
      UNION ALL
      SELECT sub FROM node, json_array_elements(node.n->'Plans') sub)
    SELECT (n->>'Civis Requests')::bigint, (n->>'Civis Pages')::bigint,
           (n->>'Civis Retries')::bigint, (n->>'Civis Fetched Ahead Unused')::bigint,
           (n->>'Civis Network Wait')::float8, (n->>'Civis Slowest Request')::float8
      FROM node WHERE n->>'Node Type' = 'Foreign Scan';
END
$fn$;
CREATE FUNCTION pg_temp.sqlstate_of(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE;
END $$;
SELECT clock_timestamp() AS t0 \gset
-- a new session has sent nothing yet
SELECT count(*) AS mappings_used FROM civis_fdw_rate_limit();
--
-- 1. Fetched Ahead Unused.  LIMIT (SELECT 110) gives the scan no bound, so
-- it reads ahead as it consumes pages (4 pages of 50).  Page 3 is slow;
-- page 4, sent while the scan waits for page 3, is answered 429 with
-- Retry-After 30: when page 3 completes the LIMIT, page 4 is sleeping
-- before its retry (Retries 1).  It was sent and never used: 1.
--
\set _ `python3 test/mock/mockctl.py faults '{"path_prefix": "/jobs/", "by_param": {"page_num=3": "slow", "page_num=4": "429"}, "kinds": {"slow": {"delay_ms": 800}, "429": {"retry_after": "30"}}}'`
\set _ `python3 test/mock/mockctl.py mark`
CREATE TEMP TABLE ahead AS
  SELECT * FROM pg_temp.scan_stats('SELECT id FROM civis.jobs LIMIT (SELECT 110)');
\set sent1 `python3 test/mock/mockctl.py count`
\set statuses `python3 test/mock/mockctl.py statuses`
\set _ `python3 test/mock/mockctl.py faults null`
SELECT pages, retries, unused, :sent1 AS sent, :'statuses' AS statuses,
       unused = :sent1 - pages AS unused_is_sent_minus_pages,
       slowest_ms >= 800 AS slowest_request_is_the_slow_page
  FROM ahead;
-- the same without faults: what is in flight when the LIMIT is met counts
\set _ `python3 test/mock/mockctl.py mark`
CREATE TEMP TABLE ahead2 AS
  SELECT * FROM pg_temp.scan_stats('SELECT id FROM civis.jobs LIMIT (SELECT 60)');
SELECT pg_sleep(0.3);	-- responses still on their way reach the log
\set sent2 `python3 test/mock/mockctl.py count`
SELECT pages, unused >= 1 AS some_unused, unused = :sent2 - pages AS unused_is_sent_minus_pages
  FROM ahead2;
--
-- 2. Pacing per (server, user mapping).  Server rl_b's PUBLIC mapping has
-- the second key (6 calls): its requests are paced from the start.
--
CREATE SERVER rl_b FOREIGN DATA WRAPPER civis_fdw OPTIONS (api_url :'mock_url');
CREATE USER MAPPING FOR PUBLIC SERVER rl_b OPTIONS (api_key 'regress-second-key');
CREATE SCHEMA rl_b;
\set _ `python3 test/mock/mockctl.py mark`
IMPORT FOREIGN SCHEMA civis LIMIT TO (jobs) FROM SERVER rl_b INTO rl_b;
-- The same LIMIT (SELECT 60) on rl_b: page 2 waits for its paced start
-- (about 240 ms after page 1's), and the pages fetched ahead after it wait
-- in the queue when the LIMIT is met: never sent, so not counted.
CREATE TEMP TABLE paced AS
  SELECT * FROM pg_temp.scan_stats('SELECT id FROM rl_b.jobs LIMIT (SELECT 60)');
-- Right after, server civis (its own budget: 1000) is not slowed down by
-- rl_b's low count (one counter per backend would wait about 250 ms).
CREATE TEMP TABLE unpaced AS
  SELECT * FROM pg_temp.scan_stats('SELECT id FROM civis.databases');
\set sent_ab `python3 test/mock/mockctl.py count --include-endpoints`
SELECT :sent_ab - requests AS sent_b, requests AS sent_a FROM unpaced \gset
SELECT pages, unused, :sent_b AS sent_with_import,
       unused = (:sent_b - 1) - pages AS unused_is_sent_minus_pages,
       wait_ms >= 200 AS paced
  FROM paced;
SELECT pages, wait_ms < 150 AS not_paced FROM unpaced;
--
-- 3. civis_fdw_rate_limit(): one row per server and user mapping, with the
-- latest values each key's responses carried: the mock's counters, 1000 -
-- the calls with the suite's key since the reset (the injected 429 of part
-- 1 is not one), 6 - those with the second key.  The key is never shown.
--
SELECT server_name,
       CASE WHEN user_name = current_user THEN 'CURRENT_USER' ELSE user_name END AS user_name,
       rate_limit, remaining,
       remaining = rate_limit - CASE server_name WHEN 'civis' THEN :sent1 - 1 + :sent2 + :sent_a
                                                  ELSE :sent_b END AS remaining_as_counted,
       seen_at BETWEEN :'t0' AND clock_timestamp() AS seen_at_ok
  FROM civis_fdw_rate_limit();
SELECT count(*) AS rows_showing_a_key
  FROM civis_fdw_rate_limit() r WHERE r::text ~ '(test-key|second-key)';
-- A mapping whose responses carried no rate-limit headers (503s do not):
-- its row has NULLs.
CREATE SERVER rl_c FOREIGN DATA WRAPPER civis_fdw
  OPTIONS (api_url :'mock_url', max_retries '0');
CREATE USER MAPPING FOR CURRENT_USER SERVER rl_c OPTIONS (api_key 'test-key-0123456789');
CREATE FOREIGN TABLE rl_c_jobs (id bigint) SERVER rl_c
  OPTIONS (endpoint '/jobs/', paging 'pages', page_size '50');
\set _ `python3 test/mock/mockctl.py faults '{"always": "503", "path_prefix": "/jobs/"}'`
SELECT pg_temp.sqlstate_of('SELECT * FROM rl_c_jobs');
\set _ `python3 test/mock/mockctl.py faults null`
SELECT server_name, rate_limit, remaining, seen_at
  FROM civis_fdw_rate_limit() WHERE server_name = 'rl_c';
-- Another role sees the rows of PUBLIC mappings only (the others belong to
-- roles whose privileges it does not have).
CREATE ROLE civis_regress_rl_other;
SET ROLE civis_regress_rl_other;
SELECT server_name, user_name FROM civis_fdw_rate_limit();
RESET ROLE;
DROP ROLE civis_regress_rl_other;
-- Dropped servers and mappings are left out.
DROP SERVER rl_b CASCADE;
DROP USER MAPPING FOR CURRENT_USER SERVER rl_c;
SELECT server_name, rate_limit FROM civis_fdw_rate_limit();
-- A new mapping is a new budget, even on the same server and with the same key.
CREATE USER MAPPING FOR CURRENT_USER SERVER rl_c OPTIONS (api_key 'test-key-0123456789');
SELECT count(*) FROM rl_c_jobs;
SELECT server_name, rate_limit, remaining IS NOT NULL AS has_remaining
  FROM civis_fdw_rate_limit();
DROP SERVER rl_c CASCADE;
DROP SCHEMA rl_b;
\set _ `python3 test/mock/mockctl.py reset`
