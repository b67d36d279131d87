--
-- exact_pairs: the exact (table, column, parameter) pairs IMPORT makes of
-- the fixture spec, each with its evidence (issue 18: a condition leaves
-- the local Filter only with evidence).  The same query as
-- scripts/exact_pairs.sh, which lists them for the real spec into
-- docs/exact_pairs.txt.  A pair without evidence shows an empty column.
--
\i scripts/exact_pairs.sql
SELECT count(*) AS exact_without_evidence
  FROM pg_attribute a JOIN pg_foreign_table ft ON ft.ftrelid = a.attrelid
 WHERE 'exact=true' = ANY (a.attfdwoptions)
   AND NOT EXISTS (SELECT FROM unnest(a.attfdwoptions) o WHERE o LIKE 'evidence=%');
