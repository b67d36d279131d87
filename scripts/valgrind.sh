#!/usr/bin/env bash
# Valgrind memcheck run of the regression tests (not part of CI: slow).
#
#   bash scripts/valgrind.sh [TESTS...]        default: init options security faults
#
# Builds and installs like scripts/test.sh, makes a throwaway cluster (initdb
# in a temp dir, Unix socket only) and runs its postmaster under valgrind (--trace-children=yes, one log
# per process, suppressions in test/valgrind.supp), runs pg_regress with the
# named tests against the mock, then reports every valgrind error whose
# stack has a civis_fdw frame.  Exits non-zero if there is one.  A server
# under valgrind is 20-50 times slower: statement timeouts do not apply, and
# the mock is given a long rate limit.  Errors in PostgreSQL's own frames
# are counted but not judged (PostgreSQL is not built for valgrind here).
set -uo pipefail
CIVIS_ROOT=$(cd "$(dirname "$0")/.." && pwd)
export CIVIS_ROOT
cd "$CIVIS_ROOT"
. scripts/lib.sh
build_and_install valgrind || exit 1
export VG_TESTS=${*:-"init options security faults"}

# A cluster of our own (not pg_virtualenv's, whose port another process may
# take while its server is stopped), reached over a Unix socket in a temp dir.
W=$(mktemp -d)
chmod 755 "$W"
chown postgres: "$W"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
runuser -u postgres -- $PG_BINDIR/initdb -D "$W/data" --encoding=UTF8 \
  --locale=C.UTF-8 --auth=trust -U postgres >"$W/initdb.log" 2>&1 || { cat "$W/initdb.log"; exit 1; }
mkdir -p "$W/vg" && chmod 777 "$W/vg"
# the server runs as postgres, which may not read this checkout
cp "$CIVIS_ROOT/test/valgrind.supp" "$W/valgrind.supp" && chmod 644 "$W/valgrind.supp"
cleanup() {
  runuser -u postgres -- $PG_BINDIR/pg_ctl -D "$W/data" stop -m immediate -w >/dev/null 2>&1
  stop_mock
}
trap cleanup EXIT
start_mock --rate-limit 100000000 || exit 1
runuser -u postgres -- valgrind --quiet --tool=memcheck --trace-children=yes \
    --track-origins=yes --num-callers=30 --error-limit=no \
    --suppressions="$W/valgrind.supp" \
    --log-file="$W/vg/vg.%p.log" \
    $PG_BINDIR/postgres -D "$W/data" -p "$PORT" -k "$W" -c listen_addresses='' \
    -c "civis_fdw.allowed_hosts=$CIVIS_TEST_ALLOWED_HOSTS" \
    >"$W/postmaster.out" 2>&1 &
export PGHOST=$W PGPORT=$PORT PGUSER=postgres
VG_PID=$!
for _ in $(seq 1 1200); do
  pg_isready -q && break
  kill -0 "$VG_PID" 2>/dev/null || break     # valgrind gave up: say so now
  sleep 0.5
done
pg_isready -q || { echo "postgres under valgrind did not start"; cat "$W/postmaster.out" "$W"/vg/*.log; exit 1; }
echo "== pg_regress under valgrind: $VG_TESTS"
# results in our temp dir, so that a concurrent run in this tree is not disturbed
mkdir -p "$W/regress/results"
EXTRA_REGRESS_OPTS="--outputdir=$W/regress" \
  make -s installcheck REGRESS="$VG_TESTS" \
  >"$W/regress.log" 2>&1
rc=$?
grep -E '\.\.\. |^test |^ok|^not ok' "$W/regress.log"
runuser -u postgres -- $PG_BINDIR/pg_ctl -D "$W/data" stop -m fast -w -t 600 >/dev/null
# one error block per "==PID== <blank>"-separated paragraph
python3 - "$W/vg" <<'PY'
import glob, re, sys
blocks, total, files = [], 0, 0
for path in glob.glob(sys.argv[1] + "/vg.*.log"):
    files += 1
    text = open(path, errors="replace").read()
    for para in re.split(r"\n==\d+== \n", text):
        if not re.search(r"==\d+== (Invalid|Conditional|Use of uninit|Syscall param|Mismatched|Source and destination|Argument|Process terminating)", para):
            continue
        total += 1
        if re.search(r"civis_fdw|/src/(scan|paging|decode|json_page|transport|request|plan|planner|qual|option|import|spec|explain|http_error|naming|quirks|analyze|estimate|civis_fdw)\.c", para):
            blocks.append(para)
print("valgrind: %d process logs, %d error(s) in all, %d with a civis_fdw frame" % (files, total, len(blocks)))
for b in blocks[:20]:
    print(b)
    print("-" * 60)
sys.exit(1 if blocks or files == 0 else 0)
PY
vg=$?
echo "valgrind logs: $W/vg (postmaster output: $W/postmaster.out)"
[ $rc -eq 0 ] || echo "pg_regress reported differences (see $W/regress.log and $W/regress/regression.diffs; timing-dependent output may differ under valgrind)"
exit $vg
