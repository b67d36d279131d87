/*-------------------------------------------------------------------------
 *
 * monitor.h
 *		  What every running foreign scan is doing, from any session
 *		  (monitor.c, civis_fdw_scans()).
 *
 *-------------------------------------------------------------------------
 */
#ifndef CIVIS_MONITOR_H
#define CIVIS_MONITOR_H

#include "postgres.h"

#include "budget.h"

extern CivisScanSlot *civis_monitor_begin(MemoryContext cxt, Oid relid,
										  Oid serverid, Oid userid,
										  const uint8 *hash);
extern void civis_monitor_end(CivisScanSlot *slot);
extern void civis_monitor_page(CivisScanSlot *slot, int64 pages_expected,
							   int64 rows_returned);

#endif							/* CIVIS_MONITOR_H */
