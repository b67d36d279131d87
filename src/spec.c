/*-------------------------------------------------------------------------
 *
 * spec.c
 *		  Reading the Civis API's Swagger 2.0 spec (GET /endpoints) into the
 *		  model of spec.h: its list endpoints, their parameters and the
 *		  properties of their items.  The only part of IMPORT FOREIGN SCHEMA
 *		  that reads the spec's JSON and the free text of its descriptions;
 *		  import.c decides what becomes a table or column.
 *
 * List endpoints: every GET whose 200 schema is an array (its items
 * describe one row), plus the GETs quirks.c lists as answering with an
 * array although the spec declares one object (the object describes one
 * row).  "$ref"s are resolved against "#/definitions/".
 *
 * Parameters: the operation's, then the path item's it does not override.
 * From the description: list 'csv' ("comma-separated"), the accepted
 * values it enumerates, the page size of "limit" and the default and
 * accepted values of "order".
 *
 * Types: integer -> bigint, number -> double precision, boolean, string ->
 * text (format date-time or time -> timestamptz, date -> date), $ref /
 * object / array -> jsonb.  A parameter of type array takes the type of
 * its items.  The spec's own x-examples give further evidence: a field
 * whose every non-null example value has another JSON type than declared
 * is reported with the type seen (import.c weighs it against quirks.c).
 *
 * Detail endpoint: see detail_endpoint().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>

#include <cjson/cJSON.h>

#include "civis_fdw.h"
#include "quirks.h"
#include "spec.h"

#define MAX_REF_DEPTH 64
#define MAX_COMPARE_DEPTH 32

/* The parts of the spec that "$ref"s and detail endpoints point into. */
typedef struct SwaggerDoc
{
	cJSON	   *paths;
	cJSON	   *defs;
} SwaggerDoc;

/* --------------------------------------------------------------------
 * Small string helpers
 * -------------------------------------------------------------------- */

/* Case-insensitive strstr (ASCII). */
static const char *
find_ci(const char *hay, const char *needle)
{
	size_t		nl = strlen(needle);

	if (hay == NULL)
		return NULL;
	for (const char *p = hay; *p; p++)
	{
		if (pg_strncasecmp(p, needle, nl) == 0)
			return p;
	}
	return NULL;
}


static const char *
json_str(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static char *
trim_copy(const char *s, size_t len)
{
	while (len > 0 && isspace((unsigned char) *s))
		s++, len--;
	while (len > 0 && isspace((unsigned char) s[len - 1]))
		len--;
	return pnstrdup(s, len);
}

/* --------------------------------------------------------------------
 * Spec access
 * -------------------------------------------------------------------- */

/* Follow "$ref": "#/definitions/X" links; NULL on a dangling or cyclic ref. */
static cJSON *
resolve(SwaggerDoc *doc, cJSON *schema)
{
	for (int depth = 0; schema != NULL && depth < MAX_REF_DEPTH; depth++)
	{
		const char *ref = json_str(schema, "$ref");

		if (ref == NULL)
			return schema;
		if (strncmp(ref, "#/definitions/", 14) != 0)
			return NULL;
		schema = cJSON_GetObjectItemCaseSensitive(doc->defs, ref + 14);
	}
	return NULL;
}

static bool
is_object_schema(cJSON *schema)
{
	const char *type = json_str(schema, "type");

	if (type != NULL)
		return strcmp(type, "object") == 0;
	return cJSON_GetObjectItemCaseSensitive(schema, "properties") != NULL;
}

static bool
is_scalar_type(const char *type)
{
	return type != NULL &&
		(strcmp(type, "integer") == 0 || strcmp(type, "number") == 0 ||
		 strcmp(type, "boolean") == 0 || strcmp(type, "string") == 0);
}

/*
 * Structural equality of two schemas after resolving $refs: same type,
 * format, properties (names and schemas) and items.  Descriptions and
 * "required" lists are documentation and are not compared.
 */
static bool
schema_equal(SwaggerDoc *doc, cJSON *a, cJSON *b, int depth)
{
	const char *ta,
			   *tb,
			   *fa,
			   *fb;
	cJSON	   *pa,
			   *pb,
			   *ia,
			   *ib,
			   *child;

	a = resolve(doc, a);
	b = resolve(doc, b);
	if (a == b)
		return true;
	if (a == NULL || b == NULL || depth > MAX_COMPARE_DEPTH)
		return false;

	ta = json_str(a, "type");
	tb = json_str(b, "type");
	if ((ta == NULL) != (tb == NULL) || (ta && strcmp(ta, tb) != 0))
		return false;
	fa = json_str(a, "format");
	fb = json_str(b, "format");
	if ((fa == NULL) != (fb == NULL) || (fa && strcmp(fa, fb) != 0))
		return false;

	ia = cJSON_GetObjectItemCaseSensitive(a, "items");
	ib = cJSON_GetObjectItemCaseSensitive(b, "items");
	if ((ia == NULL) != (ib == NULL))
		return false;
	if (ia && !schema_equal(doc, ia, ib, depth + 1))
		return false;

	pa = cJSON_GetObjectItemCaseSensitive(a, "properties");
	pb = cJSON_GetObjectItemCaseSensitive(b, "properties");
	if ((pa == NULL) != (pb == NULL))
		return false;
	if (pa)
	{
		if (cJSON_GetArraySize(pa) != cJSON_GetArraySize(pb))
			return false;
		cJSON_ArrayForEach(child, pa)
		{
			cJSON	   *other = cJSON_GetObjectItemCaseSensitive(pb, child->string);

			if (other == NULL || !schema_equal(doc, child, other, depth + 1))
				return false;
		}
	}
	return true;
}

/* The GET operation's 200 schema, unresolved. */
static cJSON *
get_200_schema(cJSON *op)
{
	cJSON	   *responses = cJSON_GetObjectItemCaseSensitive(op, "responses");
	cJSON	   *ok = cJSON_GetObjectItemCaseSensitive(responses, "200");

	return cJSON_GetObjectItemCaseSensitive(ok, "schema");
}

/*
 * The resolved row definition of a list endpoint, or NULL when the GET does
 * not answer with an array of objects.
 */
static cJSON *
list_item_definition(SwaggerDoc *doc, const char *path, cJSON *op)
{
	cJSON	   *schema = resolve(doc, get_200_schema(op));
	const char *type;

	if (schema == NULL)
		return NULL;
	type = json_str(schema, "type");
	if (type != NULL && strcmp(type, "array") == 0)
	{
		cJSON	   *item = resolve(doc, cJSON_GetObjectItemCaseSensitive(schema, "items"));

		return (item && is_object_schema(item)) ? item : NULL;
	}
	if (civis_quirk_array_response(path) && is_object_schema(schema))
		return schema;
	return NULL;
}

/* Parameters of the operation plus those of the path item it overrides. */
static List *
collect_params(cJSON *path_item, cJSON *op)
{
	List	   *result = NIL;
	cJSON	   *p;

	/* (a "$ref" parameter has no name and "in" here and is skipped) */
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(op, "parameters"))
	{
		if (json_str(p, "name") && json_str(p, "in"))
			result = lappend(result, p);
	}
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(path_item, "parameters"))
	{
		const char *name = json_str(p, "name");
		const char *in = json_str(p, "in");
		bool		dup = false;
		ListCell   *lc;

		if (name == NULL || in == NULL)
			continue;
		foreach(lc, result)
		{
			cJSON	   *q = lfirst(lc);

			if (strcmp(json_str(q, "name"), name) == 0 &&
				strcmp(json_str(q, "in"), in) == 0)
				dup = true;
		}
		if (!dup)
			result = lappend(result, p);
	}
	return result;
}

/* --------------------------------------------------------------------
 * Parsing the free text of parameter descriptions
 * -------------------------------------------------------------------- */

/*
 * The page size from the "limit" description: "Maximum allowed is N",
 * else "Defaults to its maximum of N", else "Default of N" / "Defaults to
 * N" (the default is then the largest size we know to be accepted).
 * 0 when none is found.
 */
static int
parse_page_size(const char *desc)
{
	static const char *const forms[] = {
		"Maximum allowed is", "Defaults to its maximum of", "Default of",
		"Defaults to"
	};

	for (int i = 0; i < lengthof(forms); i++)
	{
		const char *p = find_ci(desc, forms[i]);

		while (p != NULL)
		{
			const char *q = p + strlen(forms[i]);

			while (*q == ' ')
				q++;
			if (isdigit((unsigned char) *q))
			{
				long		n = strtol(q, NULL, 10);

				if (n > 0 && n <= INT_MAX)
					return (int) n;
			}
			p = find_ci(p + 1, forms[i]);
		}
	}
	return 0;
}

/* End of an enumeration: ". " / "." at the end, "]" or the end. */
static const char *
enumeration_end(const char *p)
{
	for (; *p; p++)
	{
		if (*p == ']')
			return p;
		if (*p == '.' && (p[1] == '\0' || isspace((unsigned char) p[1])))
			return p;
	}
	return p;
}

/* Split one piece further on " or " / " and " and add the values. */
static List *
add_enum_values(List *values, const char *s, size_t len)
{
	char	   *piece = trim_copy(s, len);
	char	   *p = piece;

	for (;;)
	{
		const char *or_ = strstr(p, " or ");
		const char *and_ = strstr(p, " and ");
		const char *sep = NULL;
		size_t		seplen = 0;
		char	   *v;
		size_t		vlen;

		if (or_ && (!and_ || or_ < and_))
			sep = or_, seplen = 4;
		else if (and_)
			sep = and_, seplen = 5;

		vlen = sep ? (size_t) (sep - p) : strlen(p);
		v = trim_copy(p, vlen);
		/* a leading "or"/"and" (", or 'c'") and quotes are not the value */
		if (strncmp(v, "or ", 3) == 0)
			v = trim_copy(v + 3, strlen(v) - 3);
		else if (strncmp(v, "and ", 4) == 0)
			v = trim_copy(v + 4, strlen(v) - 4);
		vlen = strlen(v);
		while (vlen > 0 && (v[0] == '"' || v[0] == '\'' || v[0] == '['))
			v++, vlen--;
		while (vlen > 0 && (v[vlen - 1] == '"' || v[vlen - 1] == '\'' ||
							v[vlen - 1] == ']'))
			vlen--;
		v = trim_copy(v, vlen);
		if (*v != '\0')
			values = lappend(values, v);
		if (sep == NULL)
			break;
		p = (char *) sep + seplen;
	}
	return values;
}

/*
 * The values a description enumerates after one of "possible values are",
 * "One or more of", "Must be one of", "May be one of", "The valid types
 * are", "Valid types include", "Valid options", "either" or "one of"
 * (the last two only when a quote, colon or bracket follows); or a
 * parenthesised slash list "(a/b/c)".  NIL when there is none.
 */
static List *
parse_enumeration(const char *desc)
{
	static const struct
	{
		const char *trigger;
		bool		needs_mark;
	}			triggers[] = {
		{"possible values are", false},
		{"one or more of", false},
		{"must be one of", false},
		{"may be one of", false},
		{"valid types are", false},
		{"valid types include", false},
		{"valid options", false},
		{"either", true},
		{"one of", true},
	};
	List	   *values = NIL;

	if (desc == NULL)
		return NIL;

	for (int i = 0; i < lengthof(triggers); i++)
	{
		const char *p = find_ci(desc, triggers[i].trigger);

		for (; p != NULL; p = find_ci(p + 1, triggers[i].trigger))
		{
			const char *q = p + strlen(triggers[i].trigger);
			const char *end;

			/* whole words only */
			if (p > desc && isalpha((unsigned char) p[-1]))
				continue;
			while (*q == ' ')
				q++;
			if (triggers[i].needs_mark && *q != ':' && *q != '"' &&
				*q != '\'' && *q != '[')
				continue;
			if (*q == ':')
				q++;
			while (*q == ' ' || *q == '[')
				q++;
			end = enumeration_end(q);

			while (q < end)
			{
				const char *comma = memchr(q, ',', end - q);
				size_t		len = comma ? (size_t) (comma - q) : (size_t) (end - q);

				values = add_enum_values(values, q, len);
				q += len + (comma ? 1 : 0);
			}
			if (values != NIL)
				return values;
		}
	}

	/* "(active/trial/inactive)" */
	for (const char *p = strchr(desc, '('); p != NULL; p = strchr(p + 1, '('))
	{
		const char *close = strchr(p, ')');
		bool		ok = true;

		if (close == NULL || memchr(p, '/', close - p) == NULL)
			continue;
		for (const char *c = p + 1; c < close; c++)
			if (!isalnum((unsigned char) *c) && *c != '_' && *c != '/' &&
				*c != '-')
				ok = false;
		if (!ok)
			continue;
		for (const char *c = p + 1; c < close;)
		{
			const char *slash = memchr(c, '/', close - c);
			size_t		len = slash ? (size_t) (slash - c) : (size_t) (close - c);

			if (len > 0)
				values = lappend(values, pnstrdup(c, len));
			c += len + (slash ? 1 : 0);
		}
		return values;
	}
	return NIL;
}

/* "Defaults to X." -> X, or NULL. */
static char *
parse_default(const char *desc)
{
	const char *p = find_ci(desc, "Defaults to ");
	const char *end;

	if (p == NULL)
		return NULL;
	p += strlen("Defaults to ");
	end = p;
	while (*end && !isspace((unsigned char) *end) &&
		   !(*end == '.' && (end[1] == '\0' || isspace((unsigned char) end[1]))))
		end++;
	if (end == p)
		return NULL;
	return pnstrdup(p, end - p);
}

/* --------------------------------------------------------------------
 * Types
 * -------------------------------------------------------------------- */

static const char *
scalar_sql_type(const char *type, const char *format)
{
	if (type == NULL)
		return "jsonb";
	if (strcmp(type, "integer") == 0)
		return "bigint";
	if (strcmp(type, "number") == 0)
		return "double precision";
	if (strcmp(type, "boolean") == 0)
		return "boolean";
	if (strcmp(type, "string") == 0)
	{
		if (format && (strcmp(format, "date-time") == 0 ||
					   strcmp(format, "time") == 0))
			return "timestamptz";
		if (format && strcmp(format, "date") == 0)
			return "date";
		return "text";
	}
	return "jsonb";
}

/* Declared column type of a property schema. */
static const char *
declared_sql_type(SwaggerDoc *doc, cJSON *prop, bool *scalar)
{
	cJSON	   *r;
	const char *type;

	*scalar = false;
	if (cJSON_GetObjectItemCaseSensitive(prop, "$ref"))
	{
		r = resolve(doc, prop);
		type = r ? json_str(r, "type") : NULL;
		if (r == NULL || !is_scalar_type(type) ||
			cJSON_GetObjectItemCaseSensitive(r, "properties"))
			return "jsonb";
		prop = r;
	}
	type = json_str(prop, "type");
	if (!is_scalar_type(type))
		return "jsonb";
	*scalar = true;
	return scalar_sql_type(type, json_str(prop, "format"));
}

/* Example items (cJSON objects) of the GET's recorded 200 responses. */
static List *
example_items(cJSON *op)
{
	List	   *items = NIL;
	cJSON	   *ex;

	cJSON_ArrayForEach(ex, cJSON_GetObjectItemCaseSensitive(op, "x-examples"))
	{
		cJSON	   *req;

		cJSON_ArrayForEach(req, cJSON_GetObjectItemCaseSensitive(ex, "requests"))
		{
			cJSON	   *status = cJSON_GetObjectItemCaseSensitive(req, "response_status");
			const char *body = json_str(req, "response_body");
			cJSON	   *parsed;
			cJSON	   *it;

			if (!cJSON_IsNumber(status) || status->valuedouble != 200 ||
				body == NULL)
				continue;
			parsed = cJSON_Parse(body);
			if (!cJSON_IsArray(parsed))
				continue;
			cJSON_ArrayForEach(it, parsed)
				if (cJSON_IsObject(it))
				items = lappend(items, it);
		}
	}
	return items;
}

/*
 * The type the examples show for a field when it contradicts the declared
 * one: a string field that is a boolean / an integer / a number / an object
 * or array in every non-null example, or an integer field with fractions.
 * NULL when the examples agree with the spec or say nothing.
 */
static const char *
evidence_sql_type(List *items, const char *field, const char *declared)
{
	int			nonnull = 0,
				nbool = 0,
				nint = 0,
				nfrac = 0,
				ncomposite = 0;
	ListCell   *lc;

	foreach(lc, items)
	{
		cJSON	   *v = cJSON_GetObjectItemCaseSensitive(lfirst(lc), field);

		if (v == NULL || cJSON_IsNull(v))
			continue;
		nonnull++;
		if (cJSON_IsBool(v))
			nbool++;
		else if (cJSON_IsNumber(v))
		{
			if (v->valuedouble == floor(v->valuedouble))
				nint++;
			else
				nfrac++;
		}
		else if (cJSON_IsObject(v) || cJSON_IsArray(v))
			ncomposite++;
	}
	if (nonnull == 0)
		return NULL;

	if (strcmp(declared, "text") == 0 || strcmp(declared, "timestamptz") == 0 ||
		strcmp(declared, "date") == 0)
	{
		if (nbool == nonnull)
			return "boolean";
		if (nint == nonnull)
			return "bigint";
		if (nint + nfrac == nonnull)
			return "double precision";
		if (ncomposite == nonnull)
			return "jsonb";
	}
	else if (strcmp(declared, "bigint") == 0)
	{
		if (nfrac > 0 && nint + nfrac == nonnull)
			return "double precision";
	}
	return NULL;
}

/* Column type of a query or path parameter; sets *list for arrays. */
static const char *
param_sql_type(SwaggerDoc *doc, cJSON *param, const char **list)
{
	const char *type = json_str(param, "type");

	if (type != NULL && strcmp(type, "array") == 0)
	{
		cJSON	   *items = resolve(doc, cJSON_GetObjectItemCaseSensitive(param, "items"));
		const char *itype = items ? json_str(items, "type") : NULL;

		*list = "array";
		if (itype && strcmp(itype, "integer") == 0)
			return "bigint";
		if (itype && strcmp(itype, "number") == 0)
			return "double precision";
		return "text";
	}
	return scalar_sql_type(type ? type : "string", json_str(param, "format"));
}

/* --------------------------------------------------------------------
 * Detail endpoints
 * -------------------------------------------------------------------- */

/*
 * The detail endpoint of a list endpoint: a GET at "<list path>/{x}" (one
 * more placeholder; {id} preferred) answering with an object whose
 * properties include every property of the list item with an identical
 * schema.  The item must have an "id": the executor puts the row's id in
 * the final placeholder and the list endpoint's own path parameters in the
 * others.  If the listing hides rows unless a parameter asks for them
 * (must_carry, "hidden"), the detail must carry that field, so that
 * get-by-id can leave out what the listing leaves out.  NULL when there is
 * none.
 */
static char *
detail_endpoint(SwaggerDoc *doc, const char *path, cJSON *item,
				const char *must_carry)
{
	size_t		baselen = strlen(path);
	cJSON	   *props = cJSON_GetObjectItemCaseSensitive(item, "properties");
	cJSON	   *path_item;
	char	   *best = NULL;

	if (cJSON_GetObjectItemCaseSensitive(props, "id") == NULL)
		return NULL;
	while (baselen > 0 && path[baselen - 1] == '/')
		baselen--;

	cJSON_ArrayForEach(path_item, doc->paths)
	{
		const char *cand = path_item->string;
		const char *rest;
		size_t		rlen;
		cJSON	   *op;
		cJSON	   *detail;
		cJSON	   *prop;
		bool		ok = true;

		if (strncmp(cand, path, baselen) != 0 || cand[baselen] != '/')
			continue;
		rest = cand + baselen + 1;
		rlen = strlen(rest);
		if (rlen > 0 && rest[rlen - 1] == '/')
			rlen--;
		if (rlen < 3 || rest[0] != '{' || rest[rlen - 1] != '}' ||
			memchr(rest, '/', rlen) != NULL)
			continue;
		/* the placeholder must be new to the list path */
		{
			char	   *ph = pnstrdup(rest, rlen);

			if (strstr(path, ph) != NULL)
				continue;
		}
		op = cJSON_GetObjectItemCaseSensitive(path_item, "get");
		if (op == NULL)
			continue;
		detail = resolve(doc, get_200_schema(op));
		if (detail == NULL || !is_object_schema(detail) ||
			civis_quirk_array_response(cand))
			continue;
		if (must_carry &&
			cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(detail, "properties"),
											 must_carry) == NULL)
			continue;

		cJSON_ArrayForEach(prop, props)
		{
			cJSON	   *other = cJSON_GetObjectItemCaseSensitive(
																 cJSON_GetObjectItemCaseSensitive(detail, "properties"),
																 prop->string);

			if (other == NULL || !schema_equal(doc, prop, other, 0))
			{
				ok = false;
				break;
			}
		}
		if (!ok)
			continue;
		if (best == NULL || (rlen == 4 && strncmp(rest, "{id}", 4) == 0))
			best = pstrdup(cand);
	}
	return best;
}

/* --------------------------------------------------------------------
 * The model
 * -------------------------------------------------------------------- */

static bool
is_deprecated(cJSON *op)
{
	cJSON	   *dep = cJSON_GetObjectItemCaseSensitive(op, "deprecated");

	return cJSON_IsTrue(dep) || find_ci(json_str(op, "summary"), "deprecated");
}

static CivisSpecParam *
read_param(SwaggerDoc *doc, cJSON *json)
{
	CivisSpecParam *param = palloc0(sizeof(CivisSpecParam));

	param->name = json_str(json, "name");
	param->in = json_str(json, "in");
	param->type = json_str(json, "type");
	param->description = json_str(json, "description");
	param->sql_type = param_sql_type(doc, json, &param->list);
	if (param->list == NULL &&
		(find_ci(param->description, "comma-separated") ||
		 find_ci(param->description, "comma separated")))
		param->list = "csv";
	param->values = parse_enumeration(param->description);
	return param;
}

static CivisSpecEndpoint *
read_endpoint(SwaggerDoc *doc, const char *path, cJSON *path_item, cJSON *op,
			  cJSON *item)
{
	CivisSpecEndpoint *ep = palloc0(sizeof(CivisSpecEndpoint));
	List	   *examples = example_items(op);
	CivisSpecParam *limit;
	CivisSpecParam *order;
	ListCell   *lc;
	cJSON	   *prop;

	ep->path = path;
	ep->deprecated = is_deprecated(op);

	foreach(lc, collect_params(path_item, op))
		ep->params = lappend(ep->params, read_param(doc, lfirst(lc)));

	cJSON_ArrayForEach(prop, cJSON_GetObjectItemCaseSensitive(item, "properties"))
	{
		CivisSpecProperty *p = palloc0(sizeof(CivisSpecProperty));

		p->name = prop->string;
		p->sql_type = declared_sql_type(doc, prop, &p->scalar);
		p->example_type = evidence_sql_type(examples, p->name, p->sql_type);
		ep->properties = lappend(ep->properties, p);
	}

	limit = civis_spec_param(ep, "query", "limit");
	if (limit != NULL)
		ep->page_size = parse_page_size(limit->description);

	order = civis_spec_param(ep, "query", "order");
	if (order != NULL && order->description != NULL)
	{
		const char *accepted = find_ci(order->description, "Must be one of");

		ep->order_default = parse_default(order->description);
		if (accepted != NULL)
			ep->order_values = parse_enumeration(accepted);
	}

	{
		const char *must_carry = NULL;
		ListCell   *lc;

		foreach(lc, ep->params)
		{
			CivisSpecParam *p = lfirst(lc);

			if (strcmp(p->in, "query") == 0 && civis_quirk_param_hides_rows(p->name))
				must_carry = p->name;
		}
		ep->detail_endpoint = detail_endpoint(doc, path, item, must_carry);
	}
	return ep;
}

/*
 * The list endpoints of a spec, in spec order (which decides who keeps a
 * contested table name).  Errors out when the body is no Swagger spec.
 */
List *
civis_spec_read(const char *body, size_t len)
{
	cJSON	   *root;
	SwaggerDoc	doc;
	cJSON	   *path_item;
	List	   *endpoints = NIL;

	civis_json_init();
	root = cJSON_ParseWithLength(body, len);
	if (root == NULL || !cJSON_IsObject(root) ||
		!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(root, "paths")))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("the Civis API's GET /endpoints did not answer with a Swagger spec"),
				 errdetail("The response has %zu bytes%s.", len,
						   root == NULL ? " and is not valid JSON" :
						   " and has no \"paths\" object")));
	doc.paths = cJSON_GetObjectItemCaseSensitive(root, "paths");
	doc.defs = cJSON_GetObjectItemCaseSensitive(root, "definitions");

	cJSON_ArrayForEach(path_item, doc.paths)
	{
		const char *path = path_item->string;
		cJSON	   *op = cJSON_GetObjectItemCaseSensitive(path_item, "get");
		cJSON	   *item;

		if (op == NULL || path == NULL)
			continue;
		item = list_item_definition(&doc, path, op);
		if (item == NULL)
			continue;
		endpoints = lappend(endpoints,
							read_endpoint(&doc, path, path_item, op, item));
	}
	return endpoints;
}

/* The first parameter of that name and location, or NULL. */
CivisSpecParam *
civis_spec_param(const CivisSpecEndpoint *ep, const char *in, const char *name)
{
	ListCell   *lc;

	foreach(lc, ep->params)
	{
		CivisSpecParam *param = lfirst(lc);

		if (strcmp(param->in, in) == 0 && strcmp(param->name, name) == 0)
			return param;
	}
	return NULL;
}

/* The item property of that name, or NULL. */
CivisSpecProperty *
civis_spec_property(const CivisSpecEndpoint *ep, const char *name)
{
	ListCell   *lc;

	foreach(lc, ep->properties)
	{
		CivisSpecProperty *prop = lfirst(lc);

		if (strcmp(prop->name, name) == 0)
			return prop;
	}
	return NULL;
}
