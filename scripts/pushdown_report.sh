#!/usr/bin/env bash
# Request economy of the pushdown over the equivalence corpus (a report, not
# a test): requests issued / minimum and rows transferred / rows returned.
#   bash scripts/pushdown_report.sh
set -euo pipefail
CIVIS_ROOT=$(cd "$(dirname "$0")/.." && pwd)
export CIVIS_ROOT
cd "$CIVIS_ROOT"
. scripts/lib.sh
build_and_install

inner() {
  set -euo pipefail
  . "$CIVIS_ROOT/scripts/lib.sh"
  start_mock --rate-limit 1000000
  trap stop_mock EXIT
  psql -XAtq -v ON_ERROR_STOP=1 -v mock_url="$CIVIS_MOCK_URL" <<'SQL'
CREATE EXTENSION civis_fdw;
CREATE SERVER civis FOREIGN DATA WRAPPER civis_fdw OPTIONS (api_url :'mock_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER civis OPTIONS (api_key 'test-key-0123456789');
CREATE SCHEMA civis;
IMPORT FOREIGN SCHEMA civis FROM SERVER civis INTO civis;
SQL
  PGOPTIONS="-c timezone=UTC" python3 "$CIVIS_ROOT/scripts/pushdown_report.py"
}
export -f inner
virtualenv bash -c inner
