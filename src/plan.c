/*-------------------------------------------------------------------------
 *
 * plan.c
 *		  Conditions -> a request plan.  A pure function of the table's
 *		  options and the conditions: no catalog access, no I/O.
 *
 * Two kinds of parameters (README, "Pushdown"):
 *
 *  - semantic parameters decide which rows exist: path parameters,
 *    parameter-only columns and scope columns (archived).  They are always
 *    sent when the query constrains them, pushdown switch or not.
 *  - optimisations only make the API do less work: filters on real fields,
 *    IN lists, ranges, get-by-id, cursor starts.  civis_fdw.enable_pushdown
 *    and the "pushdown" option turn these off, and only these.
 *
 * A condition leaves the local recheck only when the API applies it
 * exactly: path parameters, parameter-only columns (their value is the
 * condition's, by construction), columns marked exact, get-by-id, and
 * cursor starts.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/pg_list.h"
#include "nodes/value.h"
#include "utils/array.h"
#include "utils/lsyscache.h"

#include "plan.h"
#include "quirks.h"

static bool
name_in(List *names, const char *name)
{
	ListCell   *lc;

	foreach(lc, names)
		if (strcmp(strVal(lfirst(lc)), name) == 0)
			return true;
	return false;
}

typedef struct PlanBuilder
{
	CivisTableInfo *info;
	CivisPlanResult *result;
	List	   *used;			/* parameter names already assigned */
} PlanBuilder;

/* The value of a condition as planning knows it. */
static void
cond_value(const CivisCond *cond, CivisValue *v)
{
	memset(v, 0, sizeof(CivisValue));
	v->typid = exprType((Node *) cond->value);
	if (cond->is_const)
	{
		Const	   *c = (Const *) cond->value;

		v->isnull = c->constisnull;
		v->value = c->constvalue;
	}
	else
		v->unknown = true;
}

static CivisArg *
new_arg(const char *param, CivisArgKind kind, CivisColumn *col)
{
	CivisArg   *arg = palloc0(sizeof(CivisArg));

	arg->param = pstrdup(param);
	arg->kind = kind;
	arg->in_path = (kind == CIVIS_ARG_PATH || kind == CIVIS_ARG_DETAIL_ID);
	arg->list = CIVIS_LIST_NONE;
	arg->expr_index = -1;
	arg->recheck_index = -1;
	if (col)
	{
		arg->exact = col->exact;
		arg->secret = col->secret;
		arg->coltype = col->atttypid;
		arg->coltypmod = col->atttypmod;
		arg->colname = pstrdup(col->attname);
	}
	return arg;
}

/*
 * Add an argument for a condition, as civis_decide says for the value
 * planning knows (a constant, or UNKNOWN).  A condition that would not be
 * sent is left out (it stays in the local Filter); one that decides EXACT
 * leaves the Filter, and the scan evaluates it locally after all when its
 * actual value decides otherwise.  Returns false when left out.
 */
static bool
add_arg(PlanBuilder *b, CivisArg *arg, CivisCond *cond)
{
	CivisPlanResult *res = b->result;
	CivisValue	v;
	CivisDecision d;

	if (cond)
	{
		cond_value(cond, &v);
		civis_decide(arg, &v, &d);
		if (d.outcome == CIVIS_NOT_SENT && arg->kind != CIVIS_ARG_SCOPE)
			return false;
		if (d.outcome == CIVIS_NOT_SENT)
		{
			/* a scope that cannot take this value: default, local test */
			arg->kind = CIVIS_ARG_FIXED;
			res->pushed_rinfos = lappend(res->pushed_rinfos, cond->rinfo);
			res->plan->args = lappend(res->plan->args, arg);
			res->arg_rinfos = lappend(res->arg_rinfos, NULL);
			b->used = lappend(b->used, makeString(arg->param));
			return true;
		}
		arg->expr_index = list_length(res->fdw_exprs);
		res->fdw_exprs = lappend(res->fdw_exprs, cond->value);
		res->pushed_rinfos = lappend(res->pushed_rinfos, cond->rinfo);
		/* NO_ROWS and ERROR: the scan returns nothing or raises */
		if (d.outcome != CIVIS_LOOSE)
			res->exact_rinfos = lappend(res->exact_rinfos, cond->rinfo);
	}
	res->plan->args = lappend(res->plan->args, arg);
	res->arg_rinfos = lappend(res->arg_rinfos,
							  (cond && !list_member_ptr(res->exact_rinfos, cond->rinfo))
							  ? NULL : (cond ? cond->rinfo : NULL));
	if (arg->kind != CIVIS_ARG_CURSOR)
		b->used = lappend(b->used, makeString(arg->param));
	return true;
}

/*
 * A semantic condition: a path parameter or a parameter-only column.  One
 * value goes in the request; several values fan out into one request per
 * value, because each row must say which value it was fetched for.
 */
static void
plan_semantic(PlanBuilder *b, CivisCond *cond, bool in_path)
{
	CivisColumn *col = cond->col;
	CivisArg   *arg;

	if (cond->op != CIVIS_OP_EQ && cond->op != CIVIS_OP_IN)
		return;
	arg = new_arg(col->param, in_path ? CIVIS_ARG_PATH : CIVIS_ARG_PARAM_ONLY, col);
	arg->fanout = (cond->op == CIVIS_OP_IN);
	arg->list = in_path ? CIVIS_LIST_NONE : col->list;
	arg->allowed = col->values;
	arg->exact = true;
	if (col->param_only)
		arg->echo_attnum = col->attnum;
	add_arg(b, arg, cond);
}

/* A scope column (archived): sent as asked, else its scope default. */
static void
plan_scope(PlanBuilder *b, CivisCond *cond)
{
	CivisColumn *col = cond->col;
	CivisArg   *arg;

	if (cond->op != CIVIS_OP_EQ)
		return;
	arg = new_arg(col->param, CIVIS_ARG_SCOPE, col);
	arg->allowed = col->values;
	arg->const_text = pstrdup(col->scope_default);
	add_arg(b, arg, cond);
}

/* A filter on a real field: an optimisation. */
static void
plan_filter(PlanBuilder *b, CivisCond *cond)
{
	CivisColumn *col = cond->col;
	CivisArg   *arg;

	if (cond->op == CIVIS_OP_IN && col->list == CIVIS_LIST_NONE)
		return;
	if (cond->op != CIVIS_OP_EQ && cond->op != CIVIS_OP_IN)
		return;
	arg = new_arg(col->param, CIVIS_ARG_FILTER, col);
	arg->allowed = col->values;
	arg->list = col->list;
	add_arg(b, arg, cond);
}

/* A range condition on a column with after/before parameters. */
static void
plan_range(PlanBuilder *b, CivisCond *cond)
{
	const char *param = NULL;
	CivisArgKind kind;

	if (cond->op == CIVIS_OP_GT || cond->op == CIVIS_OP_GE)
	{
		param = cond->col->after;
		kind = CIVIS_ARG_RANGE_LOWER;
	}
	else if (cond->op == CIVIS_OP_LT || cond->op == CIVIS_OP_LE)
	{
		param = cond->col->before;
		kind = CIVIS_ARG_RANGE_UPPER;
	}
	else
		return;
	if (param == NULL || name_in(b->used, param))
		return;
	add_arg(b, new_arg(param, kind, cond->col), cond);
}

/* id > n / id >= n on a cursor-paged listing: where the cursor starts. */
static void
plan_cursor(PlanBuilder *b, CivisCond *cond)
{
	CivisArg   *arg;
	ListCell   *lc;

	foreach(lc, b->result->plan->args)
		if (((CivisArg *) lfirst(lc))->kind == CIVIS_ARG_CURSOR)
			return;
	arg = new_arg("last_id", CIVIS_ARG_CURSOR, cond->col);
	arg->cursor_inclusive = (cond->op == CIVIS_OP_GE);
	add_arg(b, arg, cond);
}

static bool
is_id_column(const CivisColumn *col)
{
	return col->key && strcmp(col->key, civis_quirk_id_key) == 0 && !col->param_only;
}

/*
 * The column whose parameter hides rows when it is not sent (hidden), if
 * the table has one.  A detail object does not know what the listing
 * would have hidden, so get-by-id drops such objects itself.
 */
static CivisColumn *
hiding_column(CivisTableInfo *info)
{
	int			i;

	for (i = 0; i < info->ncolumns; i++)
	{
		CivisColumn *col = &info->columns[i];

		if (!col->dropped && col->param && col->param_only &&
			civis_quirk_param_hides_rows(col->param))
			return col;
	}
	return NULL;
}

/*
 * Get-by-id: id = value or id IN (...) through the detail endpoint, when
 * import verified that the detail's fields include the list item's.
 * Parameter-only columns cannot be applied to a detail row, so their
 * presence keeps the listing.
 */
/* id = value, or id IN (at most fanout_limit constants): get-by-id at planning */
static bool
planned_id_cond(const CivisTableInfo *info, const CivisCond *cond)
{
	if (cond->op == CIVIS_OP_EQ)
		return true;
	return cond->op == CIVIS_OP_IN && cond->is_const &&
		!((Const *) cond->value)->constisnull &&
		ArrayGetNItems(ARR_NDIM(DatumGetArrayTypeP(((Const *) cond->value)->constvalue)),
					   ARR_DIMS(DatumGetArrayTypeP(((Const *) cond->value)->constvalue)))
		<= info->fanout_limit;
}

/*
 * id IN (values known only at scan start), or id = a value known only at
 * scan start (the outer side of a join): the run-time alternative
 */
static bool
runtime_id_cond(const CivisTableInfo *info, const CivisCond *cond)
{
	return (cond->op == CIVIS_OP_IN || cond->op == CIVIS_OP_EQ) && !cond->is_const;
}

/*
 * The condition on the id column that get-by-id would use, when the table
 * has a detail endpoint and no parameter-only condition (one cannot be
 * applied to a detail row), or NULL.  eligible says which shapes count.
 */
static CivisCond *
find_detail_cond(const CivisTableInfo *info, List *conds,
				 bool (*eligible) (const CivisTableInfo *, const CivisCond *))
{
	CivisCond  *found = NULL;
	ListCell   *lc;

	if (info->detail_endpoint == NULL)
		return NULL;
	foreach(lc, conds)
	{
		CivisCond  *cond = lfirst(lc);

		if (cond->col->param_only && !cond->col->is_path_param)
			return NULL;
		if (found == NULL && is_id_column(cond->col) &&
			civis_types_comparable(cond->col->atttypid,
								   cond->op == CIVIS_OP_IN
								   ? get_element_type(exprType((Node *) cond->value))
								   : exprType((Node *) cond->value)) &&
			eligible(info, cond))
			found = cond;
	}
	return found;
}

static void
plan_detail(PlanBuilder *b, CivisCond *idcond, List *conds)
{
	CivisRequestPlan *plan = b->result->plan;
	List	   *holders = civis_path_placeholders(b->info->detail_endpoint);
	const char *idparam = strVal(llast(holders));
	CivisColumn *hiding = hiding_column(b->info);
	CivisArg   *arg;
	ListCell   *lc;

	plan->kind = CIVIS_PLAN_DETAIL;
	plan->endpoint = b->info->detail_endpoint;
	plan->paging = CIVIS_PAGING_NONE;
	plan->page_size = 0;
	if (hiding)
		plan->hidden_key = pstrdup(hiding->param);

	arg = new_arg(idparam, CIVIS_ARG_DETAIL_ID, idcond->col);
	arg->fanout = (idcond->op == CIVIS_OP_IN);
	add_arg(b, arg, idcond);

	/* the other placeholders are the listing's path parameters */
	foreach(lc, conds)
	{
		CivisCond  *cond = lfirst(lc);

		if (cond != idcond && cond->col->is_path_param &&
			name_in(holders, cond->col->param) &&
			!name_in(b->used, cond->col->param))
			plan_semantic(b, cond, true);
	}
}

/* Placeholders of the requested path that no condition fills. */
static void
note_missing_path_params(PlanBuilder *b)
{
	ListCell   *lc;

	foreach(lc, civis_path_placeholders(b->result->plan->endpoint))
		if (!name_in(b->used, strVal(lfirst(lc))))
			b->result->missing_path_params =
				lappend(b->result->missing_path_params, lfirst(lc));
}

CivisPlanResult *
civis_build_request_plan(CivisTableInfo *info, List *conds, bool optimise)
{
	PlanBuilder b;
	CivisRequestPlan *plan = palloc0(sizeof(CivisRequestPlan));
	CivisCond  *idcond;
	ListCell   *lc;
	int			i;

	b.info = info;
	b.result = palloc0(sizeof(CivisPlanResult));
	b.result->plan = plan;
	b.used = NIL;

	plan->kind = CIVIS_PLAN_LIST;
	plan->endpoint = info->endpoint;
	plan->paging = info->paging;
	plan->page_size = info->page_size;
	plan->limit_expr = -1;
	plan->offset_expr = -1;
	plan->stop_index = -1;

	if (optimise && (idcond = find_detail_cond(info, conds, planned_id_cond)) != NULL)
	{
		plan_detail(&b, idcond, conds);
		note_missing_path_params(&b);
		return b.result;
	}

	foreach(lc, conds)
	{
		CivisCond  *cond = lfirst(lc);
		CivisColumn *col = cond->col;

		if (col->param && !name_in(b.used, col->param))
		{
			if (col->is_path_param)
				plan_semantic(&b, cond, true);
			else if (col->param_only)
				plan_semantic(&b, cond, false);
			else if (col->scope_default)
				plan_scope(&b, cond);
			else if (optimise)
				plan_filter(&b, cond);
			if (name_in(b.used, col->param))
				continue;
		}
		if (optimise && (col->after || col->before))
			plan_range(&b, cond);
		else if (optimise && info->paging == CIVIS_PAGING_CURSOR &&
				 is_id_column(col) &&
				 (cond->op == CIVIS_OP_GT || cond->op == CIVIS_OP_GE))
			plan_cursor(&b, cond);
	}

	/* scope defaults for unconstrained scope columns */
	for (i = 0; i < info->ncolumns; i++)
	{
		CivisColumn *col = &info->columns[i];

		if (!col->dropped && col->param && col->scope_default &&
			!name_in(b.used, col->param))
		{
			CivisArg   *arg = new_arg(col->param, CIVIS_ARG_FIXED, col);

			arg->const_text = pstrdup(col->scope_default);
			add_arg(&b, arg, NULL);
		}
	}

	note_missing_path_params(&b);
	return b.result;
}

/*
 * Get-by-id decided at run time: id = ANY($1), id = ANY(ARRAY(SELECT ...))
 * or id = $1 OR id = $2 have a value list known only at scan start, so
 * planning keeps the listing and builds this detail plan beside it; the
 * scan takes it when the values are few enough (scan.c).  The same rules
 * as a get-by-id chosen at planning: a detail endpoint, the id column, no
 * parameter-only condition.  NULL when there is no such alternative.
 */
CivisPlanResult *
civis_build_detail_alternative(CivisTableInfo *info, List *conds)
{
	PlanBuilder b;
	CivisRequestPlan *plan;
	CivisCond  *idcond = find_detail_cond(info, conds, runtime_id_cond);

	if (idcond == NULL)
		return NULL;

	plan = palloc0(sizeof(CivisRequestPlan));
	b.info = info;
	b.result = palloc0(sizeof(CivisPlanResult));
	b.result->plan = plan;
	b.used = NIL;
	plan->limit_expr = -1;
	plan->offset_expr = -1;
	plan_detail(&b, idcond, conds);
	note_missing_path_params(&b);
	if (b.result->missing_path_params != NIL)
		return NULL;
	return b.result;
}

/*
 * A join column other than the id that the adaptive scan may key its kept
 * listing by: an integer column (its values compare as int64 exactly, so
 * the store's lookup finds every row equal to the outer value), joined by
 * "=", that the full plan sends as a filter the API applies exactly.  The
 * join condition stays in the scan's Filter anyway (the listing kept and
 * the filtered listings are rechecked per rescan), so a candidate too many
 * is never returned; exactness only makes the filtered listing the right
 * rows to pay for.
 */
static bool
keyable_join_cond(const CivisCond *cond, const CivisPlanResult *full)
{
	ListCell   *lc,
			   *lr;

	if (cond->op != CIVIS_OP_EQ || cond->col->param == NULL ||
		cond->col->param_only || cond->col->is_path_param ||
		cond->col->scope_default ||
		(cond->col->atttypid != INT8OID && cond->col->atttypid != INT4OID &&
		 cond->col->atttypid != INT2OID))
		return false;
	/* the argument sent for this very condition (not another on the column) */
	forboth(lc, full->plan->args, lr, full->arg_rinfos)
	{
		CivisArg   *arg = lfirst(lc);

		if (lfirst(lr) == cond->rinfo)
			return arg->kind == CIVIS_ARG_FILTER && arg->exact &&
				!arg->fanout && arg->expr_index >= 0 &&
				strcmp(arg->param, cond->col->param) == 0;
	}
	return false;
}

/*
 * A parameterized scan whose request takes a value from the outer side of
 * a join (a condition among param_rinfos): the listing of the other
 * conditions, which the scan reads once, after enough rescans, to answer
 * the remaining rescans itself (scan.c).  Two kinds:
 *
 *  - the id: each rescan fetches its object by id (get-by-id); *key_attnum
 *    is set to 0;
 *  - another column that becomes an exact request filter (author_id ->
 *    author=): each rescan reads that value's filtered listing, one request
 *    per page of its rows; *key_attnum is the column, by which the kept
 *    listing is looked up.
 *
 * NULL when the value does not come from the join, or when the listing
 * needs a path parameter.
 */
CivisPlanResult *
civis_build_adaptive_listing(CivisTableInfo *info, List *conds,
							 List *param_rinfos, AttrNumber *key_attnum)
{
	List	   *listing_conds = NIL;
	CivisCond  *joined = NULL;
	CivisPlanResult *full = civis_build_request_plan(info, conds, true);
	CivisPlanResult *res;
	ListCell   *lc;

	if (full->plan->kind == CIVIS_PLAN_DETAIL)
	{
		foreach(lc, conds)
		{
			CivisCond  *cond = lfirst(lc);

			if (is_id_column(cond->col) && list_member_ptr(param_rinfos, cond->rinfo))
				joined = cond;
			else
				listing_conds = lappend(listing_conds, cond);
		}
		if (joined == NULL)
			return NULL;
		*key_attnum = 0;
		res = civis_build_request_plan(info, listing_conds, true);
		if (res->plan->kind != CIVIS_PLAN_LIST || res->missing_path_params != NIL ||
			civis_build_detail_alternative(info, conds) == NULL)
			return NULL;
		return res;
	}

	/* the filtered listing per outer value */
	if (full->missing_path_params != NIL || civis_plan_fans_out(full->plan))
		return NULL;
	foreach(lc, conds)
	{
		CivisCond  *cond = lfirst(lc);

		if (joined == NULL && list_member_ptr(param_rinfos, cond->rinfo) &&
			keyable_join_cond(cond, full))
			joined = cond;
		else
			listing_conds = lappend(listing_conds, cond);
	}
	if (joined == NULL)
		return NULL;
	*key_attnum = joined->col->attnum;
	res = civis_build_request_plan(info, listing_conds, true);
	if (res->plan->kind != CIVIS_PLAN_LIST || res->missing_path_params != NIL ||
		civis_plan_fans_out(res->plan))
		return NULL;
	return res;
}

/* Does the plan send several request streams (a fan-out)? */
bool
civis_plan_fans_out(const CivisRequestPlan *plan)
{
	ListCell   *lc;

	foreach(lc, plan->args)
		if (((CivisArg *) lfirst(lc))->fanout)
			return true;
	return false;
}

/* ------------------------------------------------------------------
 * Serialization into fdw_private (copyObject- and outfuncs-safe)
 * ------------------------------------------------------------------ */

static Node *
str_node(const char *s)
{
	return s ? (Node *) makeString(pstrdup(s)) : NULL;
}

static char *
node_str(Node *n)
{
	return n ? pstrdup(strVal(n)) : NULL;
}

List *
civis_plan_serialize(const CivisRequestPlan *plan)
{
	List	   *list = NIL;
	ListCell   *lc;

	list = lappend(list, makeInteger(plan->kind));
	list = lappend(list, str_node(plan->endpoint));
	list = lappend(list, makeInteger(plan->paging));
	list = lappend(list, makeInteger(plan->page_size));
	list = lappend(list, str_node(plan->order_by));
	list = lappend(list, makeInteger(plan->order_desc));
	list = lappend(list, makeInteger(plan->order_attnum));
	list = lappend(list, makeInteger(plan->limit_expr));
	list = lappend(list, makeInteger(plan->offset_expr));
	list = lappend(list, str_node(plan->hidden_key));
	list = lappend(list, makeInteger(plan->bound));
	list = lappend(list, makeInteger(plan->read_hint));
	list = lappend(list, makeInteger(plan->local_read));
	list = lappend(list, makeInteger(plan->stop_index));
	foreach(lc, plan->args)
	{
		CivisArg   *arg = lfirst(lc);
		List	   *a = NIL;

		a = lappend(a, str_node(arg->param));
		a = lappend(a, makeInteger(arg->in_path));
		a = lappend(a, makeInteger(arg->kind));
		a = lappend(a, makeInteger(arg->exact));
		a = lappend(a, makeInteger(arg->secret));
		a = lappend(a, makeInteger(arg->fanout));
		a = lappend(a, makeInteger(arg->list));
		a = lappend(a, makeInteger(arg->expr_index));
		a = lappend(a, str_node(arg->const_text));
		a = lappend(a, str_node(arg->allowed));
		a = lappend(a, makeInteger(arg->echo_attnum));
		a = lappend(a, makeInteger(arg->coltype));
		a = lappend(a, makeInteger(arg->coltypmod));
		a = lappend(a, str_node(arg->colname));
		a = lappend(a, makeInteger(arg->cursor_inclusive));
		a = lappend(a, makeInteger(arg->recheck_index));
		list = lappend(list, a);
	}
	return list;
}

CivisRequestPlan *
civis_plan_deserialize(List *list)
{
	CivisRequestPlan *plan = palloc0(sizeof(CivisRequestPlan));
	int			i = 0;
	ListCell   *lc;

	plan->kind = intVal(list_nth(list, i++));
	plan->endpoint = node_str(list_nth(list, i++));
	plan->paging = intVal(list_nth(list, i++));
	plan->page_size = intVal(list_nth(list, i++));
	plan->order_by = node_str(list_nth(list, i++));
	plan->order_desc = intVal(list_nth(list, i++));
	plan->order_attnum = intVal(list_nth(list, i++));
	plan->limit_expr = intVal(list_nth(list, i++));
	plan->offset_expr = intVal(list_nth(list, i++));
	plan->hidden_key = node_str(list_nth(list, i++));
	plan->bound = intVal(list_nth(list, i++));
	plan->read_hint = intVal(list_nth(list, i++));
	plan->local_read = intVal(list_nth(list, i++));
	plan->stop_index = intVal(list_nth(list, i++));
	for_each_from(lc, list, i)
	{
		List	   *a = lfirst(lc);
		CivisArg   *arg = palloc0(sizeof(CivisArg));
		int			j = 0;

		arg->param = node_str(list_nth(a, j++));
		arg->in_path = intVal(list_nth(a, j++));
		arg->kind = intVal(list_nth(a, j++));
		arg->exact = intVal(list_nth(a, j++));
		arg->secret = intVal(list_nth(a, j++));
		arg->fanout = intVal(list_nth(a, j++));
		arg->list = intVal(list_nth(a, j++));
		arg->expr_index = intVal(list_nth(a, j++));
		arg->const_text = node_str(list_nth(a, j++));
		arg->allowed = node_str(list_nth(a, j++));
		arg->echo_attnum = intVal(list_nth(a, j++));
		arg->coltype = (Oid) intVal(list_nth(a, j++));
		arg->coltypmod = intVal(list_nth(a, j++));
		arg->colname = node_str(list_nth(a, j++));
		arg->cursor_inclusive = intVal(list_nth(a, j++));
		arg->recheck_index = intVal(list_nth(a, j++));
		plan->args = lappend(plan->args, arg);
	}
	return plan;
}
