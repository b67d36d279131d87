"""Fault profiles for the Civis mock: which request gets which fault, and
the body transforms (payload-level and byte-level mutations)."""
import json
import random
import threading

STATUS_KINDS = {"429", "500", "502", "503", "504"}
CONNECTION_KINDS = {"drop", "reset", "hang"}
BIG_ID = 9007199254740993                      # 2**53 + 1: not exact in a double
DEEP_LEVELS = 100000
MUTATIONS = ["cut", "flip", "dup", "retype"]
OTHER_TYPES = ["text", 42, True, None, {"k": 1}, [1]]


class FaultProfile:
    """A posted profile.  Matching requests are counted from 1; for request k
    the kind is by_param["name=value"] for the first query parameter it
    names, else first[k], else every[N] for the largest N dividing k, else
    always.  Options may be given per kind under "kinds"."""

    def __init__(self, cfg):
        self.cfg = cfg or {}
        self.prefix = self.cfg.get("path_prefix") or ""
        self.count = 0
        self.lock = threading.Lock()

    def matches(self, path):
        return path.startswith(self.prefix)

    def next(self, params=()):
        """(kind or None, options, k) for the next matching request, whose
        decoded query parameters are params ([name, value] pairs)."""
        with self.lock:
            self.count += 1
            k = self.count
        by_param = self.cfg.get("by_param") or {}
        kind = next((by_param["%s=%s" % (n, v)] for n, v in params
                     if "%s=%s" % (n, v) in by_param), None)
        if kind is None:
            kind = (self.cfg.get("first") or {}).get(str(k))
        if kind is None:
            every = sorted(((int(n), v) for n, v in (self.cfg.get("every") or {}).items()),
                           reverse=True)
            kind = next((v for n, v in every if n > 0 and k % n == 0), None)
        if kind is None:
            kind = self.cfg.get("always")
        opts = dict(self.cfg)
        opts.update((self.cfg.get("kinds") or {}).get(kind) or {})
        return kind, opts, k


def status_body(kind):
    if kind == "429":
        return {"error": "rate_limited", "code": 429}     # no errorDescription (real quirk)
    return {"error": "server_error", "errorDescription": "Injected %s failure" % kind,
            "code": int(kind)}


def _first_row(payload):
    """The dict to damage: the object itself or the first list item."""
    if isinstance(payload, dict):
        return payload
    if not payload:
        payload.append({"id": 1, "name": "placeholder"})
    if not isinstance(payload[0], dict):
        payload[0] = {"id": 1, "name": "placeholder"}
    return payload[0]


def _text_key(row):
    if "name" in row:
        return "name"
    return next((k for k, v in row.items() if isinstance(v, str)), "name")


def transform_payload(kind, payload):
    """Payload-level kinds: return the body bytes, or None if not handled."""
    if kind == "object" and isinstance(payload, list):
        return dump(payload[0] if payload and isinstance(payload[0], dict) else {})
    if kind == "array" and isinstance(payload, dict):
        return dump([payload])
    if kind == "unsorted" and isinstance(payload, list):
        # the rows of the page in the opposite of the order asked for
        return dump(list(reversed(payload)))
    if kind not in ("deep", "badutf8", "nul", "bigint"):
        return None
    row = _first_row(payload)
    key = _text_key(row)
    if kind == "bigint":
        row["id"] = BIG_ID
        return dump(payload)
    if kind == "nul":
        row[key] = "before\u0000after"
        return dump(payload)
    row[key] = "@@MOCK_PLACEHOLDER@@"
    if kind == "deep":
        splice = b"[" * DEEP_LEVELS + b"]" * DEEP_LEVELS
    else:
        splice = b'"bad \xff\xfe utf8 \xc3("'
    return dump(payload).replace(b'"@@MOCK_PLACEHOLDER@@"', splice, 1)


def huge_body(payload, megabytes):
    """A valid JSON array of about `megabytes` MB built from the real rows."""
    rows = payload if isinstance(payload, list) and payload else [{"id": 1, "name": "x"}]
    target, parts, size, i = int(megabytes * 1024 * 1024), [], 0, 0
    while size < target:
        row = dict(rows[i % len(rows)]) if isinstance(rows[i % len(rows)], dict) else {}
        row["id"] = i + 1
        chunk = dump(row)
        parts.append(chunk)
        size += len(chunk) + 1
        i += 1
    return b"[" + b",".join(parts) + b"]"


def mutate(body, payload, seed, k):
    """(kind, new body) for the k-th mutated response of a profile."""
    rng = random.Random("%s:%d" % (seed, k))
    kind = rng.choice(MUTATIONS)
    if not body:
        return "cut", body
    if kind == "cut":
        return kind, body[:rng.randrange(len(body))]
    if kind == "flip":
        i = rng.randrange(len(body))
        return kind, body[:i] + bytes([body[i] ^ (1 << rng.randrange(8))]) + body[i + 1:]
    if kind == "dup":
        a = rng.randrange(len(body))
        b = min(len(body), a + rng.randint(1, 64))
        return kind, body[:b] + body[a:b] + body[b:]
    return kind, dump(_retype(payload, rng))


def _retype(payload, rng):
    """Replace one JSON value (or the whole document) by another JSON type."""
    slots = []

    def walk(node):
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in items:
            slots.append((node, key))
            if isinstance(value, (dict, list)):
                walk(value)

    if isinstance(payload, (dict, list)):
        walk(payload)
    if not slots:
        return rng.choice([t for t in OTHER_TYPES if type(t) is not type(payload)])
    node, key = rng.choice(slots)
    node[key] = rng.choice([t for t in OTHER_TYPES if type(t) is not type(node[key])])
    return payload


def dump(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# ---------------------------------------------------------------------------
# Hostile bodies (the hardening suite): pages built to exhaust memory, and
# Swagger specs built to make IMPORT FOREIGN SCHEMA work forever.  Kinds:
#   zeros      a page `[0,0,...]` of huge_mb MB (default 62)
#   empties    a page `[{},{},...]` of huge_mb MB
#   endless    a page of real rows of huge_mb MB whose headers claim
#              999999999 pages (X-Pagination-Total-Pages)
#   bigitem    a page of ONE item whose name is huge_mb MB of text, with
#              headers claiming 999999999 pages (every page the same size:
#              the per-backend memory bound's test, many cursors at once)
#   spec       for GET /endpoints: the spec named by "spec" (see
#              hostile_spec), or the bytes of the file "spec_file"
#   raw        the text "body" with the HTTP status "status" (default 200)
#              and the content type "ctype" (default JSON)
HOSTILE_KINDS = {"zeros", "empties", "endless", "bigitem", "spec", "raw"}
_HOSTILE_CACHE = {}
_HOSTILE_SERIAL = [0]
_SPEC_CACHE = {}
_HOSTILE_LOCK = threading.Lock()


def _repeated(unit, megabytes):
    key = (unit, megabytes)
    if key not in _HOSTILE_CACHE:
        n = max(1, int(megabytes * 1024 * 1024) // (len(unit) + 1))
        _HOSTILE_CACHE.clear()                      # one big body at a time
        _HOSTILE_CACHE[key] = b"[" + (unit + b",") * (n - 1) + unit + b"]"
    return _HOSTILE_CACHE[key]


def _endless_headers(resp, per_page):
    """Paging headers that claim 999999999 pages of per_page items."""
    resp.headers = [(h, v) for h, v in resp.headers
                    if not h.lower().startswith("x-pagination-")]
    resp.headers += [("X-Pagination-Total-Pages", "999999999"),
                     ("X-Pagination-Total-Entries", str(999999999 * per_page)),
                     ("X-Pagination-Per-Page", str(per_page)),
                     ("X-Pagination-Current-Page", "1")]


def hostile_body(kind, opts, resp):
    """The body of a hostile kind; may change resp's headers."""
    mb = float(opts.get("huge_mb", 62))
    if kind == "zeros":
        return _repeated(b"0", mb)
    if kind == "empties":
        return _repeated(b"{}", mb)
    if kind == "endless":
        key = ("endless", mb)
        if key not in _HOSTILE_CACHE:
            _HOSTILE_CACHE.clear()
            _HOSTILE_CACHE[key] = huge_body(resp.payload, mb)
        _endless_headers(resp, 1000)
        # each page differs from the last (its first item), as real pages do
        with _HOSTILE_LOCK:
            _HOSTILE_SERIAL[0] += 1
            serial = _HOSTILE_SERIAL[0]
        return b'[{"id":%d,"name":"page %d"},' % (-serial, serial) + _HOSTILE_CACHE[key][1:]
    if kind == "bigitem":
        key = ("bigitem", mb)
        with _HOSTILE_LOCK:
            if key not in _HOSTILE_CACHE:
                _HOSTILE_CACHE.clear()
                _HOSTILE_CACHE[key] = b"x" * int(mb * 1024 * 1024)
            _HOSTILE_SERIAL[0] += 1
            serial = _HOSTILE_SERIAL[0]
            text = _HOSTILE_CACHE[key]
        _endless_headers(resp, 1)
        return b'[{"id":%d,"name":"' % serial + text + b'"}]'
    if kind == "raw":
        resp.status = int(opts.get("status", 200))
        resp.ctype = opts.get("ctype") or resp.ctype
        return opts.get("body", "").encode("utf-8")
    if kind == "spec":
        if opts.get("spec_file"):
            with open(opts["spec_file"], "rb") as f:
                return f.read()
        name = opts.get("spec", "refs")
        with _HOSTILE_LOCK:                         # built once: serving is then instant
            if name not in _SPEC_CACHE:
                _SPEC_CACHE[name] = hostile_spec(name)
            return _SPEC_CACHE[name]
    raise ValueError("not a hostile kind: %s" % kind)


def _list_path(ref):
    return {"get": {"responses": {"200": {"description": "ok", "schema": {
        "type": "array", "items": {"$ref": "#/definitions/%s" % ref}}}}}}


def _detail_path(ref):
    return {"get": {"responses": {"200": {"description": "ok", "schema": {
        "$ref": "#/definitions/%s" % ref}}}}}


def hostile_spec(name, depth=31, repeats=2000, endpoints=20000):
    """Swagger specs of issue 11 (bytes):
    refs     two parallel $ref chains X0..X30 and Y0..Y30, three properties
             each pointing to the next, equal in structure; /things/ lists X0
             items, /things/{id} answers a Y0 (comparing them takes 3^31
             steps unless pairs are memoised)
    dupkeys  the same path key /things/ `repeats` times
    many     `endpoints` ordinary list endpoints"""
    if name == "refs":
        defs = {}
        for chain in ("X", "Y"):
            for i in range(depth):
                nxt = {"$ref": "#/definitions/%s%d" % (chain, i + 1)} if i + 1 < depth \
                    else {"type": "string"}
                defs["%s%d" % (chain, i)] = {"type": "object", "properties": {
                    "a": nxt, "b": nxt, "c": nxt}}
        # structurally equal: a naive comparison explores all 3^depth paths
        defs["X0"]["properties"]["id"] = {"type": "integer"}
        defs["Y0"]["properties"]["id"] = {"type": "integer"}
        spec = {"swagger": "2.0", "paths": {"/things/": _list_path("X0"),
                                            "/things/{id}": _detail_path("Y0")},
                "definitions": defs}
        return dump(spec)
    if name == "dupkeys":
        item = dump(_list_path("Thing")).decode()
        paths = ",".join('"/things/":%s' % item for _ in range(repeats))
        defs = dump({"Thing": {"type": "object", "properties": {
            "id": {"type": "integer"}, "name": {"type": "string"}}}}).decode()
        return ('{"swagger":"2.0","paths":{%s},"definitions":%s}' % (paths, defs)).encode()
    if name == "many":
        paths, defs = {}, {}
        for i in range(endpoints):
            paths["/things%d/" % i] = _list_path("Thing%d" % i)
            paths["/things%d/{id}" % i] = _detail_path("Thing%d" % i)
            defs["Thing%d" % i] = {"type": "object", "properties": {
                "id": {"type": "integer"}, "name": {"type": "string"},
                "createdAt": {"type": "string", "format": "date-time"}}}
        return dump({"swagger": "2.0", "paths": paths, "definitions": defs})
    raise ValueError("no hostile spec %r" % name)
