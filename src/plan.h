/*-------------------------------------------------------------------------
 *
 * plan.h
 *		  Request plans (plan.c): what the planner decided to ask the API,
 *		  in a form that survives copyObject (fdw_private) and that
 *		  request.c turns into URLs once runtime values are known.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CIVIS_PLAN_H
#define CIVIS_PLAN_H

#include "civis_fdw.h"
#include "decide.h"
#include "nodes/pathnodes.h"
#include "qual.h"

/* ---------------- plan.c: conditions -> request plan (pure) ---------- */

/* One parameter of the request. */
typedef struct CivisArg
{
	char	   *param;			/* parameter name */
	CivisArgKind kind;			/* what the condition is to the API */
	bool		in_path;		/* fills {param} in the path */
	bool		exact;			/* the column is marked exact */
	bool		secret;			/* masked when shown */
	bool		fanout;			/* several values: one request per value */
	CivisListStyle list;		/* how several values go in one request */
	int			expr_index;		/* index into fdw_exprs, -1 for const_text */
	char	   *const_text;		/* a fixed value; for a scope, its default */
	char	   *allowed;		/* comma list of values the API accepts, or
								 * NULL; a value outside is not sent */
	AttrNumber	echo_attnum;	/* column that returns the value, or 0 */
	Oid			coltype;		/* the column's type */
	int32		coltypmod;
	char	   *colname;		/* for messages */
	bool		cursor_inclusive;	/* id >= n rather than id > n */
	int			recheck_index;	/* clause in fdw_recheck_quals evaluated when
								 * the value is not EXACT, or -1 */
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
	char	   *hidden_key;		/* get-by-id: drop objects whose field of this
								 * name is true, as the listing does */

	/*
	 * Request economy (a hint from planning; never changes a result): the
	 * rows the query will consume at most (0: unknown, -1: all), the size of
	 * the first page when every condition is applied exactly by the API (the
	 * bound; 0 otherwise: a full page), the rows the scan expects to read for
	 * the bound when conditions stay local (0 when none does: read-ahead then
	 * waits until the rows requested have not sufficed), and the clause of
	 * fdw_recheck_quals that ends a sorted stream when false.
	 */
	int			bound;
	int			read_hint;
	int			local_read;
	int			stop_index;		/* -1: none */
} CivisRequestPlan;

/* What plan.c decided about each condition. */
typedef struct CivisPlanResult
{
	CivisRequestPlan *plan;
	List	   *fdw_exprs;		/* value expressions, by expr_index */
	List	   *arg_rinfos;		/* per plan->args: its clause, or NULL */
	List	   *exact_rinfos;	/* conditions the API applies exactly */
	List	   *pushed_rinfos;	/* every condition sent (exact or not) */
	List	   *missing_path_params;	/* placeholders without a condition */
} CivisPlanResult;

extern CivisPlanResult *civis_build_request_plan(CivisTableInfo *info,
												 List *conds, bool optimise);
extern List *civis_plan_serialize(const CivisRequestPlan *plan);
extern CivisRequestPlan *civis_plan_deserialize(List *list);
extern bool civis_plan_fans_out(const CivisRequestPlan *plan);
extern CivisPlanResult *civis_build_detail_alternative(CivisTableInfo *info,
													   List *conds);
extern CivisPlanResult *civis_build_adaptive_listing(CivisTableInfo *info,
													 List *conds,
													 List *param_rinfos,
													 AttrNumber *key_attnum);

#endif							/* CIVIS_PLAN_H */
