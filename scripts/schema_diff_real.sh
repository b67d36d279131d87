#!/usr/bin/env bash
# civis_fdw_schema_diff of a spec against an import of the same spec: must
# list nothing (issue 23).  The regression test sql/schema_diff.sql does the
# same for the fixture spec; this script (NOT a test: the tests use only
# test/fixture/civis_spec.json) does it for the real Civis API spec, so a
# quirk of the real spec that made the diff and the import disagree is seen.
#
#   bash scripts/schema_diff_real.sh [SPEC]
#
# SPEC defaults to ../shared/civis-api/civis_api_spec.json relative to the
# repository.  The mock Civis API serves it on a free loopback port; a
# throwaway cluster (pg_virtualenv) imports it and diffs it.  civis_fdw must
# be installed (bash scripts/test.sh, or make install).  Exits non-zero when
# the diff lists anything, or could not run.
set -euo pipefail
CIVIS_ROOT=$(cd "$(dirname "$0")/.." && pwd)
export CIVIS_ROOT
cd "$CIVIS_ROOT"
. scripts/lib.sh

spec_script_setup "${1:-}"

diff_self() {
  set -euo pipefail
  . "$CIVIS_ROOT/scripts/lib.sh"
  start_mock --spec "$SPEC" --rate-limit 1000000
  trap stop_mock EXIT
  psql -X -q -v ON_ERROR_STOP=1 -P pager=off -v mock_url="$CIVIS_MOCK_URL" <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION civis_fdw;
CREATE SERVER civis FOREIGN DATA WRAPPER civis_fdw OPTIONS (api_url :'mock_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER civis OPTIONS (api_key 'test-key-0123456789');
CREATE SCHEMA civis;
IMPORT FOREIGN SCHEMA civis FROM SERVER civis INTO civis;
SELECT count(*) AS tables_imported FROM information_schema.foreign_tables
 WHERE foreign_table_schema = 'civis';
CREATE TEMP TABLE d AS SELECT * FROM civis_fdw_schema_diff('civis', 'civis');
SELECT foreign_table, change, detail FROM d;
SELECT CASE WHEN count(*) = 0 THEN 'the spec against itself: no difference'
            ELSE 'the spec against itself: ' || count(*) || ' differences' END AS result
  FROM d \gset
\echo :result
SELECT count(*) = 0 AS ok FROM d \gset
\if :ok
\else
\echo 'FAIL: the diff and the import disagree'
\q 3
\endif
SQL
}
export -f diff_self

virtualenv bash -c diff_self 2>&1 | grep -vE '^(Creating new PostgreSQL cluster|Dropping cluster)'
exit "${PIPESTATUS[0]}"
