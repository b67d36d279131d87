--
-- security: values in URLs are percent-encoded (libcurl's own escaping), so
-- they reach the API exactly as given and can neither add parameters nor
-- leave their path segment; "." and ".." are refused as path values; secret
-- parameters are masked wherever a request is shown; the key never is shown.
-- What the mock received is read back from its log (mockctl.py decoded: the
-- path and parameters after the server's own decoding).
--
\getenv mock_url CIVIS_MOCK_URL
SET client_min_messages = notice;
SET timezone = 'UTC';
\set SHOW_CONTEXT always
CREATE TEMP TABLE hostile (n int PRIMARY KEY, v text NOT NULL);
INSERT INTO hostile VALUES
  (1, 'a&b=c'), (2, 'x#fragment'), (3, 'what?now'), (4, '100%'),
  (5, '%2F%00'), (6, 'a/b'), (7, '../..'), (8, './x'), (9, 'two words'),
  (10, 'it''s "quoted"'), (11, E'new\nline'), (12, E'tab\tcr\r'),
  (13, 'naïve ☃ 日本語'), (14, '+plus;semi,comma'), (15, '&archived=true&limit=1'),
  (16, 'back\slash'), (17, '{brace}[bracket]'), (18, '...'), (19, ' '), (20, '=');

-- every value as a query parameter (q of /jobs/) and as a path parameter
-- (slug of /apps/{slug}/instances), one request each
CREATE FUNCTION pg_temp.send_all() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  r record;
  total bigint := 0;
  c bigint;
BEGIN
  FOR r IN SELECT * FROM hostile ORDER BY n LOOP
    EXECUTE 'SELECT count(1) FROM civis.jobs WHERE q = $1' INTO c USING r.v;
    total := total + c;
    EXECUTE 'SELECT count(1) FROM civis.apps_instances WHERE slug = $1' INTO c USING r.v;
    total := total + c;
  END LOOP;
  RETURN total;
END $$;
\! python3 test/mock/mockctl.py reset
\! python3 test/mock/mockctl.py mark
SELECT pg_temp.send_all() >= 0 AS sent;
\set got `python3 test/mock/mockctl.py decoded | paste -sd, | sed 's/^/[/; s/$/]/'`
\set raw `python3 test/mock/mockctl.py log | python3 -c 'import json,sys; print(json.dumps([l.rstrip("\n") for l in sys.stdin]))'`
-- one row per request the mock received: decoded path, parameters, raw line
CREATE TEMP TABLE got AS
  SELECT e ->> 0 AS path, e -> 1 AS params, :'raw'::jsonb ->> (ord - 1)::int AS raw,
         (SELECT array_agg(p ->> 0 ORDER BY p ->> 0) FROM jsonb_array_elements(e -> 1) p) AS names
    FROM jsonb_array_elements(:'got'::jsonb) WITH ORDINALITY AS x(e, ord);
SELECT h.n,
       -- the query parameter: q arrives intact, on /jobs/, with no parameter added
       EXISTS (SELECT FROM got WHERE path = '/jobs/'
                 AND names = '{archived,limit,order,order_dir,page_num,q}'
                 AND params @> jsonb_build_array(jsonb_build_array('q', h.v))) AS q_intact,
       -- the path parameter: exactly one segment on the wire, decoding to the value
       EXISTS (SELECT FROM got WHERE path = '/apps/' || h.v || '/instances'
                 AND raw ~ '^GET /apps/[^/?#]+/instances\?'
                 AND names = '{archived,limit,order,order_dir,page_num}') AS slug_intact
  FROM hostile h ORDER BY n;
SELECT count(1) AS unexpected_requests FROM got
 WHERE NOT (path = '/jobs/' OR (path LIKE '/apps/%/instances' AND raw ~ '^GET /apps/[^/?#]+/instances\?'));
SELECT jsonb_array_length(:'got'::jsonb) AS requests;
-- the raw requests: percent-encoded by libcurl (RFC 3986 unreserved kept);
-- sorted, as pages read ahead concurrently arrive in any order
\! python3 test/mock/mockctl.py log | LC_ALL=C sort

-- "." and ".." (and the empty string) cannot be path segments
SELECT count(1) FROM civis.apps_instances WHERE slug = '.';
SELECT count(1) FROM civis.apps_instances WHERE slug = '..';
SELECT count(1) FROM civis.apps_instances WHERE slug = '';
SELECT count(1) FROM civis.apps_instances WHERE slug IN ('ok', '..');
-- a runtime value (a parameter of a prepared statement) is checked too
PREPARE by_slug(text) AS SELECT count(1) FROM civis.apps_instances WHERE slug = $1;
EXECUTE by_slug('..');
EXECUTE by_slug('a/..');
DEALLOCATE by_slug;

--
-- Secret parameters (password of /remote_hosts/{id}/data_sets is marked
-- secret) are masked in EXPLAIN, in error messages and their CONTEXT, but
-- sent as given.
--
EXPLAIN (VERBOSE, COSTS OFF)
SELECT name FROM civis.remote_hosts_data_sets
 WHERE remote_host_id = 3 AND username = 'bob' AND password = 'hunter2&x=1';
\! python3 test/mock/mockctl.py mark
SELECT count(1) > 0 AS has_rows FROM civis.remote_hosts_data_sets
 WHERE remote_host_id = 3 AND username = 'bob' AND password = 'hunter2&x=1';
\! python3 test/mock/mockctl.py decoded
\! python3 test/mock/mockctl.py faults '{"always": "500"}'
SELECT count(1) FROM civis.remote_hosts_data_sets
 WHERE remote_host_id = 3 AND username = 'bob' AND password = 'hunter2&x=1';
\! python3 test/mock/mockctl.py faults '{"always": "html"}'
SELECT count(1) FROM civis.remote_hosts_data_sets
 WHERE remote_host_id = 3 AND username = 'bob' AND password = 'hunter2&x=1';
\! python3 test/mock/mockctl.py faults '{"always": "malformed"}'
SELECT count(1) FROM civis.remote_hosts_data_sets
 WHERE remote_host_id = 3 AND username = 'bob' AND password = 'hunter2&x=1';
\! python3 test/mock/mockctl.py faults null
-- a prepared statement's runtime value: masked in EXPLAIN ANALYZE as well
PREPARE ds(text) AS SELECT count(1) FROM civis.remote_hosts_data_sets
 WHERE remote_host_id = 3 AND password = $1;
CREATE FUNCTION pg_temp.explain_requests(query text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (ANALYZE, VERBOSE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || query LOOP
    IF line ~ 'Civis Request' THEN
      RETURN NEXT btrim(line);
    END IF;
  END LOOP;
END $$;
SELECT pg_temp.explain_requests($q$EXECUTE ds('hunter2&x=1')$q$) AS explain_analyze;
DEALLOCATE ds;

--
-- The key is sent only in the Authorization header: never in a URL, never
-- in EXPLAIN.
--
\! python3 test/mock/mockctl.py mark
SELECT count(1) > 0 AS has_rows FROM civis.jobs;
\set raw `python3 test/mock/mockctl.py log`
SELECT position('test-key-0123456789' IN :'raw') = 0 AS key_not_in_urls;
CREATE FUNCTION pg_temp.explain_text(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  line text;
  result text := '';
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (ANALYZE, VERBOSE) ' || query LOOP
    result := result || line || E'\n';
  END LOOP;
  RETURN result;
END $$;
SELECT position('test-key' IN pg_temp.explain_text($q$SELECT * FROM civis.jobs WHERE q = 'x'$q$)) = 0
         AS key_not_in_explain,
       position('test-key' IN pg_temp.explain_text('SELECT id FROM civis.jobs WHERE id = 406')) = 0
         AS key_not_in_explain_detail;
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM civis.jobs WHERE id = 406;
-- a wrong key: the 401 does not echo it
CREATE SERVER civis_wrong_key FOREIGN DATA WRAPPER civis_fdw OPTIONS (api_url :'mock_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER civis_wrong_key
  OPTIONS (api_key 'dummy-wrong-key-000');
CREATE FOREIGN TABLE pg_temp.wrong_jobs (id bigint) SERVER civis_wrong_key
  OPTIONS (endpoint '/jobs/', paging 'pages', page_size '50');
SELECT count(1) FROM pg_temp.wrong_jobs;
DROP SERVER civis_wrong_key CASCADE;
\! python3 test/mock/mockctl.py reset
