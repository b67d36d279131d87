-- Every exact (table, column, parameter) pair of the foreign tables in
-- schema civis, with the evidence IMPORT wrote beside it (quirks.h: "same
-- name", "path", or the spec x-example that shows the mapping).  Read by
-- scripts/exact_pairs.sh (any spec) and by sql/exact_pairs.sql (the
-- fixture spec, compared with expected/exact_pairs.out in CI).
SELECT c.relname AS "table", a.attname AS "column", o.param, o.evidence
  FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'civis'
  JOIN pg_foreign_table ft ON ft.ftrelid = c.oid
 CROSS JOIN LATERAL (
       SELECT max(option_value) FILTER (WHERE option_name = 'param') AS param,
              max(option_value) FILTER (WHERE option_name = 'exact') AS exact,
              max(option_value) FILTER (WHERE option_name = 'evidence') AS evidence
         FROM pg_options_to_table(a.attfdwoptions)) o
 WHERE a.attnum > 0 AND NOT a.attisdropped AND o.exact = 'true'
 ORDER BY 1, 2;
