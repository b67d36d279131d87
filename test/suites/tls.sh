#!/usr/bin/env bash
# TLS: the mock over https with a certificate from a private CA made here
# with openssl.  Refused by default with a clear message; accepted with the
# ca_file server option; refused when the host name does not match; ca_file
# only for superusers; plain http only to loopback unless allowed; a
# certificate error is not retried.
set -uo pipefail
. "$CIVIS_ROOT/scripts/lib.sh"

inner() {
  set -uo pipefail
  . "$CIVIS_ROOT/scripts/lib.sh"
  SUITE=tls
  . "$CIVIS_ROOT/test/suites/lib_suite.sh"
  cd "$CIVIS_ROOT"
  CERTS=$(mktemp -d)
  chmod 755 "$CERTS"
  (
    cd "$CERTS"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=civis test CA" \
      -keyout ca.key -out ca.pem -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign"
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' >ext.cnf
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
      -extfile ext.cnf -out server.pem
    # a certificate of the same CA for another host name
    openssl req -newkey rsa:2048 -nodes -subj "/CN=elsewhere.example" -keyout other.key -out other.csr
    printf 'subjectAltName=DNS:elsewhere.example\n' >other.cnf
    openssl x509 -req -in other.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
      -extfile other.cnf -out other.pem
  ) >"$CERTS/openssl.log" 2>&1 || { cat "$CERTS/openssl.log"; fail setup "openssl failed"; exit 1; }
  chmod 644 "$CERTS"/*.pem

  start_mock --rate-limit 1000000 --tls-cert "$CERTS/server.pem" --tls-key "$CERTS/server.key" \
    || { fail setup "https mock did not start"; exit 1; }
  GOOD_URL=${CIVIS_MOCK_URL/http:/https:}
  GOOD_URL=${GOOD_URL/127.0.0.1/localhost}
  GOOD_PID=$MOCK_PID
  MOCK_PID=
  start_mock --rate-limit 1000000 --tls-cert "$CERTS/other.pem" --tls-key "$CERTS/other.key" \
    || { fail setup "second https mock did not start"; exit 1; }
  OTHER_URL=${CIVIS_MOCK_URL/http:/https:}
  OTHER_URL=${OTHER_URL/127.0.0.1/localhost}
  trap 'stop_mock; kill $GOOD_PID 2>/dev/null' EXIT

  run() { psql -X -q -v VERBOSITY=verbose "$@" 2>&1; }
  run -v ON_ERROR_STOP=1 <<SQL >/dev/null || { fail setup "could not create servers"; exit 1; }
CREATE EXTENSION civis_fdw;
CREATE SERVER tls_default FOREIGN DATA WRAPPER civis_fdw OPTIONS (api_url '$GOOD_URL', max_retries '0');
CREATE SERVER tls_retry FOREIGN DATA WRAPPER civis_fdw OPTIONS (api_url '$GOOD_URL', max_retries '3');
CREATE SERVER tls_ca FOREIGN DATA WRAPPER civis_fdw
  OPTIONS (api_url '$GOOD_URL', ca_file '$CERTS/ca.pem', max_retries '0');
CREATE SERVER tls_other FOREIGN DATA WRAPPER civis_fdw
  OPTIONS (api_url '$OTHER_URL', ca_file '$CERTS/ca.pem', max_retries '0');
CREATE SERVER tls_badca FOREIGN DATA WRAPPER civis_fdw
  OPTIONS (api_url '$GOOD_URL', ca_file '$CERTS/missing.pem', max_retries '0');
DO \$\$ DECLARE s text; BEGIN
  FOREACH s IN ARRAY ARRAY['tls_default', 'tls_retry', 'tls_ca', 'tls_other', 'tls_badca'] LOOP
    EXECUTE format('CREATE USER MAPPING FOR CURRENT_USER SERVER %I OPTIONS (api_key %L)', s, 'test-key-0123456789');
    EXECUTE format('CREATE FOREIGN TABLE %I (id bigint) SERVER %I OPTIONS (endpoint %L, paging %L, page_size %L)',
                   s || '_jobs', s, '/jobs/', 'pages', '50');
  END LOOP;
END \$\$;
SQL

  out=$(run -c "SELECT count(*) FROM tls_default_jobs")
  echo "$out" | sed 's/^/  default: /'
  if echo "$out" | grep -q "could not verify the TLS certificate" && echo "$out" | grep -q "HV00N"; then
    pass refused_by_default
  else
    fail refused_by_default "$out"
  fi

  # a certificate error is never retried (README, Retries): no "Gave up
  # after N attempts" although the server allows 3 retries
  out=$(run -c "SELECT count(*) FROM tls_retry_jobs")
  if echo "$out" | grep -q "could not verify the TLS certificate" && ! echo "$out" | grep -q "Gave up after"; then
    pass certificate_error_not_retried
  else
    fail certificate_error_not_retried "$out"
  fi

  out=$(run -At -c "SELECT count(*) FROM tls_ca_jobs")
  if [ "$out" = "137" ]; then pass accepted_with_ca_file; else fail accepted_with_ca_file "$out"; fi

  out=$(run -c "SELECT count(*) FROM tls_other_jobs")
  echo "$out" | sed 's/^/  host mismatch: /'
  if echo "$out" | grep -q "could not verify the TLS certificate" && echo "$out" | grep -qi "localhost\|name\|subject"; then
    pass host_name_mismatch_refused
  else
    fail host_name_mismatch_refused "$out"
  fi

  out=$(run -c "SELECT count(*) FROM tls_badca_jobs")
  echo "$out" | sed 's/^/  missing ca_file: /'
  if echo "$out" | grep -q "ERROR" && ! echo "$out" | grep -q "^ *137"; then
    pass missing_ca_file_refused
  else
    fail missing_ca_file_refused "$out"
  fi

  # ca_file is for superusers only; plain http only to hosts listed as http://
  # in civis_fdw.allowed_hosts, or with allow_insecure_http
  out=$(run <<SQL
CREATE ROLE tls_plain LOGIN;
GRANT USAGE ON FOREIGN DATA WRAPPER civis_fdw TO tls_plain;
SET ROLE tls_plain;
CREATE SERVER by_plain FOREIGN DATA WRAPPER civis_fdw OPTIONS (api_url '$GOOD_URL', ca_file '/etc/passwd');
RESET ROLE;
CREATE SERVER remote_http FOREIGN DATA WRAPPER civis_fdw OPTIONS (api_url 'http://api.example.com');
CREATE SERVER remote_http_ok FOREIGN DATA WRAPPER civis_fdw
  OPTIONS (api_url 'http://api.example.com', allow_insecure_http 'true');
SELECT 'created:' || srvname FROM pg_foreign_server WHERE srvname LIKE 'remote_http%' OR srvname = 'by_plain';
SQL
)
  echo "$out" | sed 's/^/  options: /'
  if echo "$out" | grep -q 'only superusers may set option "ca_file"' && ! echo "$out" | grep -q "created:by_plain"; then
    pass ca_file_superuser_only
  else
    fail ca_file_superuser_only "$out"
  fi
  if echo "$out" | grep -q "plain http is not allowed to host" && echo "$out" | grep -q "created:remote_http_ok" \
     && ! echo "$out" | grep -q "created:remote_http$"; then
    pass http_only_allowed_hosts
  else
    fail http_only_allowed_hosts "$out"
  fi
  rm -rf "$CERTS"
  [ "$FAILS" -eq 0 ]
}
export -f inner

virtualenv bash -c inner
