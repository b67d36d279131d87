/*-------------------------------------------------------------------------
 *
 * planner.c
 *		  Planning callbacks: size estimates, paths (plain and
 *		  parameterized), costs and the ForeignScan plan.
 *
 * What is sent to the API is decided by plan.c from the conditions qual.c
 * recognises; this file only wires those into PostgreSQL's planner.
 *
 * Costs count requests, because the API's rate limit (not time) is what a
 * team runs out of: every request costs request_cost, whether or not it
 * runs concurrently with others, and every row costs row_cost.  A table whose endpoint has path parameters gets a
 * disabled plain path (it cannot run without them) and parameterized
 * paths for join clauses that can supply them, one request per outer row.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/sysattr.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_class.h"
#include "catalog/pg_aggregate.h"
#include "foreign/fdwapi.h"
#include "executor/tuptable.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/paths.h"
#include "optimizer/planmain.h"
#include "optimizer/restrictinfo.h"
#include "optimizer/tlist.h"
#include "catalog/pg_type.h"
#include "access/nbtree.h"
#include "access/stratnum.h"
#include "utils/array.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"
#include "miscadmin.h"
#include "parser/parsetree.h"
#include "storage/bufmgr.h"
#include "utils/acl.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "civis_fdw.h"
#include "plan.h"
#include "estimate.h"
#include "planner.h"
#include "quirks.h"

/* Planner state of one foreign relation (baserel->fdw_private). */
typedef struct CivisRelInfo
{
	CivisTableInfo *info;
	List	   *base_conds;		/* CivisConds from baserestrictinfo */
	bool		optimise;		/* pushdown of optimisations allowed */
	CivisPlanResult *base_plan; /* plan from the base conditions only */
	double		tuples;			/* estimated rows of the whole listing */
	double		listing_rows;	/* rows of base_plan's listing when known
								 * (remote estimate or ANALYZE), else -1 */
} CivisRelInfo;

/*
 * Planner state of an upper relation (ORDER BY, LIMIT) that a scan of one
 * foreign table can compute by itself (output_rel->fdw_private).
 */
typedef struct CivisUpperInfo
{
	RelOptInfo *base;			/* the foreign table's relation */
	CivisColumn *order_col;		/* pushed ORDER BY column, or NULL */
	bool		order_desc;
	bool		has_limit;		/* LIMIT/OFFSET computed by the scan */
	bool		count_star;		/* count(*) computed by the scan */
} CivisUpperInfo;

static List *split_clauses(CivisTableInfo *info, CivisPlanResult *res,
						   List *clauses, Index relid, List **recheck);

static bool
optimise_for(const CivisTableInfo *info)
{
	return civis_enable_pushdown && info->pushdown;
}

/*
 * Requests a scan returning "rows" rows needs, with the endpoint's page
 * size, and the cost of making them.
 */
static void
request_costs(const CivisTableInfo *info, const CivisRequestPlan *plan,
			  double rows, double nstreams, Cost *startup, Cost *total)
{
	double		page = plan->page_size > 0 ? plan->page_size : 50;
	double		pages;

	if (plan->kind == CIVIS_PLAN_DETAIL || plan->paging == CIVIS_PAGING_NONE)
		pages = nstreams;
	else
		pages = Max(nstreams, ceil(rows / page));

	/*
	 * Every request is spent from the rate-limit budget: pages fetched
	 * concurrently save time, not requests, so they cost the same.
	 */
	*startup = info->request_cost;
	*total = info->request_cost * pages + (info->row_cost + cpu_tuple_cost) * rows;
}

static double
fanout_count(const CivisPlanResult *res, List *conds)
{
	double		n = 1;
	ListCell   *lc;

	foreach(lc, res->plan->args)
	{
		CivisArg   *arg = lfirst(lc);
		Expr	   *value;

		if (!arg->fanout || arg->expr_index < 0)
			continue;
		value = list_nth(res->fdw_exprs, arg->expr_index);
		if (IsA(value, Const) && !((Const *) value)->constisnull)
			n *= Max(1, ArrayGetNItems(ARR_NDIM(DatumGetArrayTypeP(((Const *) value)->constvalue)),
									   ARR_DIMS(DatumGetArrayTypeP(((Const *) value)->constvalue))));
		else
			n *= 10;
	}
	return n;
}

/*
 * The user whose mapping a scan of this relation uses: the view owner's
 * (checkAsUser) when reached through a view, else the current user.  The
 * estimate runs as that user, like the scan.
 */
static Oid
relation_user(PlannerInfo *root, RelOptInfo *baserel)
{
	Oid			user = civis_planned_check_as_user(root, baserel);

	return OidIsValid(user) ? user : GetUserId();
}

static void
civisGetForeignRelSize(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid)
{
	CivisRelInfo *fpinfo = palloc0(sizeof(CivisRelInfo));
	CivisTableInfo *info = civis_get_table_info(foreigntableid);
	Selectivity sel;
	double		remote_rows;

	fpinfo->info = info;
	fpinfo->optimise = optimise_for(info);
	fpinfo->base_conds = civis_extract_conds(root, baserel, info,
											 baserel->baserestrictinfo);
	fpinfo->base_plan = civis_build_request_plan(info, fpinfo->base_conds,
												 fpinfo->optimise);

	/*
	 * Size of the whole listing: ANALYZE's count when there is one, otherwise
	 * the default_rows option.
	 */
	fpinfo->tuples = baserel->tuples > 0 ? baserel->tuples : info->default_rows;
	fpinfo->listing_rows = baserel->tuples > 0 ? baserel->tuples : -1;
	baserel->tuples = fpinfo->tuples;

	sel = clauselist_selectivity(root, baserel->baserestrictinfo, 0,
								 JOIN_INNER, NULL);
	baserel->rows = clamp_row_est(fpinfo->tuples * sel);

	/*
	 * use_remote_estimate: the API's own count (X-Pagination-Total-Entries)
	 * of the request the scan sends (estimate.c).  Pushed conditions are in
	 * that request already: only the conditions it does not send filter
	 * further.  With none pushed, the count is the whole listing's.
	 */
	if (info->use_remote_estimate &&
		civis_remote_estimate(info, fpinfo->base_plan->plan,
							  fpinfo->base_plan->fdw_exprs,
							  relation_user(root, baserel), &remote_rows))
	{
		List	   *unsent = NIL;
		ListCell   *lc;

		foreach(lc, baserel->baserestrictinfo)
			if (!list_member_ptr(fpinfo->base_plan->pushed_rinfos, lfirst(lc)))
				unsent = lappend(unsent, lfirst(lc));
		fpinfo->listing_rows = remote_rows;
		baserel->rows = clamp_row_est(remote_rows *
									  clauselist_selectivity(root, unsent, 0,
															 JOIN_INNER, NULL));
		if (fpinfo->base_plan->pushed_rinfos == NIL)
		{
			fpinfo->tuples = Max(remote_rows, 1);
			baserel->tuples = fpinfo->tuples;
		}
	}
	if (fpinfo->base_plan->plan->kind == CIVIS_PLAN_DETAIL)
		baserel->rows = clamp_row_est(fanout_count(fpinfo->base_plan, NIL));

	baserel->fdw_private = fpinfo;
}

/* ------------------------------------------------------------------
 * Parameterized paths: join clauses that can supply a parameter
 * ------------------------------------------------------------------ */

/* Would a condition on this column be sent as a request parameter? */
static bool
column_takes_parameter(const CivisRelInfo *fpinfo, const CivisColumn *col)
{
	if (col->param && (col->is_path_param || col->param_only))
		return true;
	if (!fpinfo->optimise)
		return false;
	if (col->param && !col->scope_default)
		return true;
	return fpinfo->info->detail_endpoint != NULL &&
		col->key && strcmp(col->key, civis_quirk_id_key) == 0;
}

typedef struct EcMatchArg
{
	CivisRelInfo *fpinfo;
	AttrNumber	attnum;
} EcMatchArg;

static bool
ec_member_is_column(PlannerInfo *root, RelOptInfo *rel, EquivalenceClass *ec,
					EquivalenceMember *em, void *arg)
{
	EcMatchArg *match = arg;
	Expr	   *expr = em->em_expr;

	while (IsA(expr, RelabelType))
		expr = ((RelabelType *) expr)->arg;
	return IsA(expr, Var) && ((Var *) expr)->varno == rel->relid &&
		((Var *) expr)->varattno == match->attnum &&
		((Var *) expr)->varlevelsup == 0;
}

/* Join clauses (plain and from equivalence classes) worth a parameter. */
static List *
parameter_clauses(PlannerInfo *root, RelOptInfo *baserel, CivisRelInfo *fpinfo)
{
	List	   *result = NIL;
	ListCell   *lc;
	int			i;

	foreach(lc, baserel->joininfo)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);
		List	   *conds;

		if (!join_clause_is_movable_to(rinfo, baserel))
			continue;
		conds = civis_extract_conds(root, baserel, fpinfo->info, list_make1(rinfo));
		if (conds != NIL &&
			column_takes_parameter(fpinfo, ((CivisCond *) linitial(conds))->col))
			result = lappend(result, rinfo);
	}

	if (!baserel->has_eclass_joins)
		return result;

	for (i = 0; i < fpinfo->info->ncolumns; i++)
	{
		CivisColumn *col = &fpinfo->info->columns[i];
		EcMatchArg	arg;
		List	   *clauses;

		if (col->dropped || !column_takes_parameter(fpinfo, col))
			continue;
		arg.fpinfo = fpinfo;
		arg.attnum = col->attnum;
		clauses = generate_implied_equalities_for_column(root, baserel,
														 ec_member_is_column,
														 &arg,
														 baserel->lateral_referencers);
		foreach(lc, clauses)
		{
			RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);

			if (join_clause_is_movable_to(rinfo, baserel) &&
				!list_member_ptr(result, rinfo))
				result = lappend(result, rinfo);
		}
	}
	return result;
}

/*
 * A path that cannot run (a path parameter has no value) is kept, so that
 * the executor can say which condition is missing when nothing better
 * exists, but marked disabled (see compat.h).
 */
static ForeignPath *
make_path(PlannerInfo *root, RelOptInfo *baserel, double rows, bool disabled,
		  Cost startup, Cost total, Relids required_outer)
{
	return civis_create_foreignscan_path(root, baserel, rows, disabled,
										 startup, total, NIL, required_outer);
}

static void add_sorted_path(PlannerInfo *root, RelOptInfo *baserel,
							Cost startup, Cost total);

/* ------------------------------------------------------------------
 * Adaptive parameterized scans (joins on the id)
 *
 * A join on the id gives a parameterized path that fetches each outer
 * row's object by id.  The scan counts those requests across rescans and,
 * once another would pass K = min(fanout_limit, pages of the listing),
 * reads the listing once and answers the remaining rescans from it
 * (scan.c).  n outer rows then cost min(n, K + listing) requests instead
 * of n, whatever the estimate of n was.
 * ------------------------------------------------------------------ */

/*
 * Does an expression depend on anything that changes between rescans: a
 * column of another relation (a join or a LATERAL reference), or a value
 * an outer query level supplies to a correlated subquery?  context is the
 * PlannerInfo, or NULL to count every executor parameter (an initplan's
 * output too).
 */
static bool
varies_by_rescan_walker(Node *node, void *context)
{
	PlannerInfo *root = context;

	if (node == NULL)
		return false;
	if (IsA(node, Var) || IsA(node, PlaceHolderVar))
		return true;
	if (IsA(node, Param) && ((Param *) node)->paramkind == PARAM_EXEC)
		return root == NULL ||
			bms_is_member(((Param *) node)->paramid, root->outer_params);
	return expression_tree_walker(node, varies_by_rescan_walker, context);
}

/*
 * How many objects by id a scan fetches before the listing is cheaper:
 * fanout_limit, or the listing's pages when its size is known and fewer.
 * The scan's alt_max (add_detail_alternative) and the adaptive path's cost
 * (adaptive_costs) both use it.
 */
static int
detail_switch_point(const CivisRelInfo *fpinfo, const CivisRequestPlan *listing)
{
	int			max = fpinfo->info->fanout_limit;

	if (fpinfo->listing_rows >= 0 && listing->page_size > 0)
	{
		double		pages = Max(1, ceil(fpinfo->listing_rows / listing->page_size));

		if (pages < max)
			max = (int) pages;
	}
	return max;
}

/*
 * How many requests an adaptive scan on a column other than the id spends
 * on filtered listings (one request per page of an outer value's rows)
 * before it reads the unfiltered listing once instead: the listing's pages
 * when its size is known (ANALYZE, use_remote_estimate), otherwise
 * fanout_limit, the id version's budget when the size is unknown.  Counting
 * requests, not values: a heavy value costs its pages.
 */
static int
list_switch_point(const CivisRelInfo *fpinfo, const CivisRequestPlan *listing)
{
	int			max = fpinfo->info->fanout_limit;

	if (fpinfo->listing_rows >= 0 && listing->page_size > 0)
		max = (int) Max(1, ceil(fpinfo->listing_rows / listing->page_size));
	return max;
}

/*
 * The listing an adaptive parameterized scan reads once, or NULL: only a
 * listing whose request is the same for every rescan can be kept.
 */
static CivisPlanResult *
adaptive_listing(CivisRelInfo *fpinfo, List *conds, List *param_rinfos,
				 AttrNumber *key_attnum)
{
	CivisPlanResult *res;

	if (!fpinfo->optimise)
		return NULL;
	res = civis_build_adaptive_listing(fpinfo->info, conds, param_rinfos,
									   key_attnum);
	if (res == NULL || varies_by_rescan_walker((Node *) res->fdw_exprs, NULL))
		return NULL;			/* conservative: any executor parameter */
	return res;
}

/*
 * The clauses whose values change from one rescan to the next: the join
 * clauses of a parameterized path, the conditions of a LATERAL subquery
 * on the relations before it, and those of a correlated subquery on its
 * outer query.
 */
static List *
rescan_clauses(PlannerInfo *root, List *conds)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, conds)
	{
		CivisCond  *cond = lfirst(lc);

		if (varies_by_rescan_walker((Node *) cond->value, root))
			result = lappend(result, cond->rinfo);
	}
	return result;
}

/*
 * Rows of a never-analyzed local table, counted, or -1.
 *
 * PostgreSQL estimates a table that was never analyzed or vacuumed as at
 * least 10 pages of rows (about 2,000 narrow rows), so 5 ids and 500 ids
 * in a new table look alike, and the choice between 5 get-by-id requests
 * and a 35-page listing cannot be made from the estimate.  Such a table is
 * at most 10 pages (80 kB) when its estimate is this guess, so counting
 * its rows is cheap and bounded; as in PostgreSQL's own
 * get_actual_variable_range, the planner then reads data, under the
 * active snapshot, only when the user may read the table.  The count is
 * used for this cost only; the adaptive scan keeps the worst case at
 * K + listing requests if the table grows before the plan runs.
 */
static double
counted_rows(PlannerInfo *root, Index relid)
{
	RangeTblEntry *rte = planner_rt_fetch(relid, root);
	Relation	rel;
	double		count = -1;

	if (rte->rtekind != RTE_RELATION ||
		(rte->relkind != RELKIND_RELATION && rte->relkind != RELKIND_MATVIEW) ||
		!ActiveSnapshotSet() ||
		pg_class_aclcheck(rte->relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		return -1;
	rel = table_open(rte->relid, NoLock);	/* locked by the parser */
	if (rel->rd_rel->reltuples < 0 && !rel->rd_rel->relhassubclass &&
		RelationGetNumberOfBlocks(rel) <= 10)
	{
		TableScanDesc scan = table_beginscan(rel, GetActiveSnapshot(), 0, NULL);
		TupleTableSlot *slot = table_slot_create(rel, NULL);

		count = 0;
		while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
		{
			CHECK_FOR_INTERRUPTS();
			count++;
		}
		ExecDropSingleTupleTableSlot(slot);
		table_endscan(scan);
	}
	table_close(rel, NoLock);
	return count;
}

/*
 * Cost of one rescan of an adaptive path, for a join PostgreSQL expects to
 * rescan it "loops" times: the requests of all rescans, min(n, K +
 * listing), spread over the loops; on a column other than the id, n
 * filtered listings of the pages of a rescan's rows each, at most 2K + 1
 * (the run-time switch, scan.c).  n is PostgreSQL's estimate of the
 * outer rows unless the outer side is a never-analyzed table, whose rows
 * are counted (counted_rows).
 */
static void
adaptive_costs(PlannerInfo *root, CivisRelInfo *fpinfo, RelOptInfo *baserel,
			   CivisPlanResult *listing, Relids required_outer, double rows,
			   AttrNumber key_attnum, Cost *startup, Cost *total)
{
	CivisTableInfo *info = fpinfo->info;
	double		loops = 1;
	double		n;
	double		page = listing->plan->page_size > 0 ? listing->plan->page_size : 50;
	double		listing_rows = (fpinfo->listing_rows >= 0 ? fpinfo->listing_rows
								: fpinfo->tuples);
	double		pages = Max(1, ceil(listing_rows / page));
	double		k = (key_attnum > 0 ? list_switch_point(fpinfo, listing->plan)
					 : detail_switch_point(fpinfo, listing->plan));
	double		requests;
	int			relid = -1;

	while ((relid = bms_next_member(required_outer, relid)) >= 0)
	{
		RelOptInfo *outer = find_base_rel(root, relid);

		loops *= Max(1, outer->rows);
	}
	n = loops;
	if (bms_membership(required_outer) == BMS_SINGLETON)
	{
		RelOptInfo *outer = find_base_rel(root, bms_singleton_member(required_outer));
		double		counted = counted_rows(root, outer->relid);

		if (counted >= 0)
			n = Max(1, counted * (outer->tuples > 0 ? outer->rows / outer->tuples : 1));
	}
	if (key_attnum > 0)
	{
		/* a filtered listing per outer row: the pages of its rows */
		double		per_value = Max(1, ceil(rows / page));

		requests = n * per_value <= k ? n * per_value : Min(n * per_value, 2 * k + 1);
	}
	else
		requests = n <= k ? n : k + pages;
	*startup = 0;
	*total = (info->request_cost * requests +
			  (info->row_cost + cpu_tuple_cost) * rows * loops) / loops;
}

/*
 * Is this set of relations in the list?  Not list_member: a Bitmapset is
 * a Node only from PostgreSQL 16 on, and equal() rejects it before.
 */
static bool
relids_listed(List *list, Relids relids)
{
	ListCell   *lc;

	foreach(lc, list)
		if (bms_equal(lfirst(lc), relids))
			return true;
	return false;
}

static void
civisGetForeignPaths(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid)
{
	CivisRelInfo *fpinfo = baserel->fdw_private;
	CivisPlanResult *base = fpinfo->base_plan;
	Cost		startup,
				total;
	List	   *clauses;
	List	   *outers = NIL;
	ListCell   *lc;

	request_costs(fpinfo->info, base->plan, baserel->rows,
				  fanout_count(base, NIL), &startup, &total);

	/*
	 * Without a value for every path parameter the plain path cannot run:
	 * keep it (so that the executor can say which condition is missing when
	 * nothing better exists) but disable it.  A LATERAL reference makes even
	 * the plain path parameterized.
	 */
	add_path(baserel, (Path *) make_path(root, baserel, baserel->rows,
										 base->missing_path_params != NIL,
										 startup, total,
										 baserel->lateral_relids));
	add_sorted_path(root, baserel, startup, total);

	clauses = parameter_clauses(root, baserel, fpinfo);
	foreach(lc, clauses)
	{
		RestrictInfo *rinfo = lfirst(lc);
		Relids		required_outer;
		ParamPathInfo *ppi;
		List	   *conds;
		CivisPlanResult *res;
		CivisPlanResult *listing;
		AttrNumber	key_attnum;
		double		rows;

		required_outer = bms_difference(rinfo->clause_relids, baserel->relids);
		required_outer = bms_union(required_outer, baserel->lateral_relids);
		if (bms_is_empty(required_outer) || relids_listed(outers, required_outer))
			continue;
		outers = lappend(outers, required_outer);

		ppi = get_baserel_parampathinfo(root, baserel, required_outer);
		conds = list_concat(list_copy(fpinfo->base_conds),
							civis_extract_conds(root, baserel, fpinfo->info,
												ppi->ppi_clauses));
		res = civis_build_request_plan(fpinfo->info, conds, fpinfo->optimise);
		rows = ppi->ppi_rows;
		if (res->plan->kind == CIVIS_PLAN_DETAIL)
			rows = Min(rows, 1);
		listing = adaptive_listing(fpinfo, conds, ppi->ppi_clauses, &key_attnum);
		if (listing)
			adaptive_costs(root, fpinfo, baserel, listing, required_outer,
						   rows, key_attnum, &startup, &total);
		else
			request_costs(fpinfo->info, res->plan, rows, 1, &startup, &total);
		add_path(baserel, (Path *) make_path(root, baserel, rows,
											 res->missing_path_params != NIL,
											 startup, total, required_outer));
	}
}


/* ------------------------------------------------------------------
 * ORDER BY and LIMIT/OFFSET: upper relations computed by the scan
 *
 * As in postgres_fdw, a sort and a limit are pushed only through the
 * UPPERREL_ORDERED and UPPERREL_FINAL relations, and only when the result
 * cannot change: the query reads this one table through one request
 * stream (several streams are not merged in order), every condition is
 * applied exactly by the API (nothing stays local to filter rows after the
 * limit; a condition whose value turns out not exact at run time is
 * filtered by the scan itself, which then counts the limit itself), and
 * the sort is absent or pushed too.
 * ------------------------------------------------------------------ */

/* Can a scan of this base relation take over the query's upper work? */
static bool
upper_pushable(PlannerInfo *root, RelOptInfo *base)
{
	CivisRelInfo *fpinfo = base->fdw_private;
	CivisPlanResult *res;
	ListCell   *lc;

	if (fpinfo == NULL || !fpinfo->optimise)
		return false;
	res = fpinfo->base_plan;
	if (root->parse->commandType != CMD_SELECT || root->parse->rowMarks ||
		root->parse->hasTargetSRFs ||
		bms_membership(root->all_baserels) != BMS_SINGLETON ||
		!bms_is_empty(base->lateral_relids) ||
		res->missing_path_params != NIL ||
		res->plan->kind != CIVIS_PLAN_LIST ||
		civis_plan_fans_out(res->plan))
		return false;

	/* no condition may stay local */
	foreach(lc, base->baserestrictinfo)
		if (!list_member_ptr(res->exact_rinfos, lfirst(lc)))
			return false;

	/* the scan returns columns (no whole rows, no system columns) */
	foreach(lc, pull_var_clause((Node *) base->reltarget->exprs,
								PVC_RECURSE_PLACEHOLDERS))
	{
		Var		   *var = lfirst(lc);

		if (!IsA(var, Var) || var->varattno <= 0)
			return false;
	}
	return true;
}

/* A constant LIMIT/OFFSET, or $n known at execution. */
static bool
limit_value_ok(Node *node)
{
	if (node == NULL)
		return true;
	if (IsA(node, Const))
		return true;
	return IsA(node, Param) && ((Param *) node)->paramkind == PARAM_EXTERN;
}

/* OFFSET + LIMIT when both are constants, else -1. */
static int64
const_rows_needed(Query *parse)
{
	int64		count = 0,
				offset = 0;

	if (parse->limitCount == NULL || !IsA(parse->limitCount, Const) ||
		((Const *) parse->limitCount)->constisnull)
		return -1;
	count = DatumGetInt64(((Const *) parse->limitCount)->constvalue);
	if (parse->limitOffset)
	{
		if (!IsA(parse->limitOffset, Const))
			return -1;
		if (!((Const *) parse->limitOffset)->constisnull)
			offset = DatumGetInt64(((Const *) parse->limitOffset)->constvalue);
	}
	if (count < 0 || offset < 0)
		return -1;
	return count + offset;
}

/*
 * The column of this relation a pathkey sorts on, if the endpoint's
 * "order" parameter can sort by it the same way PostgreSQL would: a
 * column with order_by, never text (the API does not sort by the
 * database's collation), the type's default btree order with NULLs where
 * PostgreSQL puts them (last ascending, first descending).
 */
static CivisColumn *
pathkey_column(RelOptInfo *base, PathKey *pk, bool *desc)
{
	CivisRelInfo *fpinfo = base->fdw_private;
	CivisColumn *col = NULL;
	ListCell   *lc;

	if (pk->pk_eclass->ec_has_volatile)
		return NULL;
	foreach(lc, pk->pk_eclass->ec_members)
	{
		Expr	   *e = ((EquivalenceMember *) lfirst(lc))->em_expr;

		while (IsA(e, RelabelType))
			e = ((RelabelType *) e)->arg;
		if (IsA(e, Var) && ((Var *) e)->varno == base->relid &&
			((Var *) e)->varattno > 0 && ((Var *) e)->varlevelsup == 0)
		{
			col = &fpinfo->info->columns[((Var *) e)->varattno - 1];
			break;
		}
	}
	if (col == NULL || col->dropped || col->order_by == NULL ||
		type_is_collatable(col->atttypid))
		return NULL;
	if (pk->pk_opfamily != lookup_type_cache(col->atttypid, TYPECACHE_BTREE_OPFAMILY)->btree_opf)
		return NULL;
	if (civis_pathkey_ascending(pk) && !pk->pk_nulls_first)
		*desc = false;
	else if (civis_pathkey_descending(pk) && pk->pk_nulls_first)
		*desc = true;
	else
		return NULL;
	return col;
}

/* Does this column sort uniquely (the id: ties cannot move)? */
static bool
unique_sort_column(const CivisColumn *col)
{
	return col->key && strcmp(col->key, civis_quirk_id_key) == 0;
}

/*
 * The column a single-key ORDER BY sorts on, for a scan that also sorts
 * (an upper relation).  A key that is not unique is pushed there only
 * when one request answers the whole query: the API promises no
 * tie-breaker, so ties could move between pages.
 */
static CivisColumn *
pushable_sort(PlannerInfo *root, RelOptInfo *base, bool *desc)
{
	CivisRelInfo *fpinfo = base->fdw_private;
	CivisColumn *col;
	int64		needed;

	if (list_length(root->sort_pathkeys) != 1)
		return NULL;
	col = pathkey_column(base, linitial(root->sort_pathkeys), desc);
	if (col == NULL)
		return NULL;
	if (!unique_sort_column(col))
	{
		needed = const_rows_needed(root->parse);
		if (needed < 0 || fpinfo->base_plan->plan->page_size <= 0 ||
			needed > fpinfo->base_plan->plan->page_size)
			return NULL;
	}
	return col;
}

/* ------------------------------------------------------------------
 * Request economy: the bound, sorted base paths, the early stop
 *
 * None of this changes a result.  The bound is a hint that only chooses
 * page sizes and read-ahead.  A sorted base path keeps the arrival-order
 * check, and its scan falls back to a local sort of the listing when the
 * rows it needs do not fit in what sorted requests answer safely
 * (scan.c).  The early stop ends a stream sorted by the scan's own
 * request at the first row that a condition monotone along that order
 * rejects; the condition stays in the query's WHERE clause as well.
 * ------------------------------------------------------------------ */

/* Does this query level read rows as they come (no grouping)? */
static bool
query_streams_rows(Query *parse)
{
	return parse->groupClause == NIL && parse->groupingSets == NIL &&
		parse->distinctClause == NIL && !parse->hasAggs &&
		!parse->hasWindowFuncs && !parse->hasTargetSRFs &&
		parse->havingQual == NULL && parse->setOperations == NULL;
}

static int
clamp_hint(double rows)
{
	if (rows <= 0)
		return 0;
	if (rows >= PG_INT32_MAX)
		return PG_INT32_MAX;
	return (int) ceil(rows);
}

/*
 * Is the path the parameterized inner side of a semi-join (EXISTS, IN) or
 * an anti-join (NOT EXISTS) by itself?  A nested loop then stops reading
 * it at the first row that matches.
 */
static bool
inner_of_semi_join(PlannerInfo *root, Path *path)
{
	ListCell   *lc;

	foreach(lc, root->join_info_list)
	{
		SpecialJoinInfo *sjinfo = lfirst(lc);

		if ((sjinfo->jointype == JOIN_SEMI || sjinfo->jointype == JOIN_ANTI) &&
			bms_equal(sjinfo->syn_righthand, path->parent->relids) &&
			bms_overlap(PATH_REQ_OUTER(path), sjinfo->syn_lefthand))
			return true;
	}
	return false;
}

/*
 * Is this LIMIT count or OFFSET no limit at all?  Absent, or a constant
 * (after constant folding) that PostgreSQL itself treats as absent: a NULL
 * (LIMIT ALL, OFFSET NULL) or an OFFSET of 0.  A parameter ($1 in a generic
 * plan) may be anything at execution, so it counts as a limit.
 */
static bool
no_limit_expr(Node *node, bool is_offset)
{
	Const	   *c;

	if (node == NULL)
		return true;
	if (!IsA(node, Const))
		return false;
	c = (Const *) node;
	if (c->constisnull)
		return true;
	return is_offset && c->consttype == INT8OID &&
		DatumGetInt64(c->constvalue) == 0;
}

/*
 * The rows the query will consume at most from a scan on this path, known
 * at planning (ExecSetTupleBound never reaches a ForeignScan): the LIMIT
 * when the path's order is the query's (otherwise a Sort above reads
 * everything), or the planner's absolute tuple_fraction (an uncorrelated
 * EXISTS is planned for one row), or 1 on the inner side of a semi-join.
 * -1 when every row will be read (no
 * LIMIT and a tuple_fraction of 0: read-ahead need not ramp up).  0 when
 * unknown: joins, parameterized paths, grouping, a generic plan's LIMIT $1,
 * a cursor.
 */
static int
scan_bound(PlannerInfo *root, Path *path)
{
	if (path->param_info != NULL && inner_of_semi_join(root, path))
		return 1;
	if (path->param_info != NULL ||
		bms_membership(root->all_baserels) != BMS_SINGLETON)
		return 0;

	/*
	 * No LIMIT, and the planner expects every row to be fetched.  OFFSET 0
	 * (the usual fence of a subquery) and LIMIT ALL skip nothing and stop
	 * nothing: every row is read all the same.
	 */
	if (root->tuple_fraction <= 0 &&
		no_limit_expr(root->parse->limitCount, false) &&
		no_limit_expr(root->parse->limitOffset, true))
		return -1;
	if (!query_streams_rows(root->parse))
		return 0;
	/* WITH TIES reads past its count */
	if (civis_limit_with_ties(root->parse))
		return 0;
	if (root->sort_pathkeys != NIL &&
		!pathkeys_contained_in(root->sort_pathkeys, path->pathkeys))
		return 0;
	if (root->limit_tuples > 0)
		return clamp_hint(root->limit_tuples);
	if (root->tuple_fraction >= 1)
		return clamp_hint(root->tuple_fraction);
	return 0;
}

/*
 * The rows a scan expects to read for "bound" rows to pass: conditions the
 * API does not receive at all drop rows locally (a loose one it applies,
 * if loosely).  An estimate only: it decides whether a sorted path is
 * worth offering and what EXPLAIN says, never the size of a request
 * (plan_economy).
 */
static int
read_hint(PlannerInfo *root, RelOptInfo *base, CivisPlanResult *res, int bound)
{
	List	   *unsent = NIL;
	ListCell   *lc;
	Selectivity sel;

	if (bound <= 0)
		return 0;
	foreach(lc, base->baserestrictinfo)
		if (!list_member_ptr(res->pushed_rinfos, lfirst(lc)))
			unsent = lappend(unsent, lfirst(lc));
	sel = clauselist_selectivity(root, unsent, base->relid, JOIN_INNER, NULL);
	if (sel <= 0)
		return PG_INT32_MAX;
	return clamp_hint(bound / sel);
}

static bool
is_column_var(Node *node, Index relid, AttrNumber attnum)
{
	while (node && IsA(node, RelabelType))
		node = (Node *) ((RelabelType *) node)->arg;
	return node && IsA(node, Var) && ((Var *) node)->varno == relid &&
		((Var *) node)->varattno == attnum && ((Var *) node)->varlevelsup == 0;
}

/*
 * A condition that ends a stream sorted on col: col > / >= value when the
 * stream moves down (DESC), col < / <= value when it moves up, with an
 * operator of the sort's btree family and a value that does not depend on
 * the row.  Once a row with a non-NULL key fails it, every later row does.
 */
static Expr *
stop_clause(RelOptInfo *base, CivisColumn *col, PathKey *pk, bool desc)
{
	ListCell   *lc;

	foreach(lc, base->baserestrictinfo)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);
		OpExpr	   *op;
		Node	   *other;
		bool		var_left;
		int			strategy;
		Oid			lefttype,
					righttype;

		if (rinfo->pseudoconstant || !IsA(rinfo->clause, OpExpr))
			continue;
		op = (OpExpr *) rinfo->clause;
		if (list_length(op->args) != 2)
			continue;
		if (is_column_var(linitial(op->args), base->relid, col->attnum))
		{
			var_left = true;
			other = lsecond(op->args);
		}
		else if (is_column_var(lsecond(op->args), base->relid, col->attnum))
		{
			var_left = false;
			other = linitial(op->args);
		}
		else
			continue;
		if (contain_var_clause(other) || contain_volatile_functions(other) ||
			!op_in_opfamily(op->opno, pk->pk_opfamily))
			continue;
		get_op_opfamily_properties(op->opno, pk->pk_opfamily, false,
								   &strategy, &lefttype, &righttype);
		if (!var_left)
			strategy = BTCommuteStrategyNumber(strategy);
		if (desc ? (strategy == BTGreaterStrategyNumber ||
					strategy == BTGreaterEqualStrategyNumber)
			: (strategy == BTLessStrategyNumber ||
			   strategy == BTLessEqualStrategyNumber))
			return rinfo->clause;
	}
	return NULL;
}

/*
 * A base path sorted by the API, for a query whose ORDER BY is one column
 * the API can sort by, even when conditions stay local (a Filter keeps
 * the order).  The id sorts uniquely, page after page.  Another key is
 * offered only where sorted requests are likely to suffice: one page
 * holds the rows the bound needs, or a condition ends the stream early.
 */
static void
add_sorted_path(PlannerInfo *root, RelOptInfo *baserel, Cost startup, Cost total)
{
	CivisRelInfo *fpinfo = baserel->fdw_private;
	CivisRequestPlan *plan = fpinfo->base_plan->plan;
	PathKey    *pk;
	CivisColumn *col;
	bool		desc;

	if (!fpinfo->optimise || list_length(root->query_pathkeys) != 1 ||
		!query_streams_rows(root->parse) ||
		bms_membership(root->all_baserels) != BMS_SINGLETON ||
		!bms_is_empty(baserel->lateral_relids) ||
		fpinfo->base_plan->missing_path_params != NIL ||
		plan->kind != CIVIS_PLAN_LIST || plan->paging != CIVIS_PAGING_PAGES ||
		plan->page_size <= 0 || civis_plan_fans_out(plan))
		return;
	pk = linitial(root->query_pathkeys);
	col = pathkey_column(baserel, pk, &desc);
	if (col == NULL)
		return;
	if (!unique_sort_column(col) && stop_clause(baserel, col, pk, desc) == NULL)
	{
		int			bound = root->limit_tuples > 0 ? clamp_hint(root->limit_tuples) : 0;

		if (bound <= 0 ||
			read_hint(root, baserel, fpinfo->base_plan, bound) > plan->page_size)
			return;
	}
	add_path(baserel, (Path *) civis_create_foreignscan_path(root, baserel,
															 baserel->rows,
															 false, startup,
															 total,
															 root->query_pathkeys,
															 NULL));
}

/*
 * The request-economy fields of a scan's plan: the sort of a sorted base
 * path, the bound and read hint, and the clause that stops a sorted
 * stream (appended to fdw_recheck_quals, which setrefs fixes; it is in the
 * WHERE clause as well, so evaluating it again changes nothing).
 */
static void
plan_economy(PlannerInfo *root, RelOptInfo *base, Path *path,
			 CivisPlanResult *res, List **recheck, bool has_filter)
{
	CivisRelInfo *fpinfo = base->fdw_private;
	CivisRequestPlan *plan = res->plan;
	bool		desc = false;
	CivisColumn *col = NULL;

	if (path->pathkeys != NIL && fpinfo->optimise)
		col = pathkey_column(base, linitial(path->pathkeys), &desc);
	if (col && plan->order_by == NULL && path->parent == base)
	{
		plan->order_by = col->order_by;
		plan->order_desc = desc;
		plan->order_attnum = col->attnum;
	}
	if (!fpinfo->optimise)
		return;
	plan->bound = scan_bound(root, path);

	/*
	 * The bound sizes the first page only when nothing stays in the Filter:
	 * every row the API answers is then a row the query consumes, and
	 * "limit=bound" is exactly what it needs.  With a condition checked
	 * locally the number of rows that pass is a guess from a selectivity that
	 * the API's data need not follow (ILIKE '%a%' estimated at 3 in 4), and a
	 * guessed small page that falls short costs page 1 again at the full size
	 * and often the page after it: the first page is a full page, which costs
	 * the same one request (the rate limit counts requests, not rows), and
	 * read-ahead waits until the rows requested have not sufficed
	 * (ahead_allowed in scan.c).
	 */
	if (has_filter && plan->bound > 0)
	{
		plan->read_hint = 0;
		plan->local_read = Max(read_hint(root, base, res, plan->bound), plan->bound);
	}
	else
	{
		plan->read_hint = plan->bound > 0 ? plan->bound : 0;
		plan->local_read = 0;
	}
	if (col && plan->order_attnum == col->attnum && plan->kind == CIVIS_PLAN_LIST)
	{
		Expr	   *stop = stop_clause(base, col, linitial(path->pathkeys), desc);

		if (stop)
		{
			plan->stop_index = list_length(*recheck);
			*recheck = lappend(*recheck, copyObject(stop));
		}
	}
}

static ForeignPath *
make_upper_path(PlannerInfo *root, RelOptInfo *rel, PathTarget *target,
				double rows, Cost startup, Cost total, List *pathkeys)
{
	return civis_create_foreign_upper_path(root, rel, target, rows, startup,
										   total, pathkeys);
}

/* ------------------------------------------------------------------
 * count(*) from the paging headers
 *
 * SELECT count(*) FROM t WHERE <conditions the API applies exactly> is
 * pushed through UPPERREL_GROUP_AGG (as postgres_fdw pushes aggregates):
 * a scan that returns one row.  A paged listing answers it with one
 * limit=1 request per stream and X-Pagination-Total-Entries; get-by-id,
 * an endpoint without paging headers, a missing header or a value that is
 * not exact at run time make the scan count the rows itself (scan.c).
 * ------------------------------------------------------------------ */

static bool
is_count_star(Node *node)
{
	Aggref	   *agg;

	if (!IsA(node, Aggref))
		return false;
	agg = (Aggref *) node;
	return agg->aggfnoid == CIVIS_COUNT_STAR_OID && agg->aggstar &&
		agg->args == NIL && agg->aggfilter == NULL &&
		agg->aggdistinct == NIL && agg->aggorder == NIL &&
		agg->aggkind == AGGKIND_NORMAL && agg->agglevelsup == 0 &&
		agg->aggsplit == AGGSPLIT_SIMPLE;
}

/* Is every aggregate of the grouping target count(*), and no Var outside? */
static bool
target_is_count_only(PathTarget *target)
{
	List	   *nodes = pull_var_clause((Node *) target->exprs,
										PVC_INCLUDE_AGGREGATES |
										PVC_INCLUDE_PLACEHOLDERS);
	ListCell   *lc;

	if (nodes == NIL)
		return false;
	foreach(lc, nodes)
		if (!is_count_star(lfirst(lc)))
			return false;
	return true;
}

static void
add_count_path(PlannerInfo *root, RelOptInfo *input_rel, RelOptInfo *output_rel)
{
	Query	   *parse = root->parse;
	PathTarget *target = root->upper_targets[UPPERREL_GROUP_AGG];
	CivisRelInfo *fpinfo;
	CivisPlanResult *res;
	CivisUpperInfo *upper;
	ListCell   *lc;
	double		nstreams;
	Cost		total;

	if (input_rel->reloptkind != RELOPT_BASEREL || input_rel->fdw_private == NULL)
		return;
	fpinfo = input_rel->fdw_private;
	res = fpinfo->base_plan;
	if (!fpinfo->optimise || parse->commandType != CMD_SELECT ||
		parse->rowMarks || parse->hasTargetSRFs || !parse->hasAggs ||
		parse->groupClause != NIL || parse->groupingSets != NIL ||
		parse->havingQual != NULL || parse->hasWindowFuncs ||
		root->hasPseudoConstantQuals ||
		bms_membership(root->all_baserels) != BMS_SINGLETON ||
		!bms_is_empty(input_rel->lateral_relids) ||
		res->missing_path_params != NIL || target == NULL ||
		!target_is_count_only(target))
		return;

	/* no condition may stay local: there is no Filter under a count */
	foreach(lc, input_rel->baserestrictinfo)
		if (!list_member_ptr(res->exact_rinfos, lfirst(lc)))
			return;

	upper = palloc0(sizeof(CivisUpperInfo));
	upper->base = input_rel;
	upper->count_star = true;
	output_rel->fdw_private = upper;

	/* one request per stream (a detail: one per id), all concurrently */
	nstreams = fanout_count(res, NIL);
	total = fpinfo->info->request_cost *
		ceil(nstreams / Max(1, fpinfo->info->max_in_flight)) + cpu_tuple_cost;
	if (res->plan->kind == CIVIS_PLAN_DETAIL ||
		(res->plan->paging != CIVIS_PAGING_PAGES &&
		 res->plan->paging != CIVIS_PAGING_AUTO))
	{
		Cost		startup;

		/* rows are counted: as the listing, without transferring them up */
		request_costs(fpinfo->info, res->plan, input_rel->rows, nstreams,
					  &startup, &total);
	}
	add_path(output_rel,
			 (Path *) make_upper_path(root, output_rel, target, 1,
									  total, total, NIL));
}


/*
 * The request plan of the one base relation under an upper relation (a
 * pushed sort, limit or count(*)), with the rechecks of its conditions.
 */
static CivisPlanResult *
upper_base_plan(PlannerInfo *root, RelOptInfo *base, List **recheck)
{
	CivisRelInfo *fpinfo = base->fdw_private;
	CivisPlanResult *res;

	res = civis_build_request_plan(fpinfo->info,
								   civis_extract_conds(root, base, fpinfo->info,
													   base->baserestrictinfo),
								   fpinfo->optimise);
	(void) split_clauses(fpinfo->info, res, base->baserestrictinfo,
						 base->relid, recheck);
	return res;
}

/*
 * The scan tuple of a scan of an upper relation (fdw_scan_tlist): the Vars
 * of "first", then what "then" adds (its Vars, and its aggregates when
 * flags says PVC_INCLUDE_AGGREGATES).  *attrs: the table columns of its
 * Var entries, in order (the columns the scan decodes).
 */
static List *
upper_scan_tlist(List *first, List *then, int flags, List **attrs)
{
	List	   *scan_tlist;
	ListCell   *lc;

	scan_tlist = add_to_flat_tlist(NIL, pull_var_clause((Node *) first,
														PVC_RECURSE_PLACEHOLDERS));
	scan_tlist = add_to_flat_tlist(scan_tlist,
								   pull_var_clause((Node *) then,
												   flags | PVC_RECURSE_PLACEHOLDERS));
	*attrs = NIL;
	foreach(lc, scan_tlist)
	{
		Expr	   *expr = ((TargetEntry *) lfirst(lc))->expr;

		if (IsA(expr, Var))
			*attrs = lappend_int(*attrs, ((Var *) expr)->varattno);
	}
	return scan_tlist;
}

/*
 * The plan of a count(*) scan: the scan tuple is fdw_scan_tlist, the
 * columns the run-time rechecks need first (retrieved_attrs), then the
 * count(*) Aggrefs, each filled with the count.
 */
static ForeignScan *
count_plan(PlannerInfo *root, RelOptInfo *upperrel, List *tlist, Plan *outer_plan)
{
	CivisUpperInfo *upper = upperrel->fdw_private;
	RelOptInfo *base = upper->base;
	CivisPlanResult *res;
	List	   *scan_tlist;
	List	   *attrs;
	List	   *fdw_private;
	List	   *recheck;

	/* add_count_path saw to it that nothing stays in a Filter */
	res = upper_base_plan(root, base, &recheck);

	scan_tlist = upper_scan_tlist(recheck, tlist, PVC_INCLUDE_AGGREGATES, &attrs);

	fdw_private = list_make5(civis_plan_serialize(res->plan), attrs,
							 makeInteger(0), makeInteger(1), NIL);
	fdw_private = lappend(fdw_private, makeInteger(0));
	return make_foreignscan(tlist, NIL, 0, res->fdw_exprs, fdw_private,
							scan_tlist, recheck, outer_plan);
}

/*
 * The upper stages pushed to the API: count(*) (GROUP_AGG), ORDER BY
 * (ORDERED) and LIMIT/OFFSET (FINAL, over a base relation or over an
 * ORDERED upper relation of this FDW).
 *
 * Long because ORDERED and FINAL share the finding of the base relation,
 * its pushability and its listing's costs; each stage then is one block of
 * its own below.
 */
static void
civisGetForeignUpperPaths(PlannerInfo *root, UpperRelationKind stage,
						  RelOptInfo *input_rel, RelOptInfo *output_rel,
						  void *extra)
{
	CivisUpperInfo *upper;
	CivisUpperInfo *input_upper = NULL;
	RelOptInfo *base;
	CivisRelInfo *fpinfo;
	Cost		startup,
				total;

	if (output_rel->fdw_private != NULL)
		return;
	if (stage == UPPERREL_GROUP_AGG)
	{
		add_count_path(root, input_rel, output_rel);
		return;
	}
	if (stage != UPPERREL_ORDERED && stage != UPPERREL_FINAL)
		return;

	if (input_rel->reloptkind == RELOPT_BASEREL)
		base = input_rel;
	else if (stage == UPPERREL_FINAL && input_rel->reloptkind == RELOPT_UPPER_REL &&
			 input_rel->fdw_private != NULL)
	{
		input_upper = input_rel->fdw_private;
		if (input_upper->count_star)
			return;				/* one row: nothing to limit */
		base = input_upper->base;
	}
	else
		return;
	if (!upper_pushable(root, base))
		return;
	fpinfo = base->fdw_private;

	upper = palloc0(sizeof(CivisUpperInfo));
	upper->base = base;
	request_costs(fpinfo->info, fpinfo->base_plan->plan, base->rows, 1,
				  &startup, &total);

	if (stage == UPPERREL_ORDERED)
	{
		upper->order_col = pushable_sort(root, base, &upper->order_desc);
		if (upper->order_col == NULL)
			return;
		output_rel->fdw_private = upper;
		/* cheaper than the same listing plus a local sort */
		add_path(output_rel,
				 (Path *) make_upper_path(root, output_rel,
										  root->upper_targets[UPPERREL_ORDERED],
										  base->rows, startup, total,
										  root->sort_pathkeys));
		return;
	}

	/* UPPERREL_FINAL: LIMIT and OFFSET */
	{
		FinalPathExtraData *fextra = extra;
		Query	   *parse = root->parse;
		double		rows;
		CivisPagingKind paging = fpinfo->base_plan->plan->paging;

		if (!fextra->limit_needed)
			return;
		if (civis_limit_with_ties(parse))
			return;
		if (!limit_value_ok(parse->limitCount) || !limit_value_ok(parse->limitOffset))
			return;
		/* a sort that stays local must see every row */
		if (input_upper == NULL && root->sort_pathkeys != NIL)
			return;
		if (paging != CIVIS_PAGING_PAGES && paging != CIVIS_PAGING_CURSOR &&
			paging != CIVIS_PAGING_OFFSET && paging != CIVIS_PAGING_WINDOW)
			return;

		if (input_upper)
		{
			upper->order_col = input_upper->order_col;
			upper->order_desc = input_upper->order_desc;
		}
		upper->has_limit = true;
		rows = fextra->limit_tuples > 0 ? Min(base->rows, fextra->limit_tuples) : base->rows;
		request_costs(fpinfo->info, fpinfo->base_plan->plan, rows, 1,
					  &startup, &total);
		output_rel->fdw_private = upper;
		/* never more requests than the same listing under a Limit node */
		add_path(output_rel,
				 (Path *) make_upper_path(root, output_rel,
										  root->upper_targets[UPPERREL_FINAL],
										  rows, startup, startup,
										  input_upper ? root->sort_pathkeys : NIL));
	}
}

/* Attributes the plan must decode: the target list and local quals. */
static List *
retrieved_attrs(RelOptInfo *baserel, List *local_exprs, int natts)
{
	Bitmapset  *attrs = NULL;
	List	   *result = NIL;
	int			i;

	pull_varattnos((Node *) baserel->reltarget->exprs, baserel->relid, &attrs);
	pull_varattnos((Node *) local_exprs, baserel->relid, &attrs);

	for (i = 1; i <= natts; i++)
	{
		if (bms_is_member(0 - FirstLowInvalidHeapAttributeNumber, attrs) ||
			bms_is_member(i - FirstLowInvalidHeapAttributeNumber, attrs))
			result = lappend_int(result, i);
	}
	return result;
}

/*
 * A local test of a parameter-only column that no condition sends would
 * read the NULL the column holds then, not what the API would say: an
 * ERROR, never a silent answer ("q = 'a' OR state = 'failed'").
 */
static void
check_local_clause(CivisTableInfo *info, CivisPlanResult *res, Node *clause,
				   Index relid)
{
	int			i;

	for (i = 0; i < info->ncolumns; i++)
	{
		CivisColumn *col = &info->columns[i];
		ListCell   *lc;
		bool		sent = false;

		if (col->dropped || !col->param_only || col->is_path_param)
			continue;
		if (!civis_clause_uses_column(clause, relid, col->attnum))
			continue;
		foreach(lc, res->plan->args)
			if (((CivisArg *) lfirst(lc))->echo_attnum == col->attnum)
				sent = true;

		/*
		 * IS [NOT] NULL: the column reads NULL wherever the query does not
		 * constrain it (README, "Scope exceptions"), but that NULL is not the
		 * API's answer to a question, so the test is refused like any other;
		 * the HINT says what to write instead.
		 */
		if (!sent && IsA(clause, NullTest))
			ereport(ERROR,
					(errcode(ERRCODE_FDW_UNABLE_TO_CREATE_EXECUTION),
					 errmsg("condition on parameter-only column \"%s\" of foreign table \"%s\" cannot be sent to the API",
							col->attname, info->relname),
					 errdetail("\"%s\" is not a field of the API's rows: it reads NULL when the query does not constrain it, which says nothing the API could test.",
							   col->attname),
					 errhint("Leave out the condition to get the API's default rows (with \"%s\" NULL), or write it as = or IN.",
							 col->attname)));
		if (!sent)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_UNABLE_TO_CREATE_EXECUTION),
					 errmsg("condition on parameter-only column \"%s\" of foreign table \"%s\" cannot be sent to the API",
							col->attname, info->relname),
					 errdetail("\"%s\" is not a field of the API's rows: only the API can apply a condition on it, and it takes only =, IN and boolean tests, or an OR of those on the column alone.",
							   col->attname),
					 errhint("Write the condition on \"%s\" as = or IN, separately from conditions on other columns.",
							 col->attname)));
	}
}

/*
 * The clauses of a scan split by what the plan decided: the Filter (sent
 * loosely or not sent) and fdw_recheck_quals (applied exactly by the API
 * for the values planning could know).  Each argument whose condition
 * left the Filter records the index of its clause there, so the scan can
 * evaluate it after all when its value at execution is not exact.
 */
static List *
split_clauses(CivisTableInfo *info, CivisPlanResult *res, List *clauses,
			  Index relid, List **recheck)
{
	List	   *local = NIL;
	ListCell   *lc,
			   *lr;

	foreach(lc, clauses)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);

		if (rinfo->pseudoconstant)
			continue;
		if (list_member_ptr(res->exact_rinfos, rinfo))
			continue;
		if (civis_debug_skip_recheck && list_member_ptr(res->pushed_rinfos, rinfo))
			continue;
		check_local_clause(info, res, (Node *) rinfo->clause, relid);
		local = lappend(local, rinfo->clause);
	}
	*recheck = NIL;
	forboth(lc, res->plan->args, lr, res->arg_rinfos)
	{
		CivisArg   *arg = lfirst(lc);
		RestrictInfo *rinfo = lfirst(lr);

		if (rinfo == NULL)
			continue;
		arg->recheck_index = list_length(*recheck);
		*recheck = lappend(*recheck, rinfo->clause);
	}
	return local;
}

/*
 * The plan of a scan that also sorts and limits (an upper relation): the
 * scan tuple is fdw_scan_tlist, the base table's columns the target and
 * the run-time rechecks need.
 */
static ForeignScan *
upper_plan(PlannerInfo *root, RelOptInfo *upperrel, Path *path, List *tlist,
		   Plan *outer_plan)
{
	CivisUpperInfo *upper = upperrel->fdw_private;
	RelOptInfo *base = upper->base;
	CivisPlanResult *res;
	List	   *scan_tlist;
	List	   *attrs;
	List	   *fdw_private;
	List	   *recheck;

	/* upper_pushable saw to it that nothing stays in a Filter */
	res = upper_base_plan(root, base, &recheck);
	if (upper->order_col)
	{
		res->plan->order_by = upper->order_col->order_by;
		res->plan->order_desc = upper->order_desc;
		res->plan->order_attnum = upper->order_col->attnum;
	}
	if (upper->has_limit)
	{
		if (root->parse->limitCount)
		{
			res->plan->limit_expr = list_length(res->fdw_exprs);
			res->fdw_exprs = lappend(res->fdw_exprs, copyObject(root->parse->limitCount));
		}
		if (root->parse->limitOffset)
		{
			res->plan->offset_expr = list_length(res->fdw_exprs);
			res->fdw_exprs = lappend(res->fdw_exprs, copyObject(root->parse->limitOffset));
		}
	}
	plan_economy(root, base, path, res, &recheck, false);

	scan_tlist = upper_scan_tlist(tlist, recheck, 0, &attrs);

	fdw_private = list_make3(civis_plan_serialize(res->plan), attrs,
							 makeInteger(0));
	return make_foreignscan(tlist, NIL, 0, res->fdw_exprs, fdw_private,
							scan_tlist, recheck, outer_plan);
}

/*
 * id = ANY($1), id = ANY(ARRAY(SELECT ...)), id = $1 OR id = $2: the number
 * of ids is known only at scan start.  The plan stays the listing (the id
 * condition in the Filter), and a get-by-id plan goes beside it, taken by
 * the scan when the ids are at most fanout_limit and no more than the
 * listing's pages (when its size is known).  Its values are appended to
 * the plan's fdw_exprs.
 */
static void
add_detail_alternative(CivisRelInfo *fpinfo, List *conds, CivisPlanResult *res,
					   List **fdw_private)
{
	CivisPlanResult *alt;
	int			offset = list_length(res->fdw_exprs);
	ListCell   *lc;

	if (!fpinfo->optimise || res->plan->kind != CIVIS_PLAN_LIST ||
		res->missing_path_params != NIL ||
		(alt = civis_build_detail_alternative(fpinfo->info, conds)) == NULL)
		return;
	foreach(lc, alt->plan->args)
	{
		CivisArg   *arg = lfirst(lc);

		if (arg->expr_index >= 0)
			arg->expr_index += offset;
	}
	res->fdw_exprs = list_concat(res->fdw_exprs, alt->fdw_exprs);
	*fdw_private = lappend(*fdw_private, makeInteger(0));
	*fdw_private = lappend(*fdw_private, civis_plan_serialize(alt->plan));
	*fdw_private = lappend(*fdw_private,
						   makeInteger(detail_switch_point(fpinfo, res->plan)));
}

/*
 * An adaptive scan on a join column other than the id (author_id ->
 * author=): the plan is the unfiltered listing, with the join condition in
 * the Filter; the full plan, the listing filtered by the outer value, goes
 * beside it, taken rescan by rescan while the requests of all rescans stay
 * below the unfiltered listing's pages (list_switch_point), with the
 * column by which the kept listing is looked up.  Its values are appended
 * to the plan's fdw_exprs.
 */
static void
add_filtered_alternative(PlannerInfo *root, RelOptInfo *baserel,
						 CivisRelInfo *fpinfo, List *conds, CivisPlanResult *res,
						 AttrNumber key_attnum, List **fdw_private)
{
	CivisPlanResult *alt = civis_build_request_plan(fpinfo->info, conds, true);
	int			offset = list_length(res->fdw_exprs);
	int			max = list_switch_point(fpinfo, res->plan);
	double		rows;
	ListCell   *lc;

	/*
	 * The switch point is the unfiltered listing's pages: when the table's
	 * own estimate did not count them (its conditions include the join's, a
	 * value known only per rescan), use_remote_estimate asks for the
	 * listing's count once (limit=1), before its values are appended.
	 */
	if (fpinfo->listing_rows < 0 && res->plan->page_size > 0 &&
		civis_remote_estimate(fpinfo->info, res->plan, res->fdw_exprs,
							  relation_user(root, baserel), &rows))
		max = (int) Max(1, ceil(rows / res->plan->page_size));

	foreach(lc, alt->plan->args)
	{
		CivisArg   *arg = lfirst(lc);

		if (arg->expr_index >= 0)
			arg->expr_index += offset;
		arg->recheck_index = -1;	/* the Filter has every condition's
									 * recheck: the planned listing's are
									 * added when this plan runs (scan.c) */
	}
	res->fdw_exprs = list_concat(res->fdw_exprs, alt->fdw_exprs);

	/*
	 * The rows a rescan consumes are the same whichever listing answers it
	 * (the inner side of a semi- or anti-join: 1); the listing's first page
	 * is a full one (the join condition is in its Filter), and so is the
	 * filtered listing's: the same economy fields.
	 */
	alt->plan->bound = res->plan->bound;
	alt->plan->read_hint = res->plan->read_hint;
	alt->plan->local_read = res->plan->local_read;
	*fdw_private = lappend(*fdw_private, makeInteger(0));
	*fdw_private = lappend(*fdw_private, civis_plan_serialize(alt->plan));
	*fdw_private = lappend(*fdw_private, makeInteger(max));
	*fdw_private = lappend(*fdw_private, makeInteger(1));
	*fdw_private = lappend(*fdw_private, makeInteger(key_attnum));
}

static ForeignScan *
civisGetForeignPlan(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid,
					ForeignPath *best_path, List *tlist, List *scan_clauses,
					Plan *outer_plan)
{
	CivisRelInfo *fpinfo;
	List	   *conds;
	CivisPlanResult *res;
	List	   *local;
	List	   *recheck;
	List	   *fdw_private;
	bool		adaptive;
	AttrNumber	key_attnum = 0;

	if (baserel->reloptkind == RELOPT_UPPER_REL &&
		((CivisUpperInfo *) baserel->fdw_private)->count_star)
		return count_plan(root, baserel, tlist, outer_plan);
	if (baserel->reloptkind == RELOPT_UPPER_REL)
		return upper_plan(root, baserel, &best_path->path, tlist, outer_plan);

	fpinfo = baserel->fdw_private;
	conds = civis_extract_conds(root, baserel, fpinfo->info, scan_clauses);

	/*
	 * An id that changes from rescan to rescan (a join, a LATERAL or a
	 * correlated subquery): the listing of the other conditions, with the id
	 * condition in the Filter, and get-by-id beside it for the scan to take
	 * rescan by rescan while it is cheaper (add_detail_alternative).
	 */
	adaptive = (res = adaptive_listing(fpinfo, conds, rescan_clauses(root, conds),
									   &key_attnum)) != NULL;
	if (!adaptive)
		res = civis_build_request_plan(fpinfo->info, conds, fpinfo->optimise);

	/*
	 * Conditions the API applies exactly leave the local filter; all the
	 * others are rechecked, because the API's filters are looser than SQL's
	 * (substrings, case-insensitivity, inclusive bounds).
	 */
	local = split_clauses(fpinfo->info, res, scan_clauses, baserel->relid,
						  &recheck);
	plan_economy(root, baserel, &best_path->path, res, &recheck, local != NIL);

	fdw_private = list_make3(civis_plan_serialize(res->plan),
							 retrieved_attrs(baserel, list_concat_copy(local, recheck),
											 fpinfo->info->ncolumns),
							 makeInteger(list_length(local)));
	if (adaptive && key_attnum > 0)
		add_filtered_alternative(root, baserel, fpinfo, conds, res, key_attnum,
								 &fdw_private);
	else
		add_detail_alternative(fpinfo, conds, res, &fdw_private);
	if (adaptive && key_attnum == 0 && list_length(fdw_private) > CivisPrivateDetailMax)
		fdw_private = lappend(fdw_private, makeInteger(1));

	return make_foreignscan(tlist, local, baserel->relid, res->fdw_exprs,
							fdw_private, NIL, recheck, outer_plan);
}

void
civis_planner_routines(FdwRoutine *routine)
{
	routine->GetForeignRelSize = civisGetForeignRelSize;
	routine->GetForeignPaths = civisGetForeignPaths;
	routine->GetForeignPlan = civisGetForeignPlan;
	routine->GetForeignUpperPaths = civisGetForeignUpperPaths;
}
