/*-------------------------------------------------------------------------
 *
 * analyze.h
 *		  ANALYZE of a civis_fdw table (analyze.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef CIVIS_ANALYZE_H
#define CIVIS_ANALYZE_H

#include "foreign/fdwapi.h"

extern bool civisAnalyzeForeignTable(Relation relation,
									 AcquireSampleRowsFunc *func,
									 BlockNumber *totalpages);

#endif							/* CIVIS_ANALYZE_H */
