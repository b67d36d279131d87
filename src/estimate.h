/*-------------------------------------------------------------------------
 *
 * estimate.h
 *		  Row estimates from the API (estimate.c): the planner's one narrow
 *		  way to fetch a page (use_remote_estimate).
 *
 *-------------------------------------------------------------------------
 */
#ifndef CIVIS_ESTIMATE_H
#define CIVIS_ESTIMATE_H

#include "plan.h"

extern bool civis_remote_estimate(CivisTableInfo *info,
								  const CivisRequestPlan *plan,
								  List *fdw_exprs, Oid userid, double *rows);

#endif							/* CIVIS_ESTIMATE_H */
