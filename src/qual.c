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

#include "access/sysattr.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "nodes/nodeFuncs.h"
#include "nodes/makefuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "parser/parse_coerce.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"
#include "utils/pg_locale.h"
#include "utils/timestamp.h"

#include "qual.h"

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

static CivisCond *
make_cond(CivisColumn *col, CivisCondOp op, Expr *value, RestrictInfo *rinfo)
{
	CivisCond  *cond = palloc0(sizeof(CivisCond));

	cond->col = col;
	cond->op = op;
	cond->value = value;
	cond->rinfo = rinfo;
	while (IsA(cond->value, RelabelType))
		cond->value = ((RelabelType *) cond->value)->arg;
	cond->is_const = IsA(cond->value, Const);
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

static CivisCond *clause_to_cond(PlannerInfo *root, RelOptInfo *baserel,
								 CivisTableInfo *info, RestrictInfo *rinfo,
								 Node *clause);

/* The values an = or IN condition compares with; NIL for a NULL array. */
static List *
cond_values(CivisCond *c)
{
	Const	   *arr = (Const *) c->value;
	Datum	   *items;
	bool	   *nulls;
	int			n,
				i;
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Oid			et;
	List	   *values = NIL;

	if (c->op == CIVIS_OP_EQ)
		return list_make1(c->value);
	if (arr->constisnull)
		return NIL;
	et = get_element_type(arr->consttype);
	get_typlenbyvalalign(et, &typlen, &typbyval, &typalign);
	deconstruct_array(DatumGetArrayTypeP(arr->constvalue), et, typlen,
					  typbyval, typalign, &items, &nulls, &n);
	for (i = 0; i < n; i++)
		if (!nulls[i])
			values = lappend(values, makeConst(et, -1, arr->constcollid, typlen,
											   items[i], false, typbyval));
	return values;
}

/*
 * An integer constant as a constant of the integer column type coltype,
 * when its value fits (as the cross-type operator would compare it); any
 * other expression as it is.
 */
static Expr *
int_const_as(Expr *v, Oid coltype)
{
	Const	   *c = (Const *) v;
	int64		n;

	if (!IsA(v, Const) || c->constisnull || c->consttype == coltype)
		return v;
	switch (c->consttype)
	{
		case INT2OID:
			n = DatumGetInt16(c->constvalue);
			break;
		case INT4OID:
			n = DatumGetInt32(c->constvalue);
			break;
		case INT8OID:
			n = DatumGetInt64(c->constvalue);
			break;
		default:
			return v;
	}
	switch (coltype)
	{
		case INT8OID:
			return (Expr *) makeConst(INT8OID, -1, InvalidOid, sizeof(int64),
									  Int64GetDatum(n), false, FLOAT8PASSBYVAL);
		case INT4OID:
			if (n < PG_INT32_MIN || n > PG_INT32_MAX)
				return v;
			return (Expr *) makeConst(INT4OID, -1, InvalidOid, sizeof(int32),
									  Int32GetDatum((int32) n), false, true);
		default:
			return v;
	}
}

/*
 * A smaller integer expression as the integer column type, by the implicit
 * cast (lossless: int2 and int4 widen to int8, int2 to int4), so that the
 * values of one OR share a type; anything else as it is.
 */
static Expr *
widen_to(Expr *v, Oid coltype)
{
	Oid			t = exprType((Node *) v);
	Node	   *cast;

	if (t == coltype ||
		!((coltype == INT8OID && (t == INT4OID || t == INT2OID)) ||
		  (coltype == INT4OID && t == INT2OID)))
		return v;
	cast = coerce_to_target_type(NULL, (Node *) v, t, coltype, -1,
								 COERCION_IMPLICIT, COERCE_IMPLICIT_CAST, -1);
	return cast ? (Expr *) cast : v;
}

/* One array of the values: a Const when all are, else an ARRAY[...]. */
static Expr *
array_of(List *elems, Oid elemtype)
{
	int			n = list_length(elems);
	Datum	   *items;
	int16		typlen;
	bool		typbyval;
	char		typalign;
	ListCell   *lc;
	int			i = 0;

	foreach(lc, elems)
	{
		if (!IsA(lfirst(lc), Const))
		{
			ArrayExpr  *arr = makeNode(ArrayExpr);

			arr->array_typeid = get_array_type(elemtype);
			arr->element_typeid = elemtype;
			arr->elements = elems;
			arr->multidims = false;
			arr->location = -1;
			return (Expr *) arr;
		}
	}
	items = palloc(sizeof(Datum) * Max(n, 1));
	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	foreach(lc, elems)
		items[i++] = ((Const *) lfirst(lc))->constvalue;
	return (Expr *) makeConst(get_array_type(elemtype), -1, InvalidOid, -1,
							  PointerGetDatum(construct_array(items, n, elemtype,
															  typlen, typbyval,
															  typalign)),
							  false, false);
}

/*
 * An OR whose arms are all =, IN or a boolean test on one column becomes
 * one IN over all their values: "job_id = 7 OR job_id = 406" is
 * "job_id IN (7, 406)".  NULL and FALSE arms match nothing and are
 * dropped.  Any other OR is not a condition the API can take.
 */
static CivisCond *
or_to_in(PlannerInfo *root, RelOptInfo *baserel, CivisTableInfo *info,
		 RestrictInfo *rinfo, BoolExpr *or)
{
	CivisColumn *col = NULL;
	List	   *elems = NIL;
	Oid			elemtype = InvalidOid;
	ListCell   *lc;

	foreach(lc, or->args)
	{
		Node	   *arm = lfirst(lc);
		CivisCond  *c;
		ListCell   *lv;

		if (IsA(arm, Const))
		{
			if (((Const *) arm)->constisnull || !DatumGetBool(((Const *) arm)->constvalue))
				continue;
			return NULL;		/* an arm that is always true */
		}
		c = clause_to_cond(root, baserel, info, rinfo, arm);
		if (c == NULL || (col != NULL && c->col != col) ||
			(c->op != CIVIS_OP_EQ && c->op != CIVIS_OP_IN) ||
			(c->op == CIVIS_OP_IN && !c->is_const))
			return NULL;
		col = c->col;
		foreach(lv, cond_values(c))
		{
			Expr	   *v = lfirst(lv);

			if (IsA(v, Const) && ((Const *) v)->constisnull)
				continue;
			/* 71 OR 71::bigint on a bigint column: one type for the list */
			v = int_const_as(v, col->atttypid);
			v = widen_to(v, col->atttypid);
			if (OidIsValid(elemtype) && exprType((Node *) v) != elemtype)
				return NULL;
			elemtype = exprType((Node *) v);
			elems = lappend(elems, v);
		}
	}
	if (col == NULL)
		return NULL;
	/* every arm matching nothing is an empty IN, which matches nothing */
	if (!OidIsValid(elemtype))
		elemtype = col->atttypid;
	if (!OidIsValid(get_array_type(elemtype)))
		return NULL;
	return make_cond(col, CIVIS_OP_IN, array_of(elems, elemtype), rinfo);
}

/* Recognise one clause (or an arm of an OR), or return NULL. */
static CivisCond *
clause_to_cond(PlannerInfo *root, RelOptInfo *baserel, CivisTableInfo *info,
			   RestrictInfo *rinfo, Node *clause)
{
	if (is_orclause(clause))
		return or_to_in(root, baserel, info, rinfo, (BoolExpr *) clause);

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
		cond = clause_to_cond(root, baserel, info, rinfo, (Node *) rinfo->clause);
		if (cond)
			conds = lappend(conds, cond);
	}
	return conds;
}

/* Does the clause read column attnum of relation relid? */
bool
civis_clause_uses_column(Node *clause, Index relid, AttrNumber attnum)
{
	Bitmapset  *attrs = NULL;

	pull_varattnos(clause, relid, &attrs);
	return bms_is_member(attnum - FirstLowInvalidHeapAttributeNumber, attrs);
}
