# Shared helpers of the scripts in this folder (sourced, not run).

# The PostgreSQL major version to build and test against: $CIVIS_PG_VERSION
# if set, else the newest server installed on this machine, else the one the
# distribution's "postgresql" package depends on (15 on Debian 12, 17 on
# Debian 13, 18 on unstable), else 15.
civis_pg_version() {
  local v
  if [ -n "${CIVIS_PG_VERSION:-}" ]; then
    echo "$CIVIS_PG_VERSION"
    return
  fi
  v=$(ls -d /usr/lib/postgresql/*/bin/postgres 2>/dev/null |
    sed -n 's|^/usr/lib/postgresql/\([0-9]*\)/bin/postgres$|\1|p' | sort -n | tail -1)
  [ -n "$v" ] || v=$(apt-cache depends postgresql 2>/dev/null |
    sed -n 's/^ *Depends: postgresql-\([0-9][0-9]*\)$/\1/p' | head -1)
  echo "${v:-15}"
}
PG_VERSION=$(civis_pg_version)
PG_BINDIR=/usr/lib/postgresql/$PG_VERSION/bin
export CIVIS_PG_VERSION=$PG_VERSION
# pg_config of that version (make, make install, make installcheck)
export PG_CONFIG=$PG_BINDIR/pg_config

# Debian packages civis_fdw needs to build, test and demo.  libicu-dev is
# named: the server headers include unicode/ucol.h, and Debian 13 does not
# pull it in by accident as Debian 12 does.
CIVIS_PACKAGES="postgresql-$PG_VERSION postgresql-server-dev-$PG_VERSION
  postgresql-$PG_VERSION-cron
  libcurl4-openssl-dev libcjson-dev libicu-dev python3 make gcc openssl"
# The sqlsmith suite (random queries) runs on PostgreSQL 15 only (the
# version CI's host runs; scripts/test.sh lists it there): its package too.
[ "$PG_VERSION" = 15 ] && CIVIS_PACKAGES="$CIVIS_PACKAGES sqlsmith"

# Install whatever of CIVIS_PACKAGES is missing (apt-get update first).
ensure_packages() {
  local missing=()
  for p in $CIVIS_PACKAGES "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "== installing Debian packages: ${missing[*]}"
    if [ "$(id -u)" -ne 0 ]; then
      echo "need root to install packages (run with sudo)" >&2
      exit 1
    fi
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
  fi
}

# Install missing packages (plus any named here), then build with warnings
# as errors and install into PostgreSQL $PG_VERSION.
# CIVIS_TEST_BUILD=1 builds the test build (with civis_fdw.debug_skip_recheck);
# install_normal_build puts the normal build back afterwards.
build_and_install() {
  ensure_packages "$@"
  echo "== build (warnings are errors) and install into PostgreSQL $PG_VERSION" >&2
  make -s clean >/dev/null
  make -s WERROR=1 CIVIS_TEST_BUILD="${CIVIS_TEST_BUILD:-0}"
  make -s install >/dev/null
}

install_normal_build() {
  echo "== build and install the normal build into PostgreSQL $PG_VERSION" >&2
  make -s clean >/dev/null
  make -s WERROR=1 CIVIS_TEST_BUILD=0 && make -s install >/dev/null
}

# Hosts the test clusters let any server owner use (civis_fdw.allowed_hosts):
# the bundled mock serves plain http on 127.0.0.1, the tls suite's mock https
# on localhost.  Exempt from the address checks, like any allowed host; the
# security tests narrow it again per session (sql/ssrf.sql).
CIVIS_TEST_ALLOWED_HOSTS="api.civisanalytics.com, http://127.0.0.1, http://localhost"

# pg_virtualenv with a UTF8 cluster, whatever the machine's locale.
virtualenv() {
  pg_virtualenv -t -v "$PG_VERSION" -i '--encoding=UTF8 --locale=C.UTF-8' \
    -o "civis_fdw.allowed_hosts=$CIVIS_TEST_ALLOWED_HOSTS" "$@"
}

# Start the mock Civis API in the background; sets CIVIS_MOCK_URL, MOCK_PID.
start_mock() {
  local portfile
  portfile=$(mktemp)
  rm -f "$portfile"
  python3 "$CIVIS_ROOT/test/mock/civis_mock.py" --port 0 --port-file "$portfile" "$@" \
    >"${MOCK_LOG:-/dev/null}" 2>&1 &
  MOCK_PID=$!
  for _ in $(seq 1 100); do
    [ -s "$portfile" ] && break
    sleep 0.05
  done
  if [ ! -s "$portfile" ]; then
    echo "the mock Civis API did not start" >&2
    return 1
  fi
  export CIVIS_MOCK_URL="http://127.0.0.1:$(cat "$portfile")"
  export CIVIS_MOCK_STATE
  CIVIS_MOCK_STATE=$(mktemp)
  rm -f "$portfile"
}

stop_mock() {
  [ -n "${MOCK_PID:-}" ] && kill "$MOCK_PID" 2>/dev/null || true
  MOCK_PID=
}

# For the scripts that import a spec given by path (real_spec_report.sh,
# exact_pairs.sh): SPEC, absolute and exported, from $1 or the real spec
# beside the repository; exits unless it is readable and civis_fdw is
# installed in PostgreSQL $PG_VERSION.
spec_script_setup() {
  SPEC=${1:-$CIVIS_ROOT/../shared/civis-api/civis_api_spec.json}
  if [ ! -r "$SPEC" ]; then
    echo "cannot read the spec: $SPEC" >&2
    exit 1
  fi
  SPEC=$(cd "$(dirname "$SPEC")" && pwd)/$(basename "$SPEC")
  export SPEC
  if [ ! -f "$($PG_CONFIG --sharedir)/extension/civis_fdw.control" ]; then
    echo "civis_fdw is not installed in PostgreSQL $PG_VERSION: run 'sudo bash scripts/test.sh' (or make install) first" >&2
    exit 1
  fi
}
