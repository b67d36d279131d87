/*-------------------------------------------------------------------------
 *
 * explain.h
 *		  EXPLAIN output of a civis_fdw scan (explain.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef CIVIS_EXPLAIN_H
#define CIVIS_EXPLAIN_H

#include "commands/explain.h"
#include "nodes/execnodes.h"

extern void civisExplainForeignScan(ForeignScanState *node, ExplainState *es);

#endif							/* CIVIS_EXPLAIN_H */
