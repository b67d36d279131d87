/*-------------------------------------------------------------------------
 *
 * decide.h
 *		  What one condition becomes for one value (decide.c), and how a
 *		  value is written in the API's text (value.c).
 *
 * These two files are the only place where a condition's value is looked
 * at: planning asks with the value UNKNOWN (a Param, a join key), the scan
 * asks again with the actual value at scan start, and EXPLAIN asks with
 * what it can know.  Nothing else trims, splits, skips or formats values.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CIVIS_DECIDE_H
#define CIVIS_DECIDE_H

#include "civis_fdw.h"

/* What a condition is to the API (set by plan.c, carried in the plan). */
typedef enum CivisArgKind
{
	CIVIS_ARG_PATH,				/* fills {placeholder}: decides which rows
								 * exist */
	CIVIS_ARG_PARAM_ONLY,		/* query parameter with no response field */
	CIVIS_ARG_SCOPE,			/* real field with a scope default (archived) */
	CIVIS_ARG_FILTER,			/* filter on a real field: an optimisation */
	CIVIS_ARG_RANGE_LOWER,		/* col > / >= value as *_after */
	CIVIS_ARG_RANGE_UPPER,		/* col < / <= value as *_before */
	CIVIS_ARG_DETAIL_ID,		/* get-by-id: the detail endpoint's id */
	CIVIS_ARG_CURSOR,			/* id > value as last_id (cursor paging) */
	CIVIS_ARG_FIXED				/* a constant (the scope default) */
} CivisArgKind;

/* What a condition becomes for one value. */
typedef enum CivisOutcome
{
	CIVIS_EXACT,				/* sent; the API applies it as SQL would */
	CIVIS_LOOSE,				/* sent; rechecked locally */
	CIVIS_NOT_SENT,				/* evaluated locally only */
	CIVIS_NO_ROWS,				/* no row can match: no request */
	CIVIS_ERROR					/* the query cannot be answered */
} CivisOutcome;

/*
 * The value of a condition: unknown (planning, or EXPLAIN of a Param), or
 * a Datum of type typid.  shown is how EXPLAIN writes an unknown value.
 */
typedef struct CivisValue
{
	bool		unknown;
	bool		isnull;
	Datum		value;
	Oid			typid;
	char	   *shown;
} CivisValue;

/*
 * Why a value cannot be sent (CIVIS_ERROR, or CIVIS_NOT_SENT for an
 * optimisation): civis_raise_decision picks a whole message for each.
 */
typedef enum CivisRefusal
{
	CIVIS_REFUSED_NONE,
	CIVIS_REFUSED_PATH_DOTS,	/* a path parameter empty, "." or ".." */
	CIVIS_REFUSED_NOT_ALLOWED,	/* not one of the values the API accepts */
	CIVIS_REFUSED_COMMA,		/* the API splits the values at commas */
	CIVIS_REFUSED_SEGMENT,		/* a path segment empty, "." or ".." */
	CIVIS_REFUSED_TOO_LONG,		/* the list is too long for a URL */
	CIVIS_REFUSED_COMPARISON,	/* the API compares this type differently */
	CIVIS_REFUSED_NO_FORM,		/* infinity or NaN */
	CIVIS_REFUSED_MILLISECONDS, /* finer than the API keeps */
	CIVIS_REFUSED_ONE_VALUE		/* several values for a one-value parameter */
} CivisRefusal;

typedef struct CivisDecision
{
	CivisOutcome outcome;
	List	   *texts;			/* API texts (char *) to send, NULLs dropped */
	CivisRefusal refusal;		/* for CIVIS_ERROR */
	char	   *refused_text;	/* the value refused, or NULL */
} CivisDecision;

struct CivisArg;

extern void civis_decide(const struct CivisArg *arg, const CivisValue *v,
						 CivisDecision *d);
extern void civis_raise_decision(const struct CivisArg *arg,
								 const CivisDecision *d, const char *relname);
extern const char *civis_outcome_name(CivisOutcome outcome);

/* ---------------- value.c: Datum -> API text ------------------------ */

/* Which way a range bound may be widened. */
typedef enum CivisBound
{
	CIVIS_BOUND_NONE,			/* an equality: exactly this value */
	CIVIS_BOUND_LOWER,			/* *_after: widen downwards */
	CIVIS_BOUND_UPPER			/* *_before: widen upwards */
} CivisBound;

/* Outcome flags of an encoding. */
typedef struct CivisEncoded
{
	List	   *texts;			/* char *, in value order, de-duplicated */
	bool		unsendable;		/* some element has no API form */
	bool		lossy;			/* some element was rounded (sub-millisecond) */
	bool		all_null;		/* no non-NULL element at all */
} CivisEncoded;

extern bool civis_types_comparable(Oid coltype, Oid valtype);
extern void civis_encode_value(Datum value, Oid typid, Oid coltype,
							   CivisBound bound, CivisEncoded *out);
extern bool civis_list_contains(const char *list, const char *value);
extern Datum civis_value_to_column(Datum value, Oid typid, Oid coltype,
								   int32 coltypmod);

#endif							/* CIVIS_DECIDE_H */
