/*-------------------------------------------------------------------------
 *
 * decode.c
 *		  The only file that turns JSON into Datums.
 *
 * A response body is parsed once (cJSON) into a CivisPage: the tree plus an
 * array of its items, so item i is found in O(1).  A CivisDecoder is built
 * once per scan from the table's columns and the attributes the plan needs;
 * it holds everything per-row work would otherwise look up (keys split into
 * paths, input functions, a hash from JSON member name to column), so that
 * decoding one item only walks that item's members once and converts the
 * values of the retrieved columns.
 *
 * Memory.  cJSON allocates through hooks that palloc in CurrentMemoryContext
 * (see civis_json_init).  A page therefore lives in whatever context the
 * scan parses it in, normally a per-page context that is reset for each new
 * page; decoded Datums live in the context current at civis_decode_item()
 * time (the per-tuple context); the decoder itself lives in the context
 * current at civis_decoder_create() time (the per-scan context).
 *
 * Numbers.  cJSON keeps every JSON number as a C double.  Integers are exact
 * up to 2^53; beyond that digits are already gone when we see the value, so
 * integer columns refuse such values rather than return a wrong number.
 * Non-integral numbers are rendered with the shortest decimal text that reads
 * back as the same double, which equals the text the API sent whenever that
 * text had at most 15 significant digits.
 *
 * Strings.  The body is checked to be UTF-8 before parsing, and \u0000 is
 * refused (cJSON would cut the string there; PostgreSQL text cannot hold it
 * anyway).  cJSON refuses unpaired surrogate escapes.  Strings are converted
 * to the database encoding when that is not UTF-8.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include <cjson/cJSON.h>

#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "civis_fdw.h"

/*
 * Integers below this magnitude survive the trip through a double.  2^53
 * itself does not count: 2^53 + 1 parses to the same double, so a value of
 * exactly 2^53 may be a rounded larger one.
 */
#define JSON_EXACT_INT_LIMIT 9007199254740992.0	/* 2^53 */

/* Longest text of a formatted number: shortest form or an int64. */
#define NUMBER_BUF_LEN 32

/* Length of value excerpts in error details, and of parse-error excerpts. */
#define VALUE_EXCERPT_BYTES 100
#define PARSE_EXCERPT_CHARS 40

/* The member key that stands for the whole item. */
#define WHOLE_ITEM_KEY "."

#define cjson_type(v) ((v)->type & 0xFF)

/* --------------------------------------------------------------------
 * Data structures
 * -------------------------------------------------------------------- */

struct CivisPage
{
	cJSON	   *root;			/* the parsed body */
	cJSON	  **items;			/* its items, for O(1) access */
	int			nitems;
	char	   *shown;			/* the request as shown in messages */
	char	   *relname;
};

/* How a column's value is produced from JSON; chosen once per scan. */
typedef enum DecKind
{
	DK_TEXT,					/* text, unconstrained varchar: no input call */
	DK_INT2,
	DK_INT4,
	DK_INT8,
	DK_FLOAT4,
	DK_FLOAT8,
	DK_NUMERIC,
	DK_BOOL,
	DK_DATETIME,				/* timestamptz, timestamp, date, time, timetz */
	DK_JSONB,					/* built from the tree, no text round trip */
	DK_ARRAY,					/* a JSON array into a PostgreSQL array */
	DK_GENERIC					/* input function over the value's text */
} DecKind;

typedef struct DecColumn
{
	AttrNumber	attnum;
	const char *attname;
	Oid			typid;
	int32		typmod;
	DecKind		kind;
	FmgrInfo	infunc;			/* the type's input function */
	Oid			ioparam;

	/* DK_ARRAY only: the element type */
	Oid			elemtype;
	int16		elmlen;
	bool		elmbyval;
	char		elmalign;
	FmgrInfo	elem_infunc;
	Oid			elem_ioparam;

	/* where the value comes from */
	const char *key;			/* as configured, for messages */
	bool		param_only;		/* never read from JSON */
	bool		whole_item;		/* key "." */
	int			entry;			/* index into the decoder's key table */
	int			npath;			/* further components of a dotted key */
	char	  **path;
	size_t	   *pathlen;

	/* the constant of civis_decoder_set_constant */
	bool		has_const;
	bool		const_null;
	Datum		const_value;
} DecColumn;

struct CivisDecoder
{
	MemoryContext cxt;			/* where the decoder and constants live */
	const char *relname;
	int			natts;			/* of the tuple descriptor */
	bool		db_utf8;		/* database encoding is UTF-8 */
	bool		scalar_items_ok;	/* table reads non-object items whole */

	int			ncols;			/* retrieved attributes */
	DecColumn  *cols;

	/* distinct first key components, with an open-addressing hash */
	int			nkeys;
	char	  **key_names;
	uint32	   *key_hashes;
	int		   *slots;			/* key index + 1; 0 = empty */
	uint32		slot_mask;
	const cJSON **found;		/* per key: the member in the current item */

	StringInfoData buf;			/* scratch for text forms, reused */

	/* error context of the conversion in progress */
	const DecColumn *cur_col;
	const CivisPage *cur_page;
	int			cur_index;
};

/* --------------------------------------------------------------------
 * cJSON memory hooks
 * -------------------------------------------------------------------- */

static void *
civis_cjson_malloc(size_t size)
{
	return MemoryContextAllocExtended(CurrentMemoryContext, size,
									  MCXT_ALLOC_HUGE);
}

static void
civis_cjson_free(void *ptr)
{
	/* pfree finds the owning context from the chunk header itself */
	if (ptr != NULL)
		pfree(ptr);
}

/*
 * Make cJSON allocate with palloc in CurrentMemoryContext.
 *
 * Why: every cJSON tree then lives in the memory context current when it is
 * built -- for a scan, the per-page context, which the scan resets for each
 * page and which PostgreSQL frees itself on ERROR -- so no tree can leak on
 * any path, including an ERROR thrown half-way through a parse.  An
 * allocation failure raises an ERROR that longjmps out of cJSON's parser;
 * that is safe because cJSON is plain C that holds no locks and keeps no
 * state that a half-finished call would leave inconsistent (its only
 * global, the error position, is rewritten by every parse).  The free hook
 * may receive any pointer the malloc hook returned, whatever context was
 * current then: pfree needs no context argument.
 *
 * The hooks are process-wide and stay installed for the life of the
 * backend; installing them again is a no-op.  Call this before any cJSON
 * call that allocates (civis_page_parse does so itself).  Custom hooks
 * disable cJSON's realloc shortcut, which only its printers use; trees
 * printed with cJSON_Print* are palloc'd too and must be freed with
 * cJSON_free or pfree, never free().
 */
void
civis_json_init(void)
{
	static bool installed = false;

	if (!installed)
	{
		cJSON_Hooks hooks;

		hooks.malloc_fn = civis_cjson_malloc;
		hooks.free_fn = civis_cjson_free;
		cJSON_InitHooks(&hooks);
		installed = true;
	}
}

/* The cJSON version this backend runs with (civis_fdw_version()). */
const char *
civis_json_library_version(void)
{
	return cJSON_Version();
}

/* --------------------------------------------------------------------
 * Small helpers: type names, number text, JSON text, excerpts
 * -------------------------------------------------------------------- */

static const char *
json_type_name(const cJSON *v)
{
	switch (cjson_type(v))
	{
		case cJSON_False:
		case cJSON_True:
			return "boolean";
		case cJSON_NULL:
			return "null";
		case cJSON_Number:
			return "number";
		case cJSON_String:
			return "string";
		case cJSON_Array:
			return "array";
		case cJSON_Object:
			return "object";
		default:
			return "value";
	}
}

/*
 * A JSON number as a double.  A literal too large for a double (1e400)
 * arrives from cJSON as infinity; no column type can take it faithfully.
 */
static double
json_number(const cJSON *v)
{
	double		d = v->valuedouble;

	if (!isfinite(d))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("a JSON number in the response is out of range for type double precision")));
	return d;
}

static inline bool
is_exact_integer(double d)
{
	return d == floor(d) && fabs(d) < JSON_EXACT_INT_LIMIT;
}

/*
 * Text of a finite double: integers below 2^53 without ".0", anything else
 * in the shortest form that reads back as the same double.  Both are valid
 * JSON numbers and valid input for float8, numeric and text.
 */
static int
format_number(double d, char *out)
{
	if (is_exact_integer(d))
		return snprintf(out, NUMBER_BUF_LEN, INT64_FORMAT, (int64) d);
	return double_to_shortest_decimal_buf(d, out);
}

static void
append_json_string(StringInfo buf, const char *s)
{
	const char *run = s;
	const char *p;

	appendStringInfoCharMacro(buf, '"');
	for (p = s; *p; p++)
	{
		unsigned char c = (unsigned char) *p;
		const char *esc = NULL;
		char		hex[8];

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		switch (c)
		{
			case '"':
				esc = "\\\"";
				break;
			case '\\':
				esc = "\\\\";
				break;
			case '\b':
				esc = "\\b";
				break;
			case '\f':
				esc = "\\f";
				break;
			case '\n':
				esc = "\\n";
				break;
			case '\r':
				esc = "\\r";
				break;
			case '\t':
				esc = "\\t";
				break;
			default:
				snprintf(hex, sizeof(hex), "\\u%04x", c);
				esc = hex;
				break;
		}
		if (p > run)
			appendBinaryStringInfo(buf, run, p - run);
		appendStringInfoString(buf, esc);
		run = p + 1;
	}
	if (p > run)
		appendBinaryStringInfo(buf, run, p - run);
	appendStringInfoCharMacro(buf, '"');
}

/*
 * Append the compact JSON text of v (UTF-8, as received).  With limit > 0,
 * stop adding once the buffer is longer than limit (for excerpts).
 */
static void
append_json(StringInfo buf, const cJSON *v, int limit)
{
	const cJSON *c;
	char		num[NUMBER_BUF_LEN];
	int			n;

	check_stack_depth();
	if (limit > 0 && buf->len > limit)
		return;

	switch (cjson_type(v))
	{
		case cJSON_NULL:
			appendBinaryStringInfo(buf, "null", 4);
			break;
		case cJSON_False:
			appendBinaryStringInfo(buf, "false", 5);
			break;
		case cJSON_True:
			appendBinaryStringInfo(buf, "true", 4);
			break;
		case cJSON_Number:
			n = format_number(json_number(v), num);
			appendBinaryStringInfo(buf, num, n);
			break;
		case cJSON_String:
			append_json_string(buf, v->valuestring ? v->valuestring : "");
			break;
		case cJSON_Array:
			appendStringInfoCharMacro(buf, '[');
			for (c = v->child; c != NULL; c = c->next)
			{
				if (c != v->child)
					appendStringInfoCharMacro(buf, ',');
				append_json(buf, c, limit);
				if (limit > 0 && buf->len > limit)
					return;
			}
			appendStringInfoCharMacro(buf, ']');
			break;
		case cJSON_Object:
			appendStringInfoCharMacro(buf, '{');
			for (c = v->child; c != NULL; c = c->next)
			{
				if (c != v->child)
					appendStringInfoCharMacro(buf, ',');
				append_json_string(buf, c->string ? c->string : "");
				appendStringInfoCharMacro(buf, ':');
				append_json(buf, c, limit);
				if (limit > 0 && buf->len > limit)
					return;
			}
			appendStringInfoCharMacro(buf, '}');
			break;
		default:
			elog(ERROR, "unexpected cJSON node type %d", v->type);
	}
}

/* Convert UTF-8 to the database encoding (a no-op in UTF-8 databases). */
static inline const char *
to_server(bool db_utf8, const char *s, int *len)
{
	int			l = strlen(s);

	if (!db_utf8)
	{
		char	   *c = pg_any_to_server(s, l, PG_UTF8);

		if (c != s)
			l = strlen(c);
		s = c;
	}
	*len = l;
	return s;
}

/*
 * A value's text for error details: compact JSON, at most about
 * VALUE_EXCERPT_BYTES, cut on a character boundary, in the database
 * encoding.  Error paths only.
 */
static char *
value_excerpt(const cJSON *v)
{
	StringInfoData b;
	const char *s;
	int			len;
	int			clip;

	initStringInfo(&b);
	append_json(&b, v, VALUE_EXCERPT_BYTES);
	if (GetDatabaseEncoding() == PG_UTF8)
	{
		s = b.data;
		len = b.len;
	}
	else
	{
		/*
		 * An error message must not fail on a character the database
		 * encoding lacks: show each non-ASCII character as '?'.
		 */
		StringInfoData a;
		int			i;

		initStringInfo(&a);
		for (i = 0; i < b.len; i++)
		{
			unsigned char c = (unsigned char) b.data[i];

			if (c < 0x80)
				appendStringInfoChar(&a, (char) c);
			else if ((c & 0xC0) != 0x80)
				appendStringInfoChar(&a, '?');
		}
		s = a.data;
		len = a.len;
	}
	if (len <= VALUE_EXCERPT_BYTES)
		return pstrdup(s);
	clip = pg_mbcliplen(s, len, VALUE_EXCERPT_BYTES);
	return psprintf("%.*s...", clip, s);
}

/*
 * A printable excerpt of the raw body from pos: at most PARSE_EXCERPT_CHARS
 * characters, control characters blanked, and non-ASCII characters kept
 * only when the database is UTF-8 (the body has been checked to be UTF-8).
 */
static char *
body_excerpt(const char *body, size_t len, size_t pos)
{
	StringInfoData b;
	bool		db_utf8 = (GetDatabaseEncoding() == PG_UTF8);
	int			nchars = 0;

	/* do not start in the middle of a UTF-8 sequence */
	while (pos > 0 && pos < len && (((unsigned char) body[pos]) & 0xC0) == 0x80)
		pos--;

	initStringInfo(&b);
	while (pos < len && nchars < PARSE_EXCERPT_CHARS)
	{
		unsigned char c = (unsigned char) body[pos];

		if (c < 0x80)
		{
			appendStringInfoChar(&b, (c < 0x20 || c == 0x7F) ? ' ' : (char) c);
			pos++;
		}
		else
		{
			int			l = pg_utf_mblen((const unsigned char *) body + pos);

			if (l < 1 || pos + l > len)
				l = 1;
			if (db_utf8)
				appendBinaryStringInfo(&b, body + pos, l);
			else
				appendStringInfoChar(&b, '?');
			pos += l;
		}
		nchars++;
	}
	if (pos < len)
		appendStringInfoString(&b, "...");
	return b.data;
}

/* --------------------------------------------------------------------
 * Parsing a page
 * -------------------------------------------------------------------- */

typedef struct ParseErrorContext
{
	const char *relname;
} ParseErrorContext;

static void
parse_error_callback(void *arg)
{
	ParseErrorContext *pec = (ParseErrorContext *) arg;

	if (pec->relname)
		errcontext("foreign table \"%s\"", pec->relname);
}

/*
 * Check that the body is UTF-8 (and free of NUL bytes); report the offset of
 * the first bad byte.
 */
static void
verify_utf8(const char *body, size_t len, const char *shown)
{
#if PG_VERSION_NUM >= 140000
	size_t		off = 0;

	while (off < len)
	{
		size_t		chunk = Min(len - off, (size_t) (1 << 30));
		int			ok = pg_encoding_verifymbstr(PG_UTF8, body + off, (int) chunk);

		if ((size_t) ok == chunk)
		{
			off += chunk;
			continue;
		}
		/* a character cut by the chunk boundary: verify it with the next */
		if (off + chunk < len && chunk - ok < (size_t) pg_encoding_max_length(PG_UTF8))
		{
			off += ok;
			continue;
		}
		off += ok;
		if (body[off] == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
					 errmsg("invalid UTF-8 in the response to %s", shown),
					 errdetail("The body contains a NUL byte at byte %zu.", off)));
		ereport(ERROR,
				(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				 errmsg("invalid UTF-8 in the response to %s", shown),
				 errdetail("Invalid byte sequence at byte %zu (0x%02x).",
						   off, (unsigned char) body[off])));
	}
#else
	if (len > (size_t) PG_INT32_MAX ||
		pg_verify_mbstr_len(PG_UTF8, body, (int) len, true) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				 errmsg("invalid UTF-8 in the response to %s", shown)));
#endif
}

/*
 * Refuse the escape \u0000.  Backslashes only occur inside JSON strings,
 * where each one starts a two-character escape; skipping both characters
 * keeps "\\u0000" (a backslash, then the text u0000) allowed.
 */
static void
refuse_nul_escapes(const char *body, size_t len, const char *shown)
{
	const char *p = body;
	const char *end = body + len;

	while (p < end && (p = memchr(p, '\\', end - p)) != NULL)
	{
		if (end - p >= 6 && p[1] == 'u' && memcmp(p + 2, "0000", 4) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNTRANSLATABLE_CHARACTER),
					 errmsg("the response to %s contains \\u0000, which PostgreSQL text cannot hold",
							shown),
					 errdetail("The escape is at byte %zu.", (size_t) (p - body))));
		p += 2;
	}
}

/*
 * Explain a parse failure at errpos: how many containers are open there
 * (to tell cJSON's nesting limit), and whether the body ends inside a
 * string or an open container (a truncated body).  Error path only.
 */
static void
diagnose_json(const char *body, size_t len, size_t errpos,
			  int *depth_at_err, bool *ends_open, bool *ends_in_string)
{
	bool		in_string = false;
	int			depth = 0;
	size_t		i;

	*depth_at_err = 0;
	for (i = 0; i < len; i++)
	{
		char		c = body[i];

		if (i == errpos)
			*depth_at_err = depth;
		if (in_string)
		{
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = false;
		}
		else if (c == '"')
			in_string = true;
		else if (c == '[' || c == '{')
			depth++;
		else if ((c == ']' || c == '}') && depth > 0)
			depth--;
	}
	if (errpos >= len)
		*depth_at_err = depth;
	*ends_open = in_string || depth > 0;
	*ends_in_string = in_string;
}

/*
 * Is errpos in the body's last token?  cJSON reports a body cut inside a
 * string or a literal at the token's start, and a body cut between tokens
 * at its last byte; either way nothing complete follows the error.
 */
static bool
error_in_last_token(const char *body, size_t len, size_t errpos)
{
	size_t		i;

	if (errpos + 1 >= len)
		return true;
	if (body[errpos] == '"')
	{
		for (i = errpos + 1; i < len; i++)
		{
			if (body[i] == '\\')
				i++;
			else if (body[i] == '"')
				return false;
		}
		return true;
	}
	for (i = errpos; i < len; i++)
	{
		char		c = body[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			  c == '.' || c == '-' || c == '+' || c == 'E'))
			return false;
	}
	return true;
}

static void
report_parse_error(const char *body, size_t len, const char *errptr,
				   const char *shown) pg_attribute_noreturn();

static void
report_parse_error(const char *body, size_t len, const char *errptr,
				   const char *shown)
{
	size_t		errpos = len;
	int			depth;
	bool		ends_open;
	bool		ends_in_string;

	if (errptr != NULL && errptr >= body && errptr <= body + len)
		errpos = errptr - body;
	diagnose_json(body, len, errpos, &depth, &ends_open, &ends_in_string);

	if (depth >= CJSON_NESTING_LIMIT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_JSON_TEXT),
				 errmsg("invalid JSON in the response to %s", shown),
				 errdetail("The JSON is nested too deep: more than %d levels at byte %zu.",
						   CJSON_NESTING_LIMIT, errpos)));
	if (ends_in_string ||
		(ends_open && error_in_last_token(body, len, errpos)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_JSON_TEXT),
				 errmsg("invalid JSON in the response to %s", shown),
				 errdetail("The body ends after %zu bytes, before the JSON value is complete (near \"%s\").",
						   len, body_excerpt(body, len, len > 20 ? len - 20 : 0)),
				 errhint("The Civis API returned something that is not JSON (an HTML error page or a truncated body?)")));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_JSON_TEXT),
			 errmsg("invalid JSON in the response to %s", shown),
			 errdetail("Parsing failed at byte %zu of %zu, near \"%s\".",
					   errpos, len, body_excerpt(body, len, errpos)),
			 errhint("The Civis API returned something that is not JSON (an HTML error page or a truncated body?)")));
}

static inline bool
is_json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

CivisPage *
civis_page_parse(const char *body, size_t len, const char *shown,
				 const char *relname)
{
	CivisPage  *page;
	ErrorContextCallback errcb;
	ParseErrorContext pec;
	size_t		start = 0;
	const char *parse_end = NULL;
	cJSON	   *root;

	if (shown == NULL)
		shown = "the Civis API";
	if (body == NULL)
		len = 0;

	pec.relname = relname;
	errcb.callback = parse_error_callback;
	errcb.arg = &pec;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	civis_json_init();

	/* a UTF-8 byte order mark, then whitespace */
	if (len >= 3 && memcmp(body, "\xEF\xBB\xBF", 3) == 0)
		start = 3;
	while (start < len && is_json_space(body[start]))
		start++;
	if (start >= len)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_JSON_TEXT),
				 errmsg("the response to %s is empty", shown),
				 errhint("The Civis API returned something that is not JSON (an HTML error page or a truncated body?)")));
	if (body[start] == '<')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_JSON_TEXT),
				 errmsg("the response to %s is HTML, not JSON", shown),
				 errdetail("The body starts with \"%s\".",
						   body_excerpt(body, len, start)),
				 errhint("A proxy, a load balancer or an outage page may have answered instead of the API; check the api_url option.")));

	verify_utf8(body, len, shown);
	refuse_nul_escapes(body, len, shown);

	root = cJSON_ParseWithLengthOpts(body, len, &parse_end, false);
	if (root == NULL)
		report_parse_error(body, len, parse_end, shown);

	/* cJSON stops after the first value: only whitespace may follow */
	if (parse_end != NULL && parse_end >= body && parse_end <= body + len)
	{
		const char *p = parse_end;

		while (p < body + len && is_json_space(*p))
			p++;
		if (p < body + len)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_JSON_TEXT),
					 errmsg("invalid JSON in the response to %s", shown),
					 errdetail("Unexpected data after the JSON value at byte %zu, near \"%s\".",
							   (size_t) (p - body), body_excerpt(body, len, p - body)),
					 errhint("The Civis API returned something that is not JSON (an HTML error page or a truncated body?)")));
	}

	page = palloc0(sizeof(CivisPage));
	page->root = root;
	page->shown = pstrdup(shown);
	page->relname = relname ? pstrdup(relname) : NULL;

	if (cJSON_IsArray(root))
	{
		cJSON	   *c;
		int			n = 0;

		for (c = root->child; c != NULL; c = c->next)
			n++;
		page->nitems = n;
		if (n > 0)
		{
			page->items = palloc_extended(sizeof(cJSON *) * n, MCXT_ALLOC_HUGE);
			n = 0;
			for (c = root->child; c != NULL; c = c->next)
				page->items[n++] = c;
		}
	}
	else if (cJSON_IsObject(root))
	{
		/* some list endpoints answer with one object: one item */
		page->nitems = 1;
		page->items = palloc(sizeof(cJSON *));
		page->items[0] = root;
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("the response to %s is a JSON %s, not an array or an object",
						shown, json_type_name(root)),
				 errdetail("Value: %s", value_excerpt(root))));

	error_context_stack = errcb.previous;
	return page;
}

/* Was the body a JSON array (rather than one object)? */
bool
civis_page_is_array(const CivisPage *page)
{
	return cJSON_IsArray(page->root);
}

int
civis_page_count(const CivisPage *page)
{
	return page ? page->nitems : 0;
}

static inline const cJSON *
page_item(const CivisPage *page, int index)
{
	if (page == NULL || index < 0 || index >= page->nitems)
		elog(ERROR, "civis_fdw: item %d out of range of a page of %d items",
			 index, page ? page->nitems : 0);
	return page->items[index];
}

/* FNV-1a over a NUL-terminated string. */
static inline uint32
key_hash(const char *s)
{
	uint32		h = 2166136261u;

	while (*s)
	{
		h ^= (unsigned char) *s++;
		h *= 16777619u;
	}
	return h;
}

/*
 * The member of obj named name[0..len) (not NUL-terminated).  Like jsonb,
 * the last of duplicate members wins.
 */
static const cJSON *
member_n(const cJSON *obj, const char *name, size_t len)
{
	const cJSON *found = NULL;
	const cJSON *c;

	for (c = obj->child; c != NULL; c = c->next)
		if (c->string && c->string[0] == name[0] &&
			strncmp(c->string, name, len) == 0 && c->string[len] == '\0')
			found = c;
	return found;
}

/* Follow a dotted key from an item; NULL when some component is missing. */
static const cJSON *
lookup_dotted(const cJSON *item, const char *key)
{
	const cJSON *cur = item;

	if (strcmp(key, WHOLE_ITEM_KEY) == 0)
		return item;
	for (;;)
	{
		const char *dot = strchr(key, '.');
		size_t		len = dot ? (size_t) (dot - key) : strlen(key);

		if (!cJSON_IsObject(cur))
			return NULL;
		cur = member_n(cur, key, len);
		if (cur == NULL || dot == NULL)
			return cur;
		key = dot + 1;
	}
}

int64
civis_page_item_id(const CivisPage *page, int index, bool *has_id)
{
	const cJSON *item = page_item(page, index);
	const cJSON *v;

	*has_id = false;
	if (!cJSON_IsObject(item))
		return 0;
	v = member_n(item, "id", 2);
	if (v == NULL)
		return 0;
	if (cJSON_IsNumber(v))
	{
		double		d = v->valuedouble;

		if (isfinite(d) && d == floor(d) && fabs(d) < JSON_EXACT_INT_LIMIT)
		{
			*has_id = true;
			return (int64) d;
		}
	}
	else if (cJSON_IsString(v) && v->valuestring && v->valuestring[0] != '\0')
	{
		char	   *end;
		long long	r;

		errno = 0;
		r = strtoll(v->valuestring, &end, 10);
		if (errno == 0 && *end == '\0')
		{
			*has_id = true;
			return (int64) r;
		}
	}
	return 0;
}

/*
 * A member's value as a palloc'd string, or NULL when missing or JSON null.
 * The key may be dotted, or "." for the whole item.  Strings come back as
 * the API sent them (UTF-8, not converted to the database encoding: this
 * text is meant to go back to the API, e.g. as a cursor); numbers and
 * booleans as their JSON text; objects and arrays as compact JSON.
 */
char *
civis_page_item_text(const CivisPage *page, int index, const char *key)
{
	const cJSON *v = lookup_dotted(page_item(page, index), key);
	StringInfoData b;

	if (v == NULL || cJSON_IsNull(v))
		return NULL;
	if (cJSON_IsString(v))
		return pstrdup(v->valuestring ? v->valuestring : "");
	initStringInfo(&b);
	append_json(&b, v, 0);
	return b.data;
}

/* --------------------------------------------------------------------
 * Decoder setup
 * -------------------------------------------------------------------- */

static const CivisColumn *
find_civis_column(const CivisTableInfo *info, AttrNumber attnum)
{
	int			i;

	if (info == NULL || info->columns == NULL)
		return NULL;
	if (attnum >= 1 && attnum <= info->ncolumns &&
		info->columns[attnum - 1].attnum == attnum)
		return &info->columns[attnum - 1];
	for (i = 0; i < info->ncolumns; i++)
		if (info->columns[i].attnum == attnum)
			return &info->columns[i];
	return NULL;
}

static DecKind
choose_kind(DecColumn *col)
{
	Oid			elemtype;

	if (get_typtype(col->typid) == TYPTYPE_DOMAIN)
		return DK_GENERIC;		/* domain_in checks the constraints */

	switch (col->typid)
	{
		case TEXTOID:
			return DK_TEXT;
		case VARCHAROID:
			return col->typmod < 0 ? DK_TEXT : DK_GENERIC;
		case INT2OID:
			return DK_INT2;
		case INT4OID:
			return DK_INT4;
		case INT8OID:
			return DK_INT8;
		case FLOAT4OID:
			return DK_FLOAT4;
		case FLOAT8OID:
			return DK_FLOAT8;
		case NUMERICOID:
			return DK_NUMERIC;
		case BOOLOID:
			return DK_BOOL;
		case TIMESTAMPTZOID:
		case TIMESTAMPOID:
		case DATEOID:
		case TIMEOID:
		case TIMETZOID:
			return DK_DATETIME;
		case JSONBOID:
			return DK_JSONB;
		default:
			break;
	}

	/* a true array type, and the canonical array of its element type */
	elemtype = get_element_type(col->typid);
	if (OidIsValid(elemtype) && get_array_type(elemtype) == col->typid)
	{
		Oid			infunc;

		col->elemtype = elemtype;
		get_typlenbyvalalign(elemtype, &col->elmlen, &col->elmbyval,
							 &col->elmalign);
		getTypeInputInfo(elemtype, &infunc, &col->elem_ioparam);
		fmgr_info(infunc, &col->elem_infunc);
		return DK_ARRAY;
	}
	return DK_GENERIC;
}

/* Index of a first key component in the decoder's table, adding it. */
static int
intern_key(CivisDecoder *dec, const char *name, int maxkeys)
{
	uint32		h = key_hash(name);
	uint32		i = h & dec->slot_mask;

	while (dec->slots[i] != 0)
	{
		int			k = dec->slots[i] - 1;

		if (dec->key_hashes[k] == h && strcmp(dec->key_names[k], name) == 0)
			return k;
		i = (i + 1) & dec->slot_mask;
	}
	Assert(dec->nkeys < maxkeys);
	dec->key_names[dec->nkeys] = pstrdup(name);
	dec->key_hashes[dec->nkeys] = h;
	dec->slots[i] = dec->nkeys + 1;
	return dec->nkeys++;
}

static inline int
lookup_key(const CivisDecoder *dec, const char *name)
{
	uint32		h = key_hash(name);
	uint32		i = h & dec->slot_mask;
	int			s;

	while ((s = dec->slots[i]) != 0)
	{
		if (dec->key_hashes[s - 1] == h &&
			strcmp(dec->key_names[s - 1], name) == 0)
			return s - 1;
		i = (i + 1) & dec->slot_mask;
	}
	return -1;
}

/* Split a dotted key: the first component is interned, the rest kept. */
static void
resolve_key(CivisDecoder *dec, DecColumn *col, int maxkeys)
{
	char	   *copy;
	char	   *p;
	int			n = 0;
	int			i;

	if (strcmp(col->key, WHOLE_ITEM_KEY) == 0)
	{
		col->whole_item = true;
		return;
	}

	copy = pstrdup(col->key);
	for (p = copy; *p; p++)
		if (*p == '.')
			n++;
	col->npath = n;
	col->path = n > 0 ? palloc(sizeof(char *) * n) : NULL;
	col->pathlen = n > 0 ? palloc(sizeof(size_t) * n) : NULL;

	p = copy;
	for (i = 0; i <= n; i++)
	{
		char	   *dot = strchr(p, '.');

		if (dot)
			*dot = '\0';
		if (*p == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
					 errmsg("invalid key \"%s\" for column \"%s\" of foreign table \"%s\"",
							col->key, col->attname, dec->relname),
					 errdetail("A key is a JSON member name, a dotted path of member names, or \".\" for the whole item.")));
		if (i == 0)
			col->entry = intern_key(dec, p, maxkeys);
		else
		{
			col->path[i - 1] = p;
			col->pathlen[i - 1] = strlen(p);
		}
		if (dot)
			p = dot + 1;
	}
}

/* Can the table read items that are not objects (key "." only)? */
static bool
table_reads_scalar_items(const CivisTableInfo *info)
{
	bool		has_whole = false;
	int			i;

	for (i = 0; i < info->ncolumns; i++)
	{
		const CivisColumn *c = &info->columns[i];

		if (c->dropped)
			continue;
		if (c->key && strcmp(c->key, WHOLE_ITEM_KEY) == 0)
			has_whole = true;
		else if (!c->param_only)
			return false;
	}
	return has_whole;
}

CivisDecoder *
civis_decoder_create(const CivisTableInfo *info, TupleDesc tupdesc,
					 List *retrieved_attrs)
{
	CivisDecoder *dec;
	ListCell   *lc;
	int			maxcols = list_length(retrieved_attrs);
	uint32		nslots;

	dec = palloc0(sizeof(CivisDecoder));
	dec->cxt = CurrentMemoryContext;
	dec->relname = (info && info->relname) ? pstrdup(info->relname) : "?";
	dec->natts = tupdesc->natts;
	dec->db_utf8 = (GetDatabaseEncoding() == PG_UTF8);
	dec->scalar_items_ok = info ? table_reads_scalar_items(info) : false;
	dec->cols = palloc0(sizeof(DecColumn) * Max(maxcols, 1));
	dec->key_names = palloc0(sizeof(char *) * Max(maxcols, 1));
	dec->key_hashes = palloc0(sizeof(uint32) * Max(maxcols, 1));
	for (nslots = 16; nslots < (uint32) maxcols * 4; nslots <<= 1)
		;
	dec->slots = palloc0(sizeof(int) * nslots);
	dec->slot_mask = nslots - 1;
	dec->cur_index = -1;
	initStringInfo(&dec->buf);

	foreach(lc, retrieved_attrs)
	{
		AttrNumber	attnum = (AttrNumber) lfirst_int(lc);
		Form_pg_attribute att;
		const CivisColumn *cc;
		DecColumn  *col;
		Oid			infunc;
		int			i;
		bool		dup = false;

		if (attnum < 1 || attnum > tupdesc->natts)
			continue;			/* system columns are not ours to fill */
		att = TupleDescAttr(tupdesc, attnum - 1);
		if (att->attisdropped)
			continue;
		for (i = 0; i < dec->ncols; i++)
			if (dec->cols[i].attnum == attnum)
				dup = true;
		if (dup)
			continue;

		col = &dec->cols[dec->ncols++];
		col->attnum = attnum;
		col->attname = pstrdup(NameStr(att->attname));
		col->typid = att->atttypid;
		col->typmod = att->atttypmod;
		col->entry = -1;

		getTypeInputInfo(col->typid, &infunc, &col->ioparam);
		fmgr_info(infunc, &col->infunc);
		col->kind = choose_kind(col);

		cc = find_civis_column(info, attnum);
		col->key = (cc && cc->key && cc->key[0] != '\0') ?
			pstrdup(cc->key) : col->attname;
		col->param_only = cc ? cc->param_only : false;
		if (!col->param_only)
			resolve_key(dec, col, maxcols);
	}

	dec->found = palloc0(sizeof(cJSON *) * Max(dec->nkeys, 1));
	return dec;
}

/* --------------------------------------------------------------------
 * Conversion of one value
 * -------------------------------------------------------------------- */

static void
decode_error_callback(void *arg)
{
	CivisDecoder *dec = (CivisDecoder *) arg;

	if (dec->cur_col)
		errcontext("column \"%s\" of foreign table \"%s\"",
				   dec->cur_col->attname, dec->relname);
	if (dec->cur_page && dec->cur_index >= 0)
		errcontext("item %d of the response to %s",
				   dec->cur_index + 1, dec->cur_page->shown);
}

static void
conversion_error(CivisDecoder *dec, const DecColumn *col, const cJSON *v,
				 const char *hint) pg_attribute_noreturn();

static void
conversion_error(CivisDecoder *dec, const DecColumn *col, const cJSON *v,
				 const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
			 errmsg("cannot convert JSON %s to %s for column \"%s\" of foreign table \"%s\"",
					json_type_name(v),
					format_type_with_typemod(col->typid, col->typmod),
					col->attname, dec->relname),
			 errdetail("Value: %s", value_excerpt(v)),
			 errhint("%s", hint ? hint :
					 "Declare the column as text or jsonb to receive any JSON value, or point its \"key\" option at another member.")));
}

/*
 * The text form of a non-null value, in the database encoding: strings as
 * they are, numbers and booleans as their JSON text, containers as compact
 * JSON.  The result may point into dec->buf: use it before the next call.
 */
static const char *
value_text(CivisDecoder *dec, const cJSON *v, int *len)
{
	switch (cjson_type(v))
	{
		case cJSON_String:
			return to_server(dec->db_utf8,
							 v->valuestring ? v->valuestring : "", len);
		case cJSON_True:
			*len = 4;
			return "true";
		case cJSON_False:
			*len = 5;
			return "false";
		default:
			resetStringInfo(&dec->buf);
			append_json(&dec->buf, v, 0);
			if (dec->db_utf8)
			{
				*len = dec->buf.len;
				return dec->buf.data;
			}
			return to_server(false, dec->buf.data, len);
	}
}

static inline Datum
call_input(FmgrInfo *flinfo, const char *str, Oid ioparam, int32 typmod)
{
	return InputFunctionCall(flinfo, unconstify(char *, str), ioparam, typmod);
}

/* A JSON number into int2/int4/int8. */
static Datum
number_to_int(CivisDecoder *dec, const DecColumn *col, const cJSON *v)
{
	double		d = json_number(v);
	int64		i;

	if (d != floor(d))
		conversion_error(dec, col, v,
						 "The value is not an integer; declare the column as numeric or double precision.");
	if (fabs(d) >= JSON_EXACT_INT_LIMIT)
	{
		char		num[NUMBER_BUF_LEN];

		format_number(d, num);
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("value %s of column \"%s\" exceeds the integer precision JSON numbers keep (2^53)",
						num, col->attname),
				 errdetail("JSON numbers are read as double precision, which holds integers exactly only below 9007199254740992; the API's digits beyond that are lost.")));
	}
	i = (int64) d;
	if ((col->kind == DK_INT2 && (i < PG_INT16_MIN || i > PG_INT16_MAX)) ||
		(col->kind == DK_INT4 && (i < PG_INT32_MIN || i > PG_INT32_MAX)))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("value " INT64_FORMAT " is out of range for type %s",
						i, format_type_be(col->typid))));
	switch (col->kind)
	{
		case DK_INT2:
			return Int16GetDatum((int16) i);
		case DK_INT4:
			return Int32GetDatum((int32) i);
		default:
			return Int64GetDatum(i);
	}
}

static Datum
make_numeric_from_int64(int64 i)
{
#if PG_VERSION_NUM >= 140000
	return NumericGetDatum(int64_to_numeric(i));
#else
	return DirectFunctionCall1(int8_numeric, Int64GetDatum(i));
#endif
}

/* A JSON number as a numeric (jsonb scalars, numeric columns w/o typmod). */
static Numeric
number_to_numeric(const cJSON *v)
{
	double		d = json_number(v);
	char		num[NUMBER_BUF_LEN];

	if (is_exact_integer(d))
		return DatumGetNumeric(make_numeric_from_int64((int64) d));
	format_number(d, num);
	return DatumGetNumeric(DirectFunctionCall3(numeric_in,
											   CStringGetDatum(num),
											   ObjectIdGetDatum(InvalidOid),
											   Int32GetDatum(-1)));
}

/* --- jsonb built straight from the tree --- */

static void
jsonb_scalar(CivisDecoder *dec, const cJSON *v, JsonbValue *jv)
{
	int			len;

	switch (cjson_type(v))
	{
		case cJSON_NULL:
			jv->type = jbvNull;
			break;
		case cJSON_False:
			jv->type = jbvBool;
			jv->val.boolean = false;
			break;
		case cJSON_True:
			jv->type = jbvBool;
			jv->val.boolean = true;
			break;
		case cJSON_Number:
			jv->type = jbvNumeric;
			jv->val.numeric = number_to_numeric(v);
			break;
		case cJSON_String:
			jv->type = jbvString;
			jv->val.string.val = unconstify(char *,
											to_server(dec->db_utf8,
													  v->valuestring ? v->valuestring : "",
													  &len));
			jv->val.string.len = len;
			break;
		default:
			elog(ERROR, "unexpected cJSON node type %d", v->type);
	}
}

static JsonbValue *
jsonb_push(CivisDecoder *dec, JsonbParseState **ps, const cJSON *v,
		   JsonbIteratorToken tok)
{
	const cJSON *c;
	JsonbValue	jv;
	JsonbValue *res;

	check_stack_depth();

	if (cJSON_IsObject(v))
	{
		pushJsonbValue(ps, WJB_BEGIN_OBJECT, NULL);
		for (c = v->child; c != NULL; c = c->next)
		{
			int			len;

			jv.type = jbvString;
			jv.val.string.val = unconstify(char *,
											to_server(dec->db_utf8,
													  c->string ? c->string : "",
													  &len));
			jv.val.string.len = len;
			pushJsonbValue(ps, WJB_KEY, &jv);
			jsonb_push(dec, ps, c, WJB_VALUE);
		}
		res = pushJsonbValue(ps, WJB_END_OBJECT, NULL);
	}
	else if (cJSON_IsArray(v))
	{
		/*
		 * No size hint: pushJsonbValue asserts that a value passed with
		 * WJB_BEGIN_ARRAY describes a raw scalar.
		 */
		pushJsonbValue(ps, WJB_BEGIN_ARRAY, NULL);
		for (c = v->child; c != NULL; c = c->next)
			jsonb_push(dec, ps, c, WJB_ELEM);
		res = pushJsonbValue(ps, WJB_END_ARRAY, NULL);
	}
	else
	{
		jsonb_scalar(dec, v, &jv);
		res = pushJsonbValue(ps, tok, &jv);
	}
	return res;
}

static Datum
build_jsonb(CivisDecoder *dec, const cJSON *v)
{
	JsonbParseState *ps = NULL;
	JsonbValue *res;

	if (cJSON_IsObject(v) || cJSON_IsArray(v))
		res = jsonb_push(dec, &ps, v, WJB_ELEM);
	else
	{
		/* a scalar document is a one-element "raw scalar" array */
		JsonbValue	arr;
		JsonbValue	jv;

		arr.type = jbvArray;
		arr.val.array.rawScalar = true;
		arr.val.array.nElems = 1;
		arr.val.array.elems = NULL;
		pushJsonbValue(&ps, WJB_BEGIN_ARRAY, &arr);
		jsonb_scalar(dec, v, &jv);
		pushJsonbValue(&ps, WJB_ELEM, &jv);
		res = pushJsonbValue(&ps, WJB_END_ARRAY, NULL);
	}
	return JsonbPGetDatum(JsonbValueToJsonb(res));
}

/* A JSON array into a one-dimensional PostgreSQL array. */
static Datum
build_array(CivisDecoder *dec, const DecColumn *col, const cJSON *v)
{
	const cJSON *c;
	Datum	   *elems;
	bool	   *enulls;
	int			n = 0;
	int			dims[1];
	int			lbs[1];

	for (c = v->child; c != NULL; c = c->next)
		n++;
	if (n == 0)
		return PointerGetDatum(construct_empty_array(col->elemtype));

	elems = palloc(sizeof(Datum) * n);
	enulls = palloc(sizeof(bool) * n);
	n = 0;
	for (c = v->child; c != NULL; c = c->next, n++)
	{
		int			len;

		if (cJSON_IsNull(c))
		{
			elems[n] = (Datum) 0;
			enulls[n] = true;
			continue;
		}
		enulls[n] = false;
		elems[n] = call_input(unconstify(FmgrInfo *, &col->elem_infunc),
							  value_text(dec, c, &len),
							  col->elem_ioparam, col->typmod);
	}
	dims[0] = n;
	lbs[0] = 1;
	return PointerGetDatum(construct_md_array(elems, enulls, 1, dims, lbs,
											  col->elemtype, col->elmlen,
											  col->elmbyval, col->elmalign));
}

/* Convert one non-null JSON value for col. */
static Datum
convert_value(CivisDecoder *dec, DecColumn *col, const cJSON *v)
{
	int			type = cjson_type(v);
	int			len;
	const char *s;

	switch (col->kind)
	{
		case DK_TEXT:
			s = value_text(dec, v, &len);
			return PointerGetDatum(cstring_to_text_with_len(s, len));

		case DK_INT2:
		case DK_INT4:
		case DK_INT8:
			if (type == cJSON_Number)
				return number_to_int(dec, col, v);
			if (type == cJSON_String)
				return call_input(&col->infunc, value_text(dec, v, &len),
								  col->ioparam, col->typmod);
			conversion_error(dec, col, v, NULL);

		case DK_FLOAT8:
			if (type == cJSON_Number)
				return Float8GetDatum(json_number(v));
			if (type == cJSON_String)
				return call_input(&col->infunc, value_text(dec, v, &len),
								  col->ioparam, col->typmod);
			conversion_error(dec, col, v, NULL);

		case DK_FLOAT4:
			if (type == cJSON_Number)
			{
				double		d = json_number(v);
				float4		f = (float4) d;

				if (isinf(f))
					ereport(ERROR,
							(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
							 errmsg("value out of range: overflow"),
							 errdetail("A JSON number is too large for type real.")));
				return Float4GetDatum(f);
			}
			if (type == cJSON_String)
				return call_input(&col->infunc, value_text(dec, v, &len),
								  col->ioparam, col->typmod);
			conversion_error(dec, col, v, NULL);

		case DK_NUMERIC:
			if (type == cJSON_Number)
			{
				if (col->typmod < 0)
					return NumericGetDatum(number_to_numeric(v));
				return call_input(&col->infunc, value_text(dec, v, &len),
								  col->ioparam, col->typmod);
			}
			if (type == cJSON_String)
				return call_input(&col->infunc, value_text(dec, v, &len),
								  col->ioparam, col->typmod);
			conversion_error(dec, col, v, NULL);

		case DK_BOOL:
			if (type == cJSON_True)
				return BoolGetDatum(true);
			if (type == cJSON_False)
				return BoolGetDatum(false);
			if (type == cJSON_String && v->valuestring)
			{
				const char *b = v->valuestring;

				if (pg_strcasecmp(b, "true") == 0 || pg_strcasecmp(b, "t") == 0)
					return BoolGetDatum(true);
				if (pg_strcasecmp(b, "false") == 0 || pg_strcasecmp(b, "f") == 0)
					return BoolGetDatum(false);
			}
			else if (type == cJSON_Number)
			{
				if (v->valuedouble == 0)
					return BoolGetDatum(false);
				if (v->valuedouble == 1)
					return BoolGetDatum(true);
			}
			conversion_error(dec, col, v,
							 "A boolean column accepts JSON true and false, the strings \"true\", \"false\", \"t\" and \"f\", and the numbers 0 and 1.");

		case DK_DATETIME:
			if (type == cJSON_String)
				return call_input(&col->infunc, value_text(dec, v, &len),
								  col->ioparam, col->typmod);
			conversion_error(dec, col, v,
							 type == cJSON_Number ?
							 "A number is not read as a date or time (its epoch and unit are ambiguous); declare the column as bigint or double precision." :
							 NULL);

		case DK_JSONB:
			return build_jsonb(dec, v);

		case DK_ARRAY:
			if (type == cJSON_Array)
				return build_array(dec, col, v);
			if (type == cJSON_String)
				return call_input(&col->infunc, value_text(dec, v, &len),
								  col->ioparam, col->typmod);
			conversion_error(dec, col, v,
							 "An array column accepts a JSON array, or a string in PostgreSQL array syntax; declare the column as jsonb to receive any JSON value.");

		case DK_GENERIC:
			return call_input(&col->infunc, value_text(dec, v, &len),
							  col->ioparam, col->typmod);
	}
	pg_unreachable();
}

/* --------------------------------------------------------------------
 * Constants and decoding of items
 * -------------------------------------------------------------------- */

void
civis_decoder_set_constant(CivisDecoder *dec, AttrNumber attnum,
						   const char *text_value)
{
	DecColumn  *col = NULL;
	int			i;
	MemoryContext old;
	ErrorContextCallback errcb;

	for (i = 0; i < dec->ncols; i++)
		if (dec->cols[i].attnum == attnum)
			col = &dec->cols[i];
	if (col == NULL)
		return;					/* not retrieved: nothing will read it */

	col->has_const = true;
	if (text_value == NULL)
	{
		col->const_null = true;
		col->const_value = (Datum) 0;
		return;
	}

	errcb.callback = decode_error_callback;
	errcb.arg = dec;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;
	dec->cur_col = col;
	dec->cur_page = NULL;
	dec->cur_index = -1;

	/*
	 * Converted once, into the decoder's (per-scan) context.  A previous
	 * constant is not freed: a tuple returned before a rescan may still
	 * point at it, and it is small.
	 */
	old = MemoryContextSwitchTo(dec->cxt);
	col->const_value = call_input(&col->infunc, text_value, col->ioparam,
								  col->typmod);
	col->const_null = false;
	MemoryContextSwitchTo(old);

	dec->cur_col = NULL;
	error_context_stack = errcb.previous;
}

/* The value when the item has no such member (or for param_only). */
static inline void
set_missing(const DecColumn *col, Datum *value, bool *isnull)
{
	if (col->has_const && !col->const_null)
	{
		*value = col->const_value;
		*isnull = false;
	}
}

void
civis_decode_item(CivisDecoder *dec, const CivisPage *page, int index,
				  Datum *values, bool *nulls)
{
	const cJSON *item = page_item(page, index);
	ErrorContextCallback errcb;
	int			i;

	memset(values, 0, sizeof(Datum) * dec->natts);
	memset(nulls, true, sizeof(bool) * dec->natts);

	errcb.callback = decode_error_callback;
	errcb.arg = dec;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;
	dec->cur_col = NULL;
	dec->cur_page = page;
	dec->cur_index = index;

	if (cJSON_IsObject(item))
	{
		/* one walk over the item's members fills the per-key slots */
		if (dec->nkeys > 0)
		{
			const cJSON *m;

			memset(dec->found, 0, sizeof(cJSON *) * dec->nkeys);
			for (m = item->child; m != NULL; m = m->next)
			{
				int			k;

				if (m->string == NULL)
					continue;
				k = lookup_key(dec, m->string);
				if (k >= 0)
					dec->found[k] = m;	/* the last duplicate wins */
			}
		}
	}
	else if (!dec->scalar_items_ok)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("item %d of the response to %s is a JSON %s, not an object",
						index + 1, page->shown, json_type_name(item)),
				 errdetail("Value: %s", value_excerpt(item)),
				 errhint("To read such items, give foreign table \"%s\" one column with the option key '.', which receives the whole item.",
						 dec->relname)));

	for (i = 0; i < dec->ncols; i++)
	{
		DecColumn  *col = &dec->cols[i];
		int			a = col->attnum - 1;
		const cJSON *v;

		if (col->param_only)
		{
			set_missing(col, &values[a], &nulls[a]);
			continue;
		}
		if (col->whole_item)
			v = item;
		else if (!cJSON_IsObject(item))
			v = NULL;
		else
		{
			int			p;

			v = dec->found[col->entry];
			for (p = 0; v != NULL && p < col->npath; p++)
			{
				if (cJSON_IsNull(v))
					break;		/* "a.b" of "a": null is null */
				if (!cJSON_IsObject(v))
				{
					/* "a.b" of "a": 5 -- there is no such member */
					v = NULL;
					break;
				}
				v = member_n(v, col->path[p], col->pathlen[p]);
			}
		}

		if (v == NULL)
		{
			set_missing(col, &values[a], &nulls[a]);
			continue;
		}
		if (cJSON_IsNull(v))
			continue;

		dec->cur_col = col;
		values[a] = convert_value(dec, col, v);
		nulls[a] = false;
		dec->cur_col = NULL;
	}

	error_context_stack = errcb.previous;
}
