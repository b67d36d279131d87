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
 * The spec is untrusted input.  It is parsed against the same memory budget
 * as a page (json_page.c), every loop over it checks for interrupts, no
 * step is worse than linear in its size (indexes in SwaggerDoc; schema
 * comparisons memoised), and an endpoint whose texts cannot go into the
 * catalogs is skipped with a WARNING (endpoint_acceptable).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>

#include "common/hashfn.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/hsearch.h"

#include "civis_fdw.h"
#include "json_page.h"
#include "quirks.h"
#include "spec.h"

#define MAX_REF_DEPTH 64
#define MAX_COMPARE_DEPTH 32
/* the x-examples items looked at, in all (evidence, not data) */
#define MAX_EXAMPLE_ITEMS 100

/*
 * The parsed spec and indexes into it, so that no step is worse than
 * linear in the spec's size: definitions by name, candidate detail paths
 * by their parent path, and the schema comparisons already made.
 */
typedef struct SwaggerDoc
{
	cJSON	   *paths;
	cJSON	   *defs;
	HTAB	   *def_index;		/* StrEntry: definition name -> cJSON * */
	HTAB	   *detail_index;	/* StrEntry: parent path -> List of path items
								 * "<parent>/{x}" */
	HTAB	   *compared;		/* PairEntry: schema_equal's memo */
	CivisJsonBudget budget;		/* the spec's tree and its examples' */
} SwaggerDoc;

/* --------------------------------------------------------------------
 * Hash tables keyed by strings of any length, or by pairs of schemas
 * -------------------------------------------------------------------- */

typedef struct StrEntry
{
	const char *key;			/* first: the hash key is this pointer's
								 * string */
	void	   *value;
} StrEntry;

static uint32
str_key_hash(const void *key, Size keysize)
{
	const char *s = *(const char *const *) key;

	return hash_bytes((const unsigned char *) s, (int) strlen(s));
}

static int
str_key_match(const void *a, const void *b, Size keysize)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

static HTAB *
str_table(const char *name, long nelem)
{
	HASHCTL		ctl;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(const char *);
	ctl.entrysize = sizeof(StrEntry);
	ctl.hash = str_key_hash;
	ctl.match = str_key_match;
	ctl.hcxt = CurrentMemoryContext;
	return hash_create(name, Max(nelem, 16), &ctl,
					   HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_CONTEXT);
}

/* The entry of key, created with value NULL when missing. */
static StrEntry *
str_enter(HTAB *table, const char *key, bool *found)
{
	return (StrEntry *) hash_search(table, &key, HASH_ENTER, found);
}

static void *
str_lookup(HTAB *table, const char *key)
{
	StrEntry   *e = (StrEntry *) hash_search(table, &key, HASH_FIND, NULL);

	return e ? e->value : NULL;
}

typedef struct PairKey
{
	cJSON	   *a;
	cJSON	   *b;
} PairKey;

typedef struct PairEntry
{
	PairKey		key;
	char		state;			/* 'c' being compared, 't' equal, 'f' not */
} PairEntry;

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
		if (((p - hay) & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
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

static const char *
member_name(const cJSON *member)
{
	return member->string ? member->string : "";
}

static int
cmp_member_names(const void *a, const void *b)
{
	return strcmp(member_name(*(const cJSON *const *) a),
				  member_name(*(const cJSON *const *) b));
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
		schema = str_lookup(doc->def_index, ref + 14);
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

/* A schema's properties sorted by name (for comparing two in n log n). */
static cJSON **
sorted_properties(cJSON *props, int n)
{
	cJSON	  **arr = palloc(sizeof(cJSON *) * Max(n, 1));
	cJSON	   *child;
	int			i = 0;

	cJSON_ArrayForEach(child, props)
		arr[i++] = child;
	qsort(arr, n, sizeof(cJSON *), cmp_member_names);
	return arr;
}

static bool schema_equal(SwaggerDoc *doc, cJSON *a, cJSON *b, int depth);

/* schema_equal of two resolved, distinct schemas (not memoised). */
static bool
schema_equal_resolved(SwaggerDoc *doc, cJSON *a, cJSON *b, int depth)
{
	const char *ta,
			   *tb,
			   *fa,
			   *fb;
	cJSON	   *pa,
			   *pb,
			   *ia,
			   *ib;

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
		int			n = cJSON_GetArraySize(pa);
		cJSON	  **sa;
		cJSON	  **sb;
		bool		equal = true;

		if (n != cJSON_GetArraySize(pb))
			return false;
		sa = sorted_properties(pa, n);
		sb = sorted_properties(pb, n);
		for (int i = 0; i < n && equal; i++)
		{
			CHECK_FOR_INTERRUPTS();
			equal = strcmp(member_name(sa[i]), member_name(sb[i])) == 0 &&
				schema_equal(doc, sa[i], sb[i], depth + 1);
		}
		pfree(sa);
		pfree(sb);
		return equal;
	}
	return true;
}

/*
 * Structural equality of two schemas after resolving $refs: same type,
 * format, properties (names and schemas) and items.  Descriptions and
 * "required" lists are documentation and are not compared.
 *
 * Each pair of schemas is compared once (doc->compared remembers the
 * outcome), so the work is linear in the spec's size even when chains of
 * definitions refer to each other many times over; a pair met again while
 * it is still being compared (a cycle) counts as unequal, as does anything
 * deeper than MAX_COMPARE_DEPTH.
 */
static bool
schema_equal(SwaggerDoc *doc, cJSON *a, cJSON *b, int depth)
{
	PairKey		key;
	PairEntry  *entry;
	bool		found;
	bool		equal;

	a = resolve(doc, a);
	b = resolve(doc, b);
	if (a == b)
		return true;
	if (a == NULL || b == NULL || depth > MAX_COMPARE_DEPTH)
		return false;
	CHECK_FOR_INTERRUPTS();
	check_stack_depth();

	key.a = a;
	key.b = b;
	entry = (PairEntry *) hash_search(doc->compared, &key, HASH_ENTER, &found);
	if (found)
		return entry->state == 't';
	entry->state = 'c';
	equal = schema_equal_resolved(doc, a, b, depth);
	/* dynahash entries stay where they are while others are added */
	entry->state = equal ? 't' : 'f';
	return equal;
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

		/* an item that declares no fields at all is still a row */
		return (item && (is_object_schema(item) || json_str(item, "type") == NULL))
			? item : NULL;
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
		CHECK_FOR_INTERRUPTS();
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

			CHECK_FOR_INTERRUPTS();
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

			CHECK_FOR_INTERRUPTS();
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

		CHECK_FOR_INTERRUPTS();
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
 * The values after a phrase that introduces a list: "possible values are",
 * "One or more of", "Must be one of", "May be one of", "The valid types
 * are", "Valid types include", "Valid options", "either" or "one of" (the
 * last two only when a quote, colon or bracket follows).  NIL when none.
 */
static List *
phrase_enumeration(const char *desc)
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

	for (int i = 0; i < lengthof(triggers); i++)
	{
		const char *p = find_ci(desc, triggers[i].trigger);

		for (; p != NULL; p = find_ci(p + 1, triggers[i].trigger))
		{
			const char *q = p + strlen(triggers[i].trigger);
			const char *end;

			CHECK_FOR_INTERRUPTS();
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
	return NIL;
}

/*
 * The values of the first parenthesised slash list of words in a
 * description, "(active/trial/inactive)"; NIL when there is none.
 */
static List *
slash_enumeration(const char *desc)
{
	List	   *values = NIL;

	for (const char *p = strchr(desc, '('); p != NULL; p = strchr(p + 1, '('))
	{
		const char *close = strchr(p, ')');
		bool		ok = true;

		CHECK_FOR_INTERRUPTS();
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

/*
 * The values a description enumerates: after a phrase that introduces
 * them, else in a parenthesised slash list.  NIL when there is none.
 */
static List *
parse_enumeration(const char *desc)
{
	List	   *values;

	if (desc == NULL)
		return NIL;
	values = phrase_enumeration(desc);
	return values != NIL ? values : slash_enumeration(desc);
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

/*
 * Is a property declared as an object, and which members does it declare?
 * A synthetic column reads a member of it (author.id), so it is made only
 * when the field has that shape (import.c).
 */
static void
read_object_shape(SwaggerDoc *doc, cJSON *prop, CivisSpecProperty *p)
{
	cJSON	   *r = resolve(doc, prop);
	cJSON	   *member;

	if (r == NULL || !is_object_schema(r))
		return;
	p->object = true;
	cJSON_ArrayForEach(member, cJSON_GetObjectItemCaseSensitive(r, "properties"))
	{
		if (member->string != NULL)
			p->members = lappend(p->members, member->string);
	}
}

/* Example items (cJSON objects) of the GET's recorded 200 responses. */
static List *
example_items(SwaggerDoc *doc, cJSON *op)
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

			CHECK_FOR_INTERRUPTS();
			if (list_length(items) >= MAX_EXAMPLE_ITEMS)
				return items;
			if (!cJSON_IsNumber(status) || status->valuedouble != 200 ||
				body == NULL)
				continue;
			/* against the spec's budget; past it, examples are ignored */
			parsed = civis_json_parse(body, strlen(body), NULL, &doc->budget);
			if (!cJSON_IsArray(parsed))
				continue;
			cJSON_ArrayForEach(it, parsed)
			{
				if (list_length(items) >= MAX_EXAMPLE_ITEMS)
					break;
				if (cJSON_IsObject(it))
					items = lappend(items, it);
			}
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

		CHECK_FOR_INTERRUPTS();
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
	List	   *candidates;
	ListCell   *lc;
	char	   *best = NULL;

	if (cJSON_GetObjectItemCaseSensitive(props, "id") == NULL)
		return NULL;
	while (baselen > 0 && path[baselen - 1] == '/')
		baselen--;
	candidates = str_lookup(doc->detail_index, pnstrdup(path, baselen));

	foreach(lc, candidates)
	{
		cJSON	   *path_item = lfirst(lc);
		const char *cand = path_item->string;
		const char *rest = cand + baselen + 1;
		size_t		rlen = strlen(rest);
		cJSON	   *op;
		cJSON	   *detail;
		cJSON	   *prop;
		bool		ok = true;

		CHECK_FOR_INTERRUPTS();
		if (rlen > 0 && rest[rlen - 1] == '/')
			rlen--;
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

			CHECK_FOR_INTERRUPTS();
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

/*
 * The parent of a path that may be a detail endpoint ("<parent>/{x}", one
 * trailing '/' allowed, no '/' in the placeholder), or NULL.
 */
static char *
detail_parent(const char *cand)
{
	size_t		len = strlen(cand);
	const char *slash;
	size_t		rlen;

	if (len > 0 && cand[len - 1] == '/')
		len--;
	slash = NULL;
	for (size_t i = 0; i < len; i++)
		if (cand[i] == '/')
			slash = cand + i;
	if (slash == NULL)
		return NULL;
	rlen = len - (slash + 1 - cand);
	if (rlen < 3 || slash[1] != '{' || slash[rlen] != '}')
		return NULL;
	return pnstrdup(cand, slash - cand);
}

/* The indexes of SwaggerDoc, built once per spec. */
static void
index_spec(SwaggerDoc *doc)
{
	cJSON	   *c;

	doc->def_index = str_table("civis_fdw spec definitions",
							   cJSON_GetArraySize(doc->defs));
	cJSON_ArrayForEach(c, doc->defs)
	{
		StrEntry   *e;
		bool		found;

		CHECK_FOR_INTERRUPTS();
		if (c->string == NULL)
			continue;
		e = str_enter(doc->def_index, c->string, &found);
		if (!found)
			e->value = c;		/* the first of duplicates, as cJSON finds */
	}

	doc->detail_index = str_table("civis_fdw spec detail paths",
								  cJSON_GetArraySize(doc->paths));
	cJSON_ArrayForEach(c, doc->paths)
	{
		char	   *parent;
		StrEntry   *e;
		bool		found;

		CHECK_FOR_INTERRUPTS();
		if (c->string == NULL || (parent = detail_parent(c->string)) == NULL)
			continue;
		e = str_enter(doc->detail_index, parent, &found);
		e->value = lappend(found ? (List *) e->value : NIL, c);
	}

	{
		HASHCTL		ctl;

		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(PairKey);
		ctl.entrysize = sizeof(PairEntry);
		ctl.hcxt = CurrentMemoryContext;
		doc->compared = hash_create("civis_fdw schema comparisons", 256, &ctl,
									HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
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
	List	   *examples = example_items(doc, op);
	CivisSpecParam *limit;
	CivisSpecParam *order;
	ListCell   *lc;
	cJSON	   *prop;

	ep->path = path;
	ep->deprecated = is_deprecated(op);

	foreach(lc, collect_params(path_item, op))
	{
		CHECK_FOR_INTERRUPTS();
		ep->params = lappend(ep->params, read_param(doc, lfirst(lc)));
	}

	cJSON_ArrayForEach(prop, cJSON_GetObjectItemCaseSensitive(item, "properties"))
	{
		CivisSpecProperty *p = palloc0(sizeof(CivisSpecProperty));

		CHECK_FOR_INTERRUPTS();
		p->name = prop->string;
		p->sql_type = declared_sql_type(doc, prop, &p->scalar);
		read_object_shape(doc, prop, p);
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
		ListCell   *lp;

		foreach(lp, ep->params)
		{
			CivisSpecParam *p = lfirst(lp);

			if (strcmp(p->in, "query") == 0 && civis_quirk_param_hides_rows(p->name))
				must_carry = p->name;
		}
		ep->detail_endpoint = detail_endpoint(doc, path, item, must_carry);
	}
	return ep;
}

/* --------------------------------------------------------------------
 * The spec is untrusted input
 * -------------------------------------------------------------------- */

/*
 * Why a text of the spec may not become a name, a path or an option value
 * in the catalogs, or NULL when it may: it must be valid UTF-8 (and ASCII
 * when the database encoding is not UTF-8), hold no control character
 * (C0, DEL, C1; a NUL arrives here as U+0001, see civis_spec_read) and no
 * bidirectional formatting character, and not be empty.
 */
static const char *
text_problem(const char *text)
{
	const unsigned char *p = (const unsigned char *) text;
	size_t		len;
	bool		db_utf8 = GetDatabaseEncoding() == PG_UTF8;

	if (text == NULL)
		return NULL;
	len = strlen(text);
	if (len == 0)
		return "is empty";
	if (len > INT_MAX / 2 || !pg_verify_mbstr(PG_UTF8, text, (int) len, true))
		return "is not valid UTF-8";
	for (size_t i = 0; i < len; i++)
	{
		if (p[i] < 0x20 || p[i] == 0x7F)
			return "contains a NUL or control character";
		if (p[i] >= 0x80 && !db_utf8)
			return "contains a non-ASCII character, and the database encoding is not UTF8";
		if (p[i] == 0xC2 && p[i + 1] >= 0x80 && p[i + 1] <= 0x9F)
			return "contains a control character";
		if (civis_bidi_control_len(text + i, len - i) > 0)
			return "contains a bidirectional formatting character";
	}
	return NULL;
}

/* A problem with a list of option values (char *), or NULL. */
static const char *
values_problem(List *values)
{
	ListCell   *lc;

	foreach(lc, values)
	{
		const char *why = text_problem(lfirst(lc));

		if (why != NULL)
			return why;
	}
	return NULL;
}

/*
 * Refuse an endpoint whose texts cannot all go into the catalogs: WARNING
 * naming it and what is wrong, and false.  Everything IMPORT writes comes
 * from the texts checked here (names of columns derive from property and
 * parameter names; options from paths, names and enumerated values).
 */
static bool
endpoint_acceptable(const CivisSpecEndpoint *ep)
{
	const char *what = NULL;
	const char *name = NULL;
	const char *why;
	ListCell   *lc;

	if ((why = text_problem(ep->path)) != NULL)
		what = "its path";
	else if ((why = text_problem(ep->detail_endpoint)) != NULL)
		what = "its detail endpoint", name = ep->detail_endpoint;
	else if ((why = text_problem(ep->order_default)) != NULL ||
			 (why = values_problem(ep->order_values)) != NULL)
		what = "the description of its \"order\" parameter";
	foreach(lc, ep->properties)
	{
		CivisSpecProperty *prop = lfirst(lc);

		if (what != NULL)
			break;
		if ((why = text_problem(prop->name)) != NULL)
			what = "the name of a property", name = prop->name;
	}
	foreach(lc, ep->params)
	{
		CivisSpecParam *param = lfirst(lc);

		if (what != NULL)
			break;
		if ((why = text_problem(param->name)) != NULL)
			what = "the name of a parameter", name = param->name;
		else if ((why = values_problem(param->values)) != NULL)
			what = "the values described for a parameter", name = param->name;
	}
	if (what == NULL)
	{
		/*
		 * The path must stay under the server's URL (option.c's path rule,
		 * the one the endpoint option is held to); every {placeholder}
		 * becomes a column, so none may be empty.
		 */
		if (strstr(ep->path, "{}") != NULL)
			what = "its path", why = "has an empty {} placeholder";
		else if ((why = civis_path_problem(ep->path, CIVIS_PATH_TEMPLATE)) != NULL)
			what = "its path";
		else if (ep->detail_endpoint != NULL &&
				 (why = civis_path_problem(ep->detail_endpoint, CIVIS_PATH_TEMPLATE)) != NULL)
			what = "its detail endpoint", name = ep->detail_endpoint;
		else
			return true;
	}
	ereport(WARNING,
			(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
			 errmsg("skipping endpoint \"%s\" of the Civis API spec",
					civis_message_text(ep->path, strlen(ep->path), 200)),
			 name ? errdetail("The text \"%s\" in %s %s.",
							  civis_message_text(name, strlen(name), 200),
							  what, why)
			 : errdetail("The text of %s %s.", what, why)));
	return false;
}

/*
 * A copy of the body in which every NUL -- the escape \u0000, or a raw
 * byte -- is U+0001 instead.  cJSON would end a string at a NUL and so
 * silently cut a name; U+0001, a control character, makes text_problem
 * refuse the endpoint that uses the string instead.  A backslash inside a
 * JSON string always starts a two-character escape, so skipping both keeps
 * "\\u0000" (a backslash, then the text u0000) as it is.
 */
static char *
nul_free_copy(const char *body, size_t len)
{
	char	   *copy = palloc_extended(len + 1, MCXT_ALLOC_HUGE);

	memcpy(copy, body, len);
	copy[len] = '\0';
	for (size_t i = 0; i < len; i++)
	{
		if (i % (1 << 20) == 0)
			CHECK_FOR_INTERRUPTS();
		if (copy[i] == '\0')
			copy[i] = '\x01';
		else if (copy[i] == '\\' && i + 1 < len)
		{
			if (len - i >= 6 && memcmp(copy + i + 1, "u0000", 5) == 0)
				copy[i + 5] = '1';
			i++;
		}
	}
	return copy;
}

/*
 * The list endpoints of a spec, in spec order (which decides who keeps a
 * contested table name).  Errors out when the body is no Swagger spec; an
 * endpoint that cannot be imported is skipped with a WARNING.
 */
List *
civis_spec_read(const char *body, size_t len)
{
	cJSON	   *root;
	SwaggerDoc	doc;
	cJSON	   *path_item;
	List	   *endpoints = NIL;
	char	   *text;

	memset(&doc, 0, sizeof(doc));
	text = nul_free_copy(body ? body : "", body ? len : 0);
	civis_json_budget_init(&doc.budget, CIVIS_JSON_TREE_LIMIT);
	root = civis_json_parse(text, len, NULL, &doc.budget);
	if (root == NULL && doc.budget.exceeded)
		civis_json_budget_error(&doc.budget, len, "GET /endpoints");
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
	index_spec(&doc);

	cJSON_ArrayForEach(path_item, doc.paths)
	{
		const char *path = path_item->string;
		cJSON	   *op = cJSON_GetObjectItemCaseSensitive(path_item, "get");
		cJSON	   *item;
		CivisSpecEndpoint *ep;

		CHECK_FOR_INTERRUPTS();
		if (op == NULL || path == NULL)
			continue;
		item = list_item_definition(&doc, path, op);
		if (item == NULL)
			continue;
		ep = read_endpoint(&doc, path, path_item, op, item);
		if (endpoint_acceptable(ep))
			endpoints = lappend(endpoints, ep);
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
