--
-- paths: path parameters are columns; each needs an equality condition (or
-- IN, one request per value); values are percent-encoded in their segment.
--
SET timezone = 'UTC';
-- without a condition: a clear error naming the table, the column and the fix
SELECT * FROM civis.jobs_runs;
SELECT * FROM civis.jobs_runs_logs WHERE job_id = 7;
\set _ `python3 test/mock/mockctl.py mark`
SELECT job_id, count(1) FROM civis.jobs_runs WHERE job_id = 406 GROUP BY 1;
SELECT job_id, run_id, count(1) FROM civis.jobs_runs_logs WHERE job_id = 7 AND run_id = 3 GROUP BY 1, 2;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- IN on a path parameter: one request per value, each row says which
\set _ `python3 test/mock/mockctl.py mark`
SELECT job_id, count(1) FROM civis.jobs_runs WHERE job_id IN (406, 407, 406) GROUP BY 1 ORDER BY 1;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- a parameter that reuses a field of the response (notebookId)
\set _ `python3 test/mock/mockctl.py mark`
SELECT notebook_id, count(1) FROM civis.notebooks_deployments WHERE notebook_id = 7 GROUP BY 1;
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- a parent that does not exist (404) has no rows
SELECT count(1) FROM civis.jobs_runs WHERE job_id = 0;
-- ".", ".." and empty values would change the path: refused
SELECT * FROM civis.apps_instances WHERE slug = '..';
SELECT * FROM civis.apps_instances WHERE slug = '.';
SELECT * FROM civis.apps_instances WHERE slug = '';
-- other values are encoded in their segment
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(1) FROM civis.apps_instances WHERE slug = 'a/b c?d';
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- a NULL path value matches nothing
SELECT count(1) FROM civis.jobs_runs WHERE job_id = NULL;
-- the equality may come from the other side or a cast
SELECT count(1) FROM civis.jobs_runs WHERE 406 = job_id;
SELECT count(1) FROM civis.jobs_runs WHERE job_id = '406'::text::bigint;
