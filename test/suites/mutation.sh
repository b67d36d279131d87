#!/usr/bin/env bash
# Mutation test: the mock damages every response ({"always": "mutate"}:
# bytes cut, flipped or duplicated, or one value replaced by a value of
# another JSON type).  One backend runs SCANS scans (a plpgsql loop, each
# scan in its own exception block) alternating a detail GET and a listing.
# Each outcome is counted per mutation kind: the clean rows, other rows
# (the data changed but decoded), or an ERROR by SQLSTATE.  Asserts: every
# scan got its own mutated response, no internal error (XX000), the backend
# PID is unchanged, and the postmaster log has no "terminated by signal".
set -uo pipefail
. "$CIVIS_ROOT/scripts/lib.sh"
SCANS=${MUTATION_SCANS:-1200}
export SCANS

inner() {
  set -uo pipefail
  . "$CIVIS_ROOT/scripts/lib.sh"
  SUITE=mutation
  . "$CIVIS_ROOT/test/suites/lib_suite.sh"
  start_suite_mock --rate-limit 100000000
  M="python3 test/mock/mockctl.py"
  OUT=$(mktemp)

  psql -X -q -v ON_ERROR_STOP=1 >"$OUT" 2>&1 <<SQL || { cat "$OUT"; fail setup "could not set up"; exit 1; }
CREATE EXTENSION civis_fdw;
CREATE SERVER civis FOREIGN DATA WRAPPER civis_fdw
  OPTIONS (api_url '$CIVIS_MOCK_URL', max_retries '0');
CREATE USER MAPPING FOR CURRENT_USER SERVER civis OPTIONS (api_key 'test-key-0123456789');
CREATE SCHEMA civis;
IMPORT FOREIGN SCHEMA civis LIMIT TO (jobs, remote_hosts_data_sets) FROM SERVER civis INTO civis;
CREATE TABLE outcome (i int PRIMARY KEY, sqlstate text, rows int, same boolean, message text);
SQL

  $M reset
  psql -X -q -v ON_ERROR_STOP=1 -v scans="$SCANS" >"$OUT" 2>&1 <<'SQL'
SET client_min_messages = warning;
SELECT pg_backend_pid() AS pid_before \gset
-- the clean answers first
SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) AS clean_detail FROM civis.jobs t WHERE id = 406 \gset
SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) AS clean_list
  FROM civis.remote_hosts_data_sets t WHERE remote_host_id = 3 \gset
\! python3 test/mock/mockctl.py mark
\! python3 test/mock/mockctl.py faults '{"always": "mutate", "mutation_seed": 20240601}'
CREATE FUNCTION run_mutations(scans int, clean_detail text, clean_list text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  h text;
  n int;
BEGIN
  FOR i IN 1..scans LOOP
    BEGIN
      IF i % 2 = 1 THEN
        SELECT md5(string_agg(t::text, ',' ORDER BY t::text)), count(*) INTO h, n
          FROM civis.jobs t WHERE id = 406;
        INSERT INTO outcome VALUES (i, 'rows', n, h IS NOT DISTINCT FROM clean_detail, NULL);
      ELSE
        SELECT md5(string_agg(t::text, ',' ORDER BY t::text)), count(*) INTO h, n
          FROM civis.remote_hosts_data_sets t WHERE remote_host_id = 3;
        INSERT INTO outcome VALUES (i, 'rows', n, h IS NOT DISTINCT FROM clean_list, NULL);
      END IF;
    EXCEPTION WHEN OTHERS THEN
      INSERT INTO outcome VALUES (i, SQLSTATE, NULL, NULL, SQLERRM);
    END;
  END LOOP;
END $$;
SELECT run_mutations(:scans, :'clean_detail', :'clean_list');
\! python3 test/mock/mockctl.py faults null
SELECT 'same_backend=' || (pg_backend_pid() = :pid_before);
SELECT 'after=' || count(*) FROM civis.jobs WHERE id = 406;
SQL
  rc=$?
  if [ $rc -ne 0 ]; then
    fail run "psql failed: $(tail -c 800 "$OUT")"
  fi
  check same_backend grep -q "same_backend=true" "$OUT"
  check backend_usable_after grep -q "after=1" "$OUT"

  # the mutation kind of each request, in order, joined to the scans
  $M log --with-status >/dev/null
  python3 - "$CIVIS_MOCK_URL" >"$OUT.kinds" <<'PY'
import json, sys, urllib.request, os
mark = int(open(os.environ["CIVIS_MOCK_STATE"]).read().strip() or 0)
with urllib.request.urlopen(sys.argv[1] + "/_mock/log?since=%d" % mark) as r:
    entries = [e for e in json.load(r) if e.get("fault") == "mutate"]
for i, e in enumerate(sorted(entries, key=lambda e: e["seq"]), 1):
    print("%d\t%s" % (i, e.get("mutation") or "none"))
PY
  nkinds=$(grep -c . "$OUT.kinds")
  if [ "$nkinds" -eq "$SCANS" ]; then pass one_request_per_scan
  else fail one_request_per_scan "$nkinds requests for $SCANS scans"; fi

  psql -X -q -v ON_ERROR_STOP=1 >"$OUT.table" 2>&1 <<SQL
CREATE TEMP TABLE kinds (i int, kind text);
\copy kinds FROM '$OUT.kinds'
\pset footer off
SELECT coalesce(k.kind, '?') AS mutation,
       count(*) AS scans,
       count(*) FILTER (WHERE o.same) AS same_rows,
       count(*) FILTER (WHERE o.sqlstate = 'rows' AND NOT o.same) AS other_rows,
       count(*) FILTER (WHERE o.sqlstate <> 'rows') AS errors,
       string_agg(DISTINCT CASE WHEN o.sqlstate <> 'rows' THEN o.sqlstate END, ' ') AS sqlstates
  FROM outcome o LEFT JOIN kinds k USING (i)
 GROUP BY ROLLUP (k.kind) ORDER BY k.kind NULLS LAST;
SELECT sqlstate, count(*), min(message) AS example FROM outcome
 WHERE sqlstate <> 'rows' GROUP BY sqlstate ORDER BY count(*) DESC;
SELECT 'total=' || count(*) FROM outcome;
SELECT 'internal=' || count(*) FROM outcome WHERE sqlstate LIKE 'XX%';
SQL
  cat "$OUT.table"
  check at_least_1000_scans grep -Eq "total=([0-9]{4,})" "$OUT.table"
  if grep -q "internal=0" "$OUT.table"; then pass no_internal_errors
  else fail no_internal_errors "$(grep -A3 XX "$OUT.table" | head -5)"; fi
  for kind in cut flip dup retype; do
    check "kind_${kind}_served" grep -Eq "^ *$kind *\\|" "$OUT.table"
  done
  $M mutations
  if grep -q "terminated by signal" $(pg_log_files) /dev/null; then
    fail no_crash "$(grep -h -m3 'terminated by signal' $(pg_log_files))"
  else
    pass no_crash
  fi
  rm -f "$OUT" "$OUT.kinds" "$OUT.table"
  [ "$FAILS" -eq 0 ]
}
export -f inner

virtualenv bash -c inner
