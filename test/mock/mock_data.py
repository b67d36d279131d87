"""Deterministic, spec-driven data for the Civis mock, plus the row
filtering, sorting and paging that mimic the real API's loose semantics.

Rows are generated lazily per concrete path (template with its arguments)
from random.Random(f"{seed}:{path}"), so any path of the real spec works and
start-up stays instant.  OVERRIDES adds per-path facts (row counts, quirks)."""
import copy
import datetime
import fnmatch
import random
import re
import threading

from mock_spec import camel_to_snake, snake_to_camel


class ApiError(Exception):
    """An API-level error answered as {"error", "errorDescription", "code"}."""

    def __init__(self, code, error, description):
        super().__init__(description)
        self.code, self.error, self.description = code, error, description

    def body(self):
        return {"error": self.error, "errorDescription": self.description, "code": self.code}


def not_found(what="The requested resource could not be found"):
    return ApiError(404, "not_found", what)


def bad_request(what):
    return ApiError(400, "invalid", what)


# --------------------------------------------------------------------------
# Per-path fixture table.  Keys are fnmatch patterns over spec templates;
# every matching entry applies, later entries win.
#   rows:        row count, or a function of the path arguments
#   as_array:    declared as one object but answered as a list (real quirk)
#   as_object:   declared as a list but answered as one object (shares)
#   int_strings: fields declared string that arrive as integers
#   object_strings: fields declared string that arrive as JSON objects
#   values:      value pools per field name
#   filter_fields: param -> dotted row fields it filters on
# --------------------------------------------------------------------------
def _runs_for(args):
    return int(args["id"]) * 7 % 61          # 0..60 runs, varying with the job id


OVERRIDES = [
    ("*/logs", {"rows": 25}),
    ("*/shares", {"as_object": True, "rows": 1}),
    ("*/runs/{run_id}/outputs", {"object_strings": ["value"]}),
    ("/clusters/*", {"int_strings": ["organizationId", "userId"]}),
    ("/jobs/", {"rows": 137, "values": {"type": [
        "JobTypes::SqlRunner", "JobTypes::Import", "JobTypes::ContainerDocker",
        "JobTypes::PythonDocker", "JobTypes::Export"]}}),
    ("/jobs/{id}/runs", {"rows": _runs_for}),
    ("/jobs/{id}/children", {"as_array": True}),
    ("/jobs/{id}/parents", {"as_array": True}),
    ("*/git/commits", {"as_array": True}),
    ("/scripts/{id}/history", {"as_array": True}),
    ("/databases/{id}/users", {"as_array": True}),
    ("/credentials/types", {"as_array": True}),
    ("/queries/", {"filter_fields": {"state": ["lastRun.state"], "database_id": ["database"],
                                     "credential_id": ["credential"]}}),
    ("/workflows/", {"int_strings": ["fileId"]}),
    ("/credentials/", {"values": {"type": [
        "Database", "Amazon Web Services S3", "Custom", "Github", "Civis Platform"]}}),
    ("/scripts/", {"values": {"type": ["sql", "python3", "r", "javascript", "containers"]}}),
    ("/databases/", {"rows": 4}),
    ("/codes/", {"rows": 0}),
    ("/media/spot_orders", {"rows": 0}),
    ("/users/", {"rows": 64}),
]

DEFAULT_POOLS = {
    "state": ["queued", "running", "succeeded", "failed", "cancelled", "idle"],
    "status": ["active", "idle", "running", "failed", "succeeded"],
    "level": ["info", "debug", "warn", "error"],
    "type": ["alpha", "beta", "gamma", "delta"],
    "language": ["python3", "r"],
    "stream": ["stdout", "stderr"],
    "accountStatus": ["active", "inactive"],
}

# Strings that must survive the round trip through the wrapper unchanged.
HOSTILE = ['Quote "double" and \'single\'', "comma, separated, name", "back\\slash \\N",
           "paren (left) right)", "Café 日本 ünïcödé", "  padded both sides  ", "", None]
WORDS = ["alpha", "Bravo", "charlie", "delta", "Echo", "foxtrot", "golf", "hotel"]
USER_IDS = [3, 5, 8, 13, 21, 34]
OWNER_FIELDS = {"author", "user", "runningAs", "owner"}
PERMISSIONS = ["read", "write", "manage"]
BASE_TIME = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
KEEP_NON_NULL = {"id", "createdAt", "updatedAt", "archived", "name"}
NULL_RATE = 0.06
MAX_DEPTH = 4
# --data fuzz (test/fuzz): 200 rows per top-level listing, more NULLs, and
# creation times in few distinct steps, so equal values and ties are common
# (UTC midnight and a day apart, to meet time-zone and date boundaries).
FUZZ_ROWS = 200
FUZZ_NULL_RATE = 0.12
FUZZ_STEPS = (0, 0, 0, 0, 1, 60, 540, 1440)
# Query values the API treats as "not given" (Rails: blank and nil-like
# strings).  A filter given one of these is ignored, the reading that shows
# a wrapper sending a parameter for a NULL or an empty list.
NULL_LIKE = {"", "null", "none", "nil", "undefined"}

# Behaviour switches (command line or POST /_mock/config):
#   range_bounds  "inclusive" | "exclusive": how *_before/*_after compare
#   ties          "permute": rows with equal sort keys come in an order that
#                 changes from request to request (seeded by the request's
#                 log sequence number, so a run is reproducible); "id": by id
#   ignore        query parameters the API ignores, comma-separated ("" for
#                 none): "start_at" pages a window listing from its start
#                 every time, "database_id" answers every query (an API that
#                 does not honour what the wrapper sends)
SETTINGS = {"range_bounds": "inclusive", "ties": "permute", "ignore": ""}
SETTING_VALUES = {"range_bounds": ("inclusive", "exclusive"), "ties": ("permute", "id")}
FREE_SETTINGS = {"ignore"}                  # any string


def configure(changes):
    """Apply {setting: value}; unknown settings or values raise ValueError."""
    for name, value in (changes or {}).items():
        if name in FREE_SETTINGS and isinstance(value, str):
            continue
        if value not in SETTING_VALUES.get(name, ()):
            raise ValueError("setting %s must be one of %s"
                             % (name, ", ".join(SETTING_VALUES.get(name, ("(none)",)))))
    SETTINGS.update(changes or {})
    return dict(SETTINGS)


def ignored_params():
    """The query parameters the "ignore" setting says the API ignores."""
    return {p.strip() for p in SETTINGS.get("ignore", "").split(",") if p.strip()}


def null_like(raw):
    return raw is None or raw.strip().lower() in NULL_LIKE


def tie_key(row, seed):
    """Tie-breaker for equal sort keys: by id, or a per-request permutation."""
    ident = row.data.get("id") if isinstance(row.data.get("id"), int) else row.ordinal
    if SETTINGS["ties"] == "id" or seed is None:
        return (0, ident)
    x = ((ident + 1) * 0x9E3779B1 ^ (seed + 1) * 0x85EBCA77) & 0xFFFFFFFF
    x = ((x ^ (x >> 15)) * 0x2C1B3C6D) & 0xFFFFFFFF
    return (1, x ^ (x >> 12))


def fmt_ts(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (dt.microsecond // 1000)


def parse_ts(text):
    """Parse an ISO-8601 timestamp or date from a query parameter (UTC default)."""
    t = text.strip().replace(" ", "T")
    if t.endswith("Z") or t.endswith("z"):
        t = t[:-1] + "+00:00"
    try:
        dt = datetime.datetime.fromisoformat(t)
    except ValueError:
        raise bad_request("Invalid timestamp: %s" % text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.timezone.utc)
    return dt


def truthy(value):
    return str(value).strip().lower() in ("true", "1", "t", "yes")


def dig(row, dotted):
    """Value at a dotted camelCase path ("lastRun.state"), or None."""
    cur = row
    for part in dotted.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


class Row:
    """One generated row: `data` is serialized, `meta` holds properties the
    real API filters on but never returns (hidden, scheduled, permission)."""

    def __init__(self, data, meta):
        self.data, self.meta = data, meta
        self.ordinal = 0                             # position when generated


class Generator:
    """Builds JSON values from spec schemas."""

    def __init__(self, spec, null_rate=NULL_RATE):
        self.spec, self.null_rate = spec, null_rate

    def value(self, schema, field, rng, depth, ov):
        schema = schema or {}
        if "$ref" in schema:
            if depth >= MAX_DEPTH:
                return None
            obj = self.obj(self.spec.resolve(schema), rng, depth + 1, ov, top=False)
            if field in OWNER_FIELDS and "id" in obj:
                obj["id"] = rng.choice(USER_IDS)     # few owners, so author filters hit
            return obj
        typ = schema.get("type")
        if field in ov.get("int_strings", ()):
            return rng.randint(1, 99999)
        if field in ov.get("object_strings", ()):
            return {"kind": rng.choice(WORDS), "amount": rng.randint(0, 100)}
        if typ == "array":
            if depth >= MAX_DEPTH:
                return []
            return [self.value(schema.get("items"), field, rng, depth + 1, ov)
                    for _ in range(rng.randint(0, 3))]
        if typ == "object":
            if schema.get("properties"):
                return self.obj(schema, rng, depth + 1, ov, top=False)
            return {"alpha": rng.randint(0, 9), "Mixed_Case": rng.choice(WORDS)}
        return self.scalar(typ, schema.get("format"), field, rng, depth, ov)

    def scalar(self, typ, fmt, field, rng, depth, ov):
        pool = (ov.get("values") or {}).get(field) or DEFAULT_POOLS.get(field)
        if field == "archived":
            return rng.random() < 0.2                # declared string, sent as boolean
        if typ == "string" and fmt in ("time", "date-time"):
            return fmt_ts(BASE_TIME + datetime.timedelta(minutes=rng.randint(0, 800000)))
        if typ == "string" and fmt == "date":
            return (BASE_TIME + datetime.timedelta(days=rng.randint(0, 700))).strftime("%Y-%m-%d")
        if pool and typ in (None, "string"):
            return rng.choice(pool)
        if typ == "integer":
            return rng.randint(1, 99999) if field.lower().endswith("id") else rng.randint(0, 500)
        if typ == "number":
            return round(rng.randint(0, 99) + rng.randint(1, 999) / 1000.0, 3)  # never integral (README: Types)
        if typ == "boolean":
            return rng.random() < 0.5
        return "%s %s %d" % (rng.choice(WORDS), field, rng.randint(1, 999))

    def obj(self, schema, rng, depth, ov, top):
        out = {}
        for field, prop in (schema.get("properties") or {}).items():
            if top and field not in KEEP_NON_NULL and rng.random() < self.null_rate:
                out[field] = None                    # "required" fields do arrive null
                continue
            out[field] = self.value(prop, field, rng, depth, ov)
        return out


def default_visible(ep, row):
    """Whether a listing without hidden/archived parameters shows the row."""
    return not ((row.meta["hidden"] and "hidden" in ep.query)
                or (row.meta["archived"] and "archived" in ep.query))


def overrides_for(template):
    merged = {}
    for pattern, values in OVERRIDES:
        if fnmatch.fnmatchcase(template, pattern):
            merged.update(values)
    return merged


def text_field(props, skip=()):
    """The field where hostile strings go: `name` or the first plain string
    (not one the real API sends as a number although it is declared a string)."""
    if "name" in props:
        return "name"
    for field, prop in props.items():
        if field in skip:
            continue
        if prop.get("type") == "string" and not prop.get("format") and field != "archived":
            return field
    return None


class DataStore:
    """Lazily generated, cached rows per concrete path, with data changes."""

    def __init__(self, spec, seed=1, scale=1, profile="default"):
        self.spec, self.seed, self.scale = spec, seed, scale
        self.fuzz = profile == "fuzz"
        self.gen = Generator(spec, null_rate=FUZZ_NULL_RATE if self.fuzz else NULL_RATE)
        self.lock = threading.Lock()
        self.cache = {}
        self.changes = {}                            # normalized path -> [(action, n)]

    def reset(self):
        with self.lock:
            self.cache.clear()
            self.changes.clear()

    @staticmethod
    def norm(path):
        return "/" + path.strip("/")

    # -- generation ------------------------------------------------------
    def item_schema(self, ep):
        return self.spec.resolve({"$ref": "#/definitions/" + ep.item_ref}) if ep.item_ref else {}

    def rows(self, ep, path, args):
        key = self.norm(path)
        with self.lock:
            if key not in self.cache:
                rows = self._base_rows(ep, key, args)
                for k, (action, n) in enumerate(self.changes.get(key, [])):
                    self._apply_change(ep, key, rows, action, n, k)
                self.cache[key] = rows
            return self.cache[key]

    def _row_count(self, ov, args, rng):
        rows = ov.get("rows")
        if callable(rows):
            return rows(args)
        if self.fuzz and not args and not ov.get("as_object") and rows != 0:
            return FUZZ_ROWS
        if rows is None:
            rows = rng.randint(3, 70) if not args else rng.randint(0, 40)
        return rows if ov.get("as_object") else rows * self.scale

    def _base_rows(self, ep, key, args):
        rng = random.Random("%s:%s" % (self.seed, key))
        ov = overrides_for(ep.template)
        schema = self.item_schema(ep)
        count = self._row_count(ov, args, rng)
        next_id, minute = rng.randint(1, 500), rng.randint(0, 1000)
        rows, visible = [], 0
        while visible < count:                       # count = rows a default listing shows
            next_id += rng.randint(1, 9)
            # creation time grows with id; the fuzz data has many equal times
            minute += rng.choice(FUZZ_STEPS) if self.fuzz else rng.randint(0, 600)
            row = self._make_row(ep, schema, rng, ov, next_id, minute)
            rows.append(row)
            visible += default_visible(ep, row)
        self._add_hostile(schema, rows, ov.get("int_strings", ()))
        if self.fuzz:
            self._unique_read_order(ep, rows)
        self._carry_path_args(ep, schema, rows, args)
        for i, row in enumerate(rows):
            row.ordinal = i
        return rows

    @staticmethod
    def _carry_path_args(ep, schema, rows, args):
        """Rows of /notebooks/{notebook_id}/deployments carry that notebookId,
        as the real API's do: a field named after a path parameter (or, for
        {id}, after the singular of the segment before it) holds its value."""
        props = schema.get("properties") or {}
        for name, value in (args or {}).items():
            if name == "id":
                at = ep.segments.index("{id}")
                parent = ep.segments[at - 1] if at > 0 else ""
                parent = parent[:-3] + "y" if parent.endswith("ies") else parent.rstrip("s")
                name = parent.replace("-", "_") + "_id"
            field = snake_to_camel(name)
            if field in props and str(value).isdigit():
                for row in rows:
                    row.data[field] = int(value)

    def _make_row(self, ep, schema, rng, ov, row_id, minute):
        data = self.gen.obj(schema, rng, 1, ov, top=True)
        props = schema.get("properties") or {}
        ms = (0, 0, 1, 999)[minute % 4] if self.fuzz else rng.randint(0, 999)
        created = BASE_TIME + datetime.timedelta(minutes=minute, milliseconds=ms)
        if "id" in props:
            data["id"] = row_id
        if "createdAt" in props:
            data["createdAt"] = fmt_ts(created)
        if "updatedAt" in props:
            later = rng.choice((0, 60, 1440, 2880)) if self.fuzz else rng.randint(0, 90000)
            data["updatedAt"] = fmt_ts(created + datetime.timedelta(minutes=later))
        meta = {"hidden": "hidden" in ep.query and rng.random() < 0.15,
                "scheduled": rng.random() < 0.4,
                "permission": rng.choice(PERMISSIONS),
                "archived": bool(data.get("archived")) if "archived" in props
                else ("archived" in ep.query and rng.random() < 0.2)}
        if isinstance(data.get("schedule"), dict):
            meta["scheduled"] = bool(data["schedule"].get("scheduled"))
        if "hidden" in props:
            data["hidden"] = meta["hidden"]
        return Row(data, meta)

    @staticmethod
    def _unique_read_order(ep, rows):
        """Fuzz data: a listing that cannot be sorted by id is read in its
        default order, and the API gives ties in it no stable order between
        pages, so a scan could skip rows whatever the wrapper does.  Here
        the default order key is unique (ties stay in every other field)."""
        if ep.kind != "page" or not ep.order_default or "id" in (ep.order_values or []):
            return
        field = snake_to_camel(ep.order_default.split(".")[0])
        seen = set()
        for row in rows:
            value = row.data.get(field)
            if field.endswith("At"):
                ts = parse_ts(value) if isinstance(value, str) else BASE_TIME
                while fmt_ts(ts) in seen:
                    ts += datetime.timedelta(milliseconds=1)
                value = fmt_ts(ts)
            elif value in seen or not isinstance(value, str):
                value = "%s #%s" % (value if value is not None else "", row.data.get("id"))
            seen.add(value)
            row.data[field] = value

    @staticmethod
    def _add_hostile(schema, rows, skip=()):
        field = text_field(schema.get("properties") or {}, skip)
        if field is None or len(rows) < 4:
            return
        for k, i in enumerate(range(3, len(rows), 7)):
            rows[i].data[field] = HOSTILE[k % len(HOSTILE)]

    # -- data changes ----------------------------------------------------
    def change(self, ep, path, action, n):
        if action not in ("add", "rename", "touch", "delete"):
            raise bad_request("unknown action %r" % action)
        key = self.norm(path)
        with self.lock:
            self.changes.setdefault(key, []).append((action, int(n)))
            self.cache.pop(key, None)
            return len(self.changes[key])

    def _apply_change(self, ep, key, rows, action, n, k):
        rng = random.Random("%s:%s:change%d" % (self.seed, key, k))
        if action == "add":
            self._add_rows(ep, rows, rng, n)
            return
        shown = [r for r in rows if default_visible(ep, r)]   # so the change is observable
        picked = rng.sample(shown, min(n, len(shown)))
        field = text_field(self.item_schema(ep).get("properties") or {})
        newest = max((r.data.get("updatedAt") or "" for r in rows), default="")
        for j, row in enumerate(picked):
            if action == "delete":
                rows.remove(row)
            elif action == "rename" and field:
                row.data[field] = "%s (v%d)" % (row.data.get(field) or "", k + 1)
            elif action == "touch" and "updatedAt" in row.data:
                later = parse_ts(newest) + datetime.timedelta(minutes=j + 1) if newest else BASE_TIME
                row.data["updatedAt"] = fmt_ts(later)

    def _add_rows(self, ep, rows, rng, n):
        ov = overrides_for(ep.template)
        schema = self.item_schema(ep)
        last_id = max((r.data.get("id") or 0 for r in rows), default=0)
        minute = 900000                             # after every generated row
        for i in range(n):
            row = self._make_row(ep, schema, rng, ov, last_id + i + 1, minute + i)
            row.meta.update(hidden=False, archived=False)      # new rows are listed by default
            for field in ("hidden", "archived"):
                if field in row.data:
                    row.data[field] = False
            rows.append(row)

    # -- detail GETs -----------------------------------------------------
    def detail(self, ep, path, args):
        """The object for a GET that answers one object."""
        schema = self.item_schema(ep)
        rng = random.Random("%s:%s" % (self.seed, self.norm(path)))
        ov = overrides_for(ep.template)
        obj = self.gen.obj(schema, rng, 1, ov, top=True)
        parent = self.spec.list_parent(ep)
        if parent is None:
            return obj
        last = ep.segments[-1][1:-1]
        parent_path = self.norm(path).rsplit("/", 1)[0] + "/"
        for row in self.rows(parent, parent_path, {}):
            if str(row.data.get("id")) == str(args[last]):
                out = self._merge_detail(schema, self.item_schema(parent), row.data, obj)
                # the real detail objects say whether the item is hidden or
                # archived, whatever the listing's item carries
                for field in ("hidden", "archived"):
                    if field in (schema.get("properties") or {}):
                        out[field] = row.meta[field]
                return out
        raise not_found("%s not found" % path)

    @staticmethod
    def _merge_detail(detail_schema, list_schema, row, generated):
        """Listing values for fields both schemas define the same way."""
        lprops = list_schema.get("properties") or {}
        out = {}
        for field, prop in (detail_schema.get("properties") or {}).items():
            same = field in row and lprops.get(field) == prop
            out[field] = copy.deepcopy(row[field]) if same else generated.get(field)
        return out


# --------------------------------------------------------------------------
# Filtering and sorting
# --------------------------------------------------------------------------
class Query:
    """Decoded query parameters; `name[]` and `name` collect together."""

    def __init__(self, pairs, seed=None):
        self.seed = seed                             # tie permutation of this request
        self.values = {}
        for name, value in pairs:
            self.values.setdefault(name[:-2] if name.endswith("[]") else name, []).append(value)

    def get(self, name, default=None):
        vals = self.values.get(name)
        return vals[-1] if vals else default

    def all(self, name):
        return self.values.get(name, [])

    def int(self, name, default=None, minimum=None):
        raw = self.get(name)
        if null_like(raw):
            return default
        if not re.fullmatch(r"-?\d+", raw.strip()):
            raise bad_request("%s must be an integer" % name)
        value = int(raw)
        if minimum is not None and value < minimum:
            raise bad_request("%s must be at least %d" % (name, minimum))
        return value


def csv_values(query, name):
    return [v.strip().lower() for raw in query.all(name) for v in raw.split(",") if v.strip()]


def loose_text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value).lower()


def field_candidates(name, ov):
    explicit = (ov.get("filter_fields") or {}).get(name)
    if explicit:
        return explicit
    camel = snake_to_camel(name)
    if name in ("state", "status"):
        return [camel, "state", "status", "lastRun.state"]
    return [camel]


def first_present(row, candidates):
    for cand in candidates:
        head = cand.split(".")[0]
        if head in row:
            return dig(row, cand), True
    return None, False


def _filter_one(name, query, row, meta, ov, param):
    """True when `row` passes parameter `name` (already known present)."""
    raw = query.get(name)
    if name == "hidden":
        return meta["hidden"] == truthy(raw)
    if name == "scheduled":
        return meta["scheduled"] == truthy(raw)
    if name == "permission":
        want = raw.strip().lower()
        if want not in PERMISSIONS:
            raise bad_request("permission must be read, write or manage")
        return PERMISSIONS.index(meta["permission"]) >= PERMISSIONS.index(want)
    if name in ("q", "query"):
        needle = raw.lower()
        return any(needle in loose_text(row.get(f)) for f in ("id", "name", "type"))
    if name.endswith(("_before", "_after")) and range_field(name) in row:
        value = row.get(range_field(name))
        if value is None:
            return False
        bound, ts = parse_ts(raw), parse_ts(value)
        if SETTINGS["range_bounds"] == "exclusive":
            return ts < bound if name.endswith("_before") else ts > bound
        return ts <= bound if name.endswith("_before") else ts >= bound
    if name == "author":
        wanted = set(csv_values(query, name))
        owner = row.get("author") if isinstance(row.get("author"), dict) else row.get("user")
        return isinstance(owner, dict) and loose_text(owner.get("id")) in wanted
    if param.get("type") == "array":
        return _array_match(name, query, row)
    if raw.strip().lower() == "all" and '"all"' in (param.get("description") or ""):
        return True                                   # a scope's "all" (account_status)
    value, present = first_present(row, field_candidates(name, ov))
    if not present or isinstance(value, (dict, list)):
        return True                                   # nothing to compare: ignored
    if name in ("state", "status", "type"):
        return loose_text(value) in csv_values(query, name)
    if "name" in name:
        return raw.lower() in loose_text(value)
    return loose_text(value) == raw.strip().lower()


def range_field(name):
    """created_before -> createdAt: the *_at field a range parameter bounds."""
    return snake_to_camel(name.rsplit("_", 1)[0] + "_at")


def _array_match(name, query, row):
    """Membership test; `group_ids` also matches ids inside a `groups` list."""
    wanted = set(csv_values(query, name))
    plural = snake_to_camel(name[:-4] + "s") if name.endswith("_ids") else None
    if plural in row:
        items = row[plural] or []
        return any(isinstance(i, dict) and loose_text(i.get("id")) in wanted for i in items)
    for field in (snake_to_camel(name), snake_to_camel(name.rstrip("s"))):
        if field in row:
            return loose_text(row[field]) in wanted
    return True


def archived_ok(query, meta):
    raw = (query.get("archived") or "false").strip().lower()
    if raw == "all":
        return True
    if raw not in ("true", "false"):
        raise bad_request("archived must be 'true', 'false', or 'all'")
    return meta["archived"] == (raw == "true")


_FILTERED = {}                                   # (template, id(rows), params) -> (rows, out)
_FILTERED_LOCK = threading.Lock()


def filter_rows(ep, rows, query):
    """The rows that pass the query's filters (cached per row list and
    filter parameters: the row lists are immutable once generated)."""
    params = tuple(sorted((n, tuple(v)) for n, v in query.values.items()
                          if n not in ("page_num", "limit", "order", "order_dir", "last_id",
                                       "offset", "start_at", "end_at")))
    key = (ep.template, id(rows), params, SETTINGS["range_bounds"])
    with _FILTERED_LOCK:
        hit = _FILTERED.get(key)
    if hit is not None and hit[0] is rows:
        return list(hit[1])
    out = _filter_rows(ep, rows, query)
    with _FILTERED_LOCK:
        if len(_FILTERED) > 20000:
            _FILTERED.clear()
        _FILTERED[key] = (rows, out)
    return list(out)


def _filter_rows(ep, rows, query):
    ov = overrides_for(ep.template)
    active = [n for n in ep.filter_params if n in query.values and n != "archived"
              and not all(null_like(v) for raw in query.all(n) for v in raw.split(","))]
    hidden_default = "hidden" in ep.query and "hidden" not in query.values
    out = []
    for row in rows:
        if "archived" in ep.query and not archived_ok(query, row.meta):
            continue
        if hidden_default and row.meta["hidden"]:
            continue
        if all(_filter_one(n, query, row.data, row.meta, ov, ep.query[n]) for n in active):
            out.append(row)
    return out


def sort_key(value):
    if isinstance(value, dict):
        for key in ("createdAt", "updatedAt", "name", "id"):
            if key in value:
                return sort_key(value[key])
        return (0, 0)
    if value is None:
        return (0, 0)
    if isinstance(value, (bool, int, float)):
        return (1, value)
    return (2, str(value))


def sort_rows(ep, rows, query):
    """Apply order/order_dir (with defaults from the descriptions)."""
    if "order" not in ep.query:
        return rows
    order = query.get("order") or ep.order_default
    direction = (query.get("order_dir") or ep.dir_default or "asc").lower()
    if ep.order_values and order not in ep.order_values:
        raise bad_request("order must be one of: %s" % ", ".join(ep.order_values))
    if direction not in ("asc", "desc"):
        raise bad_request("order_dir must be asc or desc")
    if not order:
        return rows
    path = ".".join(snake_to_camel(p) for p in order.split("."))
    if path == "id":                                # unique: no ties to permute
        return sorted(rows, key=lambda r: sort_key(r.data.get("id")),
                      reverse=direction == "desc")
    return sorted(rows, key=lambda r: (sort_key(dig(r.data, path)), tie_key(r, query.seed)),
                  reverse=direction == "desc")


def ordered_all(ep, rows, query):
    """Every row the API would return over all pages, in delivery order."""
    rows = filter_rows(ep, rows, query)
    if ep.kind == "cursor":
        return sorted(rows, key=lambda r: sort_key(r.data.get("id")))
    if ep.kind == "window":
        return sorted(rows, key=lambda r: (sort_key(r.data.get("createdAt")),
                                           tie_key(r, query.seed)))
    return sort_rows(ep, rows, query)


def expected_rows(datas, set_pairs):
    """Snake-case top-level keys, add author_id and the `set` columns."""
    out = []
    for data in datas:
        row = {camel_to_snake(k): v for k, v in data.items()}
        # the wrapper's synthetic author_id column (the `author` filter)
        # reads author.id, or user.id on items that name their owner `user`
        if isinstance(data.get("author"), dict):
            row["author_id"] = data["author"].get("id")
        elif isinstance(data.get("user"), dict):
            row["author_id"] = data["user"].get("id")
        row.update(set_pairs)
        out.append(row)
    return out
