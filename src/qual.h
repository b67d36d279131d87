/*-------------------------------------------------------------------------
 *
 * qual.h
 *		  Planner expressions -> neutral conditions (qual.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef CIVIS_QUAL_H
#define CIVIS_QUAL_H

#include "civis_fdw.h"
#include "nodes/pathnodes.h"

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
	bool		is_const;		/* value is a Const (known when planning) */
} CivisCond;

extern List *civis_extract_conds(PlannerInfo *root, RelOptInfo *baserel,
								 CivisTableInfo *info, List *clauses);
extern bool civis_clause_uses_column(Node *clause, Index relid,
									 AttrNumber attnum);

#endif							/* CIVIS_QUAL_H */
