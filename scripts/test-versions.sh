#!/usr/bin/env bash
# Runs civis_fdw's suites and its Debian package checks on other PostgreSQL
# major versions, each in its own Debian root filesystem (run as root):
#
#   bash scripts/test-versions.sh [options] [VERSION ...]    (default: 17 18)
#
#   --suites "regress tls"  run only these suites of scripts/test.sh
#   --no-suites             skip the suites (package checks only)
#   --no-package            skip the package checks (suites only)
#   --suites-on "17 18"     run the suites on these versions only, and
#   --package-on "15 17"    the package checks on these (both default to
#                           the VERSIONs); the union is run
#   --parallel              all versions, and the suites and the package of
#                           each, at once (each in its own root copy and
#                           namespaces; the default is one after another)
#   --results-out DIR       copy each version's pg_regress results/ and
#                           regression.diffs to DIR/pgNN/ (to regenerate
#                           alternative or normalised expected files)
#   --debs-out DIR          where the built .deb files are kept
#                           (default /var/cache/civis_fdw/debs)
#   --rebuild               rebuild the cached roots of these versions
#   --roots-only            only build the cached roots, run nothing
#
# Versions: 15 (Debian 12 bookworm), 17 (Debian 13 trixie), 18 (Debian
# unstable, sid), all from the mirror $CIVIS_MIRROR (default
# http://deb.debian.org/debian).  For each version two roots are built once
# with mmdebstrap and cached under $CIVIS_ROOTS_DIR (default
# /var/cache/civis_fdw/roots): "build" (PostgreSQL, its server headers, the
# build and packaging dependencies) and "clean" (only what the package's
# autopkgtest needs; the package itself pulls in the server).  Each run works
# in a throwaway copy of a cached root, isolated with
# unshare --mount --pid --fork --net (loopback only), so concurrent runs never
# share a cluster, a port or a mock.
#
# Per version: the work tree is copied into the root and the README's test
# command (bash scripts/test.sh) runs there against that version; then the
# Debian package is built there (dpkg-buildpackage -us -uc -b), installed into
# a copy of the clean root, CREATE EXTENSION is run from the installed files
# and debian/tests run against the installed package.
#
# Every check is one "PASS pgNN:suite:name" or "FAIL pgNN:..." line, appended
# to $CIVIS_RESULTS when that is set (.ci/run counts them over all versions);
# otherwise the script ends with "N passed, N failed".  Exits non-zero on any
# failure.
set -uo pipefail
CIVIS_ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROOTS_DIR=${CIVIS_ROOTS_DIR:-/var/cache/civis_fdw/roots}
RUNS_DIR=${CIVIS_RUNS_DIR:-/var/cache/civis_fdw/runs}
MIRROR=${CIVIS_MIRROR:-http://deb.debian.org/debian}
FUZZ_QUERIES=${CIVIS_FUZZ_QUERIES:-1000}
# bump to rebuild every cached root after a change of what goes into them
ROOT_LAYOUT=1

suites=""
do_suites=1
do_package=1
results_out=""
debs_out=/var/cache/civis_fdw/debs
rebuild=0
roots_only=0
parallel=0
suites_on=""
package_on=""
versions=()
while [ $# -gt 0 ]; do
  case $1 in
    --suites) suites=$2; shift 2 ;;
    --no-suites) do_suites=0; shift ;;
    --no-package) do_package=0; shift ;;
    --results-out) results_out=$(realpath -m "$2"); shift 2 ;;
    --debs-out) debs_out=$(realpath -m "$2"); shift 2 ;;
    --rebuild) rebuild=1; shift ;;
    --roots-only) roots_only=1; shift ;;
    --parallel) parallel=1; shift ;;
    --suites-on) suites_on=$2; shift 2 ;;
    --package-on) package_on=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d;s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) versions+=("$1"); shift ;;
  esac
done
if [ ${#versions[@]} -eq 0 ] && [ -z "$suites_on$package_on" ]; then
  versions=(17 18)
fi
[ "$do_suites" -eq 1 ] && [ -z "$suites_on" ] && suites_on="${versions[*]}"
[ "$do_package" -eq 1 ] && [ -z "$package_on" ] && package_on="${versions[*]}"
[ "$do_suites" -eq 1 ] || suites_on=""
[ "$do_package" -eq 1 ] || package_on=""
# shellcheck disable=SC2207
versions=($(echo $suites_on $package_on "${versions[@]}" | tr ' ' '\n' | sort -un))
in_list() { case " $2 " in *" $1 "*) return 0 ;; esac; return 1; }

if [ "$(id -u)" -ne 0 ]; then
  echo "test-versions.sh needs root (mmdebstrap, chroot, unshare)" >&2
  exit 1
fi
# A brand-new machine has none of the root-building tools: install them
# (Debian's packages), as scripts/test.sh installs the build's.
need=()
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
command -v ip >/dev/null || need+=(iproute2)
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing Debian packages: ${need[*]}"
  apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null
fi
for tool in mmdebstrap unshare chroot ip flock; do
  command -v $tool >/dev/null || { echo "test-versions.sh needs $tool" >&2; exit 1; }
done

debian_suite() {
  case $1 in
    15) echo bookworm ;;
    17) echo trixie ;;
    18) echo sid ;;
    *) return 1 ;;
  esac
}

# What goes into each kind of root.  libicu-dev is named: the server headers
# include unicode/ucol.h, and Debian 13 no longer pulls it in by accident.
# sqlsmith only with 15: its suite runs on 15 only (scripts/test.sh), and the
# suites run without network, so it must be in the root.
root_packages() { # version kind
  case $2 in
    build) echo "postgresql-$1 postgresql-server-dev-$1 postgresql-$1-cron
      libcurl4-openssl-dev libcjson-dev libicu-dev python3 make gcc openssl
      ca-certificates procps iproute2
      build-essential debhelper dpkg-dev fakeroot postgresql-server-dev-all
      $([ "$1" = 15 ] && echo sqlsmith)" ;;
    # debian/tests/control's Depends, minus the package itself
    clean) echo "postgresql-common postgresql-server-dev-all make python3
      openssl procps ca-certificates" ;;
  esac
}

RESULTS_OWN=0
if [ -z "${CIVIS_RESULTS:-}" ]; then
  CIVIS_RESULTS=$(mktemp)
  RESULTS_OWN=1
fi
record() { echo "$1" | tee -a "$CIVIS_RESULTS"; }

# The cached root of a version and kind, built if missing or out of date.
# Concurrent runs wait for each other's build (flock).
ensure_root() { # version kind
  local v=$1 kind=$2 suite dest key tmp rc
  suite=$(debian_suite "$v") || { echo "no Debian suite ships PostgreSQL $v" >&2; return 1; }
  dest=$ROOTS_DIR/pg$v-$kind
  key="layout=$ROOT_LAYOUT suite=$suite mirror=$MIRROR packages=$(echo $(root_packages "$v" "$kind"))"
  mkdir -p "$ROOTS_DIR"
  (
    flock 9
    if [ "$rebuild" -eq 0 ] && [ -f "$dest/.civis-root" ] && [ "$(cat "$dest/.civis-root")" = "$key" ]; then
      exit 0
    fi
    [ -e "$dest" ] && remove_root "$dest"
    tmp=$dest.new
    [ -e "$tmp" ] && remove_root "$tmp"
    echo "== building the cached root $dest ($suite)"
    local start=$SECONDS
    # No cluster is created and no service started inside the root: the
    # policy-rc.d and createcluster.d files exist before PostgreSQL is
    # installed (the essential hook runs before the extra packages).
    mmdebstrap --variant=apt \
      --include="$(echo $(root_packages "$v" "$kind") | tr ' ' ,)" \
      --aptopt='Acquire::Check-Valid-Until "false"' \
      --essential-hook='mkdir -p "$1/etc/postgresql-common/createcluster.d" "$1/usr/sbin"; echo "create_main_cluster = false" > "$1/etc/postgresql-common/createcluster.d/00-nomain.conf"; printf "#!/bin/sh\nexit 101\n" > "$1/usr/sbin/policy-rc.d"; chmod +x "$1/usr/sbin/policy-rc.d"' \
      "$suite" "$tmp" "deb $MIRROR $suite main" >"$dest.log" 2>&1
    rc=$?
    if [ $rc -ne 0 ]; then
      tail -20 "$dest.log" >&2
      echo "mmdebstrap failed for $dest (log: $dest.log)" >&2
      remove_root "$tmp"
      exit 1
    fi
    echo "$key" >"$tmp/.civis-root"
    mv "$tmp" "$dest"
    echo "== built $dest in $((SECONDS - start)) s"
  ) 9>"$ROOTS_DIR/.lock-pg$v-$kind"
}

# Remove a root: never while anything is mounted below it, never crossing
# into another file system.
remove_root() {
  local root
  root=$(realpath -m "$1")
  [ -e "$root" ] || return 0
  local mounted
  mounted=$(findmnt -rn -o TARGET | grep -F "$root/")
  if [ -n "$mounted" ]; then
    echo "refusing to remove $root: something is still mounted below it:" >&2
    echo "$mounted" >&2
    return 1
  fi
  rm -rf --one-file-system "$root"
}

# A throwaway copy of a cached root.
copy_root() { # version kind -> prints the copy's path
  local dest
  mkdir -p "$RUNS_DIR"
  dest=$(mktemp -d "$RUNS_DIR/pg$1-$2.XXXXXX")
  cp -a --reflink=auto "$ROOTS_DIR/pg$1-$2/." "$dest/" || return 1
  echo "$dest"
}

# in_root [--net] ROOT CMD...: run CMD chrooted into ROOT in its own mount
# and pid namespaces (with --net also its own network namespace, loopback
# only).  proc, sys, dev (with dev/pts) and a tmpfs on /dev/shm are mounted
# inside the private mount namespace and so are gone when CMD ends.
in_root() {
  local net=""
  if [ "$1" = --net ]; then net=--net; shift; fi
  local root=$1; shift
  cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
  unshare --mount --pid --fork $net --propagation private bash -c '
    set -e
    root=$1; net=$2; shift 2
    mount -t proc proc "$root/proc"
    mount --rbind /sys "$root/sys"
    mount --rbind /dev "$root/dev"
    mount -t tmpfs tmpfs "$root/dev/shm"
    [ -z "$net" ] || ip link set lo up
    exec chroot "$root" /usr/bin/env -i \
      PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
  ' _ "$root" "$net" "$@"
}

# Copy the work tree (without git data and build products) to DIR.
copy_tree() { # dir
  mkdir -p "$1"
  tar -C "$CIVIS_ROOT" --exclude=./.git --exclude=./results --exclude=./log \
    --exclude='*.o' --exclude='*.so' --exclude='*.bc' --exclude=./regression.diffs \
    --exclude=./regression.out --exclude=./tmp_check -cf - . | tar -C "$1" -xf -
}

# prefix the PASS/FAIL lines of FILE with pgNN: and record them
collect() { # version file
  [ -f "$2" ] || return 0
  sed -n "s/^\(PASS\|FAIL\) /\1 pg$1:/p" "$2" >>"$CIVIS_RESULTS"
}

run_suites() { # version
  local v=$1 run rc
  echo "== PostgreSQL $v: suites"
  run=$(copy_root "$v" build) || { record "FAIL pg$v:suites: could not copy the root"; return; }
  copy_tree "$run/src"
  in_root --net "$run" env CIVIS_PG_VERSION="$v" CIVIS_FUZZ_QUERIES="$FUZZ_QUERIES" \
    CIVIS_RESULTS=/tmp/civis-results CIVIS_LABEL="PostgreSQL $v" CIVIS_IN_ROOT=1 \
    bash -c "cd /src && bash scripts/test.sh $suites" 2>&1 | sed -u "s/^/[pg$v] /"
  rc=${PIPESTATUS[0]}
  if [ ! -s "$run/tmp/civis-results" ]; then
    record "FAIL pg$v:suites: scripts/test.sh reported nothing (exit $rc)"
  else
    collect "$v" "$run/tmp/civis-results"
    [ $rc -eq 0 ] || grep -q '^FAIL' "$run/tmp/civis-results" ||
      record "FAIL pg$v:suites: scripts/test.sh exited with $rc"
  fi
  if [ -n "$results_out" ]; then
    rm -rf "$results_out/pg$v"
    mkdir -p "$results_out/pg$v"
    [ -d "$run/src/results" ] && cp -a "$run/src/results" "$results_out/pg$v/"
    [ -f "$run/src/regression.diffs" ] && cp "$run/src/regression.diffs" "$results_out/pg$v/"
    # scripts/test.sh's last make clean removed them: regress.sh kept copies
    [ -d "$results_out/pg$v/results" ] || [ ! -d "$run/tmp/civis_regress_results" ] ||
      cp -a "$run/tmp/civis_regress_results" "$results_out/pg$v/results"
    [ -f "$results_out/pg$v/regression.diffs" ] || [ ! -f "$run/tmp/civis_regression.diffs" ] ||
      cp "$run/tmp/civis_regression.diffs" "$results_out/pg$v/regression.diffs"
    echo "== PostgreSQL $v: results copied to $results_out/pg$v"
  fi
  remove_root "$run"
}

run_package() { # version
  local v=$1 run clean deb rc
  echo "== PostgreSQL $v: Debian package"
  run=$(copy_root "$v" build) || { record "FAIL pg$v:package:build: could not copy the root"; return; }
  copy_tree "$run/pkg/civis-fdw"
  in_root --net "$run" bash -c 'cd /pkg/civis-fdw && pg_buildext updatecontrol && dpkg-buildpackage -us -uc -b' \
    >"$run/build.log" 2>&1
  rc=$?
  deb=$(ls "$run"/pkg/postgresql-"$v"-civis-fdw_*.deb 2>/dev/null | head -1)
  if [ $rc -ne 0 ] || [ -z "$deb" ]; then
    tail -40 "$run/build.log" | sed "s/^/[pg$v] /"
    record "FAIL pg$v:package:build: dpkg-buildpackage failed (exit $rc) or made no postgresql-$v-civis-fdw"
    remove_root "$run"
    return
  fi
  grep -E 'warning:' "$run/build.log" | sed "s/^/[pg$v] /" || true
  mkdir -p "$debs_out"
  cp "$run"/pkg/*.deb "$debs_out/"
  record "PASS pg$v:package:build ($(basename "$deb"))"
  remove_root "$run"

  # a clean root: the package brings in the server and the libraries
  clean=$(copy_root "$v" clean) || { record "FAIL pg$v:package:install: could not copy the root"; return; }
  mkdir -p "$clean/pkg"
  cp "$debs_out/$(basename "$deb")" "$clean/pkg/"
  if in_root "$clean" bash -c "apt-get -q update >/dev/null && apt-get install -y -q /pkg/$(basename "$deb")" \
      >"$clean/install.log" 2>&1 &&
     in_root "$clean" dpkg -S "/usr/lib/postgresql/$v/lib/civis_fdw.so" >/dev/null 2>&1; then
    record "PASS pg$v:package:install"
  else
    tail -30 "$clean/install.log" | sed "s/^/[pg$v] /"
    record "FAIL pg$v:package:install"
    remove_root "$clean"
    return
  fi
  # CREATE EXTENSION from the installed files, in a throwaway cluster
  if out=$(in_root --net "$clean" pg_virtualenv -t -v "$v" psql -X -At -v ON_ERROR_STOP=1 \
      -c 'CREATE EXTENSION civis_fdw' \
      -c "SELECT extversion FROM pg_extension WHERE extname = 'civis_fdw'" \
      -c "SELECT probin FROM pg_proc WHERE proname = 'civis_fdw_handler'" 2>&1) &&
     grep -q '^[0-9]' <<<"$out"; then
    record "PASS pg$v:package:create_extension ($(echo "$out" | grep '^[0-9]' | head -1))"
  else
    echo "$out" | tail -20 | sed "s/^/[pg$v] /"
    record "FAIL pg$v:package:create_extension"
  fi
  # debian/tests against the installed package, from a source tree that
  # was never built (as autopkgtest runs them)
  copy_tree "$clean/src"
  in_root --net "$clean" bash -c 'cd /src && export AUTOPKGTEST_TMP=$(mktemp -d) &&
    for t in $(sed -n "s/^Tests: *//p" debian/tests/control); do
      echo "== debian/tests/$t"; debian/tests/$t || { echo "debian/tests/$t failed"; exit 1; }
    done' >"$clean/autopkgtest.log" 2>&1
  rc=$?
  if [ $rc -eq 0 ]; then
    record "PASS pg$v:package:autopkgtest"
  else
    tail -40 "$clean/autopkgtest.log" | sed "s/^/[pg$v] /"
    record "FAIL pg$v:package:autopkgtest"
  fi
  remove_root "$clean"
}

start=$SECONDS
first=$(($(grep -c '' "$CIVIS_RESULTS") + 1))
# build whatever roots are missing, in parallel (mostly network and dpkg)
pids=()
for v in "${versions[@]}"; do
  debian_suite "$v" >/dev/null || { record "FAIL pg$v: no Debian suite ships PostgreSQL $v"; continue; }
  kinds=build
  in_list "$v" "$package_on" && kinds="build clean"
  for kind in $kinds; do
    ensure_root "$v" "$kind" & pids+=($!)
  done
done
roots_ok=1
for p in "${pids[@]}"; do wait "$p" || roots_ok=0; done
if [ $roots_ok -eq 0 ]; then
  record "FAIL versions:roots: a root could not be built"
fi
echo "== roots ready after $((SECONDS - start)) s"

run_version() { # version
  local v=$1 vstart=$SECONDS p f
  if [ "$parallel" -eq 1 ]; then
    # the suites and the package checks use different copies of the roots
    in_list "$v" "$suites_on" && run_suites "$v" &
    in_list "$v" "$package_on" && run_package "$v" &
    wait
  else
    in_list "$v" "$suites_on" && run_suites "$v"
    in_list "$v" "$package_on" && run_package "$v"
  fi
  p=$(tail -n +$first "$CIVIS_RESULTS" | grep -c "^PASS pg$v:")
  f=$(tail -n +$first "$CIVIS_RESULTS" | grep -c "^FAIL pg$v:")
  echo "== PostgreSQL $v: $p passed, $f failed ($((SECONDS - vstart)) s)"
}

if [ "$roots_only" -eq 0 ] && [ $roots_ok -eq 1 ]; then
  pids=()
  for v in "${versions[@]}"; do
    debian_suite "$v" >/dev/null || continue
    if [ "$parallel" -eq 1 ]; then
      run_version "$v" & pids+=($!)
    else
      run_version "$v"
    fi
  done
  for p in "${pids[@]}"; do wait "$p"; done
fi

echo "== test-versions.sh took $((SECONDS - start)) s"
failed=$(tail -n +$first "$CIVIS_RESULTS" | grep -c '^FAIL')
passed=$(tail -n +$first "$CIVIS_RESULTS" | grep -c '^PASS')
if [ $RESULTS_OWN -eq 1 ]; then
  echo
  grep '^FAIL' "$CIVIS_RESULTS" || true
  echo "$passed passed, $failed failed"
  rm -f "$CIVIS_RESULTS"
fi
[ "$failed" -eq 0 ] && { [ "$roots_only" -eq 1 ] || [ "$passed" -gt 0 ]; }
