"""Query generator of the differential fuzzer: a syntax tree per query
(so a failing query can be shrunk), rendered for a foreign schema or for
the local copies.  Python standard library only."""
import copy
import datetime
import random

TIMEZONES = ["UTC", "Asia/Tokyo", "America/Los_Angeles", "Pacific/Chatham"]
INT_TYPES = ("bigint",)
TS = "timestamp with time zone"


# --------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------
class Val:
    """A value: SQL literal text of type `typ`, given through `source`:
    const, stable (a stable expression), initplan ((SELECT ...)), param
    ($n of a prepared statement)."""

    def __init__(self, text, typ, null=False, source="const"):
        self.text, self.typ, self.null, self.source = text, typ, null, source

    def render(self, ctx):
        if self.source == "param" and ctx.prepared:
            ctx.params.append((self.typ, self.text))
            return "$%d" % len(ctx.params)
        if self.source == "stable":
            return "(CASE WHEN now() IS NOT NULL THEN %s END)" % self.text
        if self.source == "initplan":
            if self.typ.endswith("[]"):
                # = ANY ((SELECT a)) would be ANY (subquery) over one array row
                return "(SELECT %s)::%s" % (self.text, self.typ)
            return "(SELECT %s)" % self.text
        return self.text


def q(text):
    return "'" + text.replace("'", "''") + "'"


def ts_text(dt):
    return dt.strftime("%Y-%m-%d %H:%M:%S.") + "%03d" % (dt.microsecond // 1000)


def parse_ts(text):
    t = text.replace("Z", "+00:00").replace(" ", "T")
    return datetime.datetime.fromisoformat(t)


class Pools:
    """Distinct non-NULL values per column, from the local copies."""

    def __init__(self, values):
        self.values = values                        # (table, column) -> list

    def get(self, table, col):
        return self.values.get((table, col)) or []


def lit(rng, col, pools, table, null_rate=0.06):
    """A literal of a type comparable with column `col`."""
    typ = col["type"]
    pool = pools.get(table, col["name"])
    if rng.random() < null_rate:
        return null_of(rng, typ)
    if typ == "bigint":
        v = rng.choice(pool) if pool and rng.random() < 0.8 else rng.choice(
            [0, 1, -1, 406, 9223372036854775807, -9223372036854775808])
        if isinstance(v, str):
            v = int(v) if v.lstrip("-").isdigit() else 0
        if abs(v) < 2 ** 62 and rng.random() < 0.2:
            v += rng.choice([-1, 1])
        form = rng.random()
        if form < 0.35:
            return Val(str(v), "bigint" if abs(v) > 2 ** 31 - 1 else "integer")
        if form < 0.6:
            return Val("%d::bigint" % v, "bigint")
        if form < 0.72:
            return Val("%d::numeric" % v, "numeric")
        if form < 0.8:
            return Val("%d.5" % v if rng.random() < 0.5 else "%d.0" % v, "numeric")
        if form < 0.9:
            return Val(q(str(v)), "bigint")
        return Val("%d::int4" % v if abs(v) < 2 ** 31 else "%d::int8" % v,
                   "integer" if abs(v) < 2 ** 31 else "bigint")
    if typ == "double precision":
        v = rng.choice(pool) if pool else 1.5
        if rng.random() < 0.3:
            return Val(repr(round(float(v))), "numeric")
        return Val(repr(float(v)) + ("::float8" if rng.random() < 0.5 else ""),
                   "double precision" if True else "numeric")
    if typ == "boolean":
        return Val(rng.choice(["true", "false"]), "boolean")
    if typ == "text":
        v = rng.choice(pool) if pool else "alpha"
        r = rng.random()
        if r < 0.12:
            v = v.upper()
        elif r < 0.2:
            v = v[: max(1, len(v) // 2)]
        elif r < 0.26:
            v = rng.choice(["", "a,b", "failed,running", " failed", "%", "alpha"])
        return Val(q(v), "text")
    if typ in (TS, "date"):
        if pool:
            base = parse_ts(rng.choice(pool)) if typ == TS else datetime.datetime.fromisoformat(
                rng.choice(pool) + "T00:00:00+00:00")
        else:
            base = datetime.datetime(2024, 3, 1, tzinfo=datetime.timezone.utc)
        r = rng.random()
        if r < 0.15:
            base += rng.choice([datetime.timedelta(milliseconds=1), -datetime.timedelta(
                milliseconds=1), datetime.timedelta(microseconds=1),
                -datetime.timedelta(microseconds=500), datetime.timedelta(hours=9),
                -datetime.timedelta(hours=8), datetime.timedelta(days=1)])
        naive = base.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        kind = rng.random()
        if kind < 0.05:
            return Val(rng.choice(["'infinity'", "'-infinity'"]) + "::" + rng.choice(
                ["timestamptz", "timestamp", "date"]),
                rng.choice(["timestamp with time zone"]))
        if kind < 0.4:
            us = naive.strftime("%Y-%m-%d %H:%M:%S.%f")
            return Val(q(us + "+00") + "::timestamptz", TS)
        if kind < 0.7:
            us = naive.strftime("%Y-%m-%d %H:%M:%S.%f")
            return Val(q(us) + "::timestamp", "timestamp without time zone")
        if kind < 0.9:
            return Val(q(naive.strftime("%Y-%m-%d")) + "::date", "date")
        off = rng.choice(["+09", "-08", "+13:45", "+00"])
        return Val(q(naive.strftime("%Y-%m-%d %H:%M:%S") + off) + "::timestamptz", TS)
    if typ == "jsonb":
        return Val("'{}'::jsonb", "jsonb")
    return null_of(rng, typ)


def null_of(rng, typ):
    name = {"double precision": "float8", TS: "timestamptz"}.get(typ, typ)
    return Val("NULL::%s" % name, typ, null=True)


def arr(rng, col, pools, table):
    """An array value for = ANY: empty, all-NULL, mixed, or plain."""
    typ = col["type"]
    elem = {"bigint": rng.choice(["bigint", "integer", "numeric"]), "text": "text",
            TS: "timestamptz", "date": "date", "boolean": "boolean",
            "double precision": "float8"}.get(typ, "text")
    r = rng.random()
    if r < 0.1:
        return Val("'{}'::%s[]" % elem, elem + "[]")
    if r < 0.16:
        return Val("ARRAY[NULL]::%s[]" % elem, elem + "[]")
    if r < 0.2:
        return Val("NULL::%s[]" % elem, elem + "[]", null=True)
    items = []
    for _ in range(rng.randint(1, 4)):
        v = lit(rng, col, pools, table, null_rate=0.15)
        items.append(v.text)
    return Val("ARRAY[%s]::%s[]" % (", ".join(items), elem), elem + "[]")


# --------------------------------------------------------------------------
# Expressions
# --------------------------------------------------------------------------
class Node:
    def children(self):
        return []


class Cmp(Node):
    def __init__(self, col, op, val):
        self.col, self.op, self.val = col, op, val

    def render(self, ctx):
        return "%s %s %s" % (ctx.col(self.col), self.op, self.val.render(ctx))


class JoinCmp(Node):
    """t.col = p.k: the value comes from the outer (local) relation."""

    def __init__(self, col):
        self.col = col

    def render(self, ctx):
        return "%s = p.k" % ctx.col(self.col)


class In(Node):
    def __init__(self, col, vals, neg=False):
        self.col, self.vals, self.neg = col, vals, neg

    def render(self, ctx):
        return "%s %sIN (%s)" % (ctx.col(self.col), "NOT " if self.neg else "",
                                 ", ".join(v.render(ctx) for v in self.vals))


class Any(Node):
    def __init__(self, col, val, op="="):
        self.col, self.val, self.op = col, val, op

    def render(self, ctx):
        return "%s %s ANY (%s)" % (ctx.col(self.col), self.op, self.val.render(ctx))


class Test(Node):
    """col IS [NOT] NULL / TRUE / FALSE / UNKNOWN, bare col, NOT col, LIKE."""

    def __init__(self, col, what):
        self.col, self.what = col, what

    def render(self, ctx):
        c = ctx.col(self.col)
        if self.what == "bare":
            return c
        if self.what == "not":
            return "NOT " + c
        if self.what.startswith("LIKE"):
            return "%s %s" % (c, self.what)
        return "%s IS %s" % (c, self.what)


class And(Node):
    def __init__(self, items):
        self.items = items

    def children(self):
        return self.items

    def render(self, ctx):
        return "(" + " AND ".join(i.render(ctx) for i in self.items) + ")"


class Or(And):
    def render(self, ctx):
        return "(" + " OR ".join(i.render(ctx) for i in self.items) + ")"


class Not(Node):
    def __init__(self, item):
        self.item = item

    def children(self):
        return [self.item]

    def render(self, ctx):
        return "NOT " + self.item.render(ctx)


def cols_of(node):
    if isinstance(node, (Cmp, In, Any, Test, JoinCmp)):
        return {node.col["name"]}
    out = set()
    for c in node.children():
        out |= cols_of(c)
    return out


def vals_of(node):
    if isinstance(node, (Cmp, Any)):
        return [node.val]
    if isinstance(node, In):
        return list(node.vals)
    out = []
    for c in node.children():
        out.extend(vals_of(c))
    return out


# --------------------------------------------------------------------------
# A query case
# --------------------------------------------------------------------------
class Ctx:
    def __init__(self, schema, prepared, alias="t"):
        self.schema, self.prepared, self.alias = schema, prepared, alias
        self.params = []

    def col(self, c):
        return "%s.%s" % (self.alias, quote_ident(c["name"]))


KEYWORDS = {"user", "default", "order"}


def quote_ident(name):
    return '"%s"' % name if name in KEYWORDS else name


class Case:
    """One generated query with everything needed to run and judge it."""

    def __init__(self):
        self.table = None
        self.shape = "plain"            # plain | join | lateral | lateral_star
        self.scope = []                 # top-level conjuncts on scope columns
        self.status = "ok"              # ok | refuse (an ERROR is expected)
        self.pred = None                # real-column predicate tree
        self.select = []                # column names
        self.star = False
        self.distinct = False
        self.order = []                 # (expr text over t./p., desc, nulls)
        self.total = False              # ORDER BY is total
        self.limit = None
        self.offset = None
        self.ties = False
        self.settings = {}
        self.prepared = None            # None | force_generic_plan | force_custom_plan
        self.join_col = None            # column joined to p.k
        self.join_vals = []             # Vals of p.k (NULL included)
        self.fanout1 = False            # through the server with fanout_limit 1
        self.scope_cols = []            # parameter-only columns with local copies
        self.path_cols = []             # path columns
        self.tlp = False
        self.focus = None               # None | fanout_order | time_range | by_id

    def clone(self):
        return copy.deepcopy(self)

    def referenced(self):
        names = set()
        for s in self.scope:
            names |= cols_of(s)
        if self.join_col is not None and self.shape != "lateral_star":
            names.add(self.join_col["name"])
        return names

    @property
    def unused_scope(self):
        """Parameter-only columns the query leaves alone (NULL locally)."""
        ref = self.referenced()
        return [c for c in self.scope_cols if c not in ref]

    def verdict_status(self):
        """ok, or refuse when an ERROR is the right answer."""
        if any(getattr(s, "refuse", False) for s in self.scope):
            return "refuse"
        ref = self.referenced()
        return "refuse" if any(c not in ref for c in self.path_cols) else "ok"

    # -- rendering -------------------------------------------------------
    def where_parts(self, ctx, local):
        parts = [s.render(ctx) for s in self.scope]
        if self.pred is not None:
            parts.append(self.pred.render(ctx))
        if local:
            parts += ["%s IS NULL" % ctx.col({"name": c}) for c in self.unused_scope]
        return parts

    def render(self, schema, local, prepared=None, unlimited=False):
        """(statement text, [(param type, value text)])."""
        ctx = Ctx(schema, prepared)
        parts = self.where_parts(ctx, local)
        sel = "t.*" if self.star else ", ".join(ctx.col({"name": c}) for c in self.select)
        rel = "%s.%s t" % (schema, self.table)
        where = (" WHERE " + " AND ".join(parts)) if parts else ""
        if self.shape == "plain":
            body = "SELECT %s%s FROM %s%s" % ("DISTINCT " if self.distinct else "", sel, rel,
                                              where)
        else:
            values = ", ".join("(%d, %s)" % (i + 1, v.render(ctx) if i else
                                             "%s::%s" % (v.render(ctx), cast_name(v.typ)))
                               for i, v in enumerate(self.join_vals))
            outer = "(VALUES %s) p(pk, k)" % values
            if self.shape == "join":
                jc = "%s = p.k" % ctx.col(self.join_col)
                body = "SELECT %sp.pk, %s FROM %s JOIN %s ON %s%s" % (
                    "DISTINCT " if self.distinct else "", sel, outer, rel, jc, where)
            else:
                extra = []
                if self.shape == "lateral" and self.join_col is not None:
                    extra = ["%s = p.k" % ctx.col(self.join_col)]
                w = " AND ".join(parts + extra)
                body = ("SELECT %sp.pk, s.* FROM %s LEFT JOIN LATERAL (SELECT p.k AS y, %s FROM %s%s) s"
                        " ON true" % ("DISTINCT " if self.distinct else "", outer, sel, rel,
                                      (" WHERE " + w) if w else ""))
        if self.order:
            body += " ORDER BY " + ", ".join(
                "%s%s%s" % (e, " DESC" if d else "", (" NULLS " + n) if n else "")
                for e, d, n in self.order)
        if not unlimited:
            if self.ties and self.order and self.limit is not None:
                if self.offset is not None:
                    body += " OFFSET %s ROWS" % self.offset
                body += " FETCH FIRST %s ROWS WITH TIES" % self.limit
            else:
                if self.limit is not None:
                    body += " LIMIT %s" % self.limit
                if self.offset is not None:
                    body += " OFFSET %s" % self.offset
        return body, ctx.params

    def tlp_sql(self, schema):
        ctx = Ctx(schema, None)
        scope = [s.render(ctx) for s in self.scope]
        p = self.pred.render(ctx)
        rel = "%s.%s t" % (schema, self.table)

        def count(extra):
            w = " AND ".join(scope + extra)
            return "(SELECT count(*) FROM %s%s)" % (rel, (" WHERE " + w) if w else "")
        return "SELECT %s, %s, %s, %s" % (count([]), count(["(%s)" % p]),
                                          count(["NOT (%s)" % p]), count(["(%s) IS NULL" % p]))

    def out_names(self):
        """Names of the output columns, in order."""
        if self.shape == "plain":
            return list(self.select)
        if self.shape == "join":
            return ["pk"] + list(self.select)
        return ["pk", "y"] + list(self.select)

    def order_positions(self):
        """Output positions of the ORDER BY keys (None when one is not
        in the output)."""
        names = self.out_names()
        pos = []
        for e, _, _ in self.order:
            name = e.split(".", 1)[1].strip('"')
            if name not in names:
                return None
            pos.append(names.index(name))
        return pos

    def kind(self):
        """How results compare: seq, multiset, or subset (LIMIT/OFFSET
        without a total order)."""
        limited = self.limit is not None or self.offset is not None
        if self.total and self.order:
            return "seq"
        if not limited:
            return "multiset"
        if self.ties and self.offset is None and self.order:
            return "multiset"
        return "subset"


def cast_name(typ):
    return {"timestamp with time zone": "timestamptz", "double precision": "float8",
            "timestamp without time zone": "timestamp"}.get(typ, typ)


# --------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------
class Generator:
    def __init__(self, tables, pools):
        self.tables = tables        # name -> {"cols": [...], "spec": TABLES entry, ...}
        self.pools = pools

    # Focused shapes (issue 9, classes 2, 3 and 5): a share of the queries
    # is built around one dimension the random mix reaches too rarely.
    FOCUS = (("fanout_order", 0.08), ("time_range", 0.08), ("by_id", 0.08),
             ("runtime_null", 0.06))

    def focus_tables(self, focus):
        out = []
        for name, info in sorted(self.tables.items()):
            if focus == "fanout_order" and self.fanout_cols(info) and self.order_cols(info):
                out.append(name)
            elif focus == "time_range" and self.range_cols(info):
                out.append(name)
            elif focus == "runtime_null" and self.param_cols(info):
                out.append(name)
            elif focus == "by_id" and info["spec"].get("unique") == "id" and any(
                    col["name"] == "hidden" and col["role"] == "scope" for col in info["cols"]):
                out.append(name)
        return out

    @staticmethod
    def fanout_cols(info):
        """Path or parameter-only columns with several values to fan out over."""
        pools = info["spec"].get("pools", {})
        return [col for col in info["cols"] if col["role"] in ("path", "scope")
                and col["type"] != "boolean" and len(pools.get(col["name"], [])) >= 2]

    @staticmethod
    def order_cols(info):
        """Columns whose ascending/descending order the API can sort by."""
        return [col for col in info["cols"] if col["role"] == "real"
                and "order_by" in col["opts"] and col["type"] not in ("text", "jsonb")]

    @staticmethod
    def param_cols(info):
        """Real columns the API filters by (a query parameter)."""
        return [col for col in info["cols"] if col["role"] == "real" and "param" in col["opts"]
                and col["type"] in ("bigint", "text", "boolean")]

    @staticmethod
    def range_cols(info):
        return [col for col in info["cols"] if col["role"] == "real" and col["type"] == TS
                and ("after" in col["opts"] or "before" in col["opts"])]

    def case(self, rng):
        c = Case()
        x, focus = rng.random(), None
        for name, share in self.FOCUS:
            if x < share:
                focus = name
                break
            x -= share
        tables = self.focus_tables(focus) if focus else []
        if not tables:
            focus = None
        c.focus = focus
        c.table = rng.choice(tables or sorted(self.tables))
        info = self.tables[c.table]
        c.settings = {"TimeZone": rng.choice(TIMEZONES),
                      "enable_hashjoin": rng.choice(["on", "on", "off"]),
                      "enable_nestloop": rng.choice(["on", "on", "off"]),
                      "enable_mergejoin": rng.choice(["on", "off"])}
        r = rng.random()
        c.prepared = None if r < 0.6 else ("force_generic_plan" if r < 0.85
                                           else "force_custom_plan")
        self.gen_scope(rng, c, info)
        real = [col for col in info["cols"] if col["role"] == "real"]
        if rng.random() < 0.75:
            c.pred = self.gen_pred(rng, c, info, real, depth=rng.choice([0, 1, 1, 2, 3]))
        if focus is None:
            self.gen_shape(rng, c, info, real)
        self.gen_select(rng, c, info, real)
        self.gen_order(rng, c, info)
        if focus == "fanout_order":
            self.focus_fanout_order(rng, c, info)
        elif focus == "time_range":
            self.focus_time_range(rng, c, info, real)
        elif focus == "by_id":
            self.focus_by_id(rng, c, info, real)
        elif focus == "runtime_null":
            self.focus_runtime_null(rng, c, info)
        if (c.pred is not None and c.shape == "plain" and c.verdict_status() == "ok"
                and rng.random() < 0.25):
            c.tlp = True
        return c

    def plain_val(self, rng, c, col, x):
        """A scope value (from a pool) as a Val of the column's type."""
        if col["type"] == "boolean":
            v = Val("true" if x else "false", "boolean")
        elif col["type"] == "bigint":
            v = Val(str(x), "integer") if rng.random() < 0.6 else Val("%d::bigint" % x, "bigint")
        else:
            v = Val(q(str(x)), "text")
        v.source = self.source(rng, c) if rng.random() < 0.3 else "const"
        return v

    def ensure_selected(self, c, names):
        if c.star:
            return
        for n in names:
            if n not in c.select:
                c.select.append(n)

    def focus_fanout_order(self, rng, c, info):
        """Class 2: ORDER BY one column the API can sort by, with LIMIT or
        OFFSET, over several request streams (IN on a path or parameter-only
        column)."""
        fcol = rng.choice(self.fanout_cols(info))
        pool = list(info["spec"]["pools"][fcol["name"]])
        c.scope = [s for s in c.scope if fcol["name"] not in cols_of(s)]
        vals = [self.plain_val(rng, c, fcol, x)
                for x in rng.sample(pool, rng.randint(2, len(pool)))]
        r = rng.random()
        if r < 0.6:
            node = In(fcol, vals)
        elif r < 0.8:
            node = Or([Cmp(fcol, "=", v) for v in vals])
        else:
            elem = cast_name(fcol["type"])
            node = Any(fcol, Val("ARRAY[%s]::%s[]" % (", ".join(v.text for v in vals), elem),
                                 elem + "[]", source=self.source(rng, c)))
        node.refuse = False
        c.scope.insert(0, node)
        if fcol["name"] not in c.scope_cols and fcol["role"] == "scope":
            c.scope_cols.append(fcol["name"])
        ocol = rng.choice(self.order_cols(info))
        c.distinct = False
        if rng.random() < 0.6:
            c.pred = None
        c.tlp = False
        self.ensure_selected(c, [ocol["name"]])
        c.order = [("t." + quote_ident(ocol["name"]), rng.random() < 0.5, None)]
        c.total = False
        c.ties = False
        c.limit, c.offset = None, None
        r = rng.random()
        if r < 0.75:
            c.limit = str(rng.choice([1, 2, 3, 3, 5, 10]))
            if rng.random() < 0.3:
                c.offset = str(rng.choice([1, 3, 7]))
        elif r < 0.85:
            c.offset = str(rng.choice([1, 5]))

    def ts_val(self, rng, c, col, shift=True):
        """A timestamp or date value (rarely timestamptz) near a value of
        the column, as literals and casts a user writes."""
        pool = self.pools.get(c.table, col["name"])
        base = parse_ts(rng.choice(pool)) if pool else datetime.datetime(
            2024, 3, 1, tzinfo=datetime.timezone.utc)
        if shift and rng.random() < 0.4:
            base += rng.choice([datetime.timedelta(hours=h) for h in (-13, -9, -8, -1, 1, 8, 9, 13)]
                               + [datetime.timedelta(milliseconds=1),
                                  -datetime.timedelta(milliseconds=1)])
        naive = base.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        us = naive.strftime("%Y-%m-%d %H:%M:%S.%f")
        day = naive.strftime("%Y-%m-%d")
        r = rng.random()
        if r < 0.3:
            v = Val(q(us) + "::timestamp", "timestamp without time zone")
        elif r < 0.45:
            v = Val("timestamp " + q(us), "timestamp without time zone")
        elif r < 0.7:
            v = Val(q(day) + "::date", "date")
        elif r < 0.8:
            v = Val("date " + q(day), "date")
        elif r < 0.9:
            v = Val("(%s::timestamp)::timestamptz" % q(us), TS)
        else:
            v = Val("%s::date::timestamp" % q(day), "timestamp without time zone")
        v.source = self.source(rng, c)
        return v

    def focus_time_range(self, rng, c, info, real):
        """Class 3: timestamp and date values against a timestamptz column
        the API filters with *_after/*_before, in a zone other than UTC."""
        col = rng.choice(self.range_cols(info))
        c.settings["TimeZone"] = rng.choice([z for z in TIMEZONES if z != "UTC"])
        r = rng.random()
        if r < 0.65:
            atom = Cmp(col, rng.choice([">", ">=", "<", "<="]), self.ts_val(rng, c, col))
        else:
            atom = And([Cmp(col, rng.choice([">", ">="]), self.ts_val(rng, c, col)),
                        Cmp(col, rng.choice(["<", "<="]), self.ts_val(rng, c, col))])
        if c.pred is not None and rng.random() < 0.3:
            c.pred = And([atom, self.atom(rng, c, self.pick_col(rng, real))])
        else:
            c.pred = atom
        self.ensure_selected(c, [col["name"]])

    def focus_runtime_null(self, rng, c, info):
        """Class 1: a filter whose value is only known at run time and is
        NULL, an empty or all-NULL array (initplan, stable expression,
        parameter of a generic plan)."""
        col = rng.choice(self.param_cols(info))
        name = cast_name(col["type"])
        r = rng.random()
        if r < 0.5:
            atom = Cmp(col, "=", Val("NULL::%s" % name, col["type"], null=True))
        elif r < 0.75:
            atom = Any(col, Val("'{}'::%s[]" % name, name + "[]"))
        else:
            atom = Any(col, Val("ARRAY[NULL]::%s[]" % name, name + "[]"))
        atom.val.source = rng.choice(["initplan", "stable", "param", "param"])
        if atom.val.source == "param":
            c.prepared = rng.choice(["force_generic_plan", "force_generic_plan",
                                     "force_custom_plan"])
        c.shape, c.join_col, c.join_vals = "plain", None, []
        c.pred = atom if c.pred is None or rng.random() < 0.7 else And([atom, c.pred])
        c.tlp = False

    def focus_by_id(self, rng, c, info, real):
        """Class 5: id = / IN / = ANY (up to and past fanout_limit) and joins
        on id, on tables with a detail endpoint and a hidden scope: every
        access path must give the listing's rowset."""
        idcol = next(col for col in info["cols"] if col["name"] == "id")
        pool = [v for v in self.pools.get(c.table, "id") if isinstance(v, int)] or [1]
        if rng.random() < 0.7:
            c.scope = [s for s in c.scope if "hidden" not in cols_of(s)]
        c.distinct = False
        self.ensure_selected(c, ["id"])

        def idval():
            x = rng.choice(pool)
            return Val(str(x), "integer") if rng.random() < 0.7 else Val("%d::bigint" % x,
                                                                          "bigint")
        r = rng.random()
        if r < 0.25:
            # a join on id (nested loop: one get-by-id per outer row), or
            # on a column other than the id that the API takes as a
            # parameter (author_id: one-to-many, one author= listing per
            # outer value; issue 21), duplicates included
            jcol, jpool = idcol, pool
            acol = next((col for col in info["cols"] if col["name"] == "author_id"), None)
            apool = [v for v in self.pools.get(c.table, "author_id") if isinstance(v, int)]
            if acol is not None and apool and rng.random() < 0.4:
                jcol, jpool = acol, apool
            c.shape = "join"
            c.join_col = jcol
            c.join_vals = [Val(str(rng.choice(jpool)), "bigint")
                           for _ in range(rng.randint(1, 4))]
            # fanout_limit 1: the scan switches to the kept listing (issue
            # 10) after one get-by-id, or, on author_id, after the first
            # author= request (the listing kept, keyed by author_id: one
            # author, several rows; issue 21)
            c.fanout1 = rng.random() < 0.5
            if rng.random() < 0.3:
                c.join_vals.insert(rng.randint(0, len(c.join_vals)), null_of(rng, "bigint"))
            c.pred = None if rng.random() < 0.6 else c.pred
            c.star = False
            c.order = [("p.pk", False, None), ("t.id", False, None)]
            c.total = False             # a fan-out scope can repeat an id
            c.limit = c.offset = None
            c.ties = False
            return
        if r < 0.55:
            atom = Cmp(idcol, "=", idval())
            atom.val.source = self.source(rng, c)
        elif r < 0.85:
            n = rng.choice([2, 3, 5, 20, 49, 50, 51, 55, 60])
            atom = In(idcol, [idval() for _ in range(n)])
        else:
            n = rng.choice([1, 3, 51])
            atom = Any(idcol, Val("ARRAY[%s]::bigint[]" % ", ".join(
                str(rng.choice(pool)) for _ in range(n)), "bigint[]",
                source=self.source(rng, c)))
        c.pred = atom if c.pred is None or rng.random() < 0.6 else And([atom, c.pred])

    # -- scope -----------------------------------------------------------
    def gen_scope(self, rng, c, info):
        spec = info["spec"]
        pools = spec.get("pools", {})
        for col in info["cols"]:
            if col["role"] not in ("path", "scope"):
                continue
            name = col["name"]
            if col["role"] == "path":
                c.path_cols.append(name)
            elif name in pools:
                c.scope_cols.append(name)
            if name not in pools:
                continue
            use = col["role"] == "path" or rng.random() < 0.45
            if col["role"] == "path" and rng.random() < 0.03:
                use = False                          # no condition on a path column
            if use:
                c.status = "ok"
                node = self.scope_cond(rng, c, col, spec)
                node.refuse = c.status == "refuse"   # a form or value that cannot be sent
                c.status = "ok"
                c.scope.append(node)

    def scope_val(self, rng, c, col, spec, allow_null=True):
        name = col["name"]
        values = list(spec["pools"][name]) + list(spec.get("empty", {}).get(name, []))
        refused = spec.get("refused", {}).get(name, [])
        if allow_null and rng.random() < 0.06:
            v = null_of(rng, col["type"])
        elif refused and rng.random() < 0.08:
            v = Val(q(rng.choice(refused)), col["type"])
            c.status = "refuse"
        else:
            x = rng.choice(values)
            if col["type"] == "boolean":
                v = Val("true" if x else "false", "boolean")
            elif col["type"] == "bigint":
                v = Val(str(x) if rng.random() < 0.5 else "%d::bigint" % x,
                        "integer" if rng.random() < 0.5 else "bigint")
                v.typ = "bigint" if "::bigint" in v.text else "integer"
            else:
                v = Val(q(str(x)), "text")
        v.source = self.source(rng, c)
        return v

    def source(self, rng, c):
        r = rng.random()
        if r < 0.55:
            return "const"
        if r < 0.7:
            return "stable"
        if r < 0.85:
            return "initplan"
        return "param" if c.prepared else "const"

    def scope_cond(self, rng, c, col, spec):
        r = rng.random()
        if col["type"] == "boolean" and r < 0.5:
            form = rng.choice(["bare", "not", "TRUE", "FALSE", "ornot", "eq"])
            if form == "ornot":
                return Or([Test(col, "bare"), Test(col, "not")])
            if form in ("TRUE", "FALSE"):
                return Test(col, form)
            if form == "eq":
                return Cmp(col, "=", self.scope_val(rng, c, col, spec))
            return Test(col, form)
        if r < 0.05:
            c.status = "refuse"
            what = rng.choice(["NOT NULL", "NULL", "ne", "mixed_or", "range"])
            if what == "ne":
                return Cmp(col, "<>", self.scope_val(rng, c, col, spec, allow_null=False))
            if what == "range" and col["type"] == "bigint":
                return Cmp(col, ">", Val("1", "integer"))
            if what == "mixed_or":
                other = [x for x in self.tables[c.table]["cols"] if x["role"] == "real"]
                return Or([Cmp(col, "=", self.scope_val(rng, c, col, spec, allow_null=False)),
                           self.atom(rng, c, rng.choice(other))])
            return Test(col, what if what in ("NULL", "NOT NULL") else "NULL")
        if r < 0.6:
            return Cmp(col, "=", self.scope_val(rng, c, col, spec))
        if r < 0.75:
            return In(col, [self.scope_val(rng, c, col, spec)
                            for _ in range(rng.randint(1, 3))])
        if r < 0.88:
            arms = [Cmp(col, "=", self.scope_val(rng, c, col, spec))
                    for _ in range(rng.randint(2, 3))]
            return Or(arms)
        # = ANY (array): empty, NULL elements, values
        values = list(spec["pools"][col["name"]])
        k = rng.randint(0, 3)
        items = [self.scope_val(rng, c, col, spec).text for _ in range(k)]
        elem = cast_name(col["type"])
        if rng.random() < 0.2:
            items.append("NULL")
        text = "ARRAY[%s]::%s[]" % (", ".join(items), elem) if items else "'{}'::%s[]" % elem
        del values
        v = Val(text, elem + "[]", source=self.source(rng, c))
        return Any(col, v)

    # -- predicate over real columns -------------------------------------
    def gen_pred(self, rng, c, info, real, depth):
        if depth <= 0 or rng.random() < 0.3:
            return self.atom(rng, c, self.pick_col(rng, real))
        r = rng.random()
        n = rng.randint(2, 3)
        if r < 0.45:
            return And([self.gen_pred(rng, c, info, real, depth - 1) for _ in range(n)])
        if r < 0.85:
            return Or([self.gen_pred(rng, c, info, real, depth - 1) for _ in range(n)])
        return Not(self.gen_pred(rng, c, info, real, depth - 1))

    def pick_col(self, rng, real):
        weighted = []
        for col in real:
            w = 1
            opts = col["opts"]
            if "param" in opts or "after" in opts or "order_by" in opts or col["name"] == "id":
                w = 4
            if col["type"] == "jsonb":
                w = 0.3
            weighted.append((w, col))
        total = sum(w for w, _ in weighted)
        x = rng.random() * total
        for w, col in weighted:
            x -= w
            if x <= 0:
                return col
        return weighted[-1][1]

    def val(self, rng, c, col):
        v = lit(rng, col, self.pools, c.table)
        v.source = self.source(rng, c)
        return v

    def atom(self, rng, c, col):
        typ = col["type"]
        r = rng.random()
        if typ == "jsonb":
            if r < 0.5:
                return Test(col, rng.choice(["NULL", "NOT NULL"]))
            return Test(col, rng.choice(["NULL", "NOT NULL"]))
        if typ == "boolean":
            if r < 0.55:
                return Test(col, rng.choice(["bare", "not", "TRUE", "NOT TRUE", "FALSE",
                                             "NOT FALSE", "UNKNOWN", "NULL", "NOT NULL"]))
            if r < 0.75:
                return Cmp(col, rng.choice(["=", "<>"]), self.val(rng, c, col))
            if r < 0.85:
                return In(col, [self.val(rng, c, col) for _ in range(rng.randint(1, 2))])
            return Or([Test(col, "bare"), Test(col, "not")])
        if r < 0.08:
            return Test(col, rng.choice(["NULL", "NOT NULL"]))
        if r < 0.5:
            ops = ["=", "=", "<>", "<", "<=", ">", ">="]
            return Cmp(col, rng.choice(ops), self.val(rng, c, col))
        if r < 0.65:
            return In(col, [self.val(rng, c, col) for _ in range(rng.randint(1, 4))],
                      neg=rng.random() < 0.15)
        if r < 0.8:
            v = arr(rng, col, self.pools, c.table)
            v.source = self.source(rng, c)
            return Any(col, v, op=rng.choice(["=", "=", "=", "<>", "<", ">="]))
        if typ == "text" and r < 0.88:
            return Test(col, "LIKE %s" % q(rng.choice(["%a%", "A%", "%,%", "f%"])))
        # a range
        lo, hi = self.val(rng, c, col), self.val(rng, c, col)
        return And([Cmp(col, rng.choice([">", ">="]), lo), Cmp(col, rng.choice(["<", "<="]), hi)])

    # -- shape -----------------------------------------------------------
    def gen_shape(self, rng, c, info, real):
        r = rng.random()
        if r < 0.72:
            return
        path = [col for col in info["cols"] if col["role"] == "path"]
        joinable = [col for col in real if col["type"] in ("bigint", "text", TS)]
        if path and rng.random() < 0.6:
            col = rng.choice(path)
            c.scope = [s for s in c.scope if col["name"] not in cols_of(s)]
            vals = list(info["spec"]["pools"][col["name"]])
            jv = [Val(str(rng.choice(vals)), "bigint") for _ in range(rng.randint(1, 3))]
        elif joinable:
            col = rng.choice(joinable)
            jv = [lit(rng, col, self.pools, c.table, null_rate=0) for _ in range(rng.randint(1, 3))]
            jv = [Val(v.text, col["type"] if col["type"] != "bigint" else "bigint")
                  if col["type"] != TS else Val(v.text if v.typ == TS else
                                                v.text.split("::")[0] + "::timestamptz", TS)
                  for v in jv]
        else:
            return
        jv.insert(rng.randint(0, len(jv)), null_of(rng, col["type"]))
        c.join_vals = jv
        c.join_col = col
        c.shape = rng.choice(["join", "join", "lateral", "lateral_star"])
        if c.shape == "lateral_star" and col["role"] == "path":
            c.shape = "lateral"                      # a path column needs its value
        if c.shape == "lateral_star":
            c.join_col = None

    def gen_select(self, rng, c, info, real):
        names = [col["name"] for col in info["cols"]]
        unique = info["spec"].get("unique")
        scope_names = [col["name"] for col in info["cols"] if col["role"] in ("path", "scope")
                       and col["name"] not in c.unused_scope]
        if rng.random() < 0.08 and c.shape != "plain" or rng.random() < 0.05:
            c.star = True
            c.select = names
            return
        if rng.random() < 0.1 and c.shape == "plain":
            c.distinct = True
            pick = [col["name"] for col in real if col["type"] in ("boolean", "text", "date")]
            c.select = rng.sample(pick, min(len(pick), rng.randint(1, 2))) or [names[0]]
            return
        sel = [unique] if unique else []
        sel += scope_names
        extra = [n for n in names if n not in sel]
        sel += rng.sample(extra, min(len(extra), rng.randint(1, 3)))
        c.select = sel

    def gen_order(self, rng, c, info):
        r = rng.random()
        if r < 0.35:
            return
        unique = info["spec"].get("unique")
        cols = list(c.select) if (c.distinct or c.star is False) else list(c.select)
        prefix = "s." if c.shape.startswith("lateral") else "t."
        order = []
        if c.shape != "plain":
            order.append(("p.pk", False, None))
        for name in rng.sample(cols, min(len(cols), rng.randint(1, 2))):
            order.append((prefix + quote_ident(name), rng.random() < 0.4,
                          rng.choice([None, None, "FIRST", "LAST"])))
        total = False
        if not c.distinct and unique and rng.random() < 0.6:
            for name in [unique] + [col["name"] for col in info["cols"]
                                    if col["role"] in ("path", "scope")
                                    and col["name"] not in c.unused_scope]:
                if name in c.select:
                    order.append((prefix + quote_ident(name), rng.random() < 0.3, None))
            total = unique in c.select
        if c.distinct:
            order = [o for o in order if o[0].split(".", 1)[1].strip('"') in c.select]
            total = False
        if c.shape.startswith("lateral"):
            total = False                     # NULL-extended rows tie on s.*
        c.order = order
        c.total = total and bool(order)
        r = rng.random()
        if r < 0.55:
            c.limit = str(rng.choice([0, 1, 2, 3, 5, 7, 10, 25, 60]))
            if rng.random() < 0.4:
                c.offset = str(rng.choice([0, 1, 3, 7, 20, 100]))
            if rng.random() < 0.03:
                c.limit, c.offset = "9223372036854775807", "100"
            if rng.random() < 0.15 and c.order:
                c.ties = True
                if c.limit == "0":
                    c.limit = "1"
        elif r < 0.62:
            c.offset = str(rng.choice([1, 5, 30]))


# --------------------------------------------------------------------------
# Shrinking
# --------------------------------------------------------------------------
def shrink_candidates(case):
    """Smaller variants of a case, roughly most promising first."""
    out = []

    def add(fn):
        c = case.clone()
        if fn(c) is not False:
            out.append(c)

    if case.pred is not None:
        add(lambda c: setattr(c, "pred", None))
        for path in node_paths(case.pred):
            node = get_node(case.pred, path)
            for i, child in enumerate(node.children()):
                add(lambda c, p=path, i=i: replace_node(c, p, lambda n: n.children()[i]))
                if isinstance(node, And) and len(node.items) > 2:
                    add(lambda c, p=path, i=i: replace_node(
                        c, p, lambda n: type(n)(n.items[:i] + n.items[i + 1:])))
    for i in range(len(case.scope)):
        add(lambda c, i=i: c.scope.pop(i) and None)
        node = case.scope[i]
        # fewer values in a scope IN or OR (keeping at least one)
        if isinstance(node, In) and len(node.vals) > 1:
            for j in range(len(node.vals)):
                add(lambda c, i=i, j=j: c.scope[i].vals.pop(j) and None)
        if isinstance(node, Or) and len(node.items) > 1:
            for j in range(len(node.items)):
                add(lambda c, i=i, j=j: c.scope.__setitem__(i, c.scope[i].items[j])
                    if len(c.scope[i].items) == 2 else c.scope[i].items.pop(j) and None)
    # fewer values in an IN of the predicate
    if case.pred is not None:
        for path in node_paths(case.pred):
            node = get_node(case.pred, path)
            if isinstance(node, In) and len(node.vals) > 1:
                for j in range(len(node.vals)):
                    add(lambda c, p=path, j=j: replace_node(
                        c, p, lambda n: In(n.col, n.vals[:j] + n.vals[j + 1:], n.neg)))
    if case.limit is not None or case.offset is not None:
        add(lambda c: (setattr(c, "limit", None), setattr(c, "offset", None),
                       setattr(c, "ties", False)))
        add(lambda c: setattr(c, "offset", None) if c.offset is not None else False)
    if case.order:
        add(lambda c: (setattr(c, "order", []), setattr(c, "total", False),
                       setattr(c, "ties", False)))
    if case.distinct:
        add(lambda c: setattr(c, "distinct", False))
    if case.tlp:
        add(lambda c: setattr(c, "tlp", False))
    if case.prepared:
        add(lambda c: setattr(c, "prepared", None))
    for k, default in (("TimeZone", "UTC"), ("enable_hashjoin", "on"),
                       ("enable_nestloop", "on"), ("enable_mergejoin", "on")):
        if case.settings.get(k) != default:
            add(lambda c, k=k, d=default: c.settings.__setitem__(k, d))
    if case.shape != "plain":
        def plain(c):
            c.shape, c.join_col, c.join_vals = "plain", None, []
            c.order = [("t." + e.split(".", 1)[1], d, n) for e, d, n in c.order
                       if not e.startswith("p.")]
            c.total = False
        add(plain)
    if case.shape == "join" and len(case.join_vals) > 1:
        for i in range(len(case.join_vals)):
            add(lambda c, i=i: c.join_vals.pop(i) and None)
    if len(case.select) > 1 and not case.star:
        keep = [n for n in case.select if any(n in o[0] for o in case.order)] or case.select[:1]
        if keep != case.select:
            add(lambda c, k=keep: setattr(c, "select", list(k)))
    if case.star:
        add(lambda c: (setattr(c, "star", False), setattr(c, "select", c.select[:1]),
                       setattr(c, "order", [o for o in c.order if o[0] == "p.pk"])))
    # constant values instead of initplans, stable expressions, parameters
    vals = []
    for s in case.scope:
        vals += vals_of(s)
    if case.pred is not None:
        vals += vals_of(case.pred)
    if any(v.source != "const" for v in vals):
        def consts(c):
            for s in c.scope:
                for v in vals_of(s):
                    v.source = "const"
            if c.pred is not None:
                for v in vals_of(c.pred):
                    v.source = "const"
        add(consts)
    return out


def node_paths(node, path=()):
    yield path
    for i, child in enumerate(node.children()):
        yield from node_paths(child, path + (i,))


def get_node(node, path):
    for i in path:
        node = node.children()[i]
    return node


def replace_node(case, path, fn):
    if not path:
        case.pred = fn(case.pred)
        return
    parent = get_node(case.pred, path[:-1])
    target = parent.children()[path[-1]]
    new = fn(target)
    if isinstance(parent, Not):
        parent.item = new
    else:
        parent.items[path[-1]] = new


def size(case):
    text, _ = case.render("fz", local=False, prepared=case.prepared)
    return len(text) + 40 * (case.prepared is not None) + 10 * sum(
        1 for k, v in case.settings.items() if v not in ("UTC", "on"))
