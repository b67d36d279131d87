--
-- economy: the fewest requests for the queries people write (issue 10).
-- The bound is a hint from planning: it sizes the first page and the
-- read-ahead, never the result.  Every query is compared with
-- civis_fdw.enable_pushdown = off, and the mock's request log is shown.
--
SET timezone = 'UTC';
-- the README's first example: one request, sorted by the API although
-- state stays in the Filter (the API compares it loosely); a full page,
-- since a condition is checked locally (issue 21)
EXPLAIN (VERBOSE, COSTS OFF)
SELECT id, name, updated_at FROM civis.jobs WHERE state = 'failed' ORDER BY updated_at DESC LIMIT 20;
\set _ `python3 test/mock/mockctl.py mark`
CREATE TEMP TABLE first_on AS
SELECT row_number() OVER () AS n, id, name, updated_at FROM (
  SELECT id, name, updated_at FROM civis.jobs WHERE state = 'failed' ORDER BY updated_at DESC LIMIT 20) s;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
SET civis_fdw.enable_pushdown = off;
CREATE TEMP TABLE first_off AS
SELECT row_number() OVER () AS n, id, name, updated_at FROM (
  SELECT id, name, updated_at FROM civis.jobs WHERE state = 'failed' ORDER BY updated_at DESC LIMIT 20) s;
RESET civis_fdw.enable_pushdown;
-- the same sequence of keys, the same rows (ties aside)
SELECT count(*) AS rows,
       (SELECT array_agg(updated_at ORDER BY n) FROM first_on) =
       (SELECT array_agg(updated_at ORDER BY n) FROM first_off) AS same_order,
       (SELECT array_agg(id ORDER BY id) FROM first_on) =
       (SELECT array_agg(id ORDER BY id) FROM first_off) AS same_rows
  FROM first_on;
-- a LIMIT under a loose filter: one request (a full page: the API's
-- filter is loose, so the LIMIT is not exact)
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM civis.jobs WHERE state = 'failed' LIMIT 3;
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(*) FROM (SELECT id FROM civis.jobs WHERE state = 'failed' LIMIT 3) s;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- a LIMIT whose local condition drops rows: id > x is not sent.  1.1.0
-- asked for 5 / (1/3) = 15 rows first, too few of them passed, and it read
-- page 1 again at the full size (two requests); since issue 21 the first
-- page is a full page whenever a condition stays local: one request
SET civis_fdw.enable_pushdown = off;
SELECT id AS x FROM civis.jobs WHERE state = 'failed' ORDER BY id OFFSET 12 LIMIT 1 \gset
RESET civis_fdw.enable_pushdown;
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM civis.jobs WHERE state = 'failed' AND id > :x LIMIT 5;
\set _ `python3 test/mock/mockctl.py mark`
SELECT id FROM civis.jobs WHERE state = 'failed' AND id > :x LIMIT 5;
\set log `python3 test/mock/mockctl.py log`
\echo :log
SET civis_fdw.enable_pushdown = off;
SELECT id FROM civis.jobs WHERE state = 'failed' AND id > :x LIMIT 5;
RESET civis_fdw.enable_pushdown;
-- EXPLAIN ANALYZE: one request, no duplicates
CREATE FUNCTION pg_temp.scan_stats(q text) RETURNS TABLE (requests text, duplicates text)
LANGUAGE plpgsql AS $$
DECLARE
  e json;
BEGIN
  EXECUTE 'EXPLAIN (ANALYZE, FORMAT JSON) ' || q INTO e;
  RETURN QUERY SELECT e->0->'Plan'->'Plans'->0->>'Civis Requests',
                      coalesce(e->0->'Plan'->'Plans'->0->>'Civis Duplicates Dropped', '0');
END $$;
SELECT * FROM pg_temp.scan_stats(format('SELECT id FROM civis.jobs WHERE state = %L AND id > %s LIMIT 5', 'failed', :x));
-- the same with ORDER BY id (unique: the API's sort is kept page after page)
\set _ `python3 test/mock/mockctl.py mark`
SELECT id FROM civis.jobs WHERE state = 'failed' AND id > :x ORDER BY id DESC LIMIT 12;
\set log `python3 test/mock/mockctl.py log`
\echo :log
SET civis_fdw.enable_pushdown = off;
SELECT id FROM civis.jobs WHERE state = 'failed' AND id > :x ORDER BY id DESC LIMIT 12;
RESET civis_fdw.enable_pushdown;
-- EXISTS: one request of one row
-- (InitPlan texts differ between versions: see regress_explain in init.sql)
SELECT * FROM regress_explain('SELECT EXISTS (SELECT 1 FROM civis.jobs WHERE author_id = 13)');
\set _ `python3 test/mock/mockctl.py mark`
SELECT EXISTS (SELECT 1 FROM civis.jobs WHERE author_id = 13);
\set log `python3 test/mock/mockctl.py log`
\echo :log
SELECT EXISTS (SELECT 1 FROM civis.jobs WHERE author_id = -1);
-- the small first page and its restart: every condition is exact at
-- planning (a generic plan's author_id = ANY ($1)), so EXISTS asks for one
-- row; at run time the list is too long for a URL, the scan evaluates the
-- condition itself, the row fails it, and page 1 is read again at the full
-- size, skipping the row it has seen (never a series of small pages, never
-- too few rows)
SET civis_fdw.enable_pushdown = off;
SELECT author_id AS a1 FROM civis.jobs WHERE author_id IS NOT NULL ORDER BY id LIMIT 1 \gset
SELECT author_id AS a2 FROM civis.jobs WHERE author_id <> :a1 ORDER BY id LIMIT 1 \gset
SELECT count(*) < 50 AS a2_on_page_1 FROM civis.jobs WHERE id < (
  SELECT min(id) FROM civis.jobs WHERE author_id = :a2);
RESET civis_fdw.enable_pushdown;
SELECT (array_agg(g) || :a2::bigint)::text AS many FROM generate_series(1000000, 1002000) g \gset
SET plan_cache_mode = force_generic_plan;
PREPARE ex_authors(bigint[]) AS SELECT EXISTS (SELECT 1 FROM civis.jobs WHERE author_id = ANY ($1));
\set _ `python3 test/mock/mockctl.py mark`
EXECUTE ex_authors(:'many');
SELECT pg_sleep(0.3);
\set log `python3 test/mock/mockctl.py log`
\echo :log
DEALLOCATE ex_authors;
RESET plan_cache_mode;
-- a generic plan's LIMIT $1 gives no bound
PREPARE lim(bigint) AS SELECT id FROM civis.jobs WHERE state = 'failed' LIMIT $1;
SET plan_cache_mode = force_generic_plan;
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE lim(3);
RESET plan_cache_mode;
DEALLOCATE lim;
-- ORDER BY a key with ties under a local filter, more rows needed than
-- the first sorted page holds: the scan reads the listing again by id into
-- a local sort (there is no Sort above it) and returns every row in order.
-- Pages of 10 rows: under a local filter the first page is a full page
-- (issue 21), and the 19 rows before mid fill more than one of them
SET civis_fdw.enable_pushdown = off;
SELECT updated_at AS mid FROM civis.jobs WHERE state = 'failed' ORDER BY updated_at DESC OFFSET 19 LIMIT 1 \gset
RESET civis_fdw.enable_pushdown;
SELECT option_value AS sort_page_size FROM pg_options_to_table(
  (SELECT ftoptions FROM pg_foreign_table WHERE ftrelid = 'civis.jobs'::regclass))
 WHERE option_name = 'page_size' \gset
ALTER FOREIGN TABLE civis.jobs OPTIONS (SET page_size '10');
EXPLAIN (VERBOSE, COSTS OFF)
SELECT id, updated_at FROM civis.jobs WHERE state = 'failed' AND updated_at < :'mid' ORDER BY updated_at DESC LIMIT 3;
\set _ `python3 test/mock/mockctl.py mark`
CREATE TEMP TABLE sorted_on AS
SELECT row_number() OVER () AS n, id, updated_at FROM (
  SELECT id, updated_at FROM civis.jobs WHERE state = 'failed' AND updated_at < :'mid' ORDER BY updated_at DESC LIMIT 3) s;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
SET civis_fdw.enable_pushdown = off;
CREATE TEMP TABLE sorted_off AS
SELECT row_number() OVER () AS n, id, updated_at FROM (
  SELECT id, updated_at FROM civis.jobs WHERE state = 'failed' AND updated_at < :'mid' ORDER BY updated_at DESC LIMIT 3) s;
RESET civis_fdw.enable_pushdown;
SELECT count(*) AS rows,
       (SELECT array_agg(updated_at ORDER BY n) FROM sorted_on) =
       (SELECT array_agg(updated_at ORDER BY n) FROM sorted_off) AS same_order,
       (SELECT array_agg(id ORDER BY id) FROM sorted_on) =
       (SELECT array_agg(id ORDER BY id) FROM sorted_off) AS same_rows
  FROM sorted_on;
ALTER FOREIGN TABLE civis.jobs OPTIONS (SET page_size :'sort_page_size');
-- incremental refresh: sorted by updated_at descending, the scan stops at
-- the first row at or before the bound
SET civis_fdw.enable_pushdown = off;
SELECT updated_at AS since FROM civis.jobs ORDER BY updated_at DESC OFFSET 30 LIMIT 1 \gset
RESET civis_fdw.enable_pushdown;
EXPLAIN (VERBOSE, COSTS OFF)
SELECT id, updated_at FROM civis.jobs WHERE updated_at > :'since' ORDER BY updated_at DESC;
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(*) FROM (SELECT id, updated_at FROM civis.jobs WHERE updated_at > :'since' ORDER BY updated_at DESC) s;
\set log `python3 test/mock/mockctl.py log`
\echo :log
-- a longer window: sorted pages one after another while no run of equal
-- keys straddles a page boundary, then the stop (same rows as without
-- pushdown)
SET civis_fdw.enable_pushdown = off;
SELECT updated_at AS since2 FROM civis.jobs ORDER BY updated_at DESC OFFSET 80 LIMIT 1 \gset
SELECT md5(string_agg(id::text, ',' ORDER BY id)) AS want FROM civis.jobs WHERE updated_at > :'since2' \gset
RESET civis_fdw.enable_pushdown;
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(*), md5(string_agg(id::text, ',' ORDER BY id)) = :'want' AS same
  FROM (SELECT id FROM civis.jobs WHERE updated_at > :'since2' ORDER BY updated_at DESC) s;
\set log `python3 test/mock/mockctl.py log`
\echo :log
-- the README's recipe: an overlap window from the local copy, an upsert
CREATE TEMP TABLE local_jobs (id bigint PRIMARY KEY, state text, updated_at timestamptz);
SET civis_fdw.enable_pushdown = off;
INSERT INTO local_jobs SELECT id, state, updated_at FROM civis.jobs WHERE updated_at <= :'since';
RESET civis_fdw.enable_pushdown;
\set _ `python3 test/mock/mockctl.py mark`
INSERT INTO local_jobs
SELECT id, state, updated_at FROM civis.jobs
 WHERE updated_at > (SELECT max(updated_at) FROM local_jobs) - interval '10 minutes'
 ORDER BY updated_at DESC
ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state, updated_at = EXCLUDED.updated_at;
\set log `python3 test/mock/mockctl.py log`
\echo :log
SET civis_fdw.enable_pushdown = off;
SELECT count(*) AS local_rows,
       (SELECT count(*) FROM civis.jobs) AS remote_rows,
       (SELECT md5(string_agg(id || state || updated_at, ',' ORDER BY id)) FROM local_jobs) =
       (SELECT md5(string_agg(id || state || updated_at, ',' ORDER BY id)) FROM civis.jobs) AS same
  FROM local_jobs;
RESET civis_fdw.enable_pushdown;
-- without a bound (a cursor reads as far as it is asked), read-ahead ramps
-- up with the pages consumed: what is sent and not consumed is at most
-- what was consumed.  Pages of 10 rows; MOVE 55 consumes 6 pages, so at
-- most 12 requests (the 17 pages would all be asked for without the ramp)
SELECT option_value AS jobs_page_size FROM pg_options_to_table(
  (SELECT ftoptions FROM pg_foreign_table WHERE ftrelid = 'civis.jobs'::regclass))
 WHERE option_name = 'page_size' \gset
ALTER FOREIGN TABLE civis.jobs OPTIONS (SET page_size '10');
BEGIN;
DECLARE ramp CURSOR FOR SELECT id FROM civis.jobs;
\set _ `python3 test/mock/mockctl.py mark`
MOVE 55 IN ramp;
CLOSE ramp;
COMMIT;
SELECT pg_sleep(0.3);
\set count `python3 test/mock/mockctl.py count`
SELECT :count BETWEEN 6 AND 12 AS sent_at_most_twice_consumed;
ALTER FOREIGN TABLE civis.jobs OPTIONS (SET page_size :'jobs_page_size');
--
-- issue 21: the first request under a local condition.  name ILIKE is not
-- sent; the planner guesses that most names match, and 1.1.0 sized the
-- first page by that guess (limit=4 for LIMIT 3), read page 1 again at 50
-- when the guess was wrong, and fetched page 2 ahead, unused: 3 requests
-- where one full page answers the query.  Now: one request of a full page
-- (the rate limit counts requests, not rows), nothing fetched ahead of it.
--
SET civis_fdw.enable_pushdown = off;
-- the matches are not among the first rows, but are on page 1
SELECT count(*) FILTER (WHERE name ILIKE '%h%') AS matches_in_first_4,
       count(*) AS first_rows
  FROM (SELECT name FROM civis.jobs ORDER BY id LIMIT 4) s;
SELECT count(*) FILTER (WHERE name ILIKE '%h%') >= 3 AS page_1_suffices
  FROM (SELECT name FROM civis.jobs ORDER BY id LIMIT 50) s;
RESET civis_fdw.enable_pushdown;
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM civis.jobs WHERE name ILIKE '%h%' LIMIT 3;
\set _ `python3 test/mock/mockctl.py mark`
SELECT id FROM civis.jobs WHERE name ILIKE '%h%' LIMIT 3;
SELECT pg_sleep(0.3);
\set log `python3 test/mock/mockctl.py log`
\echo :log
SET civis_fdw.enable_pushdown = off;
SELECT id FROM civis.jobs WHERE name ILIKE '%h%' LIMIT 3;
RESET civis_fdw.enable_pushdown;
-- the matches beyond the first page (pages of 10): page 1, then page 2
-- when page 1 has not sufficed; read-ahead starts only then, one page
-- later than without a Filter, so at most one page goes out unused
SELECT option_value AS jobs_page_size FROM pg_options_to_table(
  (SELECT ftoptions FROM pg_foreign_table WHERE ftrelid = 'civis.jobs'::regclass))
 WHERE option_name = 'page_size' \gset
ALTER FOREIGN TABLE civis.jobs OPTIONS (SET page_size '10');
SET civis_fdw.enable_pushdown = off;
SELECT id AS x10 FROM civis.jobs ORDER BY id OFFSET 9 LIMIT 1 \gset
RESET civis_fdw.enable_pushdown;
\set _ `python3 test/mock/mockctl.py mark`
SELECT id FROM civis.jobs WHERE name ILIKE '%h%' AND id > :x10 LIMIT 2;
SELECT pg_sleep(0.3);
\set log `python3 test/mock/mockctl.py log | head -2`
\echo :log
\set count `python3 test/mock/mockctl.py count`
SELECT :count BETWEEN 2 AND 3 AS pages_1_2_at_most_one_ahead;
SET civis_fdw.enable_pushdown = off;
SELECT id FROM civis.jobs WHERE name ILIKE '%h%' AND id > :x10 LIMIT 2;
RESET civis_fdw.enable_pushdown;
-- every condition exact: the LIMIT is pushed, and sizes the request as before
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(*) FROM (SELECT id FROM civis.jobs WHERE author_id = 13 LIMIT 3) s;
\set log `python3 test/mock/mockctl.py log`
\echo :log
--
-- issue 21: OFFSET 0 skips nothing, so a query that reads every row
-- through it (the usual subquery fence) fetches all pages at once after
-- the first, as without it; OFFSET $1 in a generic plan may skip rows
-- and keeps the ramp.  Pages of 10: at least 13 requests in flight at once
-- (the ramp keeps at most as many pages ahead as it has consumed: about
-- half of them at most, 9 of 17).
--
CREATE FUNCTION pg_temp.peak(q text) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
  e jsonb;
BEGIN
  EXECUTE 'EXPLAIN (ANALYZE, FORMAT JSON) ' || q INTO e;
  RETURN jsonb_path_query_first(e, 'strict $.**."Civis Peak In Flight"')::int;
END $$;
SELECT count(*) > 140 AS more_than_14_pages FROM civis.jobs;
-- every answer 150 ms late: requests answered while later ones are still
-- being sent would lower the peak (the mock can be that fast)
\set _ `python3 test/mock/mockctl.py faults '{"always": "slow", "delay_ms": 150, "path_prefix": "/jobs/"}'`
SELECT pg_temp.peak('SELECT sum(id) FROM civis.jobs') >= 13 AS no_offset_at_once,
       pg_temp.peak('SELECT count(*) FROM (SELECT id FROM civis.jobs OFFSET 0) s') >= 13 AS offset_0_at_once,
       pg_temp.peak('SELECT count(*) FROM (SELECT id FROM civis.jobs OFFSET NULL) s') >= 13 AS offset_null_at_once;
SET plan_cache_mode = force_generic_plan;
PREPARE off_p(bigint) AS SELECT count(*) FROM (SELECT id FROM civis.jobs OFFSET $1) s;
SELECT pg_temp.peak('EXECUTE off_p(0)') < 13 AS generic_offset_ramps;
DEALLOCATE off_p;
RESET plan_cache_mode;
\set _ `python3 test/mock/mockctl.py faults null`
SELECT count(*) AS rows FROM (SELECT id FROM civis.jobs OFFSET 0) s;
ALTER FOREIGN TABLE civis.jobs OPTIONS (SET page_size :'jobs_page_size');
