/*-------------------------------------------------------------------------
 *
 * import.c
 *		  IMPORT FOREIGN SCHEMA: the API's own Swagger 2.0 spec (GET
 *		  /endpoints) -> one CREATE FOREIGN TABLE per list endpoint.
 *
 * Which GETs become tables: every GET whose 200 schema is an array (its
 * items describe one row), plus the GETs quirks.c lists as answering with
 * an array although the spec declares one object (the object describes one
 * row).  Table names: naming.c.
 *
 * Columns, in this order:
 *   (a) path parameters not carried by a response field;
 *   (b) one per property of the item definition, in spec order;
 *   (c) synthetic columns from quirks.c (author_id);
 *   (d) parameter-only columns (query parameters that match no field).
 *
 * Path parameters.  Every {placeholder} is a column whose "param" is the
 * placeholder.  Its name: {id} -> "<singular of the segment before>_id",
 * any other placeholder keeps its name (naming.c).  When the item has a
 * scalar property of that snake name (queryId on query runs, notebookId),
 * that column gets the "param"; otherwise a new column of the parameter's
 * type is added with "param" and "param_only 'true'": it is no JSON member,
 * the executor fills it with the value of the condition.
 *
 * Query parameters.  Paging parameters (limit, page_num, order, order_dir,
 * last_id, offset, start_at, end_at) are never columns.  Otherwise:
 *   - quirks.c may say the parameter filters another field than the
 *     same-named one (state on /queries/ and /workflows/: the last run's
 *     state; database_id on /queries/: "database"); it is then matched
 *     under the name quirks.c gives (last_run_state, database);
 *   - quirks.c may derive a synthetic column (author -> author_id);
 *   - <field>_before / <field>_after, where <field>_at is a timestamptz
 *     column: options "before" / "after" on that column;
 *   - a scalar property of the same snake name: that column gets "param";
 *   - else a parameter-only column named after the parameter.
 * Options from the parameter: list 'csv' ("comma-separated list" in the
 * description), list 'array' (type array), values 'a,b,c' (accepted values
 * enumerated in the description), secret (name contains password, secret,
 * token or key), exact (quirks.c), scope_default 'all' on archived when its
 * values include all.  The "order" parameter gives order_by on the column
 * named by each accepted value, and the table option order_default.
 *
 * Types: integer -> bigint, number -> double precision, boolean, string ->
 * text (format date-time or time -> timestamptz, date -> date), $ref /
 * object / array -> jsonb.  Then quirks.c's type fixes; failing those, the
 * spec's own x-examples: a field whose every non-null example value has
 * another JSON type than declared takes the type seen.  All columns are
 * nullable.
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

#include "commands/defrem.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#define MAX_REF_DEPTH 64
#define MAX_COMPARE_DEPTH 32

typedef struct ImportColumn
{
	char	   *name;			/* unquoted column name */
	const char *type;			/* SQL type */
	char	   *key;			/* JSON member, or NULL (param_only) */
	char	   *param;
	bool		param_only;
	bool		exact;
	char	   *values;
	const char *list;
	char	   *after;
	char	   *before;
	char	   *scope_default;
	char	   *order_by;
	bool		secret;
	bool		field;			/* a property of the item definition */
	bool		scalar;			/* ... of a scalar type */
} ImportColumn;

typedef struct ImportTable
{
	const char *path;
	char	   *name;
	cJSON	   *op;				/* the GET operation */
	cJSON	   *item;			/* resolved item definition */
	List	   *params;			/* cJSON parameter objects */
	List	   *columns;		/* ImportColumn *, final order */
	List	   *fields;			/* (b) */
	List	   *path_cols;		/* (a) */
	List	   *synthetic;		/* (c) */
	List	   *param_cols;		/* (d) */
	List	   *examples;		/* cJSON example items */
	const char *paging;
	int			page_size;
	char	   *detail_endpoint;
	char	   *order_default;
} ImportTable;

typedef struct ImportState
{
	cJSON	   *paths;
	cJSON	   *defs;
} ImportState;

static const char *const paging_params[] = {
	"limit", "page_num", "order", "order_dir", "last_id", "offset",
	"start_at", "end_at"
};

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

static bool
ends_with(const char *s, const char *suffix)
{
	size_t		sl = strlen(s);
	size_t		xl = strlen(suffix);

	return sl >= xl && strcmp(s + sl - xl, suffix) == 0;
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
resolve(ImportState *st, cJSON *schema)
{
	for (int depth = 0; schema != NULL && depth < MAX_REF_DEPTH; depth++)
	{
		const char *ref = json_str(schema, "$ref");

		if (ref == NULL)
			return schema;
		if (strncmp(ref, "#/definitions/", 14) != 0)
			return NULL;
		schema = cJSON_GetObjectItemCaseSensitive(st->defs, ref + 14);
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
schema_equal(ImportState *st, cJSON *a, cJSON *b, int depth)
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

	a = resolve(st, a);
	b = resolve(st, b);
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
	if (ia && !schema_equal(st, ia, ib, depth + 1))
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

			if (other == NULL || !schema_equal(st, child, other, depth + 1))
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
list_item_definition(ImportState *st, const char *path, cJSON *op)
{
	cJSON	   *schema = resolve(st, get_200_schema(op));
	const char *type;

	if (schema == NULL)
		return NULL;
	type = json_str(schema, "type");
	if (type != NULL && strcmp(type, "array") == 0)
	{
		cJSON	   *item = resolve(st, cJSON_GetObjectItemCaseSensitive(schema, "items"));

		return (item && is_object_schema(item)) ? item : NULL;
	}
	if (civis_quirk_array_response(path) && is_object_schema(schema))
		return schema;
	return NULL;
}

/* Parameters of the operation plus those of the path item it overrides. */
static List *
collect_params(ImportState *st, cJSON *path_item, cJSON *op)
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

static cJSON *
find_param(List *params, const char *in, const char *name)
{
	ListCell   *lc;

	foreach(lc, params)
	{
		cJSON	   *p = lfirst(lc);

		if (strcmp(json_str(p, "in"), in) == 0 &&
			strcmp(json_str(p, "name"), name) == 0)
			return p;
	}
	return NULL;
}

static bool
is_paging_param(const char *name)
{
	for (int i = 0; i < lengthof(paging_params); i++)
		if (strcmp(paging_params[i], name) == 0)
			return true;
	return false;
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

static char *
join_values(List *values)
{
	StringInfoData buf;
	ListCell   *lc;

	if (values == NIL)
		return NULL;
	initStringInfo(&buf);
	foreach(lc, values)
	{
		if (buf.len > 0)
			appendStringInfoChar(&buf, ',');
		appendStringInfoString(&buf, (char *) lfirst(lc));
	}
	return buf.data;
}

static bool
values_contain(List *values, const char *v)
{
	ListCell   *lc;

	foreach(lc, values)
		if (strcmp((char *) lfirst(lc), v) == 0)
			return true;
	return false;
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
declared_sql_type(ImportState *st, cJSON *prop, bool *scalar)
{
	cJSON	   *r;
	const char *type;

	*scalar = false;
	if (cJSON_GetObjectItemCaseSensitive(prop, "$ref"))
	{
		r = resolve(st, prop);
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
param_sql_type(ImportState *st, cJSON *param, const char **list)
{
	const char *type = json_str(param, "type");

	if (type != NULL && strcmp(type, "array") == 0)
	{
		cJSON	   *items = resolve(st, cJSON_GetObjectItemCaseSensitive(param, "items"));
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
 * Columns
 * -------------------------------------------------------------------- */

static ImportColumn *
find_column(ImportTable *t, const char *name)
{
	List	   *lists[4] = {t->path_cols, t->fields, t->synthetic, t->param_cols};

	for (int i = 0; i < 4; i++)
	{
		ListCell   *lc;

		foreach(lc, lists[i])
		{
			ImportColumn *c = lfirst(lc);

			if (strcmp(c->name, name) == 0)
				return c;
		}
	}
	return NULL;
}

/*
 * A name for a new column that no existing column has: the name itself,
 * else name_param, name_param2, ...  (Only reached when a parameter-only
 * column would take the name of a non-scalar field.)
 */
static char *
unique_column_name(ImportTable *t, const char *name)
{
	char	   *candidate = pstrdup(name);

	for (int n = 1; find_column(t, candidate) != NULL; n++)
		candidate = n == 1 ? psprintf("%s_param", name)
			: psprintf("%s_param%d", name, n);
	return candidate;
}

static ImportColumn *
new_column(const char *name, const char *type)
{
	ImportColumn *c = palloc0(sizeof(ImportColumn));

	c->name = pstrdup(name);
	c->type = type;
	return c;
}

static bool
is_secret_name(const char *name)
{
	return strstr(name, "password") || strstr(name, "secret") ||
		strstr(name, "token") || strstr(name, "key");
}

/* (b) one column per property of the item definition */
static void
build_field_columns(ImportState *st, ImportTable *t)
{
	cJSON	   *props = cJSON_GetObjectItemCaseSensitive(t->item, "properties");
	cJSON	   *prop;

	cJSON_ArrayForEach(prop, props)
	{
		bool		scalar;
		const char *declared = declared_sql_type(st, prop, &scalar);
		const char *type = civis_quirk_type(t->path, prop->string);
		const char *seen = evidence_sql_type(t->examples, prop->string, declared);
		ImportColumn *c;

		if (seen != NULL)
			elog(DEBUG1, "civis_fdw: %s: field \"%s\" declared %s, examples show %s%s",
				 t->path, prop->string, declared, seen,
				 type == NULL ? "" : strcmp(type, seen) == 0 ?
				 " (as quirks.c says)" : " (quirks.c says otherwise)");
		if (type == NULL)
			type = seen;
		if (type == NULL)
			type = declared;

		c = new_column(civis_camel_to_snake(prop->string), type);
		c->key = pstrdup(prop->string);
		c->field = true;
		c->scalar = scalar && strcmp(type, "jsonb") != 0;
		if (find_column(t, c->name) != NULL)
			c->name = unique_column_name(t, c->name);
		t->fields = lappend(t->fields, c);
	}
}

/* (a) path parameters */
static void
build_path_columns(ImportState *st, ImportTable *t)
{
	const char *p = t->path;

	while ((p = strchr(p, '{')) != NULL)
	{
		const char *close = strchr(p, '}');
		char	   *pname;
		char	   *colname;
		ImportColumn *c;
		cJSON	   *param;
		const char *list = NULL;

		if (close == NULL)
			break;
		pname = pnstrdup(p + 1, close - p - 1);
		p = close + 1;

		colname = civis_path_param_column(t->path, pname);
		c = find_column(t, colname);
		if (c != NULL && c->field && c->scalar && c->param == NULL)
		{
			c->param = pname;
			c->exact = true;
			continue;
		}
		param = find_param(t->params, "path", pname);
		c = new_column(unique_column_name(t, colname),
					   param ? param_sql_type(st, param, &list) : "text");
		c->param = pname;
		c->param_only = true;
		t->path_cols = lappend(t->path_cols, c);
	}
}

/* Attach a query parameter's options to a column. */
static void
set_param_options(ImportColumn *c, const char *pname, const char *list,
				  List *values, const CivisFilterQuirk *fq, bool exact)
{
	c->param = pstrdup(pname);
	c->list = list;
	c->values = join_values(values);
	c->exact = exact;
	c->secret = is_secret_name(pname);
	if (fq && fq->scope_default)
		c->scope_default = pstrdup(fq->scope_default);
	else if (strcmp(pname, "archived") == 0 && values_contain(values, "all"))
		c->scope_default = "all";
}

static bool
try_synthetic(ImportTable *t, const char *pname, const char *list,
			  List *values)
{
	cJSON	   *props = cJSON_GetObjectItemCaseSensitive(t->item, "properties");
	const CivisSyntheticQuirk *sq;

	for (int i = 0; (sq = civis_quirk_synthetic(pname, i)) != NULL; i++)
	{
		cJSON	   *need = cJSON_GetObjectItemCaseSensitive(props, sq->needs_field);
		ImportColumn *existing;
		ImportColumn *c;

		if (need == NULL)
			continue;
		if (sq->unless_field &&
			cJSON_GetObjectItemCaseSensitive(props, sq->unless_field))
			continue;

		existing = find_column(t, sq->column);
		if (existing != NULL && existing->scalar && existing->param == NULL)
		{
			/* the item already carries the id as a scalar field */
			set_param_options(existing, pname, list ? list : sq->list,
							  values, NULL, sq->exact);
			return true;
		}
		if (existing != NULL)
			continue;
		c = new_column(sq->column, sq->sql_type);
		c->key = pstrdup(sq->key);
		set_param_options(c, pname, list ? list : sq->list, values, NULL,
						  sq->exact);
		t->synthetic = lappend(t->synthetic, c);
		return true;
	}
	return false;
}

/* (c), (d) and options on (b), from the query parameters */
static void
build_query_columns(ImportState *st, ImportTable *t)
{
	ListCell   *lc;

	foreach(lc, t->params)
	{
		cJSON	   *param = lfirst(lc);
		const char *pname = json_str(param, "name");
		const char *ptype = json_str(param, "type");
		const char *desc = json_str(param, "description");
		const CivisFilterQuirk *fq;
		const char *match_name = pname;
		const char *list = NULL;
		const char *type;
		List	   *values;
		ImportColumn *c;

		if (strcmp(json_str(param, "in"), "query") != 0 ||
			is_paging_param(pname))
			continue;

		fq = civis_quirk_filter(t->path, pname, ptype);
		if (fq && fq->column)
			match_name = fq->column;

		type = param_sql_type(st, param, &list);
		if (list == NULL && desc &&
			(find_ci(desc, "comma-separated") || find_ci(desc, "comma separated")))
			list = "csv";
		values = parse_enumeration(desc);
		if (values == NIL && fq && fq->values)
		{
			char	   *copy = pstrdup(fq->values);

			for (char *tok = strtok(copy, ","); tok; tok = strtok(NULL, ","))
				values = lappend(values, tok);
		}

		/* author -> author_id from author.id (or user.id) */
		if (try_synthetic(t, pname, list, values))
			continue;

		/* <field>_before / <field>_after on a timestamp column <field>_at */
		if (ends_with(pname, "_before") || ends_with(pname, "_after"))
		{
			bool		before = ends_with(pname, "_before");
			size_t		stem = strlen(pname) - (before ? 7 : 6);
			char	   *colname = psprintf("%.*s_at", (int) stem, pname);

			c = find_column(t, colname);
			if (c && c->field && strcmp(c->type, "timestamptz") == 0 &&
				(before ? c->before : c->after) == NULL)
			{
				if (before)
					c->before = pstrdup(pname);
				else
					c->after = pstrdup(pname);
				continue;
			}
		}

		/* a scalar field of the same name */
		c = find_column(t, match_name);
		if (c && c->field && c->scalar && c->param == NULL)
		{
			set_param_options(c, pname, list, values, fq, fq ? fq->exact : false);
			continue;
		}

		/* a parameter-only column */
		c = new_column(unique_column_name(t, match_name), type);
		set_param_options(c, pname, list, values, fq, false);
		c->param_only = true;
		t->param_cols = lappend(t->param_cols, c);
	}
}

/* order_by on columns, order_default on the table, from "order" */
static void
apply_order(ImportTable *t)
{
	cJSON	   *param = find_param(t->params, "query", "order");
	const char *desc;
	const char *p;

	if (param == NULL)
		return;
	desc = json_str(param, "description");
	if (desc == NULL)
		return;

	t->order_default = parse_default(desc);

	p = find_ci(desc, "Must be one of");
	if (p != NULL)
	{
		List	   *values = parse_enumeration(p);
		ListCell   *lc;

		foreach(lc, values)
		{
			ImportColumn *c = find_column(t, lfirst(lc));

			if (c && c->field && c->scalar && c->order_by == NULL)
				c->order_by = pstrdup(lfirst(lc));
		}
	}
}

/* --------------------------------------------------------------------
 * Table options
 * -------------------------------------------------------------------- */

static void
set_paging(ImportTable *t)
{
	cJSON	   *limit = find_param(t->params, "query", "limit");

	if (limit == NULL)
		t->paging = "none";
	else if (find_param(t->params, "query", "page_num"))
		t->paging = "pages";
	else if (find_param(t->params, "query", "last_id"))
		t->paging = "cursor";
	else if (find_param(t->params, "query", "start_at") ||
			 find_param(t->params, "query", "end_at"))
		t->paging = "window";
	else if (find_param(t->params, "query", "offset"))
		t->paging = "offset";
	else
		t->paging = "none";

	if (limit != NULL)
		t->page_size = parse_page_size(json_str(limit, "description"));
}

/*
 * detail_endpoint: a GET at "<list path>/{x}" (one more placeholder; {id}
 * preferred) answering with an object whose properties include every
 * property of the list item with an identical schema.  The item must have
 * an "id": the executor puts the row's id in the final placeholder and
 * the list endpoint's own path parameters in the others.
 */
static void
set_detail_endpoint(ImportState *st, ImportTable *t)
{
	size_t		baselen = strlen(t->path);
	cJSON	   *props = cJSON_GetObjectItemCaseSensitive(t->item, "properties");
	cJSON	   *path_item;
	char	   *best = NULL;

	if (cJSON_GetObjectItemCaseSensitive(props, "id") == NULL)
		return;
	while (baselen > 0 && t->path[baselen - 1] == '/')
		baselen--;

	cJSON_ArrayForEach(path_item, st->paths)
	{
		const char *cand = path_item->string;
		const char *rest;
		size_t		rlen;
		cJSON	   *op;
		cJSON	   *detail;
		cJSON	   *prop;
		bool		ok = true;

		if (strncmp(cand, t->path, baselen) != 0 || cand[baselen] != '/')
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

			if (strstr(t->path, ph) != NULL)
				continue;
		}
		op = cJSON_GetObjectItemCaseSensitive(path_item, "get");
		if (op == NULL)
			continue;
		detail = resolve(st, get_200_schema(op));
		if (detail == NULL || !is_object_schema(detail) ||
			civis_quirk_array_response(cand))
			continue;

		cJSON_ArrayForEach(prop, props)
		{
			cJSON	   *other = cJSON_GetObjectItemCaseSensitive(
																 cJSON_GetObjectItemCaseSensitive(detail, "properties"),
																 prop->string);

			if (other == NULL || !schema_equal(st, prop, other, 0))
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
	t->detail_endpoint = best;
}

/* --------------------------------------------------------------------
 * Statement text
 * -------------------------------------------------------------------- */

static void
append_option(StringInfo buf, bool *first, const char *name, const char *value)
{
	if (value == NULL)
		return;
	appendStringInfoString(buf, *first ? " OPTIONS (" : ", ");
	appendStringInfo(buf, "%s %s", name, quote_literal_cstr(value));
	*first = false;
}

static char *
table_statement(ImportTable *t, const char *schema, const char *server)
{
	StringInfoData buf;
	ListCell   *lc;
	bool		first_col = true;
	bool		first;

	initStringInfo(&buf);
	appendStringInfo(&buf, "CREATE FOREIGN TABLE %s.%s (",
					 quote_identifier(schema), quote_identifier(t->name));

	foreach(lc, t->columns)
	{
		ImportColumn *c = lfirst(lc);

		appendStringInfo(&buf, "%s\n  %s %s", first_col ? "" : ",",
						 quote_identifier(c->name), c->type);
		first_col = false;
		first = true;
		append_option(&buf, &first, "key", c->key);
		append_option(&buf, &first, "param", c->param);
		append_option(&buf, &first, "param_only", c->param_only ? "true" : NULL);
		append_option(&buf, &first, "exact", c->exact ? "true" : NULL);
		append_option(&buf, &first, "list", c->list);
		append_option(&buf, &first, "values", c->values);
		append_option(&buf, &first, "after", c->after);
		append_option(&buf, &first, "before", c->before);
		append_option(&buf, &first, "scope_default", c->scope_default);
		append_option(&buf, &first, "order_by", c->order_by);
		append_option(&buf, &first, "secret", c->secret ? "true" : NULL);
		if (!first)
			appendStringInfoChar(&buf, ')');
	}

	appendStringInfo(&buf, "\n) SERVER %s", quote_identifier(server));
	first = true;
	append_option(&buf, &first, "endpoint", t->path);
	append_option(&buf, &first, "paging", t->paging);
	if (t->page_size > 0)
		append_option(&buf, &first, "page_size", psprintf("%d", t->page_size));
	append_option(&buf, &first, "detail_endpoint", t->detail_endpoint);
	append_option(&buf, &first, "order_default", t->order_default);
	if (!first)
		appendStringInfoChar(&buf, ')');
	return buf.data;
}

/* --------------------------------------------------------------------
 * Entry point
 * -------------------------------------------------------------------- */

static bool
wanted_table(ImportForeignSchemaStmt *stmt, const char *name)
{
	ListCell   *lc;
	bool		listed = false;

	if (stmt->list_type == FDW_IMPORT_SCHEMA_ALL)
		return true;
	foreach(lc, stmt->table_list)
	{
		RangeVar   *rv = lfirst(lc);

		if (strcmp(rv->relname, name) == 0)
			listed = true;
	}
	return stmt->list_type == FDW_IMPORT_SCHEMA_LIMIT_TO ? listed : !listed;
}

static bool
is_deprecated(cJSON *op)
{
	cJSON	   *dep = cJSON_GetObjectItemCaseSensitive(op, "deprecated");

	return cJSON_IsTrue(dep) || find_ci(json_str(op, "summary"), "deprecated");
}

/*
 * A table name not taken yet: the plain name, else name_by_<placeholders>,
 * else a numeric suffix.  Paths are visited in spec order, so the first
 * endpoint keeps the plain name.
 */
static char *
unique_table_name(List *taken, const char *path, const char *name)
{
	char	   *candidate = pstrdup(name);
	ListCell   *lc;
	bool		clash;

	for (int n = 0;; n++)
	{
		clash = false;
		foreach(lc, taken)
			if (strcmp(((ImportTable *) lfirst(lc))->name, candidate) == 0)
				clash = true;
		if (!clash)
			return candidate;
		if (n == 0)
		{
			StringInfoData buf;
			const char *p = path;

			initStringInfo(&buf);
			appendStringInfo(&buf, "%s_by", name);
			while ((p = strchr(p, '{')) != NULL)
			{
				const char *close = strchr(p, '}');

				if (close == NULL)
					break;
				appendStringInfo(&buf, "_%s",
								 civis_camel_to_snake(pnstrdup(p + 1, close - p - 1)));
				p = close + 1;
			}
			candidate = buf.data;
		}
		else
			candidate = psprintf("%s_%d", name, n + 1);
	}
}

static cJSON *
fetch_spec(Oid serverOid)
{
	CivisTableInfo *srv = civis_get_server_info(serverOid);
	char	   *key = civis_get_api_key(serverOid, GetUserId());
	CivisHttpConfig cfg;
	CivisHttp  *http;
	CivisResponse resp;
	int			ticket;
	cJSON	   *root;

	civis_http_config_from_table(&cfg, srv, key);
	http = civis_http_begin(CurrentMemoryContext, &cfg);
	ticket = civis_http_submit(http, psprintf("%s/endpoints", srv->api_url),
							   "/endpoints");
	memset(&resp, 0, sizeof(resp));
	civis_http_wait(http, ticket, &resp);
	if (resp.status != 200)
		civis_raise_http_error(&resp, "/endpoints", NULL);

	civis_json_init();
	root = cJSON_ParseWithLength(resp.body, resp.body_len);
	if (root == NULL || !cJSON_IsObject(root) ||
		!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(root, "paths")))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("the Civis API's GET /endpoints did not answer with a Swagger spec"),
				 errdetail("The response has %zu bytes%s.", resp.body_len,
						   root == NULL ? " and is not valid JSON" :
						   " and has no \"paths\" object")));
	return root;
}

List *
civisImportForeignSchema(ImportForeignSchemaStmt *stmt, Oid serverOid)
{
	MemoryContext cxt;
	MemoryContext old;
	bool		include_deprecated = true;
	ListCell   *lc;
	ForeignServer *server;
	ImportState st;
	cJSON	   *root;
	cJSON	   *path_item;
	List	   *tables = NIL;
	List	   *statements = NIL;
	List	   *result = NIL;

	if (strcmp(stmt->remote_schema, "civis") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_SCHEMA_NOT_FOUND),
				 errmsg("schema \"%s\" is not available from the Civis API",
						stmt->remote_schema),
				 errhint("The Civis API has one schema; use IMPORT FOREIGN SCHEMA civis ...")));

	foreach(lc, stmt->options)
	{
		DefElem    *def = lfirst(lc);

		if (strcmp(def->defname, "include_deprecated") == 0)
			include_deprecated = defGetBoolean(def);
		else
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
					 errmsg("invalid IMPORT FOREIGN SCHEMA option \"%s\"",
							def->defname),
					 errhint("Valid options are: include_deprecated.")));
	}

	server = GetForeignServer(serverOid);

	cxt = AllocSetContextCreate(CurrentMemoryContext, "civis_fdw import",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);

	root = fetch_spec(serverOid);
	st.paths = cJSON_GetObjectItemCaseSensitive(root, "paths");
	st.defs = cJSON_GetObjectItemCaseSensitive(root, "definitions");

	/* pass 1: the list endpoints and their names (independent of LIMIT TO) */
	cJSON_ArrayForEach(path_item, st.paths)
	{
		const char *path = path_item->string;
		cJSON	   *op = cJSON_GetObjectItemCaseSensitive(path_item, "get");
		cJSON	   *item;
		ImportTable *t;
		char	   *name;

		if (op == NULL || path == NULL)
			continue;
		item = list_item_definition(&st, path, op);
		if (item == NULL)
			continue;
		name = civis_table_name_for_path(path);
		if (*name == '\0')
			continue;

		t = palloc0(sizeof(ImportTable));
		t->path = path;
		t->op = op;
		t->item = item;
		t->name = unique_table_name(tables, path, name);
		t->params = collect_params(&st, path_item, op);
		tables = lappend(tables, t);
	}

	/* pass 2: columns and statements of the wanted tables */
	foreach(lc, tables)
	{
		ImportTable *t = lfirst(lc);

		if (!include_deprecated && is_deprecated(t->op))
			continue;
		if (!wanted_table(stmt, t->name))
			continue;

		t->examples = example_items(t->op);
		build_field_columns(&st, t);
		build_path_columns(&st, t);
		build_query_columns(&st, t);
		apply_order(t);
		set_paging(t);
		set_detail_endpoint(&st, t);

		t->columns = list_concat(list_concat(list_copy(t->path_cols), t->fields),
								 list_concat(list_copy(t->synthetic), t->param_cols));
		if (t->columns == NIL)
			continue;
		statements = lappend(statements,
							 table_statement(t, stmt->local_schema,
											 server->servername));
	}

	MemoryContextSwitchTo(old);
	foreach(lc, statements)
		result = lappend(result, pstrdup(lfirst(lc)));
	MemoryContextDelete(cxt);

	return result;
}
