--
-- trust: a condition leaves the local Filter only with evidence, window
-- paging that cannot run away, an object where a listing was expected,
-- and refusals whose HINTs say what the query needs (issue 18).
--
SET timezone = 'UTC';
\getenv mock_url CIVIS_MOCK_URL

-- (1) A synthetic column is made only where the field has the shape its
-- key reads: in /users/me/activity "user" is a string, so user.id never
-- decodes; "author" is a parameter-only column there, not author_id.
SELECT attname, atttypid::regtype, attfdwoptions
  FROM pg_attribute
 WHERE attrelid = 'civis.users_me_activity'::regclass AND attnum > 0
 ORDER BY attnum;
-- where the field is an object (jobs: author), author_id stays, exact
-- with its evidence written beside it
SELECT attname, attfdwoptions FROM pg_attribute
 WHERE attrelid = 'civis.jobs'::regclass AND attname = 'author_id';

-- (2) A mapping to a differently named field is sent and rechecked:
-- /queries/ database_id filters "database", credential_id "credential".
SELECT attname, attfdwoptions FROM pg_attribute
 WHERE attrelid = 'civis.queries'::regclass
   AND attname IN ('database', 'credential') ORDER BY attname;
SELECT database AS db, credential AS cred FROM civis.queries
 WHERE database IS NOT NULL AND credential IS NOT NULL ORDER BY id LIMIT 1 \gset
SELECT count(*) AS all_queries FROM civis.queries \gset
SELECT count(*) AS db_queries FROM civis.queries WHERE database + 0 = :db \gset
SELECT :db_queries < :all_queries AS fewer_than_all;
-- sent, and the Filter stays
SELECT * FROM regress_explain('SELECT count(*) FROM civis.queries WHERE database = 3')
 WHERE "QUERY PLAN" ~ 'Filter|database';
-- an API that ignores the parameter: still the right rows and count
\set _ `python3 test/mock/mockctl.py config '{"ignore": "database_id,credential_id"}'`
SELECT count(*) = :db_queries AS count_right FROM civis.queries WHERE database = :db;
SELECT count(*) = count(*) FILTER (WHERE database = :db) AS rows_right
  FROM (SELECT * FROM civis.queries WHERE database = :db) q;
SELECT count(*) = (SELECT count(*) FROM civis.queries WHERE credential + 0 = :cred)
       AS credential_right
  FROM civis.queries WHERE credential = :cred;
\set _ `python3 test/mock/mockctl.py config '{"ignore": ""}'`
-- a table imported by 1.1.0 keeps exact 'true' on database; the README's
-- upgrade statement puts the Filter back
ALTER FOREIGN TABLE civis.queries ALTER COLUMN database OPTIONS (ADD exact 'true');
SELECT * FROM regress_explain('SELECT count(*) FROM civis.queries WHERE database = 3')
 WHERE "QUERY PLAN" ~ 'Filter';
ALTER FOREIGN TABLE civis.queries ALTER COLUMN database OPTIONS (SET exact 'false');
SELECT * FROM regress_explain('SELECT count(*) FROM civis.queries WHERE database = 3')
 WHERE "QUERY PLAN" ~ 'Filter';
ALTER FOREIGN TABLE civis.queries ALTER COLUMN database OPTIONS (DROP exact);

-- (3) Window paging makes progress or stops with an ERROR at the second
-- page: an API that ignores start_at answers the first window again.
ALTER FOREIGN TABLE civis.notebooks_deployments_logs OPTIONS (SET page_size '10');
SELECT count(*) AS window_entries FROM civis.notebooks_deployments_logs
 WHERE notebook_id = 7 AND deployment_id = 7;
\set _ `python3 test/mock/mockctl.py config '{"ignore": "start_at"}'`
\set _ `python3 test/mock/mockctl.py mark`
SELECT count(*) FROM (SELECT * FROM civis.notebooks_deployments_logs
 WHERE notebook_id = 7 AND deployment_id = 7 LIMIT 15) l;
SELECT count(*) FROM civis.notebooks_deployments_logs
 WHERE notebook_id = 7 AND deployment_id = 7;
\set log `python3 test/mock/mockctl.py count`
\echo requests: :log
\set _ `python3 test/mock/mockctl.py config '{"ignore": ""}'`
ALTER FOREIGN TABLE civis.notebooks_deployments_logs OPTIONS (SET page_size '10000');

-- (4) An object where a listing was expected is an ERROR, unless the table
-- says response 'object' (IMPORT writes it for the shares and /search).
SELECT c.relname, ftoptions FROM pg_foreign_table ft
  JOIN pg_class c ON c.oid = ft.ftrelid
 WHERE c.relname IN ('jobs_shares', 'search', 'jobs') ORDER BY 1;
SELECT count(*) AS shares_rows FROM civis.jobs_shares WHERE job_id = 7;
-- a hand-made table, default paging: an ERROR, not one row
CREATE FOREIGN TABLE hand_shares (readers jsonb) SERVER civis
  OPTIONS (endpoint '/jobs/7/shares');
SELECT count(*) FROM hand_shares;
-- a 1.1.0 table with paging 'none' and no response option: a NOTICE
ALTER FOREIGN TABLE hand_shares OPTIONS (ADD paging 'none');
SELECT count(*) FROM hand_shares;
ALTER FOREIGN TABLE hand_shares OPTIONS (ADD response 'object');
SELECT count(*) FROM hand_shares;
ALTER FOREIGN TABLE hand_shares OPTIONS (SET response 'list');
DROP FOREIGN TABLE hand_shares;

-- (5) A loopback URL over plain http: one HINT names everything it needs.
CREATE SERVER s_loop FOREIGN DATA WRAPPER civis_fdw
  OPTIONS (api_url 'http://127.0.0.2:9/');
CREATE SERVER s_loop FOREIGN DATA WRAPPER civis_fdw
  OPTIONS (api_url 'http://[::1]:9/');
-- a public host needs only the one
CREATE SERVER s_loop FOREIGN DATA WRAPPER civis_fdw
  OPTIONS (api_url 'http://example.com/');

-- (6) IS NULL on a parameter-only column is refused, and says what to
-- write instead; the "needs a condition" HINT names = ANY and the type.
SELECT count(*) FROM civis.jobs WHERE hidden IS NULL;
SELECT count(*) FROM civis.jobs_runs WHERE job_id IS NOT DISTINCT FROM 7;
SELECT count(*) FROM civis.jobs_runs WHERE job_id = 7::numeric;
