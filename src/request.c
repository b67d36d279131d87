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

#include "miscadmin.h"

#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/lsyscache.h"
#include "nodes/pg_list.h"
#include "nodes/value.h"

#include "request.h"

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

static CivisStream *
copy_stream(const CivisStream *src)
{
	CivisStream *s = palloc0(sizeof(CivisStream));

	s->path = pstrdup(src->path);
	s->shown_path = pstrdup(src->shown_path);
	s->query = list_copy(src->query);
	s->echo = list_copy(src->echo);
	s->detail_id = src->detail_id;
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
			bool placeholder, const CivisValue *v)
{
	if (arg->in_path)
	{
		const char *encoded = placeholder ? value : civis_url_escape(value);

		s->path = substitute(s->path, arg->param, encoded);
		if (arg->kind == CIVIS_ARG_DETAIL_ID && !placeholder)
			s->detail_id = pstrdup(value);
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
		echo->text = pstrdup(value);
		/* a scalar echoes the condition's own value, not re-parsed text */
		if (v && !v->unknown && !v->isnull &&
			!OidIsValid(get_element_type(v->typid)))
		{
			echo->has_datum = true;
			echo->datum = civis_value_to_column(v->value, v->typid,
												arg->coltype, arg->coltypmod);
		}
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
 * Put an argument's texts into every stream: one value, a list in one
 * parameter, or a fan-out (every stream times every value).
 */
static List *
apply_texts(List *streams, const CivisArg *arg, List *texts, bool placeholder,
			const CivisValue *v, const char *relname)
{
	List	   *next = NIL;
	ListCell   *ls;

	if (!arg->fanout && (list_length(texts) == 1 || arg->list == CIVIS_LIST_NONE))
	{
		foreach(ls, streams)
			apply_value(lfirst(ls), arg, linitial(texts), placeholder, v);
		return streams;
	}
	if (!arg->fanout)
	{
		foreach(ls, streams)
			apply_list(lfirst(ls), arg, texts, placeholder);
		return streams;
	}
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

			CHECK_FOR_INTERRUPTS();
			apply_value(s, arg, lfirst(lv), placeholder,
						list_length(texts) == 1 ? v : NULL);
			next = lappend(next, s);
		}
	}
	return next;
}

/*
 * The concrete request streams of a plan for one execution's values: one,
 * or several when a semantic argument fans out over several values.  Each
 * argument's value is decided here by civis_decide, and only here.
 */
void
civis_expand(const CivisRequestPlan *plan, CivisValue *values,
			 const char *relname, bool raise, CivisExpansion *out)
{
	CivisStream *first = palloc0(sizeof(CivisStream));
	List	   *streams;
	ListCell   *lc;

	memset(out, 0, sizeof(CivisExpansion));
	first->path = pstrdup(plan->endpoint);
	/* the endpoint is a table owner's text: shown only through the sanitiser */
	first->shown_path = civis_message_text(plan->endpoint,
										   strlen(plan->endpoint),
										   (int) strlen(plan->endpoint));
	streams = list_make1(first);

	foreach(lc, plan->args)
	{
		CivisArg   *arg = lfirst(lc);
		CivisDecision *d = palloc0(sizeof(CivisDecision));
		CivisValue *v = arg->expr_index >= 0 ? &values[arg->expr_index] : NULL;
		bool		placeholder = v && v->unknown;
		List	   *texts;

		if (v)
			civis_decide(arg, v, d);
		else
		{
			CivisValue	none = {0};

			civis_decide(arg, &none, d);
		}
		out->decisions = lappend(out->decisions, d);

		switch (d->outcome)
		{
			case CIVIS_NO_ROWS:
				out->no_rows = true;
				out->streams = NIL;
				return;
			case CIVIS_ERROR:
				if (raise)
					civis_raise_decision(arg, d, relname);
				out->error = true;
				out->streams = NIL;
				return;
			case CIVIS_NOT_SENT:
			case CIVIS_LOOSE:
				if (arg->recheck_index >= 0)
					out->rechecks = lappend_int(out->rechecks, arg->recheck_index);
				break;
			case CIVIS_EXACT:
				break;
		}
		texts = d->texts;
		if (d->outcome == CIVIS_NOT_SENT)
		{
			/* a scope column falls back to its default; others are left out */
			if (arg->kind != CIVIS_ARG_SCOPE || arg->const_text == NULL)
				continue;
			texts = list_make1(arg->const_text);
		}
		if (texts == NIL)
			continue;
		if (arg->kind == CIVIS_ARG_CURSOR)
		{
			out->cursor_start = linitial(texts);
			out->cursor_shown = placeholder;
			continue;
		}

		streams = apply_texts(streams, arg, texts, placeholder, v, relname);
	}
	out->streams = streams;
}

static int
part_cmp(const ListCell *a, const ListCell *b)
{
	const CivisQueryPart *pa = lfirst(a);
	const CivisQueryPart *pb = lfirst(b);

	return strcmp(pa->name, pb->name);
}

/*
 * The last check that a request stays under the server's URL: the path of
 * the api_url (after scheme and host) followed by the stream's path, its
 * values in place, must follow the path rule (civis_path_problem; option.c
 * checks the same rule on the options, spec.c on the spec).  Requests go
 * out with CURLOPT_PATH_AS_IS, byte for byte as EXPLAIN shows them, so no
 * one else resolves "." or ".." segments: this check is what keeps them
 * out.
 */
static void
check_request_path(const char *api_url, const char *path)
{
	const char *host = strstr(api_url, "://");
	const char *prefix = host ? strchr(host + 3, '/') : NULL;
	char	   *full = psprintf("%s%s", prefix ? prefix : "", path);
	const char *why = civis_path_problem(full, CIVIS_PATH_SENT);

	if (why != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the request path \"%s\" would not stay under the server's api_url",
						civis_message_text(full, strlen(full), 200)),
				 errdetail("The path %s.", why),
				 errhint("Check the endpoint option of the foreign table and the api_url option of its server.")));
	pfree(full);
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
	{
		appendStringInfoString(&buf, api_url);
		check_request_path(api_url, stream->path);
	}
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
