"""Reading a Swagger 2.0 Civis spec: routes, query parameters, paging kind,
limits and sort orders.  Everything is derived from the spec text, so the
same code serves the test fixture and the real civis_api_spec.json."""
import re

# Parameters that drive paging or sorting rather than filtering rows.
PAGING_PARAMS = {"limit", "page_num", "last_id", "offset", "start_at", "end_at",
                 "order", "order_dir", "iterator"}


def camel_to_snake(name):
    """civis-python's rule (src/civis/_camel_to_snake.py)."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def snake_to_camel(name):
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def parse_limit(description):
    """(default, maximum) of a `limit` parameter from its free text."""
    text = description or ""
    m = re.search(r"Defaults to its maximum of (\d+)", text)
    if m:
        return int(m.group(1)), int(m.group(1))
    m = re.search(r"Defaults to (\d+)\. Maximum allowed is (\d+)", text)
    if m:
        return int(m.group(1)), int(m.group(2))
    m = re.search(r"Default of (\d+)", text)
    if m:
        return int(m.group(1)), int(m.group(1))
    return None, None


def parse_choices(description):
    """Values after "Must be one of:" (values may contain dots)."""
    m = re.search(r"Must be one of: (.*?)\.(?:\s|$)", description or "")
    return [v.strip() for v in m.group(1).split(",")] if m else None


def parse_default(description):
    m = re.search(r"[Dd]efault(?:s|ing)? to ([\w.]+?)\.?(?:\s|,|$)", description or "")
    return m.group(1) if m else None


class Endpoint:
    """One GET operation of the spec."""

    def __init__(self, template, op):
        self.template = template
        self.segments = [s for s in template.strip("/").split("/") if s]
        params = op.get("parameters") or []
        self.path_params = {p["name"]: p for p in params if p.get("in") == "path"}
        self.query = {p["name"]: p for p in params if p.get("in") == "query"}
        self.schema = ((op.get("responses") or {}).get("200") or {}).get("schema") or {}
        self.kind = self._paging_kind()
        self.limit_default, self.limit_max = parse_limit(self._desc("limit"))
        self.order_values = parse_choices(self._desc("order"))
        self.order_default = parse_default(self._desc("order"))
        self.dir_default = parse_default(self._desc("order_dir")) or "asc"

    def _desc(self, name):
        return (self.query.get(name) or {}).get("description") or ""

    def _paging_kind(self):
        names = set(self.query)
        if "limit" in names and "page_num" in names:
            return "page"
        if "limit" in names and "last_id" in names:
            return "cursor"
        if "limit" in names and ({"start_at", "end_at"} & names):
            return "window"
        if "limit" in names and "offset" in names:
            return "offset"
        return "none"

    @property
    def declared_array(self):
        return self.schema.get("type") == "array"

    @property
    def item_ref(self):
        """Definition name of the item (array) or of the object answered."""
        ref = (self.schema.get("items") or {}).get("$ref") or self.schema.get("$ref") or ""
        return ref.rsplit("/", 1)[-1] or None

    @property
    def filter_params(self):
        return [n for n in self.query if n not in PAGING_PARAMS]


class Spec:
    def __init__(self, doc):
        self.doc = doc
        self.definitions = doc.get("definitions") or {}
        self.endpoints = [Endpoint(path, item["get"])
                          for path, item in (doc.get("paths") or {}).items() if "get" in item]
        self.by_template = {e.template: e for e in self.endpoints}

    def match(self, path):
        """(endpoint, {param: raw value}) for a request path, or (None, None).
        Trailing slashes are optional; literal segments beat parameters."""
        parts = [s for s in path.strip("/").split("/") if s]
        best, best_args, best_score = None, None, -1
        for ep in self.endpoints:
            if len(ep.segments) != len(parts):
                continue
            args, score = {}, 0
            for seg, part in zip(ep.segments, parts):
                if seg.startswith("{") and seg.endswith("}"):
                    args[seg[1:-1]] = part
                elif seg == part:
                    score += 1
                else:
                    break
            else:
                if score > best_score:
                    best, best_args, best_score = ep, args, score
        return best, best_args

    def list_parent(self, ep):
        """The list endpoint a detail GET (`.../{id}`) belongs to, if any."""
        if not ep.segments or not ep.segments[-1].startswith("{"):
            return None
        base = "/" + "/".join(ep.segments[:-1])
        for cand in (base + "/", base):
            parent = self.by_template.get(cand)
            if parent is not None and parent.declared_array:
                return parent
        return None

    def resolve(self, schema):
        """Follow a $ref to its definition (one level)."""
        ref = schema.get("$ref")
        if ref:
            return self.definitions.get(ref.rsplit("/", 1)[-1], {})
        return schema


def spec_version_2(spec):
    """The fixture spec as the API might answer after it moved (issue 23;
    POST /_mock/config {"spec_version": 2} serves it on GET /endpoints; the
    data stays the first version's).  Exactly these changes:
      /jobs/            a field added (priority), a new filter parameter
                        (name, on the existing field name)
      /groups/          a field removed (organizationName), one retyped
                        (memberCount: integer -> string)
      /codes/           a field whose name needs quoting (isn'tShared)
      /announcements/   the page maximum 50 -> 200
      /widgets/         an endpoint added (a copy of /media/dmas)
      /media/targets    an endpoint removed
    """
    import copy
    s = copy.deepcopy(spec)
    paths, defs = s["paths"], s["definitions"]

    def own_definition(path, name):
        # a copy of the item definition for this path alone
        new = name + "V2"
        defs[new] = copy.deepcopy(defs[name])
        paths[path]["get"]["responses"]["200"]["schema"]["items"]["$ref"] = "#/definitions/" + new
        return defs[new]["properties"]

    # the detail /jobs/{id} gets the field too: a detail endpoint must carry
    # every field of the listing
    jobs = own_definition("/jobs/", "JobSummary")
    jobs["priority"] = {"type": "integer", "description": "Scheduling priority."}
    detail = paths["/jobs/{id}"]["get"]["responses"]["200"]["schema"]
    detail_name = detail["$ref"].split("/")[-1]
    defs[detail_name + "V2"] = copy.deepcopy(defs[detail_name])
    defs[detail_name + "V2"]["properties"]["priority"] = dict(jobs["priority"])
    detail["$ref"] = "#/definitions/" + detail_name + "V2"
    params = paths["/jobs/"]["get"]["parameters"]
    at = [p["name"] for p in params].index("limit")
    params.insert(at, {"name": "name", "in": "query", "required": False,
                       "type": "string", "description": "Filter on name."})

    groups = own_definition("/groups/", "GroupSummary")
    del groups["organizationName"]
    groups["memberCount"] = {"type": "string"}

    codes = own_definition("/codes/", "CodeSummary")
    codes["isn'tShared"] = {"type": "boolean"}

    for p in paths["/announcements/"]["get"]["parameters"]:
        if p["name"] == "limit":
            p["description"] = p["description"].replace("Maximum allowed is 50", "Maximum allowed is 200")

    paths["/widgets/"] = copy.deepcopy(paths["/media/dmas"])
    del paths["/media/targets"]
    return s
