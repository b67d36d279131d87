--
-- schema_diff: civis_fdw_schema_diff() and civis_fdw_schema_apply()
-- (issue 23).  A schema imported from the first version of the mock's spec,
-- then the mock answers the second (test/mock/README.md, "A second version
-- of the spec"): the diff lists exactly its changes, apply applies the safe
-- part in place, dependents and hand changes are reported, not touched.
--
SET timezone = 'UTC';
CREATE SCHEMA sd;
IMPORT FOREIGN SCHEMA civis FROM SERVER civis INTO sd;
-- the import record (import.c): the options import ran with, hashes
SELECT regexp_replace(option_value, '[0-9a-f]{8}', 'X', 'g') AS record
  FROM pg_options_to_table((SELECT ftoptions FROM pg_foreign_table
                             WHERE ftrelid = 'sd.announcements'::regclass))
 WHERE option_name = 'import';
-- whole_item 'true', recorded; and a 1.1.0 table without record, whose
-- whole_item is inferred from its column (diffed below)
CREATE SCHEMA sd_whole;
IMPORT FOREIGN SCHEMA civis LIMIT TO (groups, announcements) FROM SERVER civis
  INTO sd_whole OPTIONS (whole_item 'true');
ALTER FOREIGN TABLE sd_whole.announcements OPTIONS (DROP import);
-- the same spec: no difference, in one request
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(*) AS differences FROM civis_fdw_schema_diff('civis', 'sd');
\set log `python3 test/mock/mockctl.py log --include-endpoints`
\echo :log
--
-- the API moves
--
\set _ `python3 test/mock/mockctl.py config '{"spec_version": 2}'`
-- what depends on the tables, and what the user changed
CREATE MATERIALIZED VIEW sd_jobs_mv AS SELECT id, name, state FROM sd.jobs;
CREATE VIEW sd_jobs_star AS SELECT * FROM sd.jobs;
CREATE VIEW sd_groups_orgs AS SELECT id, organization_name FROM sd.groups;
ALTER FOREIGN TABLE sd.jobs ADD COLUMN note text;                        -- by hand
ALTER FOREIGN TABLE sd.groups ALTER COLUMN slug OPTIONS (ADD order_by 'slug');  -- by hand
ALTER FOREIGN TABLE sd.jobs OPTIONS (ADD max_in_flight '2');             -- the user's option: ignored
ALTER FOREIGN TABLE sd.jobs_runs RENAME TO my_runs;                      -- renamed: no difference
-- a table of 1.1.0 (no record): its differences have an unknown origin
ALTER FOREIGN TABLE sd.announcements OPTIONS (DROP import);
\set _ `python3 test/mock/mockctl.py mark`
SELECT foreign_table, change, detail, origin FROM civis_fdw_schema_diff('civis', 'sd');
\set log `python3 test/mock/mockctl.py log --include-endpoints`
\echo :log
-- the statements (identifiers and literals quoted)
SELECT change, statement FROM civis_fdw_schema_diff('civis', 'sd')
 WHERE change <> 'table added' ORDER BY foreign_table, change, statement;
SELECT foreign_table, statement
  FROM civis_fdw_schema_diff('civis', 'sd') WHERE change = 'table added';
-- LIMIT TO and EXCEPT as IMPORT FOREIGN SCHEMA takes them (import's names,
-- or a renamed table's own)
SELECT foreign_table, change FROM civis_fdw_schema_diff('civis', 'sd', limit_to => '{jobs,widgets}');
SELECT count(*) FROM civis_fdw_schema_diff('civis', 'sd', except_tables => '{jobs,groups,codes,announcements,widgets,media_targets}');
SELECT count(*) FROM civis_fdw_schema_diff('civis', 'sd', '{jobs}', '{jobs}');
--
-- a dry run: everything happens in the caller's transaction
--
BEGIN;
SELECT foreign_table, change, result FROM civis_fdw_schema_apply('civis', 'sd');
ROLLBACK;
SELECT count(*) AS differences_after_rollback FROM civis_fdw_schema_diff('civis', 'sd');
SELECT to_regclass('sd.widgets') AS widgets;
--
-- the safe part: new tables and columns
--
SELECT foreign_table, change, result FROM civis_fdw_schema_apply('civis', 'sd');
SELECT attname, format_type(atttypid, atttypmod), attfdwoptions FROM pg_attribute
 WHERE attrelid = 'sd.jobs'::regclass AND attname IN ('priority', 'note');
SELECT attname, attfdwoptions FROM pg_attribute
 WHERE attrelid = 'sd.codes'::regclass AND attname LIKE 'isn%';
-- the materialized view still refreshes; the SELECT * view has no new column
REFRESH MATERIALIZED VIEW sd_jobs_mv;
SELECT count(*) > 0 AS refreshed FROM sd_jobs_mv;
SELECT count(*) AS star_view_has_priority FROM pg_attribute
 WHERE attrelid = 'sd_jobs_star'::regclass AND attname = 'priority';
SELECT count(*) AS rows, count(priority) AS with_priority
  FROM (SELECT priority FROM sd.jobs LIMIT 3) s;
-- what is left: options, removals, a type, and the hand changes
SELECT foreign_table, change, origin FROM civis_fdw_schema_diff('civis', 'sd');
--
-- asked for: options, removals and types; a removal a view needs is
-- blocked and named; hand changes are left alone
--
SELECT foreign_table, change, result
  FROM civis_fdw_schema_apply('civis', 'sd', update_options => true,
                              drop_removed => true, change_types => true);
SELECT to_regclass('sd.media_targets') AS media_targets,
       (SELECT page_size FROM (SELECT option_value AS page_size FROM pg_options_to_table(
          (SELECT ftoptions FROM pg_foreign_table WHERE ftrelid = 'sd.announcements'::regclass))
          WHERE option_name = 'page_size') s) AS announcements_page_size,
       (SELECT format_type(atttypid, atttypmod) FROM pg_attribute
         WHERE attrelid = 'sd.groups'::regclass AND attname = 'member_count') AS member_count;
SELECT foreign_table, change, detail, origin FROM civis_fdw_schema_diff('civis', 'sd');
-- once the view is gone, the removal goes through
DROP VIEW sd_groups_orgs;
SELECT foreign_table, change, result
  FROM civis_fdw_schema_apply('civis', 'sd', drop_removed => true);
--
-- role A imports, role B applies: A's tables are reported as not owned
--
\set _ `python3 test/mock/mockctl.py config '{"spec_version": 1}'`
CREATE ROLE regress_sd_a;
CREATE ROLE regress_sd_b;
CREATE ROLE regress_sd_c;
CREATE SCHEMA sd_roles;
GRANT USAGE ON FOREIGN SERVER civis TO regress_sd_a, regress_sd_b, regress_sd_c;
GRANT USAGE, CREATE ON SCHEMA sd_roles TO regress_sd_a, regress_sd_b;
GRANT USAGE ON SCHEMA sd_roles TO regress_sd_c;
CREATE USER MAPPING FOR regress_sd_a SERVER civis OPTIONS (api_key 'test-key-0123456789');
CREATE USER MAPPING FOR regress_sd_b SERVER civis OPTIONS (api_key 'test-key-0123456789');
CREATE USER MAPPING FOR regress_sd_c SERVER civis OPTIONS (api_key 'test-key-0123456789');
SET ROLE regress_sd_a;
IMPORT FOREIGN SCHEMA civis LIMIT TO (jobs, groups) FROM SERVER civis INTO sd_roles;
RESET ROLE;
\set _ `python3 test/mock/mockctl.py config '{"spec_version": 2}'`
SET ROLE regress_sd_b;
SELECT foreign_table, change, result
  FROM civis_fdw_schema_apply('civis', 'sd_roles', limit_to => '{jobs,groups,widgets}');
SELECT c.relname, pg_get_userbyid(c.relowner) AS owner FROM pg_class c
 WHERE c.relnamespace = 'sd_roles'::regnamespace ORDER BY 1;
RESET ROLE;
-- without CREATE on the schema (what IMPORT needs) neither diff nor apply
SET ROLE regress_sd_c;
SELECT count(*) FROM civis_fdw_schema_diff('civis', 'sd_roles');
SELECT count(*) FROM civis_fdw_schema_apply('civis', 'sd_roles');
RESET ROLE;
REVOKE USAGE ON FOREIGN SERVER civis FROM regress_sd_c;
SET ROLE regress_sd_c;
SELECT count(*) FROM civis_fdw_schema_diff('civis', 'sd_roles');
RESET ROLE;
-- other errors
SELECT count(*) FROM civis_fdw_schema_diff('civis', 'no_such_schema');
SELECT count(*) FROM civis_fdw_schema_diff('no_such_server', 'sd');
-- whole_item: kept as imported, no difference of its own; the new table
-- gets it too (the schema's tables have it)
SELECT foreign_table, change, detail, origin
  FROM civis_fdw_schema_diff('civis', 'sd_whole', limit_to => '{groups,announcements,widgets}');
-- a statement that fails is rolled back alone and the rest goes on, as one
-- that hits lock_timeout behind a running refresh would
CREATE FUNCTION sd_refuse() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'refused by the test'; END $$;
CREATE EVENT TRIGGER sd_refuse_alter ON ddl_command_start
  WHEN TAG IN ('ALTER FOREIGN TABLE') EXECUTE FUNCTION sd_refuse();
SELECT foreign_table, change, result
  FROM civis_fdw_schema_apply('civis', 'sd_whole', limit_to => '{groups,announcements,widgets}',
                              update_options => true);
DROP EVENT TRIGGER sd_refuse_alter;
DROP FUNCTION sd_refuse();
SELECT to_regclass('sd_whole.widgets') IS NOT NULL AS widgets_created,
       (SELECT option_value FROM pg_options_to_table((SELECT ftoptions FROM pg_foreign_table
          WHERE ftrelid = 'sd_whole.announcements'::regclass)) WHERE option_name = 'page_size') AS page_size;
--
-- clean up
--
\set _ `python3 test/mock/mockctl.py config '{"spec_version": 1}'`
SET client_min_messages = warning;
DROP SCHEMA sd, sd_roles, sd_whole CASCADE;
DROP USER MAPPING FOR regress_sd_a SERVER civis;
DROP USER MAPPING FOR regress_sd_b SERVER civis;
DROP USER MAPPING FOR regress_sd_c SERVER civis;
REVOKE USAGE ON FOREIGN SERVER civis FROM regress_sd_a, regress_sd_b;
DROP ROLE regress_sd_a, regress_sd_b, regress_sd_c;
