/*-------------------------------------------------------------------------
 *
 * scan_sort.c
 *		  Execution: the local sort of a pushed ORDER BY on a key with ties.
 *
 * The API guarantees no order among rows with equal sort keys, so ties can
 * move between page requests.  A sorted stream is trusted for one page, or
 * page after page while no run of equal keys straddles a boundary; when
 * one does (or more rows are needed than one page holds), the scan reads
 * the listing again by id into a tuplesort, skipping the rows it already
 * returned (their ids are remembered here), and emits from there.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/tupdesc.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/typcache.h"

#include "scan_state.h"
/* Remember the id of a row decoded from a sorted stream with ties. */
void
civis_remember_decoded(CivisScanState *fsstate, int64 id, bool has_id)
{
	if (!has_id)
	{
		fsstate->ids_incomplete = true;
		return;
	}
	if (fsstate->ndecoded == fsstate->decoded_cap)
	{
		fsstate->decoded_cap = Max(64, fsstate->decoded_cap * 2);
		if (fsstate->decoded_ids == NULL)
			fsstate->decoded_ids = MemoryContextAlloc(fsstate->rescan_cxt,
													  sizeof(int64) * fsstate->decoded_cap);
		else
			fsstate->decoded_ids = repalloc(fsstate->decoded_ids,
											sizeof(int64) * fsstate->decoded_cap);
	}
	fsstate->decoded_ids[fsstate->ndecoded++] = id;
}

/*
 * Does the first row of a new sorted page tie with the last row of the
 * previous one?  The sequence of sort keys is the same whatever order the
 * API gives ties, so a boundary between two different keys splits the
 * rows the same way in every request; a boundary inside a run of ties
 * does not, and rows could be lost there.
 */
bool
civis_straddles(CivisScanState *fsstate, Datum *dvalues, bool *dnulls)
{
	AttrNumber	k = fsstate->plan->order_attnum - 1;

	if (!fsstate->have_prev)
		return false;
	if (fsstate->prev_null || dnulls[k])
		return fsstate->prev_null && dnulls[k];
	return DatumGetInt32(FunctionCall2Coll(&fsstate->order_cmp,
										   fsstate->order_collation,
										   fsstate->prev_value, dvalues[k])) == 0;
}

/*
 * The rows a sorted stream with ties still owes, when they do not fit in
 * what sorted requests answer safely: the listing again in its stable
 * order (by id), every row not decoded yet into a tuplesort, and the rows
 * emitted from there.  No Sort above the scan restores the order (the
 * plan relies on this scan's), so it is restored here; memory is bounded
 * by work_mem, the tuplesort spills beyond it.
 */
void
civis_start_local_sort(CivisScanState *fsstate)
{
	TupleDesc	tupdesc;
	Form_pg_attribute att;
	TypeCacheEntry *tce;
	AttrNumber	attnum = fsstate->plan->order_attnum;
	Oid			sortop;
	Oid			collation;
	bool		nulls_first = fsstate->plan->order_desc;
	CivisRequestPlan *read;
	MemoryContext old;

	if (fsstate->ids_incomplete)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("cannot sort the rows of foreign table \"%s\" locally: some rows have no id",
						fsstate->info->relname),
				 errdetail("The API sorted by %s for one page only; the rest must be read again without rows already returned.",
						   fsstate->plan->order_by),
				 errhint("Set civis_fdw.enable_pushdown = off (or the table option pushdown 'false') to sort locally.")));

	civis_http_discard_all(fsstate->http);
	old = MemoryContextSwitchTo(fsstate->rescan_cxt);
	tupdesc = CreateTupleDescCopy(RelationGetDescr(fsstate->rel));
	att = TupleDescAttr(tupdesc, attnum - 1);
	tce = lookup_type_cache(att->atttypid, TYPECACHE_LT_OPR | TYPECACHE_GT_OPR);
	sortop = fsstate->plan->order_desc ? tce->gt_opr : tce->lt_opr;
	collation = att->attcollation;
	if (!OidIsValid(sortop))
		elog(ERROR, "no sort operator for type %u", att->atttypid);

	read = palloc(sizeof(CivisRequestPlan));
	*read = *fsstate->plan;
	read->order_by = NULL;
	read->order_desc = false;
	read->limit_expr = read->offset_expr = -1;
	read->bound = -1;			/* every row is read */
	read->read_hint = 0;
	read->local_read = 0;
	fsstate->req_plan = read;
	civis_paging_init(&fsstate->paging[0], read, NULL);
	fsstate->cur = 0;
	fsstate->page = NULL;
	fsstate->nitems = fsstate->item = 0;
	fsstate->prev_ids = fsstate->cur_ids = NULL;
	fsstate->nprev = fsstate->ncur = 0;
	fsstate->sorted_ties = false;
	fsstate->tie_repeated = false;
	fsstate->sorting = true;
	fsstate->sorted_locally = true;
	if (fsstate->ndecoded > 0)
		qsort(fsstate->decoded_ids, fsstate->ndecoded, sizeof(int64), civis_cmp_int64);

	fsstate->sort_in = MakeSingleTupleTableSlot(tupdesc, &TTSOpsVirtual);
	fsstate->sort_out = MakeSingleTupleTableSlot(tupdesc, &TTSOpsMinimalTuple);
	fsstate->sort = tuplesort_begin_heap(tupdesc, 1, &attnum, &sortop, &collation,
										 &nulls_first, work_mem, NULL,
										 CIVIS_TUPLESORT_NONE);
	MemoryContextSwitchTo(old);

	for (;;)
	{
		TupleTableSlot *slot = fsstate->sort_in;
		int64		id;
		bool		has_id;

		CHECK_FOR_INTERRUPTS();
		MemoryContextReset(fsstate->row_cxt);
		ExecClearTuple(slot);
		if (!civis_next_page_row(fsstate, slot->tts_values, slot->tts_isnull, &id, &has_id))
			break;
		if (has_id && civis_id_in(fsstate->decoded_ids, (int) fsstate->ndecoded, id))
			continue;
		ExecStoreVirtualTuple(slot);
		tuplesort_puttupleslot(fsstate->sort, slot);
	}
	MemoryContextReset(fsstate->row_cxt);
	tuplesort_performsort(fsstate->sort);
}

void
civis_end_local_sort(CivisScanState *fsstate)
{
	if (fsstate->sort)
		tuplesort_end(fsstate->sort);
	fsstate->sort = NULL;
	fsstate->sorting = false;
}

/* The next row of the local sort; false at the end. */
bool
civis_next_sorted_row(CivisScanState *fsstate, Datum *dvalues, bool *dnulls)
{
	TupleTableSlot *slot = fsstate->sort_out;

	if (!tuplesort_gettupleslot(fsstate->sort, true, false, slot, NULL))
		return false;
	slot_getallattrs(slot);
	memcpy(dvalues, slot->tts_values, sizeof(Datum) * fsstate->natts);
	memcpy(dnulls, slot->tts_isnull, sizeof(bool) * fsstate->natts);
	return true;
}
