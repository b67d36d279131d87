/*-------------------------------------------------------------------------
 *
 * decide.c
 *		  One decision per condition and value: EXACT, LOOSE, NOT_SENT,
 *		  NO_ROWS or ERROR.
 *
 * Planning calls civis_decide with the value UNKNOWN when it is known only
 * at execution; a condition leaves the local Filter only if that gives
 * EXACT.  The scan calls it again with the actual value at scan start and
 * handles whatever it says for that execution: a condition the plan
 * removed is evaluated locally when its value turns out LOOSE or NOT_SENT
 * (scan.c, "runtime recheck").  EXPLAIN calls it too.  So the plan, the
 * request and EXPLAIN cannot disagree about a value.
 *
 * The rules, for every kind of condition:
 *
 *  - NULL, an empty array or an array of NULLs: NO_ROWS (SQL's x = NULL
 *    and x = ANY('{}') match nothing).  NULL elements of a non-empty
 *    array are dropped.
 *  - A value the API cannot take as it is (no API form such as infinity,
 *    outside the parameter's documented values, a comma inside a comma
 *    list, "", "." or ".." in a path, a type the API compares otherwise):
 *    an optimisation (filter, range, cursor) is NOT_SENT; a scope column
 *    that is a real field sends its default and is evaluated locally;
 *    a path parameter, a parameter-only column or get-by-id: ERROR,
 *    because no local test can stand in for the API there.
 *  - A list of values longer than CIVIS_MAX_LIST_TEXT bytes in one
 *    parameter: as a value the API cannot take.
 *  - Cursor starts: id >= -9223372036854775808 (or any start below the
 *    first id) is NOT_SENT; id > 9223372036854775807 is NO_ROWS.
 *  - Otherwise: path, parameter-only, get-by-id and cursor are EXACT;
 *    filters and scopes are EXACT when the column is marked exact and the
 *    value was not rounded; ranges are always LOOSE (value.c widens them).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/lsyscache.h"

#include "decide.h"
#include "plan.h"

/*
 * The longest list of values sent in one parameter.  URLs of more than
 * about 8 kB are refused by common servers and proxies; a longer list is
 * not sent, and the local filter applies it.
 */
#define CIVIS_MAX_LIST_TEXT 4000

const char *
civis_outcome_name(CivisOutcome outcome)
{
	switch (outcome)
	{
		case CIVIS_EXACT:
			return "exact";
		case CIVIS_LOOSE:
			return "loose";
		case CIVIS_NOT_SENT:
			return "not sent";
		case CIVIS_NO_ROWS:
			return "no rows";
		case CIVIS_ERROR:
			return "error";
	}
	return "?";
}

static bool
kind_is_semantic(CivisArgKind kind)
{
	return kind == CIVIS_ARG_PATH || kind == CIVIS_ARG_PARAM_ONLY ||
		kind == CIVIS_ARG_DETAIL_ID;
}

/* A value the API cannot take: what that means for this kind. */
static void
unsendable(const CivisArg *arg, const char *text, CivisRefusal why,
		   CivisDecision *d)
{
	d->texts = NIL;
	if (!kind_is_semantic(arg->kind))
	{
		/* an optimisation, or a scope that falls back to its default */
		d->outcome = CIVIS_NOT_SENT;
		return;
	}
	d->outcome = CIVIS_ERROR;
	d->refusal = why;
	d->refused_text = text ? pstrdup(text) : NULL;
	if (arg->in_path && arg->kind == CIVIS_ARG_PATH && text &&
		(text[0] == '\0' || strcmp(text, ".") == 0 || strcmp(text, "..") == 0))
		d->refusal = CIVIS_REFUSED_PATH_DOTS;
}

static int64
int_value(const CivisValue *v)
{
	switch (v->typid)
	{
		case INT2OID:
			return DatumGetInt16(v->value);
		case INT4OID:
			return DatumGetInt32(v->value);
		default:
			return DatumGetInt64(v->value);
	}
}

/* id > n / id >= n as last_id on cursor paging. */
static void
decide_cursor(const CivisArg *arg, const CivisValue *v, CivisDecision *d)
{
	int64		n = int_value(v);
	int64		last_id;

	if (arg->cursor_inclusive)
	{
		if (n == PG_INT64_MIN)
		{
			d->outcome = CIVIS_NOT_SENT;
			return;
		}
		last_id = n - 1;
	}
	else
	{
		if (n == PG_INT64_MAX)
		{
			d->outcome = CIVIS_NO_ROWS;
			return;
		}
		last_id = n;
	}
	/* before the first id: the cursor's own start (0) reads everything */
	if (last_id < 0)
	{
		d->outcome = CIVIS_NOT_SENT;
		return;
	}
	d->outcome = CIVIS_EXACT;
	d->texts = list_make1(psprintf(INT64_FORMAT, last_id));
}

/*
 * Can every text be sent as it is?  If not, *d says what that means for
 * this kind of condition.
 */
static bool
texts_sendable(const CivisArg *arg, List *texts, CivisDecision *d)
{
	ListCell   *lc;
	int			len = 0;

	foreach(lc, texts)
	{
		const char *t = lfirst(lc);

		if (arg->allowed && !civis_list_contains(arg->allowed, t))
		{
			unsendable(arg, t, CIVIS_REFUSED_NOT_ALLOWED, d);
			return false;
		}
		if (arg->list == CIVIS_LIST_CSV && strchr(t, ',') != NULL)
		{
			unsendable(arg, t, CIVIS_REFUSED_COMMA, d);
			return false;
		}
		if (arg->in_path &&
			(t[0] == '\0' || strcmp(t, ".") == 0 || strcmp(t, "..") == 0))
		{
			unsendable(arg, t, CIVIS_REFUSED_SEGMENT, d);
			return false;
		}
		len += strlen(t) + 1;
	}
	/* a list longer than a URL can carry is left to the local filter */
	if (!arg->fanout && list_length(texts) > 1 && len > CIVIS_MAX_LIST_TEXT)
	{
		unsendable(arg, NULL, CIVIS_REFUSED_TOO_LONG, d);
		return false;
	}
	return true;
}

/*
 * The outcome of a value the request carries: exact where the API filters
 * the way PostgreSQL compares (and nothing of the value was lost), loose
 * (rechecked locally) for ranges and inexact filters.  A value known only
 * at execution is decided with lossy false.
 */
static CivisOutcome
sent_outcome(const CivisArg *arg, bool lossy)
{
	switch (arg->kind)
	{
		case CIVIS_ARG_FILTER:
		case CIVIS_ARG_SCOPE:
			return (arg->exact && !lossy) ? CIVIS_EXACT : CIVIS_LOOSE;
		case CIVIS_ARG_RANGE_LOWER:
		case CIVIS_ARG_RANGE_UPPER:
			return CIVIS_LOOSE;
		default:
			return CIVIS_EXACT;
	}
}

void
civis_decide(const CivisArg *arg, const CivisValue *v, CivisDecision *d)
{
	CivisEncoded enc;
	CivisBound	bound = CIVIS_BOUND_NONE;

	memset(d, 0, sizeof(CivisDecision));
	if (arg->kind == CIVIS_ARG_FIXED)
	{
		d->outcome = CIVIS_EXACT;
		d->texts = list_make1(arg->const_text);
		return;
	}
	if (!civis_types_comparable(arg->coltype,
								OidIsValid(get_element_type(v->typid))
								? get_element_type(v->typid) : v->typid))
	{
		unsendable(arg, NULL, CIVIS_REFUSED_COMPARISON, d);
		return;
	}
	if (v->unknown)
	{
		d->outcome = sent_outcome(arg, false);
		if (v->shown)
			d->texts = list_make1(arg->kind == CIVIS_ARG_CURSOR && arg->cursor_inclusive
								  ? psprintf("%s - 1", v->shown) : v->shown);
		return;
	}
	if (v->isnull)
	{
		d->outcome = CIVIS_NO_ROWS;
		return;
	}
	if (arg->kind == CIVIS_ARG_CURSOR)
	{
		decide_cursor(arg, v, d);
		return;
	}

	if (arg->kind == CIVIS_ARG_RANGE_LOWER)
		bound = CIVIS_BOUND_LOWER;
	else if (arg->kind == CIVIS_ARG_RANGE_UPPER)
		bound = CIVIS_BOUND_UPPER;
	civis_encode_value(v->value, v->typid, arg->coltype, bound, &enc);
	if (enc.all_null)
	{
		d->outcome = CIVIS_NO_ROWS;
		return;
	}
	if (enc.unsendable)
	{
		unsendable(arg, NULL, CIVIS_REFUSED_NO_FORM, d);
		return;
	}
	if (enc.lossy && kind_is_semantic(arg->kind))
	{
		unsendable(arg, NULL, CIVIS_REFUSED_MILLISECONDS, d);
		return;
	}
	if (list_length(enc.texts) > 1 && !arg->fanout && arg->list == CIVIS_LIST_NONE)
	{
		unsendable(arg, NULL, CIVIS_REFUSED_ONE_VALUE, d);
		return;
	}
	if (!texts_sendable(arg, enc.texts, d))
		return;

	d->texts = enc.texts;
	d->outcome = sent_outcome(arg, enc.lossy);
}

/*
 * The HINT of a refusal: why the value cannot be sent, and that the API,
 * not PostgreSQL, decides which rows such a condition selects.  Whole
 * sentences, one per reason, for the translators.
 */
static void
refusal_hint(const CivisArg *arg, CivisRefusal why)
{
	switch (why)
	{
		case CIVIS_REFUSED_NOT_ALLOWED:
			errhint("The API accepts only %s; the API decides which rows this column's condition selects, so it cannot be evaluated locally.",
					arg->allowed);
			break;
		case CIVIS_REFUSED_COMMA:
			errhint("The API splits this parameter's values at commas; the API decides which rows this column's condition selects, so it cannot be evaluated locally.");
			break;
		case CIVIS_REFUSED_SEGMENT:
			errhint("A path segment cannot be empty, \".\" or \"..\"; the API decides which rows this column's condition selects, so it cannot be evaluated locally.");
			break;
		case CIVIS_REFUSED_TOO_LONG:
			errhint("The list is too long for a URL; the API decides which rows this column's condition selects, so it cannot be evaluated locally.");
			break;
		case CIVIS_REFUSED_COMPARISON:
			errhint("The API compares values of this type differently; the API decides which rows this column's condition selects, so it cannot be evaluated locally.");
			break;
		case CIVIS_REFUSED_NO_FORM:
			errhint("The value has no form the API accepts (infinity or NaN); the API decides which rows this column's condition selects, so it cannot be evaluated locally.");
			break;
		case CIVIS_REFUSED_MILLISECONDS:
			errhint("The API keeps only milliseconds; the API decides which rows this column's condition selects, so it cannot be evaluated locally.");
			break;
		case CIVIS_REFUSED_ONE_VALUE:
			errhint("The parameter takes one value; the API decides which rows this column's condition selects, so it cannot be evaluated locally.");
			break;
		case CIVIS_REFUSED_PATH_DOTS:
		case CIVIS_REFUSED_NONE:
			break;
	}
}

/* Raise the ERROR of a decision, naming the table. */
void
civis_raise_decision(const CivisArg *arg, const CivisDecision *d,
					 const char *relname)
{
	const char *col = arg->colname ? arg->colname : arg->param;

	Assert(d->outcome == CIVIS_ERROR && d->refusal != CIVIS_REFUSED_NONE);
	if (d->refusal == CIVIS_REFUSED_PATH_DOTS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value \"%s\" for path parameter \"%s\" of foreign table \"%s\"",
						d->refused_text, arg->param, relname),
				 errhint("Path parameters cannot be empty, \".\" or \"..\".")));
	if (d->refused_text != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("value \"%s\" of column \"%s\" cannot be sent as parameter \"%s\" of foreign table \"%s\"",
						d->refused_text, col, arg->param, relname),
				 refusal_hint(arg, d->refusal)));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("the value of column \"%s\" cannot be sent as parameter \"%s\" of foreign table \"%s\"",
					col, arg->param, relname),
			 refusal_hint(arg, d->refusal)));
}
