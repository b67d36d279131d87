/*-------------------------------------------------------------------------
 *
 * json_page.c
 *		  Reading a response body into a page of JSON items.
 *
 * A response body is parsed once (cJSON) into a CivisPage: the tree plus an
 * array of its items, so item i is found in O(1).  Everything that can be
 * wrong with a body as a whole is reported here, before any item is decoded
 * (decode.c turns items into Datums): an empty body, an HTML page, invalid
 * UTF-8, \u0000 (PostgreSQL text cannot hold it), unpaired surrogate
 * escapes (cJSON's check), JSON nested deeper than cJSON allows, a truncated body, data after the value, a value that is
 * neither an array nor an object.  The JSON helpers decode.c needs too
 * (number text, compact JSON, excerpts for messages) are declared in
 * json_page.h.
 *
 * Memory.  A body is parsed against a budget of CIVIS_JSON_TREE_LIMIT bytes
 * (a tree costs up to about 40 times the bytes of its text, `[0,0,...]`),
 * in the context the caller parses in, normally the scan's per-page
 * context; a body whose tree would outgrow it is refused with SQLSTATE
 * 54000.  Parsing can be cancelled.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/shortest_dec.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/memutils.h"

#include "json_page.h"

/* Length of value excerpts in error details, and of parse-error excerpts. */
#define VALUE_EXCERPT_BYTES 100
#define PARSE_EXCERPT_CHARS 40

/* --------------------------------------------------------------------
 * Parsing with a memory budget
 * -------------------------------------------------------------------- */

/*
 * cJSON allocates through process-wide hooks.  civis_json_parse sets them to
 * budget_malloc/budget_free for one parse only and puts cJSON's defaults
 * back in PG_FINALLY, so no other code (another extension linking the same
 * libcjson) ever allocates through them.
 *
 * During a parse every allocation is palloc'd in the budget's context and
 * counted; past the limit the hook returns NULL, cJSON gives up the parse
 * cleanly, and the caller raises SQLSTATE 54000.  Trees are freed with
 * their context, never by cJSON_Delete (nothing here calls it, nor
 * cJSON_Print* or cJSON_Create*).
 *
 * Every CIVIS_JSON_CFI_EVERY allocations the hook calls CHECK_FOR_INTERRUPTS,
 * whose ERROR longjmps out of cJSON's parser safely: the half-built tree is
 * in the budget's context (freed with the statement's), the parser keeps no
 * locks and no state but the hooks and its last error position, and the
 * hooks are restored by PG_FINALLY before the error goes further.
 */
#define CIVIS_JSON_CFI_EVERY 1024

static CivisJsonBudget *active_budget = NULL;

static void *
budget_malloc(size_t size)
{
	CivisJsonBudget *b = active_budget;
	void	   *p;

	if (b == NULL)
		return NULL;			/* hooks without a parse: cannot happen */
	if (++b->nallocs % CIVIS_JSON_CFI_EVERY == 0)
		CHECK_FOR_INTERRUPTS();
	if (b->exceeded || size > b->limit - b->used)
	{
		b->exceeded = true;
		return NULL;
	}
	p = MemoryContextAllocExtended(b->cxt, size,
								   MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
	if (p == NULL)
	{
		b->exceeded = true;
		return NULL;
	}
	b->used += GetMemoryChunkSpace(p);
	if (b->used > b->limit)
		b->exceeded = true;
	return p;
}

static void
budget_free(void *ptr)
{
	/* nothing: the budget's memory context owns every chunk */
}

/* A budget of limit bytes, allocating in CurrentMemoryContext. */
void
civis_json_budget_init(CivisJsonBudget *budget, Size limit)
{
	memset(budget, 0, sizeof(*budget));
	budget->cxt = CurrentMemoryContext;
	budget->limit = limit;
}

/*
 * Parse len bytes of JSON text (cJSON_ParseWithLengthOpts without requiring
 * a NUL terminator) against the budget.  NULL when the text is no JSON or
 * the budget ran out (budget->exceeded tells which); *parse_end as cJSON
 * sets it.  See above for the hooks.
 */
cJSON *
civis_json_parse(const char *text, size_t len, const char **parse_end,
				 CivisJsonBudget *budget)
{
	CivisJsonBudget *saved = active_budget;
	cJSON_Hooks hooks;
	cJSON	   *volatile root = NULL;

	hooks.malloc_fn = budget_malloc;
	hooks.free_fn = budget_free;
	active_budget = budget;
	cJSON_InitHooks(&hooks);
	PG_TRY();
	{
		root = cJSON_ParseWithLengthOpts(text, len, parse_end, false);
	}
	PG_FINALLY();
	{
		active_budget = saved;
		if (saved == NULL)
			cJSON_InitHooks(NULL);
	}
	PG_END_TRY();
	return root;
}

/*
 * The ERROR for a body whose tree would outgrow its budget.  The hint names
 * both knobs: max_response_bytes bounds the body, page_size what a page
 * holds.
 */
void
civis_json_budget_error(const CivisJsonBudget *budget, size_t len,
						const char *shown)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("the response to %s is too large to parse", shown),
			 errdetail("Its %zu bytes of JSON would take more than %zu MB of memory as a tree.",
					   len, (size_t) (budget->limit / (1024 * 1024))),
			 errhint("The max_response_bytes option of the foreign server bounds the size of a response; lower it (or the page_size option of the table) so that such responses are refused before they are parsed.")));
}

/*
 * The top-level string member "key" of a JSON object (an error body), or
 * NULL when the body is no object, has no such string member or is larger
 * than ERROR_BODY_MAX_BYTES.  The tree is left in CurrentMemoryContext.
 */
#define ERROR_BODY_MAX_BYTES (64 * 1024)
#define ERROR_BODY_TREE_LIMIT ((Size) 4 * 1024 * 1024)

char *
civis_json_top_string(const char *body, size_t len, const char *key)
{
	CivisJsonBudget budget;
	cJSON	   *root;
	const cJSON *v;

	if (body == NULL || len == 0 || len > ERROR_BODY_MAX_BYTES)
		return NULL;
	civis_json_budget_init(&budget, ERROR_BODY_TREE_LIMIT);
	root = civis_json_parse(body, len, NULL, &budget);
	if (!cJSON_IsObject(root))
		return NULL;
	v = cJSON_GetObjectItemCaseSensitive(root, key);
	if (!cJSON_IsString(v) || v->valuestring == NULL)
		return NULL;
	return pstrdup(v->valuestring);
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

const char *
civis_json_type_name(const cJSON *v)
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
double
civis_json_number(const cJSON *v)
{
	double		d = v->valuedouble;

	if (!isfinite(d))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("a JSON number in the response is out of range for type double precision")));
	return d;
}

/*
 * Text of a finite double: integers below 2^53 without ".0", anything else
 * in the shortest form that reads back as the same double.  Both are valid
 * JSON numbers and valid input for float8, numeric and text.
 */
int
civis_format_number(double d, char *out)
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
void
civis_append_json(StringInfo buf, const cJSON *v, int limit)
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
			n = civis_format_number(civis_json_number(v), num);
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
				civis_append_json(buf, c, limit);
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
				civis_append_json(buf, c, limit);
				if (limit > 0 && buf->len > limit)
					return;
			}
			appendStringInfoCharMacro(buf, '}');
			break;
		default:
			elog(ERROR, "unexpected cJSON node type %d", v->type);
	}
}

/*
 * A value's text for error details: compact JSON, at most about
 * VALUE_EXCERPT_BYTES, cut on a character boundary, in the database
 * encoding.  Error paths only.
 */
char *
civis_value_excerpt(const cJSON *v)
{
	StringInfoData b;

	initStringInfo(&b);
	civis_append_json(&b, v, VALUE_EXCERPT_BYTES);
	return civis_message_text(b.data, b.len, VALUE_EXCERPT_BYTES);
}

/*
 * A printable excerpt of the raw body from pos: at most PARSE_EXCERPT_CHARS
 * characters, made safe for a message by civis_message_text.
 */
static char *
body_excerpt(const char *body, size_t len, size_t pos)
{
	size_t		n;

	/* do not start in the middle of a UTF-8 sequence */
	while (pos > 0 && pos < len && (((unsigned char) body[pos]) & 0xC0) == 0x80)
		pos--;
	if (pos >= len)
		return pstrdup("");
	/* enough bytes for PARSE_EXCERPT_CHARS characters, and one more */
	n = Min(len - pos, (size_t) (PARSE_EXCERPT_CHARS + 1) * 4);
	return civis_message_text(body + pos, n, PARSE_EXCERPT_CHARS);
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
#ifdef CIVIS_HAVE_ENCODING_VERIFYMBSTR
	size_t		off = 0;

	while (off < len)
	{
		size_t		chunk = Min(len - off, (size_t) (1 << 20));
		int			ok;

		CHECK_FOR_INTERRUPTS();
		ok = pg_encoding_verifymbstr(PG_UTF8, body + off, (int) chunk);

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
	uint32		n = 0;

	while (p < end && (p = memchr(p, '\\', end - p)) != NULL)
	{
		if (++n % (1 << 16) == 0)
			CHECK_FOR_INTERRUPTS();
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

		if (i % (1 << 20) == 0)
			CHECK_FOR_INTERRUPTS();

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

CIVIS_NORETURN static void report_parse_error(const char *body, size_t len,
											  const char *errptr,
											  const char *shown);

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
				 errhint("Retry the query; if it fails again, check the api_url option of the foreign server (an HTML error page or a truncated body is not JSON).")));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_JSON_TEXT),
			 errmsg("invalid JSON in the response to %s", shown),
			 errdetail("Parsing failed at byte %zu of %zu, near \"%s\".",
					   errpos, len, body_excerpt(body, len, errpos)),
			 errhint("Retry the query; if it fails again, check the api_url option of the foreign server (an HTML error page or a truncated body is not JSON).")));
}

static inline bool
is_json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * What the first bytes tell (after a UTF-8 byte order mark and whitespace):
 * an empty body, or an HTML page where JSON was expected.
 */
static void
body_start_check(const char *body, size_t len, const char *shown)
{
	size_t		start = 0;

	if (len >= 3 && memcmp(body, "\xEF\xBB\xBF", 3) == 0)
		start = 3;
	while (start < len && is_json_space(body[start]))
		start++;
	if (start >= len)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_JSON_TEXT),
				 errmsg("the response to %s is empty", shown),
				 errhint("Retry the query; if it fails again, check the api_url option of the foreign server (an HTML error page or a truncated body is not JSON).")));
	if (body[start] == '<')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_JSON_TEXT),
				 errmsg("the response to %s is HTML, not JSON", shown),
				 errdetail("The body starts with \"%s\".",
						   body_excerpt(body, len, start)),
				 errhint("A proxy, a load balancer or an outage page may have answered instead of the API; check the api_url option.")));
}

/* cJSON stops after the first value: only whitespace may follow it. */
static void
refuse_trailing_data(const char *body, size_t len, const char *parse_end,
					 const char *shown)
{
	const char *p = parse_end;

	if (parse_end == NULL || parse_end < body || parse_end > body + len)
		return;
	while (p < body + len && is_json_space(*p))
		p++;
	if (p < body + len)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_JSON_TEXT),
				 errmsg("invalid JSON in the response to %s", shown),
				 errdetail("Unexpected data after the JSON value at byte %zu, near \"%s\".",
						   (size_t) (p - body), body_excerpt(body, len, p - body)),
				 errhint("Retry the query; if it fails again, check the api_url option of the foreign server (an HTML error page or a truncated body is not JSON).")));
}

/*
 * The items of a page: the elements of an array, or the one object some
 * list endpoints answer with.  Any other JSON value is an error.
 */
static void
index_items(CivisPage *page)
{
	cJSON	   *root = page->root;
	const char *shown = page->shown;

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
						shown, civis_json_type_name(root)),
				 errdetail("Value: %s", civis_value_excerpt(root))));
}

CivisPage *
civis_page_parse(const char *body, size_t len, const char *shown,
				 const char *relname)
{
	CivisPage  *page;
	ErrorContextCallback errcb;
	ParseErrorContext pec;
	const char *parse_end = NULL;
	cJSON	   *root;
	CivisJsonBudget budget;

	if (shown == NULL)
		shown = "the Civis API";
	shown = civis_message_text(shown, strlen(shown), 1000);
	if (body == NULL)
		len = 0;

	pec.relname = relname;
	errcb.callback = parse_error_callback;
	errcb.arg = &pec;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	body_start_check(body, len, shown);
	verify_utf8(body, len, shown);
	refuse_nul_escapes(body, len, shown);

	civis_json_budget_init(&budget, CIVIS_JSON_TREE_LIMIT);
	root = civis_json_parse(body, len, &parse_end, &budget);
	if (root == NULL && budget.exceeded)
		civis_json_budget_error(&budget, len, shown);
	if (root == NULL)
		report_parse_error(body, len, parse_end, shown);

	refuse_trailing_data(body, len, parse_end, shown);

	page = palloc0(sizeof(CivisPage));
	page->root = root;
	page->shown = pstrdup(shown);

	index_items(page);

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

/* --------------------------------------------------------------------
 * Members, ids and texts of items
 * -------------------------------------------------------------------- */

/*
 * The member of obj named name[0..len) (not NUL-terminated).  Like jsonb,
 * the last of duplicate members wins.
 */
const cJSON *
civis_json_member(const cJSON *obj, const char *name, size_t len)
{
	const cJSON *found = NULL;
	const cJSON *c;

	for (c = obj->child; c != NULL; c = c->next)
		if (c->string && c->string[0] == name[0] &&
			strncmp(c->string, name, len) == 0 && c->string[len] == '\0')
			found = c;
	return found;
}

/*
 * One step of a dotted key ("a.b" is a, then b): the member of an object;
 * null stays null ("a.b" of "a": null is null); anything else has no
 * members (NULL).  The one definition of walking a dotted key: decode.c
 * walks its pre-split keys with it, lookup_dotted the keys given as text.
 */
const cJSON *
civis_json_step(const cJSON *v, const char *name, size_t len)
{
	if (v == NULL || cJSON_IsNull(v))
		return v;
	if (!cJSON_IsObject(v))
		return NULL;
	return civis_json_member(v, name, len);
}

/* Follow a dotted key from an item; NULL when some component is missing. */
static const cJSON *
lookup_dotted(const cJSON *item, const char *key)
{
	const cJSON *cur = item;

	if (strcmp(key, WHOLE_ITEM_KEY) == 0)
		return item;
	if (!cJSON_IsObject(cur))
		return NULL;
	for (;;)
	{
		const char *dot = strchr(key, '.');
		size_t		len = dot ? (size_t) (dot - key) : strlen(key);

		cur = civis_json_step(cur, key, len);
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
	v = civis_json_member(item, "id", 2);
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
	civis_append_json(&b, v, 0);
	return b.data;
}
