/* civis_fdw--1.0.0--1.1.0.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION civis_fdw UPDATE TO '1.1.0'" to load this file. \quit

-- For each server and user mapping this session sent requests with: the
-- latest X-RateLimit-Limit and X-RateLimit-Remaining the API answered, and
-- when (NULL until a response carried them).  Never shows the API key.
CREATE FUNCTION civis_fdw_rate_limit(
    OUT server_name text,
    OUT user_name text,
    OUT rate_limit bigint,
    OUT remaining bigint,
    OUT seen_at timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT VOLATILE;
