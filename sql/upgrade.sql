--
-- upgrade: a 1.0.0 or 1.1.0 database updated with ALTER EXTENSION civis_fdw
-- UPDATE ends with the same objects as a fresh install of the default
-- version, a user's view over civis_fdw_rate_limit() survives the update from
-- 1.1.0, and the functions work.  Runs last: it drops the extension (servers, mappings and foreign
-- tables with it) and puts back what init.sql made.
--
\getenv mock_url CIVIS_MOCK_URL
SET client_min_messages = warning;
SELECT extversion FROM pg_extension WHERE extname = 'civis_fdw';
SELECT version FROM pg_available_extension_versions
 WHERE name = 'civis_fdw' ORDER BY version;
SELECT default_version FROM pg_available_extensions WHERE name = 'civis_fdw';
-- the objects of a fresh install (the default version)
CREATE TEMP VIEW civis_fdw_objects AS
  SELECT pg_describe_object(d.classid, d.objid, 0) AS object,
         CASE WHEN d.classid = 'pg_proc'::regclass
              THEN pg_get_function_arguments(d.objid) || ' -> ' ||
                   pg_get_function_result(d.objid) END AS signature
    FROM pg_depend d JOIN pg_extension e ON d.refobjid = e.oid
   WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
     AND e.extname = 'civis_fdw';
CREATE TEMP TABLE fresh AS SELECT * FROM civis_fdw_objects;
SELECT * FROM fresh ORDER BY object;
-- 1.0.0: no civis_fdw_rate_limit(), civis_fdw_budget(), civis_fdw_scans()
DROP EXTENSION civis_fdw CASCADE;
CREATE EXTENSION civis_fdw VERSION '1.0.0';
SELECT extversion FROM pg_extension WHERE extname = 'civis_fdw';
SELECT to_regprocedure('civis_fdw_rate_limit()') IS NULL AS no_rate_limit_function;
SELECT object FROM fresh EXCEPT SELECT object FROM civis_fdw_objects ORDER BY 1;
-- the update: the default version, the same objects as a fresh install
ALTER EXTENSION civis_fdw UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'civis_fdw';
SELECT count(*) AS objects_not_as_fresh FROM (
  (SELECT * FROM fresh EXCEPT SELECT * FROM civis_fdw_objects)
  UNION ALL
  (SELECT * FROM civis_fdw_objects EXCEPT SELECT * FROM fresh)) d;
-- nothing to do a second time
ALTER EXTENSION civis_fdw UPDATE;
-- 1.1.0 with a view over civis_fdw_rate_limit(): the update keeps the view
DROP EXTENSION civis_fdw CASCADE;
CREATE EXTENSION civis_fdw VERSION '1.1.0';
CREATE VIEW my_rate_limit AS
  SELECT server_name, user_name, rate_limit, remaining, seen_at
    FROM civis_fdw_rate_limit();
ALTER EXTENSION civis_fdw UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'civis_fdw';
SELECT count(*) AS objects_not_as_fresh FROM (
  (SELECT * FROM fresh EXCEPT SELECT * FROM civis_fdw_objects)
  UNION ALL
  (SELECT * FROM civis_fdw_objects EXCEPT SELECT * FROM fresh)) d;
SELECT count(*) AS view_rows FROM my_rate_limit;
DROP VIEW my_rate_limit;
-- what init.sql made, again; the function shows the request it made
CREATE SERVER civis FOREIGN DATA WRAPPER civis_fdw OPTIONS (api_url :'mock_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER civis
  OPTIONS (api_key 'test-key-0123456789');
IMPORT FOREIGN SCHEMA civis FROM SERVER civis INTO civis;
SELECT count(1) AS imported_tables
  FROM information_schema.foreign_tables WHERE foreign_table_schema = 'civis';
SELECT count(*) FROM civis.databases;
SELECT server_name, rate_limit > 0 AS has_limit, remaining >= 0 AS has_remaining,
       seen_at IS NOT NULL AS seen
  FROM civis_fdw_rate_limit();
SELECT civis_fdw_version() ~ '^civis_fdw 1\.2\.0, ' AS version_ok;
