--
-- faults: what the wrapper does when the Civis API misbehaves.  The mock
-- injects faults (mockctl.py faults); every case either returns exactly the
-- mock's rows or raises a clean ERROR with the SQLSTATE shown after it, and
-- the same backend carries on.  Never a short or empty result.
--
\getenv mock_url CIVIS_MOCK_URL
SET client_min_messages = notice;
-- These are the rules of a backend that budgets alone (1.1.0's, and those
-- of PostgreSQL 15 without shared_preload_libraries): retries counted per
-- request, pacing per backend.  The budget shared by every session has its
-- own suite (test/suites/budget.sh).
SET civis_fdw.shared_budget = off;
SET timezone = 'UTC';
\set SHOW_CONTEXT always
\set mockctl 'python3 test/mock/mockctl.py'
SELECT pg_backend_pid() AS pid_at_start \gset
CREATE SCHEMA faults;
-- retries bounded by count and time; Retry-After "0" keeps the test quick
CREATE SERVER civis_faults FOREIGN DATA WRAPPER civis_fdw
  OPTIONS (api_url :'mock_url', max_retries '10', retry_max_time '60');
-- a small size cap, few retries
CREATE SERVER civis_small FOREIGN DATA WRAPPER civis_fdw
  OPTIONS (api_url :'mock_url', max_response_bytes '100000', max_retries '1');
-- a page cap
CREATE SERVER civis_short FOREIGN DATA WRAPPER civis_fdw
  OPTIONS (api_url :'mock_url', max_pages '2');
-- a total-request timeout of one second
CREATE SERVER civis_slow FOREIGN DATA WRAPPER civis_fdw
  OPTIONS (api_url :'mock_url', request_timeout '1', max_retries '1');
CREATE USER MAPPING FOR CURRENT_USER SERVER civis_faults OPTIONS (api_key 'test-key-0123456789');
CREATE USER MAPPING FOR CURRENT_USER SERVER civis_small OPTIONS (api_key 'test-key-0123456789');
CREATE USER MAPPING FOR CURRENT_USER SERVER civis_short OPTIONS (api_key 'test-key-0123456789');
CREATE USER MAPPING FOR CURRENT_USER SERVER civis_slow OPTIONS (api_key 'test-key-0123456789');
CREATE FOREIGN TABLE faults.jobs (
  id bigint OPTIONS (key 'id'),
  name text OPTIONS (key 'name'),
  state text OPTIONS (key 'state'),
  created_at timestamptz OPTIONS (key 'createdAt'),
  updated_at timestamptz OPTIONS (key 'updatedAt')
) SERVER civis_faults
  OPTIONS (endpoint '/jobs/', paging 'pages', page_size '50',
           detail_endpoint '/jobs/{id}', order_default 'updated_at');
CREATE FOREIGN TABLE faults.small_jobs (id bigint OPTIONS (key 'id'), name text OPTIONS (key 'name'))
  SERVER civis_small OPTIONS (endpoint '/jobs/', paging 'pages', page_size '50');
CREATE FOREIGN TABLE faults.short_jobs (id bigint OPTIONS (key 'id'), name text OPTIONS (key 'name'))
  SERVER civis_short OPTIONS (endpoint '/jobs/', paging 'pages', page_size '50');
-- one request at a time: a change between pages is seen by the next page
CREATE FOREIGN TABLE faults.live_jobs (id bigint OPTIONS (key 'id'), name text OPTIONS (key 'name'))
  SERVER civis_faults OPTIONS (endpoint '/jobs/', paging 'pages', page_size '50', max_in_flight '1');
CREATE FOREIGN TABLE faults.slow_jobs (id bigint OPTIONS (key 'id'), name text OPTIONS (key 'name'))
  SERVER civis_slow OPTIONS (endpoint '/jobs/', paging 'pages', page_size '50');
-- t::text of every row, in one md5, against the mock's own rows
CREATE FUNCTION faults.same_as_mock(expected jsonb) RETURNS TABLE (rows bigint, distinct_ids bigint, matches boolean)
LANGUAGE sql AS $$
  SELECT count(1), count(DISTINCT id),
         md5(string_agg(t::text, E'\n' ORDER BY t::text COLLATE "C")) =
         (SELECT md5(string_agg(r::text, E'\n' ORDER BY r::text COLLATE "C"))
            FROM jsonb_populate_recordset(NULL::faults.jobs, expected) r)
    FROM faults.jobs t
$$;

--
-- 1. A multi-page scan of thousands of rows under a profile where every 7th
-- request gets 429, every 11th 503 and every 13th connection is dropped:
-- exactly the mock's rows, every time.
--
\! python3 test/mock/mockctl.py reset
\! python3 test/mock/mockctl.py data '{"path": "/jobs/", "action": "add", "n": 2000}'
\set expected `python3 test/mock/mockctl.py expected /jobs/ ''`
SELECT jsonb_array_length(:'expected') AS mock_rows;
\! python3 test/mock/mockctl.py faults '{"path_prefix": "/jobs/", "every": {"7": "429", "11": "503", "13": "drop"}, "retry_after": "0"}'
\! python3 test/mock/mockctl.py mark
SELECT * FROM faults.same_as_mock(:'expected');
SELECT * FROM faults.same_as_mock(:'expected');
SELECT * FROM faults.same_as_mock(:'expected');
-- the faults really happened: 429s, 503s and dropped connections (status 0)
\set st `python3 test/mock/mockctl.py statuses`
SELECT (:'st'::jsonb ->> '429')::int > 0 AS got_429,
       (:'st'::jsonb ->> '503')::int > 0 AS got_503,
       (:'st'::jsonb ->> '0')::int > 0 AS got_drops,
       (:'st'::jsonb ->> '200')::int >= 3 * 43 AS all_pages_answered;
-- a retry wait given as an HTTP date (in the past: retry at once)
\! python3 test/mock/mockctl.py faults '{"path_prefix": "/jobs/", "first": {"1": "429", "2": "429"}, "retry_after": "Wed, 21 Oct 2015 07:28:00 GMT"}'
SELECT * FROM faults.same_as_mock(:'expected');
\! python3 test/mock/mockctl.py reset

-- fewer retries from here on: every case below fails anyway
ALTER SERVER civis_faults OPTIONS (SET max_retries '2');

--
-- 2. Retries run out: an ERROR naming the status, the table, the request
-- and the number of attempts.  A 429 never becomes an empty result.
--
\! python3 test/mock/mockctl.py faults '{"always": "429", "retry_after": "0"}'
SELECT count(1) FROM faults.jobs;
\echo :LAST_ERROR_SQLSTATE
\! python3 test/mock/mockctl.py faults '{"always": "503"}'
SELECT count(1) FROM faults.jobs;
\echo :LAST_ERROR_SQLSTATE
\! python3 test/mock/mockctl.py faults '{"always": "502"}'
SELECT count(1) FROM faults.jobs;
\echo :LAST_ERROR_SQLSTATE
-- 500 is not retried
\! python3 test/mock/mockctl.py faults '{"always": "500"}'
SELECT count(1) FROM faults.jobs;
\echo :LAST_ERROR_SQLSTATE
-- a Retry-After longer than retry_max_time: no point waiting, fail at once
\! python3 test/mock/mockctl.py faults '{"always": "429", "retry_after": "3600"}'
\! python3 test/mock/mockctl.py mark
SELECT count(1) FROM faults.jobs;
\echo :LAST_ERROR_SQLSTATE
\! python3 test/mock/mockctl.py count
-- connections dropped, reset, or closed halfway through the body
\! python3 test/mock/mockctl.py faults '{"always": "drop"}'
SELECT count(1) FROM faults.jobs;
\echo :LAST_ERROR_SQLSTATE
\! python3 test/mock/mockctl.py faults '{"always": "reset"}'
SELECT count(1) FROM faults.jobs;
\echo :LAST_ERROR_SQLSTATE
\! python3 test/mock/mockctl.py faults '{"always": "truncate"}'
-- (libcurl's words differ between versions: see regress_run in init.sql)
\set SHOW_CONTEXT never
SELECT regress_run('SELECT count(1) FROM faults.jobs');
\set SHOW_CONTEXT errors
\echo :LAST_ERROR_SQLSTATE
-- a total-request timeout: a server slower than request_timeout
\! python3 test/mock/mockctl.py faults '{"always": "slow", "delay_ms": 3000}'
\set VERBOSITY terse
SELECT count(1) FROM faults.slow_jobs;
\set VERBOSITY default
\echo :LAST_ERROR_SQLSTATE

--
-- 3. Hostile and broken bodies.
--
\! python3 test/mock/mockctl.py faults '{"always": "malformed"}'
SELECT count(1) FROM faults.jobs;
\echo :LAST_ERROR_SQLSTATE
\! python3 test/mock/mockctl.py faults '{"always": "html"}'
SELECT count(1) FROM faults.jobs;
\echo :LAST_ERROR_SQLSTATE
\! python3 test/mock/mockctl.py faults '{"always": "badutf8"}'
SELECT count(1) FROM faults.jobs;
\echo :LAST_ERROR_SQLSTATE
\! python3 test/mock/mockctl.py faults '{"always": "nul"}'
SELECT count(1) FROM faults.jobs;
\echo :LAST_ERROR_SQLSTATE
\! python3 test/mock/mockctl.py faults '{"always": "deep"}'
SELECT count(1) FROM faults.jobs;
\echo :LAST_ERROR_SQLSTATE
-- an id of 2^53 + 1 cannot be read exactly from a JSON number: refused, not rounded
\! python3 test/mock/mockctl.py faults '{"always": "bigint"}'
SELECT max(id) FROM faults.jobs;
\echo :LAST_ERROR_SQLSTATE
SELECT id, name FROM faults.jobs WHERE id = 406;
\echo :LAST_ERROR_SQLSTATE
-- a response bigger than max_response_bytes
\! python3 test/mock/mockctl.py faults '{"always": "huge", "huge_mb": 1}'
SELECT count(1) FROM faults.small_jobs;
\echo :LAST_ERROR_SQLSTATE
-- an object where a listing's array was expected: an ERROR, never a short result
\! python3 test/mock/mockctl.py faults '{"always": "object"}'
\set VERBOSITY terse
SELECT count(1) FROM faults.jobs;
\set VERBOSITY default
\echo :LAST_ERROR_SQLSTATE
-- an array where a detail object was expected: forgiven (its single item is the row)
\! python3 test/mock/mockctl.py faults '{"always": "array"}'
SELECT id, name FROM faults.jobs WHERE id = 406;
-- paging headers that lie (a page count that never ends, every page the same)
\! python3 test/mock/mockctl.py faults '{"always": "lying_pages"}'
SELECT count(1) FROM faults.jobs;
\echo :LAST_ERROR_SQLSTATE
-- the page cap
\! python3 test/mock/mockctl.py faults null
SELECT count(1) FROM faults.short_jobs;
\echo :LAST_ERROR_SQLSTATE

--
-- 4. Live data: rows move between pages while the listing is read (/jobs/
-- sorts by updated_at).  No row comes twice; a changed total is noticed.
--
\! python3 test/mock/mockctl.py reset
\set live1 `mktemp`
\set live2 `mktemp`
BEGIN;
DECLARE c CURSOR FOR SELECT id FROM faults.live_jobs;
FETCH 10 FROM c \g (format=unaligned tuples_only=on) :live1
\! python3 test/mock/mockctl.py data '{"path": "/jobs/", "action": "touch", "n": 20}'
\! python3 test/mock/mockctl.py data '{"path": "/jobs/", "action": "add", "n": 3}'
FETCH ALL FROM c \g (format=unaligned tuples_only=on) :live2
COMMIT;
\set fetched `cat :live1 :live2 | wc -l`
\set twice `cat :live1 :live2 | sort | uniq -d | wc -l`
SELECT :fetched >= 137 - 20 AS most_rows, :twice = 0 AS no_row_twice;
\! rm -f :live1 :live2
\! python3 test/mock/mockctl.py reset

--
-- The same backend served every case above.
--
SELECT pg_backend_pid() = :pid_at_start AS same_backend;
SELECT count(1) FROM faults.jobs;
DROP SCHEMA faults CASCADE;
DROP SERVER civis_faults, civis_small, civis_short, civis_slow CASCADE;
