--
-- pd_prepared: prepared statements keep pushing after the switch to a
-- generic plan at the sixth execution (PARAM_EXTERN in the request).
--
SET timezone = 'UTC';
PREPARE runs(bigint) AS SELECT count(1) FROM civis.jobs_runs WHERE job_id = $1;
PREPARE by_author(bigint, text) AS SELECT count(1) FROM civis.jobs WHERE author_id = $1 AND state = $2;
PREPARE by_id(bigint) AS SELECT id, state FROM civis.jobs WHERE id = $1;
EXECUTE runs(406); EXECUTE by_author(13, 'failed'); EXECUTE by_id(415);
EXECUTE runs(406); EXECUTE by_author(13, 'failed'); EXECUTE by_id(415);
EXECUTE runs(406); EXECUTE by_author(13, 'failed'); EXECUTE by_id(415);
EXECUTE runs(406); EXECUTE by_author(13, 'failed'); EXECUTE by_id(415);
EXECUTE runs(406); EXECUTE by_author(13, 'failed'); EXECUTE by_id(415);
EXECUTE runs(406); EXECUTE by_author(13, 'failed'); EXECUTE by_id(415);
EXECUTE runs(406); EXECUTE by_author(13, 'failed'); EXECUTE by_id(415);
-- the generic plan shows the parameters as placeholders
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE runs(406);
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE by_author(13, 'failed');
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE by_id(415);
\set _ `python3 test/mock/mockctl.py mark`
EXECUTE runs(415); EXECUTE by_author(3, 'running'); EXECUTE by_id(406);
\set log `python3 test/mock/mockctl.py log | sort`
\echo :log
-- PL/pgSQL's cached plans too
CREATE FUNCTION runs_of(j bigint) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN RETURN (SELECT count(1) FROM civis.jobs_runs WHERE job_id = j); END $$;
SELECT j, runs_of(j) FROM generate_series(406, 412) j;
