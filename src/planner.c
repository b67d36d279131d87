/*-------------------------------------------------------------------------
 *
 * planner.c
 *		  Planning callbacks: size estimates, paths (plain and
 *		  parameterized), costs and the ForeignScan plan.
 *
 * What is sent to the API is decided by plan.c from the conditions qual.c
 * recognises; this file only wires those into PostgreSQL's planner.
 *
 * Costs model the network: every request costs request_cost, pages of one
 * listing after the first are fetched max_in_flight at a time, and every
 * row costs row_cost.  A table whose endpoint has path parameters gets a
 * disabled plain path (it cannot run without them) and parameterized
 * paths for join clauses that can supply them, one request per outer row.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/sysattr.h"
#include "foreign/fdwapi.h"
#include "nodes/makefuncs.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/paths.h"
#include "optimizer/planmain.h"
#include "optimizer/restrictinfo.h"
#include "utils/array.h"
#include "utils/lsyscache.h"

#include "civis_fdw.h"
#include "plan.h"
#include "planner.h"
#include "scan.h"

/* Planner state of one foreign relation (baserel->fdw_private). */
typedef struct CivisRelInfo
{
	CivisTableInfo *info;
	List	   *base_conds;		/* CivisConds from baserestrictinfo */
	bool		optimise;		/* pushdown of optimisations allowed */
	CivisPlanResult *base_plan; /* plan from the base conditions only */
	double		tuples;			/* estimated rows of the whole listing */
} CivisRelInfo;

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
	double		rounds;

	if (plan->kind == CIVIS_PLAN_DETAIL || plan->paging == CIVIS_PAGING_NONE)
		pages = nstreams;
	else
		pages = Max(nstreams, ceil(rows / page));

	/* the first page of a listing is alone; the rest go concurrently */
	rounds = nstreams + Max(0.0, pages - nstreams) / Max(1, info->max_in_flight);

	*startup = info->request_cost;
	*total = info->request_cost * rounds + (info->row_cost + cpu_tuple_cost) * rows;
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

static void
civisGetForeignRelSize(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid)
{
	CivisRelInfo *fpinfo = palloc0(sizeof(CivisRelInfo));
	CivisTableInfo *info = civis_get_table_info(foreigntableid);
	Selectivity sel;

	fpinfo->info = info;
	fpinfo->optimise = optimise_for(info);
	fpinfo->base_conds = civis_extract_conds(root, baserel, info,
											 baserel->baserestrictinfo);
	fpinfo->base_plan = civis_build_request_plan(info, fpinfo->base_conds,
												 fpinfo->optimise);

	/*
	 * Size of the whole listing: ANALYZE's count when there is one,
	 * otherwise the default_rows option.
	 */
	fpinfo->tuples = baserel->tuples > 0 ? baserel->tuples : info->default_rows;
	baserel->tuples = fpinfo->tuples;

	sel = clauselist_selectivity(root, baserel->baserestrictinfo, 0,
								 JOIN_INNER, NULL);
	baserel->rows = clamp_row_est(fpinfo->tuples * sel);
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
		col->key && strcmp(col->key, "id") == 0;
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

static ForeignPath *
make_path(PlannerInfo *root, RelOptInfo *baserel, double rows,
		  Cost startup, Cost total, Relids required_outer)
{
	return create_foreignscan_path(root, baserel, NULL, rows, startup, total,
								   NIL, required_outer, NULL,
#if PG_VERSION_NUM >= 170000
								   NIL,
#endif
								   NIL);
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
	 * nothing better exists) but price it out.
	 */
	if (base->missing_path_params != NIL)
	{
		startup += disable_cost;
		total += disable_cost;
	}
	add_path(baserel, (Path *) make_path(root, baserel, baserel->rows,
										 startup, total, NULL));

	clauses = parameter_clauses(root, baserel, fpinfo);
	foreach(lc, clauses)
	{
		RestrictInfo *rinfo = lfirst(lc);
		Relids		required_outer;
		ParamPathInfo *ppi;
		List	   *conds;
		CivisPlanResult *res;
		double		rows;

		required_outer = bms_difference(rinfo->clause_relids, baserel->relids);
		required_outer = bms_union(required_outer, baserel->lateral_relids);
		if (bms_is_empty(required_outer) ||
			list_member(outers, required_outer))
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
		request_costs(fpinfo->info, res->plan, rows, 1, &startup, &total);
		if (res->missing_path_params != NIL)
		{
			startup += disable_cost;
			total += disable_cost;
		}
		add_path(baserel, (Path *) make_path(root, baserel, rows,
											 startup, total, required_outer));
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

static ForeignScan *
civisGetForeignPlan(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid,
					ForeignPath *best_path, List *tlist, List *scan_clauses,
					Plan *outer_plan)
{
	CivisRelInfo *fpinfo = baserel->fdw_private;
	List	   *conds;
	CivisPlanResult *res;
	List	   *local = NIL;
	List	   *fdw_private;
	ListCell   *lc;

	conds = civis_extract_conds(root, baserel, fpinfo->info, scan_clauses);
	res = civis_build_request_plan(fpinfo->info, conds, fpinfo->optimise);

	/*
	 * Conditions the API applies exactly leave the local filter; all the
	 * others are rechecked, because the API's filters are looser than
	 * SQL's (substrings, case-insensitivity, inclusive bounds).
	 */
	foreach(lc, scan_clauses)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);

		if (rinfo->pseudoconstant)
			continue;
		if (list_member_ptr(res->exact_rinfos, rinfo))
			continue;
		if (civis_debug_skip_recheck && list_member_ptr(res->pushed_rinfos, rinfo))
			continue;
		local = lappend(local, rinfo->clause);
	}

	fdw_private = list_make3(civis_plan_serialize(res->plan),
							 retrieved_attrs(baserel, local, fpinfo->info->ncolumns),
							 makeInteger(list_length(local)));

	return make_foreignscan(tlist, local, baserel->relid, res->fdw_exprs,
							fdw_private, NIL, NIL, outer_plan);
}

void
civis_planner_routines(FdwRoutine *routine)
{
	routine->GetForeignRelSize = civisGetForeignRelSize;
	routine->GetForeignPaths = civisGetForeignPaths;
	routine->GetForeignPlan = civisGetForeignPlan;
}
