#!/usr/bin/env python3
"""Mock Civis Platform API for the civis_fdw tests.

Serves the list and detail GETs of a Swagger 2.0 spec (by default the test
fixture, but the real civis_api_spec.json works too) with generated,
deterministic data, the real API's paging headers, loose filters, auth, a
rate limit, and injectable faults.  A control API under /_mock/ drives it
from tests; see test/mock/README.md.  Python standard library only."""
import argparse
import base64
import collections
import copy
import http.server
import json
import math
import os
import socket
import ssl
import struct
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mock_data import (ApiError, DataStore, Query, bad_request, configure, ignored_params,  # noqa: E402
                       expected_rows, filter_rows, not_found, ordered_all, overrides_for,
                       parse_ts, sort_rows, tie_key)
from mock_faults import (CONNECTION_KINDS, STATUS_KINDS, FaultProfile, dump,  # noqa: E402
                         huge_body, mutate, status_body, transform_payload)
from mock_faults import HOSTILE_KINDS, hostile_body  # noqa: E402  (hardening suite)
from mock_spec import Spec, spec_version_2  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SPEC = os.path.join(HERE, "..", "fixture", "civis_spec.json")
DEFAULT_KEY = "test-key-0123456789"
RATE_WINDOW_S = 300
MAX_PATH_ID = 1000000
PAGE_HEADERS = ["X-Pagination-Per-Page", "X-Pagination-Current-Page",
                "X-Pagination-Total-Pages", "X-Pagination-Total-Entries"]
PAYLOAD_KINDS = {"object", "array", "deep", "badutf8", "nul", "bigint", "unsorted"}


class Response:
    def __init__(self, status, payload=None, headers=None, body=None, ctype=None):
        self.status, self.payload = status, payload
        self.headers = list(headers or [])
        self.body = body
        self.ctype = ctype or "application/json; charset=utf-8"

    def bytes(self):
        return self.body if self.body is not None else dump(self.payload)


def error_response(err):
    return Response(err.code, err.body())


class MockState:
    """Everything shared between request threads."""

    def __init__(self, args):
        with open(args.spec, "rb") as f:
            self.spec_bytes = f.read()
        self.spec = Spec(json.loads(self.spec_bytes))
        # the second version of the spec (issue 23), served on request; the
        # fixture's only (another spec may lack the paths it changes)
        try:
            self.spec_bytes_v2 = json.dumps(spec_version_2(json.loads(self.spec_bytes))).encode()
        except (KeyError, ValueError, TypeError):
            self.spec_bytes_v2 = None
        self.spec_version = 1
        self.settings = {"range_bounds": args.range_bounds, "ties": args.ties, "ignore": ""}
        configure(self.settings)
        self.store = DataStore(self.spec, seed=args.seed, scale=args.scale, profile=args.data)
        self.cli_keys = set(args.api_key or [DEFAULT_KEY])
        self.cli_rate_limit = args.rate_limit
        self.cli_rate_window = args.rate_window
        self.keys = set(self.cli_keys)
        self.latency_ms = args.latency_ms
        self.rate_limit = self.cli_rate_limit
        self.key_rate_limits = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.seq = 0
        self.reset()

    def reset(self):
        with self.lock:
            self.log, self.profile, self.rate = [], None, {}
            self.mutation_counts = {}
            self.keys, self.rate_limit = set(self.cli_keys), self.cli_rate_limit
            self.rate_window = self.cli_rate_window
            self.key_rate_limits = {}
            self.spec_version = 1
        configure(self.settings)                    # the command line's behaviour again
        self.store.reset()

    def next_seq(self):
        with self.lock:
            self.seq += 1
            return self.seq

    def key_rate_limit(self, key):
        return self.key_rate_limits.get(key, self.rate_limit)

    def rate_check(self, key):
        """(limit, remaining calls in this key's window, or -seconds-to-wait
        if exhausted).  A real sliding window per key, as strict as the API
        is said to be: a call counts for rate_window seconds after it was
        received; over the limit the answer is 429 with Retry-After = whole
        seconds until the oldest counted call leaves the window (a refused
        call does not count)."""
        now = time.monotonic()
        with self.lock:
            limit = self.key_rate_limit(key)
            window = self.rate_window
            calls = self.rate.setdefault(key, collections.deque())
            while calls and now - calls[0] >= window:
                calls.popleft()
            if len(calls) >= limit:
                wait = window - (now - calls[0]) if calls else window
                return limit, -max(1, int(math.ceil(wait)))
            calls.append(now)
            return limit, limit - len(calls)


def parse_auth(header, keys):
    """(auth kind, key accepted) for an Authorization header."""
    if not header:
        return "none", False
    scheme, _, cred = header.strip().partition(" ")
    if scheme.lower() == "bearer" and cred.strip():
        return "bearer", cred.strip() in keys
    if scheme.lower() == "basic":
        try:
            user, sep, _ = base64.b64decode(cred.strip(), validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return "bad", False
        return ("basic", user in keys) if sep else ("bad", False)
    return "bad", False


# --------------------------------------------------------------------------
# API responses (no faults): lists with paging, detail objects
# --------------------------------------------------------------------------
def check_path_args(ep, args):
    for name, value in args.items():
        if (ep.path_params.get(name) or {}).get("type") == "integer":
            if not value.isdigit() or not 0 < int(value) <= MAX_PATH_ID:
                raise not_found("No %s with %s %s" % (ep.template, name, value))


def route(state, path):
    ep, args = state.spec.match(path)
    if ep is None:
        raise not_found("No route matches %s" % path)
    check_path_args(ep, args)
    return ep, args


def answers_list(ep):
    return ep.declared_array or overrides_for(ep.template).get("as_array", False)


def limit_of(ep, query):
    limit = query.int("limit", ep.limit_default, minimum=1)
    if limit is not None and ep.limit_max is not None and limit > ep.limit_max:
        raise bad_request("limit must be at most %d" % ep.limit_max)
    return limit


def page_headers(per_page, page, total_pages, total):
    values = [per_page, page, total_pages, total]
    headers = [(h, str(v)) for h, v in zip(PAGE_HEADERS, values)]
    return headers + [("Access-Control-Expose-Headers", ", ".join(PAGE_HEADERS))]


def select_page(ep, rows, query, lying):
    limit = limit_of(ep, query)
    page = query.int("page_num", 1, minimum=1)
    rows = sort_rows(ep, filter_rows(ep, rows, query), query)
    if lying:                                       # every page is page 1, forever
        return rows[:limit], page_headers(limit, page, 1000000, 1000000 * limit)
    total_pages = int(math.ceil(len(rows) / float(limit))) if limit else 1
    chosen = rows[(page - 1) * limit: page * limit]
    return chosen, page_headers(limit, page, total_pages, len(rows))


def select_rows(ep, rows, query, lying=False):
    """(rows, extra headers) for one request, per the endpoint's paging kind."""
    if ep.kind == "page":
        return select_page(ep, rows, query, lying)
    limit = limit_of(ep, query)
    if ep.kind == "cursor":
        last_id = query.int("last_id")
        rows = filter_rows(ep, rows, query)
        if last_id is None:                          # newest first without a cursor
            rows = sorted(rows, key=lambda r: (r.data.get("createdAt") or "",
                                               tie_key(r, query.seed)), reverse=True)
        else:
            rows = [r for r in ordered_all(ep, rows, query) if (r.data.get("id") or 0) > last_id]
        return rows[:limit], []
    if ep.kind == "window":
        rows = window(ep, rows, query)
        return rows[:limit], []
    rows = ordered_all(ep, rows, query)
    if ep.kind == "offset":
        offset = query.int("offset", 0, minimum=0)
        return rows[offset: offset + limit], []
    return (rows[:limit] if limit else rows), []


def window(ep, rows, query):
    start, end = query.get("start_at"), query.get("end_at")
    out = []
    for row in ordered_all(ep, rows, query):
        created = row.data.get("createdAt")
        ts = parse_ts(created) if created else None
        if start and (ts is None or ts < parse_ts(start)):
            continue
        if end and (ts is None or ts > parse_ts(end)):
            continue
        out.append(row)
    return out


def api_response(state, path, raw_query, lying=False, seq=None):
    if path.rstrip("/") == "/endpoints":
        return Response(200, body=state.spec_bytes_v2 if state.spec_version == 2
                        else state.spec_bytes)
    ep, args = route(state, path)
    ignored = ignored_params()
    query = Query([(k, v) for k, v in urllib.parse.parse_qsl(raw_query, keep_blank_values=True)
                   if k not in ignored], seed=seq)
    if not answers_list(ep):
        return Response(200, state.store.detail(ep, path, args))
    rows = state.store.rows(ep, path, args)
    if overrides_for(ep.template).get("as_object"):
        return Response(200, rows[0].data if rows else {})
    chosen, headers = select_rows(ep, rows, query, lying)
    return Response(200, [r.data for r in chosen], headers)


def expected(state, params):
    """All rows across pages for /_mock/expected, in wrapper column naming."""
    path = params.get("path") or "/"
    if path.rstrip("/") == "/endpoints":            # always answered with the spec itself
        return expected_rows([json.loads(state.spec_bytes)], parse_set(params.get("set", "")))
    ep, args = route(state, urllib.parse.unquote(path))
    query = Query(urllib.parse.parse_qsl(params.get("params", ""), keep_blank_values=True))
    if not answers_list(ep):
        datas = [state.store.detail(ep, path, args)]
    else:
        rows = state.store.rows(ep, path, args)
        if overrides_for(ep.template).get("as_object"):
            datas = [rows[0].data] if rows else [{}]
        elif ep.kind == "window":
            datas = [r.data for r in window(ep, rows, query)]
        else:
            datas = [r.data for r in ordered_all(ep, rows, query)]
    return expected_rows(datas, parse_set(params.get("set", "")))


def parse_set(text):
    pairs = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        name, _, value = item.partition("=")
        pairs[name.strip()] = int(value) if value.strip().lstrip("-").isdigit() else value
    return pairs


# --------------------------------------------------------------------------
# HTTP handler
# --------------------------------------------------------------------------
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "civis-mock/1"
    state = None                                    # set by make_server

    def log_message(self, *args):                   # quiet: the control log is the record
        pass

    def setup(self):
        super().setup()
        # headers and body go out in separate writes: without TCP_NODELAY,
        # Nagle's algorithm and the client's delayed ACK add ~40 ms to each
        # keep-alive response
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def dispatch(self, method):
        body = self.read_body()
        path_raw, _, query_raw = self.path.partition("?")
        path = urllib.parse.unquote(path_raw)
        if path.startswith("/_mock/"):
            self.control(method, path, query_raw, body)
            return
        self.entry = {"seq": self.state.next_seq(), "method": method, "path": path,
                      "query": query_raw, "path_raw": path_raw,
                      "params": [list(p) for p in urllib.parse.parse_qsl(
                          query_raw, keep_blank_values=True)],
                      "user_agent": self.headers.get("User-Agent"),
                      "started": time.monotonic()}
        self.entry["auth"], self.entry["key_ok"] = parse_auth(
            self.headers.get("Authorization"), self.state.keys)
        self.entry["key"] = self.auth_key() if self.entry["key_ok"] else None
        try:
            self.serve(method, path, query_raw)
        finally:
            self.record(0, 0, None)                 # no-op unless serve() failed early

    def record(self, status, nbytes, kind):
        """Append the log entry once, before the last byte goes out, so a
        client that has its answer always finds the entry in the log."""
        entry, self.entry = self.entry, None
        if entry is None:
            return
        entry.update(status=status, bytes=nbytes, fault=kind,
                     ms=int((time.monotonic() - entry.pop("started")) * 1000))
        with self.state.lock:
            self.state.log.append(entry)

    # -- API path --------------------------------------------------------
    def serve(self, method, path, query_raw):
        """Answer one API request (fault injection first)."""
        state = self.state
        if state.latency_ms:
            time.sleep(state.latency_ms / 1000.0)
        kind, opts, k = None, {}, 0
        profile = state.profile
        if profile is not None and profile.matches(path):
            kind, opts, k = profile.next(self.entry["params"])
            if opts.get("latency_ms"):
                time.sleep(float(opts["latency_ms"]) / 1000.0)
        if kind in CONNECTION_KINDS:
            self.record(0, 0, kind)
            self.break_connection(kind, opts)
            return
        if kind == "slow":
            time.sleep(float(opts.get("delay_ms", 2000)) / 1000.0)
        resp = self.build(method, path, query_raw, kind, opts)
        if self.entry is not None and isinstance(resp.payload, list):
            self.entry["rows"] = len(resp.payload)      # rows transferred (reports)
        body = self.shape_body(resp, kind, opts)
        if kind == "mutate":
            body = self.mutated(resp, body, opts, k)
        self.deliver(resp, body, kind, opts)

    def build(self, method, path, query_raw, kind, opts):
        """The response before any body damage: fault statuses, auth, rate, API."""
        if kind in STATUS_KINDS:
            resp = Response(int(kind), status_body(kind))
            if kind == "429":
                resp.headers.append(("Retry-After", str(opts.get("retry_after", "1"))))
            return resp
        if kind == "html":
            return Response(200, body=b"<html><body><h1>Maintenance</h1></body></html>",
                            ctype="text/html; charset=utf-8")
        if kind == "malformed":
            return Response(200, body=b'[{"id": 1, "name": "broken",, }')
        if not self.entry["key_ok"]:
            return self.unauthorized()
        limit, remaining = self.state.rate_check(self.auth_key())
        rate = [("X-RateLimit-Limit", str(limit)),
                ("X-RateLimit-Remaining", str(max(remaining, 0)))]
        if remaining < 0:
            return Response(429, status_body("429"), rate + [("Retry-After", str(-remaining))])
        if method != "GET":
            return Response(405, {"error": "method_not_allowed",
                                  "errorDescription": "The mock serves GET only", "code": 405})
        try:
            resp = api_response(self.state, path, query_raw, lying=kind == "lying_pages",
                                seq=self.entry["seq"])
        except ApiError as err:
            resp = error_response(err)
        resp.headers.extend(rate)
        return resp

    def auth_key(self):
        header = self.headers.get("Authorization", "")
        scheme, _, cred = header.partition(" ")
        if scheme.lower() == "basic":
            return base64.b64decode(cred.strip()).decode().partition(":")[0]
        return cred.strip()

    @staticmethod
    def unauthorized():
        desc = "The access token is invalid"
        return Response(401, {"error": "invalid_token", "errorDescription": desc, "code": 401},
                        [("WWW-Authenticate",
                          'Bearer realm="Civis API", error="invalid_token", '
                          'error_description="%s"' % desc)])

    @staticmethod
    def shape_body(resp, kind, opts):
        if kind in HOSTILE_KINDS and resp.status == 200:
            return hostile_body(kind, opts, resp)
        if resp.status != 200 or resp.payload is None:
            return resp.bytes()
        if kind == "huge":
            return huge_body(resp.payload, float(opts.get("huge_mb", 8)))
        if kind in PAYLOAD_KINDS:
            changed = transform_payload(kind, copy.deepcopy(resp.payload))
            if changed is not None:
                return changed
        return resp.bytes()

    def mutated(self, resp, body, opts, k):
        payload = copy.deepcopy(resp.payload)
        if payload is None:
            payload = json.loads(body)
        kind, body = mutate(body, payload, opts.get("mutation_seed", 0), k)
        resp.headers.append(("X-Mock-Mutation", kind))
        if self.entry is not None:
            self.entry["mutation"] = kind           # in the log too
        with self.state.lock:
            self.state.mutation_counts[kind] = self.state.mutation_counts.get(kind, 0) + 1
        return body

    # -- writing ---------------------------------------------------------
    def write_head(self, resp, length):
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.ctype)
        self.send_header("Content-Length", str(length))
        for name, value in resp.headers:
            self.send_header(name, value)
        self.end_headers()

    def deliver(self, resp, body, kind, opts):
        """Send the response, possibly cut short (truncate, stall)."""
        self.write_head(resp, len(body))
        if kind in ("truncate", "stall"):
            half = body[: len(body) // 2]
            self.record(resp.status, len(half), kind)
            self.wfile.write(half)
            self.wfile.flush()
            if kind == "stall":
                self.state.stopping.wait(float(opts.get("stall_s", 3600)))
            self.close_connection = True
            return
        self.record(resp.status, len(body), kind)
        self.wfile.write(body)

    def break_connection(self, kind, opts):
        self.close_connection = True
        if kind == "hang":
            self.state.stopping.wait(float(opts.get("stall_s", 3600)))
        elif kind == "reset":                        # RST instead of FIN
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.rfile.close()
            self.wfile.close()
            self.connection.close()

    # -- control API -----------------------------------------------------
    def control(self, method, path, query_raw, body):
        params = dict(urllib.parse.parse_qsl(query_raw, keep_blank_values=True))
        try:
            status, payload = CONTROL[(method, path.rstrip("/"))](self.state, params, body)
        except KeyError:
            status, payload = 404, {"error": "not_found", "code": 404,
                                    "errorDescription": "unknown control call %s %s"
                                                        % (method, path)}
        except ApiError as err:
            status, payload = err.code, err.body()
        except ValueError as err:
            status, payload = 400, {"error": "invalid", "errorDescription": str(err),
                                    "code": 400}
        self.write_head(Response(status), len(dump(payload)))
        self.wfile.write(dump(payload))


def ctl_reset(state, params, body):
    state.reset()
    return 200, {"ok": True, "seq": state.seq}


def ctl_mark(state, params, body):
    return 200, {"seq": state.seq}


def ctl_log(state, params, body):
    since = int(params.get("since") or 0)
    with state.lock:
        entries = [e for e in state.log if e["seq"] > since]
    return 200, sorted(entries, key=lambda e: e["seq"])


def ctl_faults(state, params, body):
    cfg = json.loads(body or b"null")
    state.profile = FaultProfile(cfg) if cfg else None
    return 200, {"ok": True, "profile": cfg}


def ctl_data(state, params, body):
    req = json.loads(body or b"{}")
    path = req.get("path") or "/"
    ep, args = route(state, path)
    version = state.store.change(ep, path, req.get("action"), req.get("n", 1))
    return 200, {"path": path, "version": version,
                 "rows": len(state.store.rows(ep, path, args))}


def ctl_config(state, params, body):
    """Behaviour settings (mock_data.configure), plus three of the server's:
    "rate_limit" (calls per key per window, for every key; counters kept),
    "rate_window" (the window in seconds, a positive number),
    "rate_limits" ({key: calls}, for the keys named) and "api_keys" (the
    keys accepted, in place of the command line's), and "spec_version" (2:
    GET /endpoints answers mock_spec.spec_version_2 of the fixture, the data
    stays the first version's).  /_mock/reset puts back the command line's
    and the first version."""
    changes = json.loads(body or b"{}")
    limit = changes.pop("rate_limit", None)
    window = changes.pop("rate_window", None)
    per_key = changes.pop("rate_limits", None)
    keys = changes.pop("api_keys", None)
    spec_version = changes.pop("spec_version", None)
    if spec_version is not None and spec_version not in (1, 2):
        raise ValueError("spec_version must be 1 or 2")
    if spec_version == 2 and state.spec_bytes_v2 is None:
        raise ValueError("spec_version 2 is made from the fixture spec only")

    def count(n):
        return isinstance(n, int) and not isinstance(n, bool) and n >= 0
    if limit is not None and not count(limit):
        raise ValueError("rate_limit must be a non-negative integer")
    if window is not None and (isinstance(window, bool) or not isinstance(window, (int, float))
                               or not window > 0):
        raise ValueError("rate_window must be a positive number of seconds")
    if per_key is not None and (not isinstance(per_key, dict)
                                or not all(count(n) for n in per_key.values())):
        raise ValueError("rate_limits must map keys to non-negative integers")
    if keys is not None and (not isinstance(keys, list) or not keys
                             or not all(isinstance(k, str) and k for k in keys)):
        raise ValueError("api_keys must be a list of non-empty strings")
    current = configure(changes)
    with state.lock:
        if limit is not None:
            state.rate_limit = limit
        if window is not None:
            state.rate_window = float(window)
        if per_key is not None:
            state.key_rate_limits.update(per_key)
        if keys is not None:
            state.keys = set(keys)
        if spec_version is not None:
            state.spec_version = spec_version
        current.update(rate_limit=state.rate_limit, rate_window=state.rate_window)
        if spec_version is not None:
            current.update(spec_version=state.spec_version)
    return 200, current


def ctl_expected(state, params, body):
    return 200, expected(state, params)


def ctl_mutations(state, params, body):
    with state.lock:
        return 200, dict(state.mutation_counts)


def ctl_shutdown(state, params, body):
    def stop():
        time.sleep(0.2)                             # let this answer reach the caller
        state.stopping.set()
        state.server.shutdown()

    threading.Thread(target=stop, daemon=True).start()
    return 200, {"ok": True}


CONTROL = {
    ("POST", "/_mock/reset"): ctl_reset,
    ("POST", "/_mock/mark"): ctl_mark,
    ("GET", "/_mock/log"): ctl_log,
    ("POST", "/_mock/faults"): ctl_faults,
    ("POST", "/_mock/data"): ctl_data,
    ("GET", "/_mock/expected"): ctl_expected,
    ("POST", "/_mock/config"): ctl_config,
    ("GET", "/_mock/mutations"): ctl_mutations,
    ("POST", "/_mock/shutdown"): ctl_shutdown,
}


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # a scan opens up to 9 connections at once: with the default listen
    # backlog of 5 the kernel drops SYNs and the client retries after 1 s
    request_queue_size = 128

    def handle_error(self, request, client_address):
        """Clients hanging up are expected (faults, timeouts); bugs are not."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, socket.timeout, ValueError)):
            super().handle_error(request, client_address)


def make_server(args):
    state = MockState(args)
    handler = type("BoundHandler", (Handler,), {"state": state})
    server = Server((args.host, args.port), handler)
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    state.server = server
    return server, state


def write_port_file(path, port):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, path)


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description="Mock Civis Platform API")
    ap.add_argument("--spec", default=os.path.normpath(DEFAULT_SPEC))
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--api-key", action="append", help="accepted key (repeatable)")
    ap.add_argument("--latency-ms", type=int, default=0)
    ap.add_argument("--scale", type=int, default=1, help="multiplies row counts")
    ap.add_argument("--rate-limit", type=int, default=1000, help="calls per key per window")
    ap.add_argument("--rate-window", type=float, default=RATE_WINDOW_S,
                    help="the rate limit's sliding window in seconds (default 300)")
    ap.add_argument("--range-bounds", choices=("inclusive", "exclusive"), default="inclusive",
                    help="how *_before/*_after compare with the *_at field")
    ap.add_argument("--ties", choices=("permute", "id"), default="permute",
                    help="order of equal sort keys: changes per request, or by id")
    ap.add_argument("--data", choices=("default", "fuzz"), default="default",
                    help="fuzz: the differential fuzzer's data set (test/fuzz)")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    return ap.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    server, state = make_server(args)
    port = server.server_address[1]
    if args.port_file:
        write_port_file(args.port_file, port)
    scheme = "https" if args.tls_cert else "http"
    print("listening on %s://%s:%d" % (scheme, args.host, port), flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        state.stopping.set()
        server.server_close()


if __name__ == "__main__":
    main()
