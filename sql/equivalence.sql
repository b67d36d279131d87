--
-- equivalence: every query of test/equivalence/corpus.txt runs with the
-- optimisations on and off; the rows must be the same (as sets, or as
-- sequences where the ORDER BY is total).  Then the whole corpus runs with
-- the optimisations off and the mock's log must show no filter, sort or
-- limit parameter (test/equivalence/audit_off.py).
--
-- The test of this test: with civis_fdw.debug_skip_recheck on (the local
-- recheck of loose API filters skipped), this file must fail; the regress
-- suite runs it that way once and expects the failure.
--
SET timezone = 'UTC';
CREATE TEMP TABLE corpus (n serial, kind text, q text);
\copy corpus (kind, q) FROM PROGRAM 'grep -v "^#" test/equivalence/corpus.txt' WITH (FORMAT text, DELIMITER '|')
-- rows of one query, hashed in order ("seq") or as a set
CREATE FUNCTION pg_temp.rows_hash(q text, ordered boolean, OUT n bigint, OUT h text)
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('SELECT count(1), md5(string_agg(x::text, E''\n''%s)) FROM (%s) x',
                 CASE WHEN ordered THEN '' ELSE ' ORDER BY x::text COLLATE "C"' END, q)
    INTO n, h;
END $$;
CREATE FUNCTION pg_temp.equiv(q text, ordered boolean) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  a record;
  b record;
BEGIN
  PERFORM set_config('civis_fdw.enable_pushdown', 'on', true);
  a := pg_temp.rows_hash(q, ordered);
  PERFORM set_config('civis_fdw.enable_pushdown', 'off', true);
  b := pg_temp.rows_hash(q, ordered);
  PERFORM set_config('civis_fdw.enable_pushdown', 'on', true);
  IF a.n = b.n AND a.h IS NOT DISTINCT FROM b.h THEN
    RETURN format('same (%s rows)', a.n);
  END IF;
  RETURN format('DIFFERENT: %s rows with pushdown, %s without', a.n, b.n);
END $$;
CREATE TEMP TABLE results AS
  SELECT n, kind, q, pg_temp.equiv(q, kind = 'seq') AS result FROM corpus;
SELECT n, kind, result, q FROM results ORDER BY n;
SELECT count(1) AS queries,
       count(DISTINCT substring(q from 'civis\.([a-z_]+)')) AS tables,
       count(1) FILTER (WHERE result LIKE 'same%') AS same,
       count(1) FILTER (WHERE result NOT LIKE 'same%') AS different
  FROM results;
-- the corpus with the optimisations off: only semantic and paging parameters
\set _ `python3 test/mock/mockctl.py mark`
SET civis_fdw.enable_pushdown = off;
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT q FROM corpus ORDER BY n LOOP
    EXECUTE format('SELECT count(1) FROM (%s) x', r.q);
  END LOOP;
END $$;
RESET civis_fdw.enable_pushdown;
\set audit `python3 test/equivalence/audit_off.py`
\echo :audit
-- what EXPLAIN VERBOSE promises is what is sent: every "Civis Request" line
-- of every corpus query (without placeholders) is in the mock's log, byte
-- for byte (test/equivalence/explain_vs_log.py)
\set explained `python3 test/equivalence/explain_vs_log.py :DBNAME`
\echo :explained
