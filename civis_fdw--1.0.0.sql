/* civis_fdw--1.0.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION civis_fdw" to load this file. \quit

CREATE FUNCTION civis_fdw_handler()
RETURNS fdw_handler
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT;

CREATE FUNCTION civis_fdw_validator(text[], oid)
RETURNS void
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT;

CREATE FOREIGN DATA WRAPPER civis_fdw
  HANDLER civis_fdw_handler
  VALIDATOR civis_fdw_validator;

COMMENT ON FOREIGN DATA WRAPPER civis_fdw IS 'Civis Platform REST API';

-- Drop every cached connection of this backend (they are re-opened on use).
CREATE FUNCTION civis_fdw_disconnect_all()
RETURNS void
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT;

-- Versions of civis_fdw and the libraries it was built with.
CREATE FUNCTION civis_fdw_version()
RETURNS text
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT;
