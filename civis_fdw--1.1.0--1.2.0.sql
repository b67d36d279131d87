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
