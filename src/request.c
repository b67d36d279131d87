/*-------------------------------------------------------------------------
 *
 * request.c
 *		  A request plan plus the runtime values of its expressions ->
 *		  concrete request streams and their URLs.
 *
 * Every value placed in a URL goes through civis_url_escape (libcurl's own
 * percent-encoding), so a value can neither add parameters nor leave its
 * path segment; "." and ".." are refused as path values because a server
 * would resolve them.  Query parameters are written in name order so that
 * EXPLAIN, the request and the mock's log agree byte for byte.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/lsyscache.h"
#include "nodes/pg_list.h"
#include "nodes/value.h"

#include "plan.h"

#define MAX_STREAMS 10000
#define SECRET_MASK "********"

CivisQueryPart *
civis_query_part(const char *name, const char *value)
{
	CivisQueryPart *part = palloc0(sizeof(CivisQueryPart));

	part->name = pstrdup(name);
	part->value = pstrdup(value);
	return part;
}

/*
 * The API texts of a runtime value: one for a scalar, one per non-NULL
 * element for an array (IN lists, = ANY).
 */
void
civis_value_texts(CivisArgValues *out, Datum value, Oid typid)
{
	Oid			elemtype = get_element_type(typid);

	if (OidIsValid(elemtype))
	{
		ArrayType  *arr = DatumGetArrayTypeP(value);
		int16		typlen;
		bool		typbyval;
		char		typalign;
		Datum	   *elems;
		bool	   *nulls;
		int			n,
					i;

		get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
		deconstruct_array(arr, elemtype, typlen, typbyval, typalign,
						  &elems, &nulls, &n);
		for (i = 0; i < n; i++)
		{
			char	   *text;

			if (nulls[i])
				continue;
			/* a value with no API form (infinity) cannot be sent: none is */
			text = civis_datum_to_api_text(elems[i], elemtype);
			if (text == NULL)
			{
				out->isnull = true;
				out->texts = NIL;
				return;
			}
			out->texts = lappend(out->texts, makeString(text));
		}
	}
	else
	{
		char	   *text = civis_datum_to_api_text(value, typid);

		if (text == NULL)
			out->isnull = true;
		else
			out->texts = list_make1(makeString(text));
	}
}

static CivisStream *
copy_stream(const CivisStream *src)
{
	CivisStream *s = palloc0(sizeof(CivisStream));

	s->path = pstrdup(src->path);
	s->shown_path = pstrdup(src->shown_path);
	s->query = list_copy(src->query);
	s->echo = list_copy(src->echo);
	s->empty = src->empty;
	return s;
}

/* Replace {param} in a path template by an already-encoded value. */
static char *
substitute(const char *path, const char *param, const char *value)
{
	char	   *holder = psprintf("{%s}", param);
	const char *at = strstr(path, holder);
	StringInfoData buf;

	if (at == NULL)
		return pstrdup(path);
	initStringInfo(&buf);
	appendBinaryStringInfo(&buf, path, at - path);
	appendStringInfoString(&buf, value);
	appendStringInfoString(&buf, at + strlen(holder));
	return buf.data;
}

static void
check_path_value(const char *param, const char *value, const char *relname)
{
	if (value[0] == '\0' || strcmp(value, ".") == 0 || strcmp(value, "..") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value \"%s\" for path parameter \"%s\" of foreign table \"%s\"",
						value, param, relname),
				 errhint("Path parameters cannot be empty, \".\" or \"..\".")));
}

/* The values of one argument as a list of C strings, NULLs dropped. */
static List *
arg_texts(const CivisArg *arg, CivisArgValues *values, bool *isnull)
{
	List	   *result = NIL;
	ListCell   *lc;

	*isnull = false;
	if (arg->expr_index < 0)
		return list_make1(arg->const_text);
	if (values[arg->expr_index].isnull)
	{
		*isnull = true;
		return NIL;
	}
	foreach(lc, values[arg->expr_index].texts)
	{
		char	   *v = strVal(lfirst(lc));
		ListCell   *lc2;
		bool		dup = false;

		/* IN (1, 1) matches a row once: never fetch a value twice */
		foreach(lc2, result)
			if (strcmp((char *) lfirst(lc2), v) == 0)
				dup = true;
		if (!dup)
			result = lappend(result, v);
	}
	return result;
}

/*
 * An optimisation is sent only when every value is acceptable: inside the
 * parameter's documented values, and without commas in a comma list.
 * Otherwise it is left out and PostgreSQL filters alone.
 */
static bool
optimisation_sendable(const CivisArg *arg, List *texts)
{
	ListCell   *lc;

	if (texts == NIL)
		return false;
	foreach(lc, texts)
	{
		const char *v = lfirst(lc);
		const char *p;
		bool		found = false;

		if (arg->list == CIVIS_LIST_CSV && strchr(v, ',') != NULL)
			return false;
		if (arg->allowed == NULL)
			continue;
		for (p = arg->allowed; *p;)
		{
			const char *end = strchr(p, ',');
			size_t		n = end ? (size_t) (end - p) : strlen(p);

			if (n == strlen(v) && strncmp(p, v, n) == 0)
				found = true;
			if (!end)
				break;
			p = end + 1;
		}
		if (!found)
			return false;
	}
	return true;
}

static CivisQueryPart *
add_query(CivisStream *s, const CivisArg *arg, const char *name, const char *value)
{
	CivisQueryPart *part = civis_query_part(name, value);

	part->secret = arg->secret;
	s->query = lappend(s->query, part);
	return part;
}

/* Apply one value of an argument to one stream. */
static void
apply_value(CivisStream *s, const CivisArg *arg, const char *value,
			bool placeholder, const char *relname)
{
	if (arg->in_path)
	{
		const char *encoded = placeholder ? value : civis_url_escape(value);

		if (!placeholder)
			check_path_value(arg->param, value, relname);
		s->path = substitute(s->path, arg->param, encoded);
		s->shown_path = substitute(s->shown_path, arg->param,
								   arg->secret && !placeholder ? SECRET_MASK : encoded);
	}
	else if (arg->list == CIVIS_LIST_ARRAY)
		add_query(s, arg, psprintf("%s[]", arg->param), value)->verbatim = placeholder;
	else
		add_query(s, arg, arg->param, value)->verbatim = placeholder;

	if (arg->echo_attnum > 0)
	{
		CivisEcho  *echo = palloc0(sizeof(CivisEcho));

		echo->attnum = arg->echo_attnum;
		echo->value = pstrdup(value);
		s->echo = lappend(s->echo, echo);
	}
}

/* Apply several values in one request: a comma list or name[] repeats. */
static void
apply_list(CivisStream *s, const CivisArg *arg, List *texts, bool placeholder)
{
	ListCell   *lc;

	if (arg->list == CIVIS_LIST_ARRAY)
	{
		char	   *name = psprintf("%s[]", arg->param);

		foreach(lc, texts)
			add_query(s, arg, name, lfirst(lc))->verbatim = placeholder;
	}
	else
	{
		StringInfoData buf;
		CivisQueryPart *part;

		initStringInfo(&buf);
		foreach(lc, texts)
		{
			if (buf.len > 0)
				appendStringInfoChar(&buf, ',');
			appendStringInfoString(&buf, lfirst(lc));
		}
		part = add_query(s, arg, arg->param, buf.data);
		part->csv = true;
		part->verbatim = placeholder;
	}
}

/*
 * The concrete request streams of a plan: one, or several when a semantic
 * argument fans out over several values.  A NULL semantic value gives a
 * single stream marked empty (no row can match).
 */
List *
civis_expand_streams(const CivisRequestPlan *plan, CivisArgValues *values,
					 int nvalues, const char *relname)
{
	CivisStream *first = palloc0(sizeof(CivisStream));
	List	   *streams;
	ListCell   *lc;

	first->path = pstrdup(plan->endpoint);
	first->shown_path = pstrdup(plan->endpoint);
	streams = list_make1(first);

	foreach(lc, plan->args)
	{
		CivisArg   *arg = lfirst(lc);
		bool		isnull;
		List	   *texts = arg_texts(arg, values, &isnull);
		bool		placeholder = arg->expr_index >= 0 &&
			values[arg->expr_index].placeholder;
		List	   *next = NIL;
		ListCell   *ls;

		if (arg->semantic && (isnull || texts == NIL))
		{
			first->empty = true;
			return list_make1(first);
		}
		if (!arg->semantic && !placeholder && !optimisation_sendable(arg, texts))
			continue;

		if (!arg->fanout && (list_length(texts) == 1 || arg->list == CIVIS_LIST_NONE))
		{
			foreach(ls, streams)
				apply_value(lfirst(ls), arg, linitial(texts), placeholder, relname);
			continue;
		}
		if (!arg->fanout)
		{
			foreach(ls, streams)
				apply_list(lfirst(ls), arg, texts, placeholder);
			continue;
		}

		/* fan out: every stream times every value */
		if ((int64) list_length(streams) * list_length(texts) > MAX_STREAMS)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("the conditions on foreign table \"%s\" need more than %d requests",
							relname, MAX_STREAMS),
					 errhint("Narrow the IN lists on parameter columns.")));
		foreach(ls, streams)
		{
			ListCell   *lv;

			foreach(lv, texts)
			{
				CivisStream *s = copy_stream(lfirst(ls));

				apply_value(s, arg, lfirst(lv), placeholder, relname);
				next = lappend(next, s);
			}
		}
		streams = next;
	}
	return streams;
}

static int
part_cmp(const ListCell *a, const ListCell *b)
{
	const CivisQueryPart *pa = lfirst(a);
	const CivisQueryPart *pb = lfirst(b);

	return strcmp(pa->name, pb->name);
}

/*
 * The URL of one page of a stream: base + path + query in name order.
 * shown: the display form (no host, secrets masked) for EXPLAIN, errors
 * and DEBUG lines.
 */
char *
civis_build_url(const char *api_url, const CivisStream *stream,
				List *paging_parts, bool shown)
{
	StringInfoData buf;
	List	   *parts = list_concat_copy(stream->query, paging_parts);
	ListCell   *lc;
	bool		first = true;

	/* list_sort is stable: name[] repeats keep their order */
	list_sort(parts, part_cmp);

	initStringInfo(&buf);
	if (!shown)
		appendStringInfoString(&buf, api_url);
	appendStringInfoString(&buf, shown ? stream->shown_path : stream->path);
	foreach(lc, parts)
	{
		CivisQueryPart *part = lfirst(lc);

		appendStringInfoChar(&buf, first ? '?' : '&');
		first = false;
		appendStringInfoString(&buf, civis_url_escape(part->name));
		appendStringInfoChar(&buf, '=');
		if (shown && part->secret && !part->verbatim)
			appendStringInfoString(&buf, SECRET_MASK);
		else if (part->verbatim)
			appendStringInfoString(&buf, part->value);
		else if (part->csv)
		{
			/* a comma list: encode each value, keep the commas readable */
			char	   *copy = pstrdup(part->value);
			char	   *tok = copy;
			char	   *comma;

			while ((comma = strchr(tok, ',')) != NULL)
			{
				*comma = '\0';
				appendStringInfoString(&buf, civis_url_escape(tok));
				appendStringInfoChar(&buf, ',');
				tok = comma + 1;
			}
			appendStringInfoString(&buf, civis_url_escape(tok));
		}
		else
			appendStringInfoString(&buf, civis_url_escape(part->value));
	}
	list_free(parts);
	return buf.data;
}
