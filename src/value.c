/*-------------------------------------------------------------------------
 *
 * value.c
 *		  The one file that turns SQL values into the API's text.
 *
 * Booleans are true/false, timestamps ISO 8601 in UTC with milliseconds,
 * dates YYYY-MM-DD, everything else its type's output.  A timestamp or a
 * date compared with a timestamptz column is converted to an instant in
 * the session's TimeZone, exactly as PostgreSQL's cross-type operators
 * convert it, so the API is asked about the same instant the recheck
 * compares with.
 *
 * Range bounds: whether the API's *_after / *_before are inclusive is not
 * documented, and the API keeps milliseconds.  A lower bound is therefore
 * rounded down to the millisecond and moved one millisecond earlier, an
 * upper bound rounded up and moved one millisecond later (dates: one day):
 * under either reading the API returns a superset, and the local recheck,
 * which always applies to ranges, removes the extra rows.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "decide.h"

/* Type categories whose values compare the same way as text. */
static bool
is_int_type(Oid t)
{
	return t == INT2OID || t == INT4OID || t == INT8OID;
}

static bool
is_text_type(Oid t)
{
	return t == TEXTOID || t == VARCHAROID || t == BPCHAROID || t == NAMEOID;
}

/*
 * Can a value of type valtype be sent for a column of type coltype so that
 * the API compares what SQL compares?  Same type, the integer family, the
 * text family, or a timestamp/date against a timestamptz column (converted
 * in the session's TimeZone below).
 */
bool
civis_types_comparable(Oid coltype, Oid valtype)
{
	if (coltype == valtype)
		return true;
	if (is_int_type(coltype) && is_int_type(valtype))
		return true;
	if (is_text_type(coltype) && is_text_type(valtype))
		return true;
	if (coltype == TIMESTAMPTZOID &&
		(valtype == TIMESTAMPOID || valtype == DATEOID))
		return true;
	return false;
}

/* A value by its type's output function. */
static char *
output_text(Datum value, Oid typid)
{
	Oid			outfunc;
	bool		isvarlena;

	getTypeOutputInfo(typid, &outfunc, &isvarlena);
	return OidOutputFunctionCall(outfunc, value);
}

/* Floor division for microseconds -> milliseconds (negative times too). */
static int64
floor_ms(int64 usec)
{
	int64		q = usec / 1000;

	if (usec % 1000 < 0)
		q--;
	return q;
}

/* y-m-dTh:m:s.fffZ of a timestamp given in milliseconds. */
static char *
format_ms(int64 ms, bool is_tz)
{
	Timestamp	ts = ms * 1000;
	struct pg_tm tm;
	fsec_t		fsec;

	/* NULL time zone: the UTC fields of a timestamptz */
	if (timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0)
		return NULL;
	return psprintf("%04d-%02d-%02dT%02d:%02d:%02d.%03d%s",
					tm.tm_year, tm.tm_mon, tm.tm_mday,
					tm.tm_hour, tm.tm_min, tm.tm_sec, (int) (fsec / 1000),
					is_tz ? "Z" : "");
}

/* A timestamp (microseconds) as API text, rounded per bound. */
static char *
encode_instant(int64 usec, bool is_tz, CivisBound bound, bool *lossy)
{
	int64		ms = floor_ms(usec);

	if (ms * 1000 != usec)
		*lossy = true;
	if (bound == CIVIS_BOUND_LOWER)
		ms -= 1;
	else if (bound == CIVIS_BOUND_UPPER)
		ms += (ms * 1000 != usec) ? 2 : 1;
	return format_ms(ms, is_tz);
}

/* One non-NULL scalar as API text, or NULL when it has no API form. */
static char *
encode_scalar(Datum value, Oid typid, Oid coltype, CivisBound bound,
			  bool *lossy)
{
	switch (typid)
	{
		case BOOLOID:
			return pstrdup(DatumGetBool(value) ? "true" : "false");
		case TIMESTAMPTZOID:
			if (TIMESTAMP_NOT_FINITE(DatumGetTimestampTz(value)))
				return NULL;
			return encode_instant(DatumGetTimestampTz(value), true, bound, lossy);
		case TIMESTAMPOID:
			if (TIMESTAMP_NOT_FINITE(DatumGetTimestamp(value)))
				return NULL;
			if (coltype == TIMESTAMPTZOID)
			{
				/* as timestamptz_gt_timestamp converts: session TimeZone */
				Datum		tz = DirectFunctionCall1(timestamp_timestamptz, value);

				return encode_scalar(tz, TIMESTAMPTZOID, coltype, bound, lossy);
			}
			return encode_instant(DatumGetTimestamp(value), false, bound, lossy);
		case DATEOID:
			{
				DateADT		d = DatumGetDateADT(value);
				int			y,
							m,
							day;

				if (DATE_NOT_FINITE(d))
					return NULL;
				if (coltype == TIMESTAMPTZOID)
				{
					Datum		tz = DirectFunctionCall1(date_timestamptz, value);

					return encode_scalar(tz, TIMESTAMPTZOID, coltype, bound, lossy);
				}
				if (bound == CIVIS_BOUND_LOWER)
					d -= 1;
				else if (bound == CIVIS_BOUND_UPPER)
					d += 1;
				j2date(d + POSTGRES_EPOCH_JDATE, &y, &m, &day);
				return psprintf("%04d-%02d-%02d", y, m, day);
			}
		case FLOAT4OID:
		case FLOAT8OID:
		case NUMERICOID:
			{
				char	   *s = output_text(value, typid);

				/* NaN and infinity mean nothing to the API */
				if (strchr(s, 'N') || strchr(s, 'n') || strchr(s, 'I') || strchr(s, 'i'))
					return NULL;
				return s;
			}
		default:
			return output_text(value, typid);
	}
}

/* Order-preserving de-duplication, O(n log n) and interruptible. */
typedef struct TextIdx
{
	const char *text;
	int			idx;
} TextIdx;

static int
textidx_cmp(const void *a, const void *b)
{
	const TextIdx *x = a;
	const TextIdx *y = b;
	int			c = strcmp(x->text, y->text);

	return c != 0 ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

static List *
dedupe_texts(char **texts, int n)
{
	TextIdx    *sorted = palloc(sizeof(TextIdx) * Max(n, 1));
	bool	   *dup = palloc0(sizeof(bool) * Max(n, 1));
	List	   *result = NIL;
	int			i;

	for (i = 0; i < n; i++)
	{
		sorted[i].text = texts[i];
		sorted[i].idx = i;
	}
	qsort(sorted, n, sizeof(TextIdx), textidx_cmp);
	for (i = 1; i < n; i++)
		if (strcmp(sorted[i].text, sorted[i - 1].text) == 0)
			dup[sorted[i].idx] = true;
	for (i = 0; i < n; i++)
	{
		if ((i & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		if (!dup[i])
			result = lappend(result, texts[i]);
	}
	pfree(sorted);
	pfree(dup);
	return result;
}

/*
 * The API texts of a value: one for a scalar, one per distinct non-NULL
 * element for an array (IN lists, = ANY), in the array's order.
 */
void
civis_encode_value(Datum value, Oid typid, Oid coltype, CivisBound bound,
				   CivisEncoded *out)
{
	Oid			elemtype = get_element_type(typid);

	memset(out, 0, sizeof(CivisEncoded));
	if (OidIsValid(elemtype))
	{
		ArrayType  *arr = DatumGetArrayTypeP(value);
		int16		typlen;
		bool		typbyval;
		char		typalign;
		Datum	   *elems;
		bool	   *nulls;
		char	  **texts;
		int			n,
					i,
					k = 0;

		get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
		deconstruct_array(arr, elemtype, typlen, typbyval, typalign,
						  &elems, &nulls, &n);
		texts = palloc(sizeof(char *) * Max(n, 1));
		for (i = 0; i < n; i++)
		{
			char	   *text;

			if ((i & 1023) == 0)
				CHECK_FOR_INTERRUPTS();
			if (nulls[i])
				continue;
			text = encode_scalar(elems[i], elemtype, coltype, bound, &out->lossy);
			if (text == NULL)
				out->unsendable = true;
			else
				texts[k++] = text;
		}
		out->all_null = (k == 0 && !out->unsendable);
		out->texts = dedupe_texts(texts, k);
	}
	else
	{
		char	   *text = encode_scalar(value, typid, coltype, bound, &out->lossy);

		if (text == NULL)
			out->unsendable = true;
		else
			out->texts = list_make1(text);
	}
}

/* Is value one of the comma list's items (items trimmed of spaces)? */
bool
civis_list_contains(const char *list, const char *value)
{
	const char *p = list;
	size_t		len = strlen(value);

	while (*p)
	{
		const char *end = strchr(p, ',');
		size_t		n = end ? (size_t) (end - p) : strlen(p);

		while (n > 0 && *p == ' ')
			p++, n--;
		while (n > 0 && p[n - 1] == ' ')
			n--;
		if (n == len && strncmp(p, value, len) == 0)
			return true;
		if (!end)
			break;
		p = end + 1;
	}
	return false;
}

/*
 * A condition's value as a Datum of the column's type, for a column that
 * echoes it (parameter-only).  The same type is kept as it is, so nothing
 * is lost to a text round trip; another type is converted by the column
 * type's input function, as an implicit cast would.
 */
Datum
civis_value_to_column(Datum value, Oid typid, Oid coltype, int32 coltypmod)
{
	Oid			infunc,
				ioparam;
	char	   *text;

	if (typid == coltype)
		return value;
	if (coltype == TIMESTAMPTZOID && typid == TIMESTAMPOID)
		return DirectFunctionCall1(timestamp_timestamptz, value);
	if (coltype == TIMESTAMPTZOID && typid == DATEOID)
		return DirectFunctionCall1(date_timestamptz, value);
	text = output_text(value, typid);
	getTypeInputInfo(coltype, &infunc, &ioparam);
	return OidInputFunctionCall(infunc, text, ioparam, coltypmod);
}
