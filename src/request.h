/*-------------------------------------------------------------------------
 *
 * request.h
 *		  A request plan plus one execution's values -> request streams and
 *		  their URLs (request.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef CIVIS_REQUEST_H
#define CIVIS_REQUEST_H

#include "plan.h"

/* One concrete request stream: a path with its fixed query parameters. */
typedef struct CivisStream
{
	char	   *path;			/* encoded path */
	char	   *shown_path;		/* path as shown (secrets masked) */
	List	   *query;			/* CivisQueryPart *, in URL order */
	List	   *echo;			/* CivisEcho *: constants for columns */
	char	   *detail_id;		/* get-by-id: the id this stream fetches */
} CivisStream;

typedef struct CivisQueryPart
{
	char	   *name;			/* e.g. "state" or "name[]" */
	char	   *value;			/* raw (unencoded) value */
	bool		secret;
	bool		csv;			/* value is a comma list: keep commas */
	bool		verbatim;		/* a placeholder shown by EXPLAIN ($1) */
} CivisQueryPart;

typedef struct CivisEcho
{
	AttrNumber	attnum;
	char	   *text;			/* the value as sent */
	bool		has_datum;		/* datum is the condition's own value */
	Datum		datum;			/* of the column's type */
} CivisEcho;

/*
 * A plan expanded with the values of one execution: its streams, and what
 * the decisions on those values mean for the scan.
 */
typedef struct CivisExpansion
{
	List	   *streams;		/* CivisStream * (empty list: no rows) */
	bool		no_rows;		/* some condition matches nothing */
	const char *cursor_start;	/* last_id to start from, or NULL */
	bool		cursor_shown;	/* cursor_start is a placeholder ($1 - 1) */
	List	   *rechecks;		/* integer list: recheck_index of conditions
								 * the plan removed but this value needs
								 * evaluated locally */
	List	   *decisions;		/* CivisDecision * per plan->args */
	bool		error;			/* some value cannot be sent (not raised) */
} CivisExpansion;

extern void civis_expand(const CivisRequestPlan *plan, CivisValue *values,
						 const char *relname, bool raise,
						 CivisExpansion *out);
extern char *civis_build_url(const char *api_url, const CivisStream *stream,
							 List *paging_parts, bool shown);
extern CivisQueryPart *civis_query_part(const char *name, const char *value);

#endif							/* CIVIS_REQUEST_H */
