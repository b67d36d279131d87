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
# the PIDs of the backends whose application_name is $1, one a line, among
# those that also meet the SQL condition $2 if given
backend_pids() {
  psql -X -At -c "SELECT pid FROM pg_stat_activity WHERE application_name = '$1'${2:+ AND $2}"
}
# one check, named $1 (default postmaster_log): no backend crashed, by the
# postmaster's log
check_no_crash() {
  if grep -h "terminated by signal\|server process .* was terminated" $(pg_log_files) /dev/null; then
    fail "${1:-postmaster_log}" "a backend crashed (see above)"
  else
    pass "${1:-postmaster_log}"
  fi
}
# start the mock with options "$@" (stopped when the suite's shell exits)
# and enter the project's directory; the setup check fails if it cannot
start_suite_mock() {
  start_mock "$@" || { fail setup "mock did not start"; exit 1; }
  trap stop_mock EXIT
  cd "$CIVIS_ROOT"
}
