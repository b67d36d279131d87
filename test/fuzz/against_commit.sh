#!/usr/bin/env bash
# Test of the test (issue 9): build and install another version of civis_fdw,
# run this tree's fuzzer and mock against it, then reinstall this tree's
# build.  Like scripts/test.sh it installs into PostgreSQL 15: run it as
# root in a throwaway root or container, never on a shared host.
#
#   bash test/fuzz/against_commit.sh 0f8e136         a commit (needs git)
#   bash test/fuzz/against_commit.sh /path/to/tree   a source tree (no git)
#
# Environment: CIVIS_FUZZ_QUERIES (default 5000), CIVIS_FUZZ_MAX_FAILURES
# (failures shrunk and shown, default 40), CIVIS_FUZZ_SEED (one seed
# instead of test/fuzz/seeds.txt).  Prints the fuzzer's report, including
# "class ...: first found after N queries" lines.
set -uo pipefail
CIVIS_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export CIVIS_ROOT
what=${1:?usage: against_commit.sh COMMIT | SOURCE_DIR}
WT=$(mktemp -d /tmp/civis_fuzz_tree.XXXXXX)
trap 'rm -rf "$WT"' EXIT
if [ -d "$what" ]; then
  (cd "$what" && tar --exclude=.git -cf - .) | tar -xf - -C "$WT" || exit 1
else
  git -C "$CIVIS_ROOT" archive "$what" | tar -xf - -C "$WT" || {
    echo "cannot export $what with git archive" >&2; exit 1; }
fi
. "$CIVIS_ROOT/scripts/lib.sh"
echo "== building and installing $what"
(cd "$WT" && build_and_install) || { echo "could not build $what" >&2; exit 1; }
export CIVIS_FUZZ_MAX_FAILURES=${CIVIS_FUZZ_MAX_FAILURES:-40}
RESULTS=$(mktemp)
export RESULTS
bash "$CIVIS_ROOT/test/suites/fuzz.sh"
rc=$?
cat "$RESULTS"
rm -f "$RESULTS"
echo "== reinstalling this tree's build"
(cd "$CIVIS_ROOT" && build_and_install) || { echo "could not reinstall this tree" >&2; exit 1; }
exit $rc
