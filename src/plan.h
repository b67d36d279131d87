/*-------------------------------------------------------------------------
 *
 * plan.h
 *		  Conditions and request plans: what the planner decided to ask the
 *		  API, in a form that survives copyObject (fdw_private) and that
 *		  request.c turns into URLs once runtime values are known.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CIVIS_PLAN_H
#define CIVIS_PLAN_H

#include "civis_fdw.h"
#include "nodes/pathnodes.h"

/* ---------------- qual.c: planner expressions -> conditions ---------- */

typedef enum CivisCondOp
{
	CIVIS_OP_EQ,				/* col = value (booleans: WHERE col, NOT col) */
	CIVIS_OP_IN,				/* col IN (...), col = ANY (array) */
	CIVIS_OP_LT,
	CIVIS_OP_LE,
	CIVIS_OP_GT,
	CIVIS_OP_GE
} CivisCondOp;

typedef struct CivisCond
{
	CivisColumn *col;
	CivisCondOp op;
	Expr	   *value;			/* scalar, or an array for CIVIS_OP_IN */
	RestrictInfo *rinfo;		/* the clause it came from */
	List	   *const_values;	/* when value is a Const: its elements as
								 * API text (String nodes), else NIL */
	bool		is_const;
	bool		const_null;		/* a Const NULL (or NULL element) */
} CivisCond;

extern List *civis_extract_conds(PlannerInfo *root, RelOptInfo *baserel,
								 CivisTableInfo *info, List *clauses);
extern char *civis_datum_to_api_text(Datum value, Oid typid);

/* ---------------- plan.c: conditions -> request plan (pure) ---------- */

/* One parameter of the request. */
typedef struct CivisArg
{
	char	   *param;			/* parameter name */
	bool		in_path;		/* fills {param} in the path */
	bool		semantic;		/* decides which rows exist (never optional) */
	bool		secret;			/* masked when shown */
	bool		fanout;			/* several values: one request per value */
	CivisListStyle list;		/* how several values go in one request */
	int			expr_index;		/* index into fdw_exprs, -1 for const_text */
	char	   *const_text;		/* a fixed value (scope default) */
	char	   *allowed;		/* comma list of values the API accepts, or
								 * NULL; a value outside is not sent */
	AttrNumber	echo_attnum;	/* column that returns the value, or 0 */
} CivisArg;

typedef enum CivisPlanKind
{
	CIVIS_PLAN_LIST,			/* the listing endpoint, paged */
	CIVIS_PLAN_DETAIL			/* get-by-id: detail endpoint, one object */
} CivisPlanKind;

typedef struct CivisRequestPlan
{
	CivisPlanKind kind;
	char	   *endpoint;		/* path template actually requested */
	CivisPagingKind paging;
	int			page_size;		/* 0: let the API choose */
	List	   *args;			/* CivisArg * */
	char	   *order_by;		/* pushed ORDER BY ("order" value) or NULL */
	bool		order_desc;
	AttrNumber	order_attnum;	/* column checked to arrive in that order */
	int			limit_expr;		/* index into fdw_exprs, or -1 */
	int			offset_expr;	/* index into fdw_exprs, or -1 */
	int			cursor_expr;	/* id > n on cursor paging: index, or -1 */
	bool		cursor_inclusive;	/* id >= n rather than id > n */
} CivisRequestPlan;

/* What plan.c decided about each condition. */
typedef struct CivisPlanResult
{
	CivisRequestPlan *plan;
	List	   *fdw_exprs;		/* value expressions, by expr_index */
	List	   *exact_rinfos;	/* conditions the API applies exactly */
	List	   *pushed_rinfos;	/* every condition sent (exact or not) */
	List	   *missing_path_params;	/* placeholders without a condition */
} CivisPlanResult;

extern CivisPlanResult *civis_build_request_plan(CivisTableInfo *info,
												 List *conds, bool optimise);
extern List *civis_plan_serialize(const CivisRequestPlan *plan);
extern CivisRequestPlan *civis_plan_deserialize(List *list);
extern List *civis_path_placeholders(const char *endpoint);

/* ---------------- request.c: plan + values -> URLs -------------------- */

/* One concrete request stream: a path with its fixed query parameters. */
typedef struct CivisStream
{
	char	   *path;			/* encoded path */
	char	   *shown_path;		/* path as shown (secrets masked) */
	List	   *query;			/* CivisQueryPart *, in URL order */
	List	   *echo;			/* CivisEcho *: constants for columns */
	bool		empty;			/* a NULL semantic value: no rows at all */
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
	char	   *value;			/* NULL for SQL NULL */
} CivisEcho;

/* Runtime values of the plan's expressions, as API text. */
typedef struct CivisArgValues
{
	bool		isnull;			/* the whole value is NULL */
	bool		placeholder;	/* EXPLAIN: texts holds "$1", not a value */
	List	   *texts;			/* String nodes (one for scalars) */
} CivisArgValues;

extern List *civis_expand_streams(const CivisRequestPlan *plan,
								  CivisArgValues *values, int nvalues,
								  const char *relname);
extern char *civis_build_url(const char *api_url, const CivisStream *stream,
							 List *paging_parts, bool shown);
extern CivisQueryPart *civis_query_part(const char *name, const char *value);
extern void civis_value_texts(CivisArgValues *out, Datum value, Oid typid);

#endif							/* CIVIS_PLAN_H */
