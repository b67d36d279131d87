/* civis_fdw--1.1.0--1.2.0.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION civis_fdw UPDATE TO '1.2.0'" to load this file. \quit

-- Version 1.2.0: every SQL-visible change of the 1.2.0 cycle goes into this
-- one script (CHANGELOG.md lists them).  civis_fdw_rate_limit() is left as
-- it is, so views over it survive the update.

-- The request budget of every API key the current user may use, shared by
-- all sessions (one row per user mapping; a superuser sees all).  Never
-- shows a key.
CREATE FUNCTION civis_fdw_budget(
    OUT server_name text,
    OUT user_name text,
    OUT shared boolean,
    OUT rate_limit bigint,
    OUT remaining bigint,
    OUT in_flight integer,
    OUT waiting integer,
    OUT hold_until timestamptz,
    OUT window_seconds integer,
    OUT requests bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT VOLATILE;

-- What every running foreign scan is doing, from any session (the current
-- user's own scans and those on mappings they may use; a superuser sees
-- all).
CREATE FUNCTION civis_fdw_scans(
    OUT pid integer,
    OUT user_name text,
    OUT database text,
    OUT foreign_table text,
    OUT server_name text,
    OUT started_at timestamptz,
    OUT requests bigint,
    OUT pages_read bigint,
    OUT pages_expected bigint,
    OUT rows_returned bigint,
    OUT retries bigint,
    OUT waiting_for text,
    OUT waiting_since timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT VOLATILE;

-- Following the API as it changes (issue 23): what a new IMPORT FOREIGN
-- SCHEMA would change in local_schema, one row per difference (one request
-- to the API), and the safe part of it applied in place.  Both run with the
-- caller's rights (no SECURITY DEFINER) and in the caller's transaction.
CREATE FUNCTION civis_fdw_schema_diff(
    server name,
    local_schema name,
    limit_to text[] DEFAULT NULL,
    except_tables text[] DEFAULT NULL,
    include_deprecated boolean DEFAULT NULL,
    whole_item boolean DEFAULT NULL,
    OUT foreign_table text,
    OUT change text,
    OUT detail text,
    OUT statement text,
    OUT origin text)
RETURNS SETOF record
AS 'MODULE_PATHNAME'
LANGUAGE C VOLATILE;

CREATE FUNCTION civis_fdw_schema_apply(
    server name,
    local_schema name,
    limit_to text[] DEFAULT NULL,
    except_tables text[] DEFAULT NULL,
    include_deprecated boolean DEFAULT NULL,
    whole_item boolean DEFAULT NULL,
    update_options boolean DEFAULT false,
    drop_removed boolean DEFAULT false,
    change_types boolean DEFAULT false,
    OUT foreign_table text,
    OUT change text,
    OUT detail text,
    OUT statement text,
    OUT origin text,
    OUT result text)
RETURNS SETOF record
AS 'MODULE_PATHNAME'
LANGUAGE C VOLATILE;
