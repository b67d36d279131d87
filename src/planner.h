/*-------------------------------------------------------------------------
 *
 * planner.h
 *		  Planning callbacks of civis_fdw (planner.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef CIVIS_PLANNER_H
#define CIVIS_PLANNER_H

#include "foreign/fdwapi.h"
#include "civis_fdw.h"

/*
 * Indexes of the ForeignScan's fdw_private list.  The request plan itself
 * is a serialized CivisRequestPlan (plan.c); the values its arguments need
 * are the plan's fdw_exprs, in expr_index order.
 */
enum CivisFdwScanPrivateIndex
{
	CivisPrivatePlan,			/* serialized CivisRequestPlan */
	CivisPrivateRetrievedAttrs, /* integer list of attnums to decode */
	CivisPrivateLocalConds,		/* number of conditions left local */
	/* the following are present only in some scans (length-checked) */
	CivisPrivateCount,			/* 1: a count(*) scan returning one row */
	CivisPrivateDetailAlt,		/* serialized get-by-id plan chosen at scan
								 * start instead of the listing, or NIL */
	CivisPrivateDetailMax,		/* ... when it has at most this many ids */
	CivisPrivateAdaptive,		/* 1: a parameterized scan that counts its
								 * get-by-id requests across rescans and, past
								 * DetailMax, reads the listing once and
								 * answers the rescans from it */
	CivisPrivateAdaptiveKey		/* the adaptive scan's join column when not
								 * the id: DetailAlt is then the listing
								 * filtered by its value, DetailMax counts
								 * requests, and the kept listing is looked up
								 * by this column */
};

extern void civis_planner_routines(FdwRoutine *routine);

#endif							/* CIVIS_PLANNER_H */
