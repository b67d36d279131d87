--
-- types: JSON values into PostgreSQL types: forgiving where the meaning is
-- clear, an ERROR naming table, column and value where it is not.
--
SET timezone = 'UTC';
-- the imported types
SELECT id, name, state, created_at, archived, author->>'name' AS author_name,
       jsonb_typeof(last_run) AS last_run_type, author_id
  FROM civis.jobs WHERE id = 406;
-- forgiving: numbers and booleans into text, objects into text as JSON,
-- dotted keys into nested members, arrays into PostgreSQL arrays
CREATE FOREIGN TABLE typed_jobs (
  id text OPTIONS (key 'id'),
  archived text OPTIONS (key 'archived'),
  author text OPTIONS (key 'author'),
  author_name text OPTIONS (key 'author.name'),
  author_online boolean OPTIONS (key 'author.online'),
  created date OPTIONS (key 'createdAt'),
  missing text OPTIONS (key 'noSuchMember'),
  id_num numeric OPTIONS (key 'id')
) SERVER civis OPTIONS (endpoint '/jobs/', paging 'pages', page_size '50');
SELECT * FROM typed_jobs WHERE id = '406';
CREATE FOREIGN TABLE typed_models (
  id bigint OPTIONS (key 'id'),
  dependent_variable_order text[] OPTIONS (key 'dependentVariableOrder'),
  builds jsonb OPTIONS (key 'builds')
) SERVER civis OPTIONS (endpoint '/models/', paging 'pages', page_size '50');
SELECT id, dependent_variable_order, jsonb_array_length(builds) FROM typed_models ORDER BY id LIMIT 3;
-- not forgiving: an ERROR that names the table, the column and the value
CREATE FOREIGN TABLE bad_types (
  id bigint OPTIONS (key 'id'),
  name bigint OPTIONS (key 'name')
) SERVER civis OPTIONS (endpoint '/jobs/', paging 'pages', page_size '50');
SELECT * FROM bad_types;
ALTER FOREIGN TABLE bad_types ALTER COLUMN name TYPE boolean;
SELECT * FROM bad_types;
ALTER FOREIGN TABLE bad_types ALTER COLUMN name TYPE timestamptz;
SELECT * FROM bad_types;
ALTER FOREIGN TABLE bad_types ALTER COLUMN name TYPE bigint, ALTER COLUMN name OPTIONS (SET key 'author');
SELECT * FROM bad_types;
-- integers beyond 2^53 cannot be trusted after JSON parsing: an ERROR
\set _ `python3 test/mock/mockctl.py faults '{"always": "bigint", "path_prefix": "/jobs/"}'`
SELECT id FROM civis.jobs LIMIT 1;
-- \u0000 cannot be held by text: an ERROR
\set _ `python3 test/mock/mockctl.py faults '{"always": "nul", "path_prefix": "/jobs/"}'`
SELECT id FROM civis.jobs LIMIT 1;
\set _ `python3 test/mock/mockctl.py faults null`
-- an object where an array was expected is one row (the */shares endpoints)
SELECT jsonb_typeof(readers) AS readers, jsonb_typeof(owners) AS owners FROM civis.jobs_shares WHERE job_id = 406;
DROP FOREIGN TABLE typed_jobs, typed_models, bad_types;
