/*-------------------------------------------------------------------------
 *
 * scan_store.c
 *		  Execution: the kept listing of an adaptive parameterized scan.
 *
 * A scan whose id changes from rescan to rescan (a join on the id, a
 * LATERAL or correlated subquery) fetches objects by id while all its
 * rescans together stay within the planner's budget; past it, the listing
 * is read once into a tuplestore (spilling to disk beyond work_mem) with
 * its ids sorted beside it, and each later rescan is answered from the
 * rows with its ids (scan.c decides which; the id condition stays in the
 * scan's Filter, so a candidate too many is never returned).  A join on
 * another integer column (author_id, sent as author=) reads filtered
 * listings instead of get-by-id, and its store is keyed by that column
 * (adaptive_key): one value, several rows, found as a run of equal keys.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <errno.h>

#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "scan_state.h"

/* A row of the kept listing: its id and position. */
typedef struct StoredId
{
	int64		id;
	int64		pos;
} StoredId;
static int
cmp_stored_id(const void *a, const void *b)
{
	int64		x = ((const StoredId *) a)->id;
	int64		y = ((const StoredId *) b)->id;

	return (x > y) - (x < y);
}

/* Append to a growing array of "size"-byte elements in cxt. */
static void *
append_elem(void *arr, int64 *n, int64 *cap, size_t size, MemoryContext cxt)
{
	if (*n == *cap)
	{
		*cap = Max(64, *cap * 2);
		arr = arr ? repalloc_huge(arr, size * *cap)
			: MemoryContextAllocHuge(cxt, size * *cap);
	}
	(*n)++;
	return arr;
}

/*
 * The key of a stored row when the scan joins on a column other than the
 * id: that column's value, an integer (plan.c, keyable_join_cond: int2,
 * int4 or int8, so that int64 equality is the column's equality).  A NULL
 * (or a column the scan does not decode) has no key: such rows are
 * candidates of every rescan, and the Filter decides.
 */
static int64
stored_key(CivisScanState *fsstate, TupleTableSlot *slot, bool *has_key)
{
	int			i = fsstate->adaptive_key - 1;
	Oid			typid = TupleDescAttr(slot->tts_tupleDescriptor, i)->atttypid;

	*has_key = !slot->tts_isnull[i];
	if (!*has_key)
		return 0;
	switch (typid)
	{
		case INT8OID:
			return DatumGetInt64(slot->tts_values[i]);
		case INT4OID:
			return DatumGetInt32(slot->tts_values[i]);
		case INT2OID:
			return DatumGetInt16(slot->tts_values[i]);
		default:
			*has_key = false;	/* the planner keys integers only */
			return 0;
	}
}

/*
 * An adaptive scan past its get-by-id budget: read the listing (streams
 * already expanded) once into the store, every row as decoded, before any
 * recheck (rechecks run per rescan, with that rescan's values).  The
 * store spills to disk beyond work_mem; the ids take 16 bytes a row.
 */
void
civis_fill_store(CivisScanState *fsstate)
{
	TupleDesc	tupdesc;
	TupleTableSlot *slot;
	int64		ids_cap = 0,
				noid_cap = 0;
	MemoryContext old = MemoryContextSwitchTo(fsstate->scan_cxt);

	tupdesc = CreateTupleDescCopy(RelationGetDescr(fsstate->rel));
	fsstate->store = tuplestore_begin_heap(true, false, work_mem);
	fsstate->store_slot = MakeSingleTupleTableSlot(tupdesc, &TTSOpsMinimalTuple);
	slot = MakeSingleTupleTableSlot(tupdesc, &TTSOpsVirtual);
	MemoryContextSwitchTo(old);

	for (;;)
	{
		int64		id;
		bool		has_id;
		int64		pos = fsstate->store_rows;

		CHECK_FOR_INTERRUPTS();
		MemoryContextReset(fsstate->row_cxt);
		ExecClearTuple(slot);
		if (!civis_next_page_row(fsstate, slot->tts_values, slot->tts_isnull, &id, &has_id))
			break;
		ExecStoreVirtualTuple(slot);
		if (fsstate->adaptive_key > 0)
			id = stored_key(fsstate, slot, &has_id);
		tuplestore_puttupleslot(fsstate->store, slot);
		fsstate->store_rows++;
		if (has_id)
		{
			fsstate->store_ids = append_elem(fsstate->store_ids, &fsstate->nstore_ids,
											 &ids_cap, sizeof(StoredId),
											 fsstate->scan_cxt);
			fsstate->store_ids[fsstate->nstore_ids - 1].id = id;
			fsstate->store_ids[fsstate->nstore_ids - 1].pos = pos;
		}
		else
		{
			fsstate->store_noid = append_elem(fsstate->store_noid, &fsstate->nstore_noid,
											  &noid_cap, sizeof(int64),
											  fsstate->scan_cxt);
			fsstate->store_noid[fsstate->nstore_noid - 1] = pos;
		}
	}
	MemoryContextReset(fsstate->row_cxt);
	ExecDropSingleTupleTableSlot(slot);
	if (fsstate->nstore_ids > 1)
		qsort(fsstate->store_ids, fsstate->nstore_ids, sizeof(StoredId), cmp_stored_id);
	fsstate->store_read = 0;
	tuplestore_rescan(fsstate->store);
}

/*
 * The store's rows this rescan may need: those with one of the probe ids,
 * and those without an id; every row when the ids are not known exactly.
 * The id condition stays in the Filter, so a candidate too many is never
 * returned wrongly; none is missing.
 */
static void
add_candidate(CivisScanState *fsstate, int64 *cap, int64 pos)
{
	fsstate->local_pos = append_elem(fsstate->local_pos, &fsstate->nlocal, cap,
									 sizeof(int64), fsstate->rescan_cxt);
	fsstate->local_pos[fsstate->nlocal - 1] = pos;
}

void
civis_local_candidates(CivisScanState *fsstate)
{
	int64		cap = 0;
	int64		i;
	ListCell   *lc;

	fsstate->local_pos = NULL;
	fsstate->nlocal = fsstate->next_local = 0;
	fsstate->local_rescans++;
	if (fsstate->probe_texts == NIL)
	{
		for (i = 0; i < fsstate->store_rows; i++)
			add_candidate(fsstate, &cap, i);
		return;
	}
	for (i = 0; i < fsstate->nstore_noid; i++)
		add_candidate(fsstate, &cap, fsstate->store_noid[i]);
	foreach(lc, fsstate->probe_texts)
	{
		char	   *end;
		int64		id;
		int64		lo = 0,
					hi = fsstate->nstore_ids;

		errno = 0;
		id = strtoll((char *) lfirst(lc), &end, 10);
		if (errno != 0 || *end != '\0')
			continue;			/* no stored id is written like that */
		while (lo < hi)
		{
			int64		mid = lo + (hi - lo) / 2;

			if (fsstate->store_ids[mid].id < id)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; lo < fsstate->nstore_ids && fsstate->store_ids[lo].id == id; lo++)
			add_candidate(fsstate, &cap, fsstate->store_ids[lo].pos);
	}
	if (fsstate->nlocal > 1)
		qsort(fsstate->local_pos, fsstate->nlocal, sizeof(int64), civis_cmp_int64);
}

/* The next candidate row of the store; false at the end. */
bool
civis_next_local_row(CivisScanState *fsstate, Datum *dvalues, bool *dnulls)
{
	TupleTableSlot *slot = fsstate->store_slot;
	int64		pos;

	if (fsstate->next_local >= fsstate->nlocal)
		return false;
	pos = fsstate->local_pos[fsstate->next_local++];
	if (pos < fsstate->store_read)
	{
		tuplestore_rescan(fsstate->store);
		fsstate->store_read = 0;
	}
	if (pos > fsstate->store_read &&
		!tuplestore_skiptuples(fsstate->store, pos - fsstate->store_read, true))
		elog(ERROR, "row %lld of the kept listing is missing",
			 (long long) pos);
	if (!tuplestore_gettupleslot(fsstate->store, true, false, slot))
		elog(ERROR, "row %lld of the kept listing is missing",
			 (long long) pos);
	fsstate->store_read = pos + 1;
	slot_getallattrs(slot);
	memcpy(dvalues, slot->tts_values, sizeof(Datum) * fsstate->natts);
	memcpy(dnulls, slot->tts_isnull, sizeof(bool) * fsstate->natts);
	return true;
}
