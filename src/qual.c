/*-------------------------------------------------------------------------
 *
 * qual.c
 *		  Planner expressions -> neutral conditions (CivisCond).
 *
 * This file knows PostgreSQL's expression trees and nothing about the API:
 * it recognises the shapes a query parameter can express and hands them to
 * plan.c, which decides what to send.  The shapes:
 *
 *   col = value, col < value, ... (either side)   -> EQ, LT, LE, GT, GE
 *   col IN (...), col = ANY (array)                -> IN
 *   boolcol, NOT boolcol, boolcol IS [TRUE|FALSE]  -> EQ true / false
 *
 * where value is a Const, a Param (PARAM_EXTERN or PARAM_EXEC), an outer
 * relation's Var (a join clause; becomes a PARAM_EXEC in the plan), or a
 * stable expression over those, evaluated once when the scan starts.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "nodes/nodeFuncs.h"
#include "nodes/makefuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"
#include "utils/pg_locale.h"
#include "utils/timestamp.h"

#include "plan.h"

/* The column a Var of this relation reads, or NULL. */
static CivisColumn *
var_column(Node *node, RelOptInfo *baserel, CivisTableInfo *info)
{
	Var		   *var;

	while (node && IsA(node, RelabelType))
		node = (Node *) ((RelabelType *) node)->arg;
	if (node == NULL || !IsA(node, Var))
		return NULL;
	var = (Var *) node;
	if (var->varno != baserel->relid || var->varlevelsup != 0 ||
		var->varattno <= 0 || var->varattno > info->ncolumns)
		return NULL;
	if (info->columns[var->varattno - 1].dropped)
		return NULL;
	return &info->columns[var->varattno - 1];
}

/*
 * Can this expression be evaluated once, before the scan, to give the value
 * of a parameter?  No column of this table, nothing volatile, no SubPlan.
 */
static bool
is_scan_constant(PlannerInfo *root, Node *expr, RelOptInfo *baserel)
{
	Relids		varnos;

	varnos = civis_pull_varnos(root, expr);
	if (bms_is_member(baserel->relid, varnos))
		return false;
	if (contain_volatile_functions(expr) || contain_subplans(expr))
		return false;
	if (contain_agg_clause(expr) || contain_window_function(expr))
		return false;
	return true;
}

/* Built-in comparison operators only: user operators may mean anything. */
static bool
operator_kind(Oid opno, CivisCondOp *op)
{
	char	   *name;

	if (opno >= FirstNormalObjectId)
		return false;
	name = get_opname(opno);
	if (name == NULL)
		return false;
	if (strcmp(name, "=") == 0)
		*op = CIVIS_OP_EQ;
	else if (strcmp(name, "<") == 0)
		*op = CIVIS_OP_LT;
	else if (strcmp(name, "<=") == 0)
		*op = CIVIS_OP_LE;
	else if (strcmp(name, ">") == 0)
		*op = CIVIS_OP_GT;
	else if (strcmp(name, ">=") == 0)
		*op = CIVIS_OP_GE;
	else
		return false;
	return true;
}

static CivisCondOp
commute(CivisCondOp op)
{
	switch (op)
	{
		case CIVIS_OP_LT:
			return CIVIS_OP_GT;
		case CIVIS_OP_LE:
			return CIVIS_OP_GE;
		case CIVIS_OP_GT:
			return CIVIS_OP_LT;
		case CIVIS_OP_GE:
			return CIVIS_OP_LE;
		default:
			return op;
	}
}

/* A nondeterministic collation compares differently from the API. */
static bool
collation_ok(Oid collid)
{
	return !OidIsValid(collid) || get_collation_isdeterministic(collid);
}

/* Format y-m-d h:m:s.fff the way the API writes timestamps. */
static char *
format_api_timestamp(Timestamp ts, bool is_tz)
{
	struct pg_tm tm;
	fsec_t		fsec;

	if (TIMESTAMP_NOT_FINITE(ts))
		return NULL;
	/* A NULL time zone gives UTC fields for timestamptz. */
	if (timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0)
		return NULL;
	return psprintf("%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
					tm.tm_year, tm.tm_mon, tm.tm_mday,
					tm.tm_hour, tm.tm_min, tm.tm_sec, (int) (fsec / 1000));
}

/*
 * A value as the API expects it in a parameter: booleans as true/false,
 * timestamps in UTC ISO 8601, dates as YYYY-MM-DD, everything else by its
 * output function.  NULL when the value has no API form (infinity).
 */
char *
civis_datum_to_api_text(Datum value, Oid typid)
{
	switch (typid)
	{
		case BOOLOID:
			return pstrdup(DatumGetBool(value) ? "true" : "false");
		case TIMESTAMPTZOID:
			return format_api_timestamp(DatumGetTimestampTz(value), true);
		case TIMESTAMPOID:
			return format_api_timestamp(DatumGetTimestamp(value), false);
		case DATEOID:
			{
				DateADT		d = DatumGetDateADT(value);
				int			y,
							m,
							day;

				if (DATE_NOT_FINITE(d))
					return NULL;
				j2date(d + POSTGRES_EPOCH_JDATE, &y, &m, &day);
				return psprintf("%04d-%02d-%02d", y, m, day);
			}
		default:
			{
				Oid			outfunc;
				bool		isvarlena;

				getTypeOutputInfo(typid, &outfunc, &isvarlena);
				return OidOutputFunctionCall(outfunc, value);
			}
	}
}

/* Fill const_values of a condition whose value is a Const. */
static void
fill_const_values(CivisCond *cond)
{
	Const	   *c;

	while (IsA(cond->value, RelabelType))
		cond->value = ((RelabelType *) cond->value)->arg;
	if (!IsA(cond->value, Const))
		return;
	c = (Const *) cond->value;
	cond->is_const = true;
	if (c->constisnull)
	{
		cond->const_null = true;
		return;
	}
	{
		CivisArgValues texts = {0};

		/* the same texts the executor would send for this value */
		civis_value_texts(&texts, c->constvalue, c->consttype);
		cond->const_null = texts.isnull;
		cond->const_values = texts.texts;
	}
}

static CivisCond *
make_cond(CivisColumn *col, CivisCondOp op, Expr *value, RestrictInfo *rinfo)
{
	CivisCond  *cond = palloc0(sizeof(CivisCond));

	cond->col = col;
	cond->op = op;
	cond->value = value;
	cond->rinfo = rinfo;
	fill_const_values(cond);
	return cond;
}

static CivisCond *
bool_cond(CivisColumn *col, bool value, RestrictInfo *rinfo)
{
	if (col == NULL || col->atttypid != BOOLOID)
		return NULL;
	return make_cond(col, CIVIS_OP_EQ,
					 (Expr *) makeBoolConst(value, false), rinfo);
}

/* Recognise one clause, or return NULL. */
static CivisCond *
clause_to_cond(PlannerInfo *root, RelOptInfo *baserel, CivisTableInfo *info,
			   RestrictInfo *rinfo)
{
	Node	   *clause = (Node *) rinfo->clause;

	if (IsA(clause, Var))
		return bool_cond(var_column(clause, baserel, info), true, rinfo);

	if (is_notclause(clause))
		return bool_cond(var_column((Node *) get_notclausearg((Expr *) clause),
									baserel, info), false, rinfo);

	if (IsA(clause, BooleanTest))
	{
		BooleanTest *bt = (BooleanTest *) clause;
		CivisColumn *col = var_column((Node *) bt->arg, baserel, info);

		if (bt->booltesttype == IS_TRUE)
			return bool_cond(col, true, rinfo);
		if (bt->booltesttype == IS_FALSE)
			return bool_cond(col, false, rinfo);
		return NULL;
	}

	if (IsA(clause, OpExpr))
	{
		OpExpr	   *op = (OpExpr *) clause;
		CivisCondOp kind;
		CivisColumn *col;
		Node	   *left,
				   *right;

		if (list_length(op->args) != 2 || !operator_kind(op->opno, &kind) ||
			!collation_ok(op->inputcollid))
			return NULL;
		left = linitial(op->args);
		right = lsecond(op->args);
		if ((col = var_column(left, baserel, info)) != NULL &&
			is_scan_constant(root, right, baserel))
			return make_cond(col, kind, (Expr *) right, rinfo);
		if ((col = var_column(right, baserel, info)) != NULL &&
			is_scan_constant(root, left, baserel))
			return make_cond(col, commute(kind), (Expr *) left, rinfo);
		return NULL;
	}

	if (IsA(clause, ScalarArrayOpExpr))
	{
		ScalarArrayOpExpr *saop = (ScalarArrayOpExpr *) clause;
		CivisCondOp kind;
		CivisColumn *col;

		if (!saop->useOr || list_length(saop->args) != 2 ||
			!operator_kind(saop->opno, &kind) || kind != CIVIS_OP_EQ ||
			!collation_ok(saop->inputcollid))
			return NULL;
		col = var_column(linitial(saop->args), baserel, info);
		if (col && is_scan_constant(root, lsecond(saop->args), baserel))
			return make_cond(col, CIVIS_OP_IN, (Expr *) lsecond(saop->args), rinfo);
		return NULL;
	}

	return NULL;
}

/*
 * The conditions among "clauses" (RestrictInfos) that have a shape a
 * request parameter could express.  Whether one is sent is plan.c's call.
 */
List *
civis_extract_conds(PlannerInfo *root, RelOptInfo *baserel,
					CivisTableInfo *info, List *clauses)
{
	List	   *conds = NIL;
	ListCell   *lc;

	foreach(lc, clauses)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);
		CivisCond  *cond;

		if (rinfo->pseudoconstant)
			continue;
		cond = clause_to_cond(root, baserel, info, rinfo);
		if (cond)
			conds = lappend(conds, cond);
	}
	return conds;
}
