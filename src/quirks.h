/*-------------------------------------------------------------------------
 *
 * quirks.h
 *		  The one reviewed list of things the real Civis API does that its
 *		  Swagger spec does not say: the spec-time ones (read by spec.c and
 *		  import.c) and the run-time ones (read by the planner and the scan).
 *
 * Path patterns: segments separated by '/', a trailing '/' is ignored.
 *   "{}"  matches any one {placeholder} segment
 *   "*"   matches any number (zero or more) of segments
 *   any other segment matches itself exactly
 *
 *-------------------------------------------------------------------------
 */
#ifndef CIVIS_QUIRKS_H
#define CIVIS_QUIRKS_H

/* A response field whose wire type differs from its declared type. */
typedef struct CivisTypeQuirk
{
	const char *path_pattern;	/* NULL: every endpoint */
	const char *field;			/* JSON member (camelCase, as in the spec) */
	const char *sql_type;		/* the column type to use instead */
} CivisTypeQuirk;

/* How a query parameter relates to the rows it filters. */
typedef struct CivisFilterQuirk
{
	const char *path_pattern;	/* NULL: every endpoint */
	const char *param;			/* parameter name; "*_id" matches a suffix */
	const char *param_type;		/* only for this declared type, or NULL */
	bool		exact;			/* the API filter is exactly SQL equality */
	const char *evidence;		/* why exact: CIVIS_EVIDENCE_SAME_NAME or the
								 * spec x-example that shows it; an exact row
								 * without it is refused by
								 * scripts/quirks_check.py */
	const char *scope_default;	/* value to send when unconstrained */
	const char *values;			/* accepted values the spec does not list */
	const char *column;			/* non-NULL: the parameter filters the field
								 * of this (snake) name rather than the
								 * same-named one: a scalar field of this name
								 * gets the parameter, otherwise a
								 * parameter-only column of this name */
} CivisFilterQuirk;

/* A column the spec has no property for (e.g. author_id from author.id). */
typedef struct CivisSyntheticQuirk
{
	const char *param;			/* query parameter that creates it */
	const char *needs_field;	/* item property that must be an object
								 * (declared so, holding the member the key
								 * reads next) */
	const char *unless_field;	/* ... and this one must be absent, or NULL */
	const char *column;			/* column name */
	const char *sql_type;
	const char *key;			/* dotted JSON path */
	const char *list;			/* list style, or NULL */
	bool		exact;			/* the filter is exactly SQL equality */
	const char *evidence;		/* the spec x-example that shows it (a
								 * synthetic column is never same-named) */
} CivisSyntheticQuirk;

/*
 * The evidence of an exact filter row whose parameter has the same name as
 * the item field it filters (the spec's own naming): import.c marks the
 * column exact only when the parameter landed on the field of its own name.
 */
#define CIVIS_EVIDENCE_SAME_NAME "same name"

/* The evidence of a path parameter: the path lists only its own items. */
#define CIVIS_EVIDENCE_PATH "path"

extern bool civis_path_matches(const char *pattern, const char *path);
extern bool civis_quirk_array_response(const char *path);
extern bool civis_quirk_object_response(const char *path);
extern const char *civis_quirk_type(const char *path, const char *field);
extern const CivisFilterQuirk *civis_quirk_filter(const char *path,
												  const char *param,
												  const char *param_type);
extern const CivisSyntheticQuirk *civis_quirk_synthetic(const char *param,
														int index);

/*
 * Run-time quirks: what planning and the scan must know of the API's
 * behaviour.  Read by plan.c, planner.c, scan.c, paging.c and decode.c
 * (and spec.c: the parameters that hide rows); each value is defined in
 * quirks.c with where it was seen.
 */
extern const char *const civis_quirk_id_key;	/* the id field */
extern const char *const civis_quirk_window_key;	/* window paging's field */
extern const char *const civis_quirk_order_param;	/* sort parameter */
extern const char *const civis_quirk_order_dir_param;	/* its direction */
extern bool civis_quirk_param_hides_rows(const char *param);
extern bool civis_quirk_status_means_no_rows(long status);
extern bool civis_quirk_user_defined_keys(const char *member);

#endif							/* CIVIS_QUIRKS_H */
