--
-- economy_joins: a local table joined to a Civis table on the id, with or
-- without statistics on the local table (issue "Request economy").
--
-- The parameterized scan is adaptive: it fetches each outer row's object
-- by id until K = min(fanout_limit, pages of the listing) requests, then
-- reads the listing once and answers the remaining rescans from it.  The
-- planner counts the rows of a never-analyzed local table (at most 10
-- pages) instead of PostgreSQL's guess of ~2,000 rows, so 5 ids cost 5
-- requests and 30 ids against a 4-page listing cost the listing.
-- Every result is compared with the same query without pushdown.
--
\getenv mock_url CIVIS_MOCK_URL
SET timezone = 'UTC';
SET client_min_messages = warning;
\set _ `python3 test/mock/mockctl.py reset`
CREATE SERVER civis_ej FOREIGN DATA WRAPPER civis_fdw
  OPTIONS (api_url :'mock_url', max_retries '0');
CREATE USER MAPPING FOR CURRENT_USER SERVER civis_ej
  OPTIONS (api_key 'test-key-0123456789');
CREATE SCHEMA ej;
IMPORT FOREIGN SCHEMA civis LIMIT TO (jobs, jobs_runs) FROM SERVER civis_ej INTO ej;
SET search_path = ej, public;
CREATE FUNCTION ej_explain(query text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
  ln text;
BEGIN
  FOR ln IN EXECUTE 'EXPLAIN (ANALYZE, VERBOSE, BUFFERS OFF, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || query
  LOOP
    CONTINUE WHEN ln !~ 'Civis (Get By Id Requests|Filtered Listing Requests|Listing Kept|Requests)|Nested Loop|Hash Join|Memoize';
    RETURN NEXT regexp_replace(ln, '\s+\(actual.*\)$', '');
  END LOOP;
END
$$;
-- the rows of a join, as text, sorted, for comparisons
CREATE FUNCTION ej_rows(query text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  r text;
BEGIN
  EXECUTE 'SELECT string_agg(t::text, '';'' ORDER BY t::text) FROM (' || query || ') t' INTO r;
  RETURN r;
END
$$;
-- same rows with pushdown on and off? (no rows at all: NULL both times)
CREATE FUNCTION ej_same(query text) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  a text;
  b text;
BEGIN
  a := ej_rows(query);
  SET LOCAL civis_fdw.enable_pushdown = off;
  b := ej_rows(query);
  SET LOCAL civis_fdw.enable_pushdown = on;
  RETURN a IS NOT DISTINCT FROM b;
END
$$;

-- existing jobs (406, 421, 450), an archived one (1099), a hidden one
-- (1240: the listing leaves it out, so get-by-id drops it too), a missing
-- one, a NULL and a repeated id; never analyzed
CREATE TABLE few_ids (job_id bigint) WITH (autovacuum_enabled = false);
INSERT INTO few_ids VALUES (406), (421), (450), (1099), (1240), (999999), (NULL), (406);

--
-- 1. A never-analyzed table of 8 rows: counted, so get-by-id per row
--    (PostgreSQL alone would guess ~2,000 rows and read the listing).
--
-- (the id condition stays in the Filter; 15 and 17 write its sides in
-- either order, so the line is shown in one form)
SELECT regexp_replace(p, 'Filter: \((j\.id = w\.job_id|w\.job_id = j\.id)\)',
                      'Filter: (w.job_id = j.id)') AS "QUERY PLAN"
  FROM regress_explain('SELECT w.job_id, j.name FROM few_ids w JOIN jobs j ON j.id = w.job_id') p;
\set _ `python3 test/mock/mockctl.py mark`
SELECT w.job_id, j.name, j.archived FROM few_ids w JOIN jobs j ON j.id = w.job_id ORDER BY 1;
\set log `python3 test/mock/mockctl.py log | LC_ALL=C sort`
\echo :log
SELECT ej_same('SELECT w.job_id, j.name, j.archived, j.state FROM few_ids w JOIN jobs j ON j.id = w.job_id') AS same_rows;

--
-- 2. The switch: fanout_limit 3 and a nested loop forced.  Three objects
--    by id, then the listing once (4 pages), and the other rescans are
--    answered from it, with the same rows as without pushdown.
--
ALTER FOREIGN TABLE jobs OPTIONS (ADD fanout_limit '3');
SET enable_hashjoin = off;
SET enable_mergejoin = off;
SET enable_memoize = off;
\set _ `python3 test/mock/mockctl.py mark`
SELECT w.job_id, j.name, j.archived FROM few_ids w JOIN jobs j ON j.id = w.job_id ORDER BY 1;
\set log `python3 test/mock/mockctl.py log | LC_ALL=C sort`
\echo :log
SELECT * FROM ej_explain('SELECT w.job_id, j.name FROM few_ids w JOIN jobs j ON j.id = w.job_id');
SELECT ej_same('SELECT w.job_id, j.name, j.archived, j.state FROM few_ids w JOIN jobs j ON j.id = w.job_id') AS same_rows;
-- other conditions on the Civis side stay with the kept listing: the
-- listing is sent with them, the rescans recheck them
\set _ `python3 test/mock/mockctl.py mark`
SELECT w.job_id, j.name FROM few_ids w JOIN jobs j ON j.id = w.job_id
 WHERE j.archived = false AND j.name ILIKE '%e%' ORDER BY 1;
\set log `python3 test/mock/mockctl.py log | LC_ALL=C sort`
\echo :log
SELECT ej_same('SELECT w.job_id, j.name FROM few_ids w JOIN jobs j ON j.id = w.job_id WHERE j.archived = false AND j.name ILIKE ''%e%''') AS same_rows;
-- a LATERAL subquery on the id adapts the same way
SELECT * FROM ej_explain('SELECT w.job_id, s.name FROM few_ids w CROSS JOIN LATERAL (SELECT j.name FROM jobs j WHERE j.id = w.job_id OFFSET 0) s');
SELECT ej_same('SELECT w.job_id, s.name FROM few_ids w LEFT JOIN LATERAL (SELECT j.name FROM jobs j WHERE j.id = w.job_id OFFSET 0) s ON true') AS same_rows_lateral;
-- and a correlated subquery
SELECT * FROM ej_explain('SELECT w.job_id, (SELECT j.name FROM jobs j WHERE j.id = w.job_id) FROM few_ids w');
SELECT ej_same('SELECT w.job_id, (SELECT j.name FROM jobs j WHERE j.id = w.job_id) FROM few_ids w') AS same_rows_subquery;
-- a LEFT JOIN keeps the outer rows without a match
SELECT ej_same('SELECT w.job_id, j.name FROM few_ids w LEFT JOIN jobs j ON j.id = w.job_id') AS same_rows_left;
-- a listing that depends on the outer row cannot be kept: no adaptive
-- scan (also: two join clauses with the same outer side, which 15 could
-- not plan)
SELECT count(*) FILTER (WHERE p ~ 'listing is read once') AS adaptive_scans
  FROM regress_explain('SELECT w.job_id, j.name FROM few_ids w JOIN jobs j ON j.id = w.job_id AND j.state = w.job_id::text') p;
SELECT ej_same('SELECT w.job_id, j.name FROM few_ids w JOIN jobs j ON j.id = w.job_id AND j.state = w.job_id::text') AS same_rows;
RESET enable_hashjoin;
RESET enable_mergejoin;
RESET enable_memoize;
ALTER FOREIGN TABLE jobs OPTIONS (DROP fanout_limit);

--
-- 3. The planner's choice with a known listing (use_remote_estimate:
--    167 jobs, 4 pages).  3 ids: 3 requests by id.  30 ids (counted, not
--    analyzed): the 4 pages of the listing, with a hash join.  The same
--    with statistics.
--
ALTER FOREIGN TABLE jobs OPTIONS (ADD use_remote_estimate 'true');
CREATE TABLE three_ids (job_id bigint) WITH (autovacuum_enabled = false);
INSERT INTO three_ids VALUES (406), (421), (450);
CREATE TABLE thirty_ids (job_id bigint) WITH (autovacuum_enabled = false);
INSERT INTO thirty_ids SELECT id FROM jobs ORDER BY id LIMIT 30;
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(*) FROM three_ids w JOIN jobs j ON j.id = w.job_id;
\set log `python3 test/mock/mockctl.py log | LC_ALL=C sort`
\echo :log
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(*) FROM thirty_ids w JOIN jobs j ON j.id = w.job_id;
\set log `python3 test/mock/mockctl.py log | LC_ALL=C sort`
\echo :log
ANALYZE three_ids;
ANALYZE thirty_ids;
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(*) FROM three_ids w JOIN jobs j ON j.id = w.job_id;
SELECT count(*) FROM thirty_ids w JOIN jobs j ON j.id = w.job_id;
\set count `python3 test/mock/mockctl.py count`
\echo 'requests for both, analyzed:' :count
ALTER FOREIGN TABLE jobs OPTIONS (DROP use_remote_estimate);

--
-- 4. The inner side of a semi-join is read up to its first row: EXISTS
--    per outer row asks for one run (limit=1), not a page of 100.
--
\set _ `python3 test/mock/mockctl.py mark`
SELECT w.job_id FROM three_ids w
 WHERE EXISTS (SELECT 1 FROM jobs_runs r WHERE r.job_id = w.job_id) ORDER BY 1;
\set log `python3 test/mock/mockctl.py log | LC_ALL=C sort`
\echo :log
SELECT ej_same('SELECT w.job_id FROM few_ids w WHERE EXISTS (SELECT 1 FROM jobs_runs r WHERE r.job_id = w.job_id AND r.state = ''failed'')') AS same_rows;
SELECT ej_same('SELECT w.job_id FROM few_ids w WHERE NOT EXISTS (SELECT 1 FROM jobs_runs r WHERE r.job_id = w.job_id AND r.id % 3 = 0)') AS same_rows;

--
-- 5. Joins on a column other than the id that the API takes as a request
--    parameter: author_id (author=), one-to-many.  The same rows as
--    without pushdown in every join shape, with a NULL, a repeated and a
--    missing outer key, hash join and nested loop (one author= listing per
--    outer row).  A never-analyzed table of authors is counted, and the
--    scan is adaptive on author_id: one author= listing per outer value
--    (4 requests: author 3 twice, author 5, the missing 999999; the NULL
--    sends nothing; 3 distinct authors, so the minimum + 1), where the
--    whole listing is 4 pages.
--
SET civis_fdw.enable_pushdown = off;
CREATE TABLE few_authors (user_id bigint) WITH (autovacuum_enabled = false);
INSERT INTO few_authors
  SELECT author_id FROM (SELECT DISTINCT author_id FROM jobs WHERE author_id IS NOT NULL
                          ORDER BY author_id LIMIT 2) a;
INSERT INTO few_authors SELECT min(user_id) FROM few_authors;
INSERT INTO few_authors VALUES (NULL), (999999);
RESET civis_fdw.enable_pushdown;
SELECT count(*) AS outer_rows, count(DISTINCT user_id) AS authors FROM few_authors;
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(*) FROM few_authors a JOIN jobs j ON j.author_id = a.user_id;
\set log `python3 test/mock/mockctl.py log | LC_ALL=C sort`
\echo :log
SELECT * FROM ej_explain('SELECT a.user_id, j.id FROM few_authors a JOIN jobs j ON j.author_id = a.user_id');
-- every join shape: its requests (the old code read the 4 unfiltered pages)
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(*) FROM few_authors a LEFT JOIN jobs j ON j.author_id = a.user_id;
\set log `python3 test/mock/mockctl.py log | LC_ALL=C sort`
\echo :log
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(*) FROM few_authors a WHERE EXISTS (SELECT 1 FROM jobs j WHERE j.author_id = a.user_id);
\set log `python3 test/mock/mockctl.py log | LC_ALL=C sort`
\echo :log
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(*) FROM few_authors a WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.author_id = a.user_id);
\set log `python3 test/mock/mockctl.py log | LC_ALL=C sort`
\echo :log
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(*) FROM few_authors a CROSS JOIN LATERAL (SELECT j.id FROM jobs j WHERE j.author_id = a.user_id OFFSET 0) s;
\set log `python3 test/mock/mockctl.py log | LC_ALL=C sort`
\echo :log
\set _ `python3 test/mock/mockctl.py mark`
SELECT sum((SELECT count(j.name) FROM jobs j WHERE j.author_id = a.user_id)) FROM few_authors a;
\set log `python3 test/mock/mockctl.py log | LC_ALL=C sort`
\echo :log
SELECT ej_same('SELECT a.user_id, j.id FROM few_authors a JOIN jobs j ON j.author_id = a.user_id') AS same_inner,
       ej_same('SELECT a.user_id, j.id FROM few_authors a LEFT JOIN jobs j ON j.author_id = a.user_id') AS same_left,
       ej_same('SELECT a.user_id FROM few_authors a WHERE EXISTS (SELECT 1 FROM jobs j WHERE j.author_id = a.user_id)') AS same_semi,
       ej_same('SELECT a.user_id FROM few_authors a WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.author_id = a.user_id)') AS same_anti,
       ej_same('SELECT a.user_id, s.id FROM few_authors a LEFT JOIN LATERAL (SELECT j.id FROM jobs j WHERE j.author_id = a.user_id ORDER BY j.id DESC LIMIT 2) s ON true') AS same_lateral,
       ej_same('SELECT a.user_id, s.id FROM few_authors a CROSS JOIN LATERAL (SELECT j.id FROM jobs j WHERE j.author_id = a.user_id OFFSET 0) s') AS same_lateral_offset,
       ej_same('SELECT a.user_id, (SELECT count(j.name) FROM jobs j WHERE j.author_id = a.user_id) FROM few_authors a') AS same_subquery,
       ej_same('SELECT a.user_id, (SELECT count(*) FROM jobs j WHERE j.author_id = a.user_id) FROM few_authors a') AS same_subquery_count;
-- the run-time switch: with 10 jobs a page (17 pages, known from
-- use_remote_estimate) an author's listing is 2 to 4 pages; a
-- never-analyzed table of 12 rows of the same author and one of another
-- costs the filtered listings until their requests reach the 17 pages,
-- then the 17 pages once, and the remaining rescans come from the kept
-- listing: at most twice the cheaper plan plus one, and the same rows
CREATE TABLE heavy_authors (user_id bigint) WITH (autovacuum_enabled = false);
INSERT INTO heavy_authors SELECT 3 FROM generate_series(1, 12);
INSERT INTO heavy_authors VALUES (5), (NULL);
ALTER FOREIGN TABLE jobs OPTIONS (SET page_size '10', ADD use_remote_estimate 'true');
SET enable_hashjoin = off;
SET enable_mergejoin = off;
SET enable_memoize = off;
SET enable_material = off;
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(*) FROM heavy_authors a JOIN jobs j ON j.author_id = a.user_id;
\set count `python3 test/mock/mockctl.py count`
\echo 'requests, heavy author, nested loop:' :count
SELECT * FROM ej_explain('SELECT a.user_id, j.id FROM heavy_authors a JOIN jobs j ON j.author_id = a.user_id');
-- a LATERAL subquery and a correlated subquery are rescanned per outer row
-- whatever the costs: the old code read 13 filtered listings (4 pages for
-- each of the 12 rows of author 3, 3 for author 5: 51); now the switch
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(*) FROM heavy_authors a CROSS JOIN LATERAL (SELECT j.id FROM jobs j WHERE j.author_id = a.user_id OFFSET 0) s;
\set count `python3 test/mock/mockctl.py count`
\echo 'requests, heavy author, lateral:' :count
SELECT * FROM regress_explain('SELECT a.user_id, s.id FROM heavy_authors a CROSS JOIN LATERAL (SELECT j.id FROM jobs j WHERE j.author_id = a.user_id OFFSET 0) s') p;
\set _ `python3 test/mock/mockctl.py mark`
SELECT sum((SELECT count(j.name) FROM jobs j WHERE j.author_id = a.user_id)) FROM heavy_authors a;
\set count `python3 test/mock/mockctl.py count`
\echo 'requests, heavy author, correlated subquery:' :count
SELECT ej_same('SELECT a.user_id, j.id FROM heavy_authors a JOIN jobs j ON j.author_id = a.user_id') AS same_inner,
       ej_same('SELECT a.user_id, j.id FROM heavy_authors a LEFT JOIN jobs j ON j.author_id = a.user_id') AS same_left,
       ej_same('SELECT a.user_id FROM heavy_authors a WHERE EXISTS (SELECT 1 FROM jobs j WHERE j.author_id = a.user_id)') AS same_semi,
       ej_same('SELECT a.user_id FROM heavy_authors a WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.author_id = a.user_id)') AS same_anti,
       ej_same('SELECT a.user_id, s.id FROM heavy_authors a CROSS JOIN LATERAL (SELECT j.id FROM jobs j WHERE j.author_id = a.user_id OFFSET 0) s') AS same_lateral,
       ej_same('SELECT a.user_id, (SELECT count(j.name) FROM jobs j WHERE j.author_id = a.user_id) FROM heavy_authors a') AS same_subquery;
RESET enable_hashjoin;
RESET enable_mergejoin;
RESET enable_memoize;
RESET enable_material;
-- the planner's own choice for the heavy table: without statistics on
-- jobs an author is estimated at about 1 row, so the adaptive scan (34;
-- the plain listing, 17, before it): within 2 * 17 + 1
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(*) FROM heavy_authors a JOIN jobs j ON j.author_id = a.user_id;
\set count `python3 test/mock/mockctl.py count`
\echo 'requests, heavy author, planner choice:' :count
ALTER FOREIGN TABLE jobs OPTIONS (SET page_size '50', DROP use_remote_estimate);
-- analyzed, and a nested loop forced: one author= listing per outer row
-- with a value (the NULL sends nothing)
ANALYZE few_authors;
SET enable_hashjoin = off;
SET enable_mergejoin = off;
SET enable_memoize = off;
SET enable_material = off;
SELECT p AS "QUERY PLAN"
  FROM regress_explain('SELECT a.user_id, j.id FROM few_authors a JOIN jobs j ON j.author_id = a.user_id') p
 WHERE p ~ 'Nested Loop|Civis Request|Civis Filtered Listing';
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(*) FROM few_authors a JOIN jobs j ON j.author_id = a.user_id;
\set log `python3 test/mock/mockctl.py log | LC_ALL=C sort`
\echo :log
SELECT ej_same('SELECT a.user_id, j.id FROM few_authors a JOIN jobs j ON j.author_id = a.user_id') AS same_inner,
       ej_same('SELECT a.user_id, j.id FROM few_authors a LEFT JOIN jobs j ON j.author_id = a.user_id') AS same_left,
       ej_same('SELECT a.user_id FROM few_authors a WHERE EXISTS (SELECT 1 FROM jobs j WHERE j.author_id = a.user_id)') AS same_semi,
       ej_same('SELECT a.user_id FROM few_authors a WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.author_id = a.user_id)') AS same_anti;
RESET enable_hashjoin;
RESET enable_mergejoin;
RESET enable_memoize;
RESET enable_material;

DROP SCHEMA ej CASCADE;
DROP USER MAPPING FOR CURRENT_USER SERVER civis_ej;
DROP SERVER civis_ej;
