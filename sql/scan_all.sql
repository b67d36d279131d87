--
-- scan_all: every imported table, scanned and compared row by row with the
-- mock's own data.  For each table the mock says which rows the API holds
-- (mockctl.py expected, with the same scope parameters the wrapper sends);
-- PostgreSQL turns those into rows of the table's own type with
-- jsonb_populate_recordset, and the md5 over t::text of all rows must match.
-- Tables with path parameters are read for the value 7 of each parameter.
--
SET timezone = 'UTC';
\pset format unaligned
\pset tuples_only on
-- the generated script goes to a file of this cluster's own (\o, then \i)
\set genfile '/tmp/civis_scan_all_gen_' :PORT '.sql'
\o :genfile
WITH t AS (
  SELECT c.oid, c.relname,
         (SELECT option_value FROM pg_options_to_table(ft.ftoptions)
           WHERE option_name = 'endpoint') AS endpoint
    FROM pg_foreign_table ft
    JOIN pg_class c ON c.oid = ft.ftrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = 'civis'
), cols AS (
  SELECT t.relname, a.attname,
         (SELECT option_value FROM pg_options_to_table(a.attfdwoptions)
           WHERE option_name = 'param') AS param,
         (SELECT option_value FROM pg_options_to_table(a.attfdwoptions)
           WHERE option_name = 'param_only') AS param_only,
         (SELECT option_value FROM pg_options_to_table(a.attfdwoptions)
           WHERE option_name = 'scope_default') AS scope_default,
         t.endpoint
    FROM t JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0
), per AS (
  SELECT t.relname, t.endpoint,
         regexp_replace(t.endpoint, '\{[^}]+\}', '7', 'g') AS path,
         (SELECT string_agg(format('%I = %L', attname, '7'), ' AND ' ORDER BY attname)
            FROM cols WHERE cols.relname = t.relname
             AND position('{' || param || '}' IN cols.endpoint) > 0) AS cond,
         (SELECT string_agg(attname || '=7', ',' ORDER BY attname)
            FROM cols WHERE cols.relname = t.relname AND param_only = 'true'
             AND position('{' || param || '}' IN cols.endpoint) > 0) AS echo,
         (SELECT string_agg(param || '=' || scope_default, '&' ORDER BY param)
            FROM cols WHERE cols.relname = t.relname AND scope_default IS NOT NULL) AS scope
    FROM t
)
SELECT format(E'\\set exp `python3 test/mock/mockctl.py expected %s %s%s`\n'
              'SELECT %L AS table_name, count(1) AS rows, '
              'coalesce(md5(string_agg(t::text, E''\\n'' ORDER BY t::text COLLATE "C")), ''none'') = '
              '(SELECT coalesce(md5(string_agg(r::text, E''\\n'' ORDER BY r::text COLLATE "C")), ''none'') '
              'FROM jsonb_populate_recordset(NULL::civis.%I, :''exp'') r) AS matches '
              'FROM civis.%I t%s;',
              quote_literal(path), quote_literal(coalesce(scope, '')),
              CASE WHEN echo IS NOT NULL THEN ' --set ' || quote_literal(echo) ELSE '' END,
              relname, relname, relname,
              CASE WHEN cond IS NOT NULL THEN ' WHERE ' || cond ELSE '' END)
  FROM per ORDER BY relname;
\o
\pset format aligned
\pset tuples_only off
\i :genfile
