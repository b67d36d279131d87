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
    the kind is first[k], else every[N] for the largest N dividing k, else
    always.  Options may be given per kind under "kinds"."""

    def __init__(self, cfg):
        self.cfg = cfg or {}
        self.prefix = self.cfg.get("path_prefix") or ""
        self.count = 0
        self.lock = threading.Lock()

    def matches(self, path):
        return path.startswith(self.prefix)

    def next(self):
        """(kind or None, options, k) for the next matching request."""
        with self.lock:
            self.count += 1
            k = self.count
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
