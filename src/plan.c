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

#include "nodes/makefuncs.h"
#include "nodes/pg_list.h"
#include "nodes/value.h"

#include "plan.h"

/* Does the comma list "allowed" contain "value" (case-sensitive)? */
static bool
value_allowed(const char *allowed, const char *value)
{
	const char *p = allowed;
	size_t		len = strlen(value);

	while (*p)
	{
		const char *end = strchr(p, ',');
		size_t		n = end ? (size_t) (end - p) : strlen(p);

		while (n > 0 && *p == ' ')
			p++, n--;
		if (n == len && strncmp(p, value, len) == 0)
			return true;
		if (!end)
			break;
		p = end + 1;
	}
	return false;
}

/* Are all const values acceptable to the parameter? */
static bool
const_values_ok(const CivisCond *cond, const char *allowed, bool csv)
{
	ListCell   *lc;

	if (cond->const_null || cond->const_values == NIL)
		return false;
	foreach(lc, cond->const_values)
	{
		const char *v = strVal(lfirst(lc));

		if (allowed && !value_allowed(allowed, v))
			return false;
		if (csv && strchr(v, ',') != NULL)
			return false;
	}
	return true;
}

/* Placeholders of a path template, in order: "/a/{id}/b/{run_id}". */
List *
civis_path_placeholders(const char *endpoint)
{
	List	   *result = NIL;
	const char *p = endpoint;

	while ((p = strchr(p, '{')) != NULL)
	{
		const char *end = strchr(p, '}');

		if (end == NULL)
			break;
		result = lappend(result, makeString(pnstrdup(p + 1, end - p - 1)));
		p = end + 1;
	}
	return result;
}

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

static CivisArg *
add_arg(PlanBuilder *b, CivisCond *cond, const char *param, bool in_path,
		bool semantic, bool exact)
{
	CivisArg   *arg = palloc0(sizeof(CivisArg));
	CivisRequestPlan *plan = b->result->plan;

	arg->param = pstrdup(param);
	arg->in_path = in_path;
	arg->semantic = semantic;
	arg->secret = cond ? cond->col->secret : false;
	arg->list = CIVIS_LIST_NONE;
	arg->expr_index = -1;
	if (cond)
	{
		arg->expr_index = list_length(b->result->fdw_exprs);
		b->result->fdw_exprs = lappend(b->result->fdw_exprs, cond->value);
		b->result->pushed_rinfos = lappend(b->result->pushed_rinfos, cond->rinfo);
		if (exact)
			b->result->exact_rinfos = lappend(b->result->exact_rinfos, cond->rinfo);
	}
	plan->args = lappend(plan->args, arg);
	b->used = lappend(b->used, makeString(arg->param));
	return arg;
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
	arg = add_arg(b, cond, col->param, in_path, true, true);
	arg->fanout = (cond->op == CIVIS_OP_IN);
	arg->list = in_path ? CIVIS_LIST_NONE : col->list;
	if (col->param_only)
		arg->echo_attnum = col->attnum;
}

/* A scope column (archived): sent as asked, else its scope default. */
static void
plan_scope(PlanBuilder *b, CivisCond *cond)
{
	CivisColumn *col = cond->col;
	CivisArg   *arg;

	if (cond->op != CIVIS_OP_EQ)
		return;
	if (cond->is_const && !const_values_ok(cond, col->values, false))
		return;
	arg = add_arg(b, cond, col->param, false, true,
				  col->exact && (cond->is_const || col->values == NULL));
	arg->allowed = col->values;
}

/* A filter on a real field: an optimisation. */
static void
plan_filter(PlanBuilder *b, CivisCond *cond)
{
	CivisColumn *col = cond->col;
	CivisArg   *arg;
	bool		exact;

	if (cond->op == CIVIS_OP_EQ)
	{
		if (cond->is_const && !const_values_ok(cond, col->values, false))
			return;
		exact = col->exact && (cond->is_const || col->values == NULL);
		arg = add_arg(b, cond, col->param, false, false, exact);
		arg->allowed = col->values;
	}
	else if (cond->op == CIVIS_OP_IN && col->list != CIVIS_LIST_NONE)
	{
		bool		csv = (col->list == CIVIS_LIST_CSV);

		if (cond->is_const && !const_values_ok(cond, col->values, csv))
			return;
		exact = col->exact && (cond->is_const || col->values == NULL);
		arg = add_arg(b, cond, col->param, false, false, exact);
		arg->list = col->list;
		arg->allowed = col->values;
	}
}

/* A range condition on a column with after/before parameters. */
static void
plan_range(PlanBuilder *b, CivisCond *cond)
{
	const char *param = NULL;

	if (cond->op == CIVIS_OP_GT || cond->op == CIVIS_OP_GE)
		param = cond->col->after;
	else if (cond->op == CIVIS_OP_LT || cond->op == CIVIS_OP_LE)
		param = cond->col->before;
	if (param == NULL || name_in(b->used, param))
		return;
	if (cond->is_const && cond->const_null)
		return;
	/* bounds may be inclusive or exclusive: always rechecked */
	add_arg(b, cond, param, false, false, false);
}

static bool
is_id_column(const CivisColumn *col)
{
	return col->key && strcmp(col->key, "id") == 0 && !col->param_only;
}

/*
 * Get-by-id: id = value or id IN (...) through the detail endpoint, when
 * import verified that the detail's fields include the list item's.
 * Parameter-only columns cannot be applied to a detail row, so their
 * presence keeps the listing.
 */
static CivisCond *
find_detail_cond(PlanBuilder *b, List *conds)
{
	CivisTableInfo *info = b->info;
	CivisCond  *found = NULL;
	ListCell   *lc;

	if (info->detail_endpoint == NULL)
		return NULL;
	foreach(lc, conds)
	{
		CivisCond  *cond = lfirst(lc);

		if (cond->col->param_only && !cond->col->is_path_param)
			return NULL;
		if (found == NULL && is_id_column(cond->col))
		{
			if (cond->op == CIVIS_OP_EQ)
				found = cond;
			else if (cond->op == CIVIS_OP_IN && cond->is_const &&
					 list_length(cond->const_values) <= info->fanout_limit)
				found = cond;
		}
	}
	return found;
}

static void
plan_detail(PlanBuilder *b, CivisCond *idcond, List *conds)
{
	CivisRequestPlan *plan = b->result->plan;
	List	   *holders = civis_path_placeholders(b->info->detail_endpoint);
	const char *idparam = strVal(llast(holders));
	CivisArg   *arg;
	ListCell   *lc;

	plan->kind = CIVIS_PLAN_DETAIL;
	plan->endpoint = b->info->detail_endpoint;
	plan->paging = CIVIS_PAGING_NONE;
	plan->page_size = 0;

	arg = add_arg(b, idcond, idparam, true, false, true);
	arg->fanout = (idcond->op == CIVIS_OP_IN);

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
	plan->cursor_expr = -1;

	if (optimise && (idcond = find_detail_cond(&b, conds)) != NULL)
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
				 is_id_column(col) && plan->cursor_expr < 0 &&
				 (cond->op == CIVIS_OP_GT || cond->op == CIVIS_OP_GE) &&
				 !(cond->is_const && cond->const_null))
		{
			plan->cursor_expr = list_length(b.result->fdw_exprs);
			plan->cursor_inclusive = (cond->op == CIVIS_OP_GE);
			b.result->fdw_exprs = lappend(b.result->fdw_exprs, cond->value);
			b.result->pushed_rinfos = lappend(b.result->pushed_rinfos, cond->rinfo);
			b.result->exact_rinfos = lappend(b.result->exact_rinfos, cond->rinfo);
		}
	}

	/* scope defaults for unconstrained scope columns */
	for (i = 0; i < info->ncolumns; i++)
	{
		CivisColumn *col = &info->columns[i];

		if (!col->dropped && col->param && col->scope_default &&
			!name_in(b.used, col->param))
		{
			CivisArg   *arg = add_arg(&b, NULL, col->param, false, true, false);

			arg->const_text = pstrdup(col->scope_default);
		}
	}

	note_missing_path_params(&b);
	return b.result;
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
	list = lappend(list, makeInteger(plan->cursor_expr));
	list = lappend(list, makeInteger(plan->cursor_inclusive));
	foreach(lc, plan->args)
	{
		CivisArg   *arg = lfirst(lc);
		List	   *a = NIL;

		a = lappend(a, str_node(arg->param));
		a = lappend(a, makeInteger(arg->in_path));
		a = lappend(a, makeInteger(arg->semantic));
		a = lappend(a, makeInteger(arg->secret));
		a = lappend(a, makeInteger(arg->fanout));
		a = lappend(a, makeInteger(arg->list));
		a = lappend(a, makeInteger(arg->expr_index));
		a = lappend(a, str_node(arg->const_text));
		a = lappend(a, str_node(arg->allowed));
		a = lappend(a, makeInteger(arg->echo_attnum));
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
	plan->cursor_expr = intVal(list_nth(list, i++));
	plan->cursor_inclusive = intVal(list_nth(list, i++));
	for_each_from(lc, list, i)
	{
		List	   *a = lfirst(lc);
		CivisArg   *arg = palloc0(sizeof(CivisArg));
		int			j = 0;

		arg->param = node_str(list_nth(a, j++));
		arg->in_path = intVal(list_nth(a, j++));
		arg->semantic = intVal(list_nth(a, j++));
		arg->secret = intVal(list_nth(a, j++));
		arg->fanout = intVal(list_nth(a, j++));
		arg->list = intVal(list_nth(a, j++));
		arg->expr_index = intVal(list_nth(a, j++));
		arg->const_text = node_str(list_nth(a, j++));
		arg->allowed = node_str(list_nth(a, j++));
		arg->echo_attnum = intVal(list_nth(a, j++));
		plan->args = lappend(plan->args, arg);
	}
	return plan;
}
