--
-- init: the server, the user mapping and the imported schema that the other
-- regression tests use.  The mock Civis API's address comes from the test
-- runner (CIVIS_MOCK_URL); the key is the mock's dummy test key.
--
\getenv mock_url CIVIS_MOCK_URL
SET client_min_messages = warning;
SET timezone = 'UTC';
CREATE SERVER civis FOREIGN DATA WRAPPER civis_fdw OPTIONS (api_url :'mock_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER civis
  OPTIONS (api_key 'test-key-0123456789');
CREATE SCHEMA civis;
IMPORT FOREIGN SCHEMA civis FROM SERVER civis INTO civis;
SELECT count(1) AS imported_tables
  FROM information_schema.foreign_tables WHERE foreign_table_schema = 'civis';
--
-- Output that differs between the PostgreSQL (and libcurl) versions the
-- tests run on (15, 17, 18), in one form: the words of the newest.  The
-- tests assert requests and rows; these texts are cosmetics.
--
-- regress_explain(query): EXPLAIN (VERBOSE, COSTS OFF) of the query.
--   15 and 16 write "InitPlan 1 (returns $0)" and "$0" where 17 and later
--   write "InitPlan 1" and "(InitPlan 1).col1" (in braces inside a Civis
--   Request, as civis_fdw shows any expression that is not a $n); shown as
--   17 writes them.  17 leaves out a Group Key that "col = constant" made
--   redundant, so Group Key lines are not shown at all.
CREATE FUNCTION regress_explain(query text) RETURNS TABLE ("QUERY PLAN" text)
LANGUAGE plpgsql AS $fn$
DECLARE
  plan text[] := '{}';
  params text[] := '{}';
  names text[] := '{}';
  line text;
  m text[];
  p text;
  k int;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF) ' || query LOOP
    plan := plan || line;
    m := regexp_match(line, 'InitPlan (\d+) \(returns ([^)]*)\)');
    IF m IS NOT NULL THEN
      k := 0;
      FOREACH p IN ARRAY string_to_array(m[2], ',') LOOP
        k := k + 1;
        params := params || btrim(p);
        names := names || format('(InitPlan %s).col%s', m[1], k);
      END LOOP;
    END IF;
  END LOOP;
  FOREACH line IN ARRAY plan LOOP
    CONTINUE WHEN line ~ '^\s*Group Key: ';
    line := regexp_replace(line, '(InitPlan \d+) \(returns [^)]*\)', '\1');
    FOR k IN 1 .. coalesce(array_length(params, 1), 0) LOOP
      line := regexp_replace(line, '\' || params[k] || '(?!\d)',
                             CASE WHEN line ~ '^\s*Civis ' THEN '{' || names[k] || '}'
                                  ELSE names[k] END, 'g');
    END LOOP;
    "QUERY PLAN" := line;
    RETURN NEXT;
  END LOOP;
END
$fn$;
-- regress_run(query): runs the query and raises its error again with the
-- same SQLSTATE, message, detail and hint (use with \set SHOW_CONTEXT
-- never), libcurl's texts as the newest libcurl writes them.  libcurl 7.88
-- (Debian 12) writes "Couldn't connect to server" for "Could not connect to
-- server" and "transfer closed with N bytes remaining to read" for "end of
-- response with N bytes missing"; 7.88 and 8.14 (Debian 13) write
-- "host port N:" for "host:N:".
CREATE FUNCTION regress_libcurl_words(t text) RETURNS text
LANGUAGE sql IMMUTABLE AS $fn$
  SELECT regexp_replace(regexp_replace(replace(t, 'Couldn''t connect', 'Could not connect'),
                        'Failed to connect to (\S+) port (\d+):', 'Failed to connect to \1:\2:', 'g'),
                        'transfer closed with (\d+) bytes remaining to read', 'end of response with \1 bytes missing', 'g')
$fn$;
CREATE FUNCTION regress_run(query text) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
  st text;
  msg text;
  det text;
  hnt text;
BEGIN
  EXECUTE query;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
    det = PG_EXCEPTION_DETAIL, hnt = PG_EXCEPTION_HINT;
  msg := regress_libcurl_words(msg);
  det := regress_libcurl_words(det);
  IF det <> '' AND hnt <> '' THEN
    RAISE EXCEPTION USING ERRCODE = st, MESSAGE = msg, DETAIL = det, HINT = hnt;
  ELSIF det <> '' THEN
    RAISE EXCEPTION USING ERRCODE = st, MESSAGE = msg, DETAIL = det;
  ELSIF hnt <> '' THEN
    RAISE EXCEPTION USING ERRCODE = st, MESSAGE = msg, HINT = hnt;
  ELSE
    RAISE EXCEPTION USING ERRCODE = st, MESSAGE = msg;
  END IF;
END
$fn$;
