# Helpers shared by the shell suites (sourced, not a suite itself).  Each
# check reports one "PASS suite:name" or "FAIL suite:name: why" line into
# $RESULTS, the way test/suites/regress.sh does.
SUITE=${SUITE:-suite}
FAILS=0
pass() { echo "PASS $SUITE:$1" | tee -a "$RESULTS"; }
fail() {
  echo "FAIL $SUITE:$1${2:+: $(printf '%s' "$2" | tr '\n' ' ' | cut -c1-600)}" | tee -a "$RESULTS"
  FAILS=$((FAILS + 1))
}
check() { local name=$1; shift; if "$@"; then pass "$name"; else fail "$name"; fi; }
# the postmaster log files of the pg_virtualenv cluster we run in
pg_log_files() { ls "$(dirname "$PGSYSCONFDIR")"/log/*.log 2>/dev/null; }
