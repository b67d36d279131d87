/*-------------------------------------------------------------------------
 *
 * scan.h
 *		  Execution callbacks of civis_fdw (scan.c) and what EXPLAIN
 *		  needs to show of a running or planned scan (explain.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef CIVIS_SCAN_H
#define CIVIS_SCAN_H

#include "compat.h"
#include "foreign/fdwapi.h"
#include "request.h"

extern void civis_scan_routines(FdwRoutine *routine);

extern void civis_scan_stats(ForeignScanState *node, const CivisHttpStats **http,
							 int64 *pages, int64 *rows, int64 *duplicates,
							 int64 *removed, double *slowest_ms);
extern void civis_scan_economy(ForeignScanState *node, bool *sorted_locally,
							   bool *stopped);
extern void civis_scan_plan(ForeignScanState *node, CivisRequestPlan **plan,
							CivisTableInfo **info);
extern bool civis_scan_count(ForeignScanState *node, const char **source);
extern CivisRequestPlan *civis_scan_detail_alternative(ForeignScanState *node,
													   int *max, int *ids,
													   bool *chosen);
extern bool civis_scan_adaptive(ForeignScanState *node, int64 *spent,
								int64 *kept, int64 *answered, bool *filtered);
extern bool civis_count_uses_headers(const CivisRequestPlan *plan, List *rechecks);
extern List *civis_count_parts(void);
extern const char *civis_count_rows_reason(const CivisRequestPlan *plan,
										   List *rechecks);

/*
 * A scan outside the executor (ANALYZE): the same paging, transport and
 * decoding as a ForeignScan.  Allocated under CurrentMemoryContext; call
 * civis_scan_close (or delete the context) to release everything.
 */
typedef struct CivisScanState CivisScanState;
extern CivisScanState *civis_scan_open(Relation rel, CivisRequestPlan *plan,
									   List *retrieved_attrs, Oid userid,
									   int64 max_pages);
extern bool civis_scan_capped(CivisScanState *st);
extern int64 civis_scan_total_entries(CivisScanState *st);
extern bool civis_scan_next(CivisScanState *st, Datum *values, bool *isnull);
extern int64 civis_scan_pages_read(CivisScanState *st);
extern void civis_scan_close(CivisScanState *st);

#endif							/* CIVIS_SCAN_H */
