/* civis_fdw--1.1.0--1.2.0.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION civis_fdw UPDATE TO '1.2.0'" to load this file. \quit

-- Version 1.2.0: every SQL-visible change of the 1.2.0 cycle goes into this
-- one script (CHANGELOG.md lists them).  civis_fdw_rate_limit() is left as
-- it is, so views over it survive the update.
