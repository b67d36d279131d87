/*-------------------------------------------------------------------------
 *
 * scan_count.c
 *		  Execution: count(*) scans.
 *
 * A count(*) the planner pushed (planner.c) is one limit=1 request per
 * stream, reading X-Pagination-Total-Entries; when a response has no such
 * header, a value is not applied exactly by the API, or get-by-id fetches
 * each object, the rows are counted instead.  EXPLAIN says which.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/executor.h"
#include "miscadmin.h"
#include "utils/memutils.h"

#include "scan.h"
#include "scan_state.h"
/* Can this execution read its count from X-Pagination-Total-Entries? */
bool
civis_count_uses_headers(const CivisRequestPlan *plan, List *rechecks)
{
	return plan->kind == CIVIS_PLAN_LIST && rechecks == NIL &&
		(plan->paging == CIVIS_PAGING_PAGES || plan->paging == CIVIS_PAGING_AUTO);
}

/* The paging parameters of a count request: the first page of one row. */
List *
civis_count_parts(void)
{
	return list_make2(civis_query_part("limit", "1"),
					  civis_query_part("page_num", "1"));
}

/* Why a count(*) scan counts rows, as EXPLAIN says it. */
const char *
civis_count_rows_reason(const CivisRequestPlan *plan, List *rechecks)
{
	if (plan->kind == CIVIS_PLAN_DETAIL)
		return "counted rows (get by id fetches each object)";
	if (rechecks != NIL)
		return "counted rows (a value is not applied exactly by the API: rows are checked here)";
	return "counted rows (the endpoint has no paging headers)";
}

/*
 * The sum of X-Pagination-Total-Entries over the streams, one limit=1
 * request each, up to max_in_flight at once; false when a response has no
 * such header (the caller counts rows instead).  A stream whose parent
 * resource does not exist counts 0, as its scan returns no rows.
 */
static bool
count_from_headers(CivisScanState *fsstate, int64 *count)
{
	int			n = list_length(fsstate->streams);
	int		   *tickets = MemoryContextAlloc(fsstate->rescan_cxt,
											 sizeof(int) * Max(n, 1));
	int			submitted = 0;
	int			s;
	int64		total = 0;

	for (s = 0; s < n; s++)
	{
		CivisResponse resp;
		CivisStream *stream;
		char	   *shown;
		MemoryContext old;

		while (submitted < n &&
			   submitted - s < Max(1, fsstate->info->max_in_flight))
		{
			stream = list_nth(fsstate->streams, submitted);
			MemoryContextReset(fsstate->url_cxt);
			old = MemoryContextSwitchTo(fsstate->url_cxt);
			tickets[submitted] =
				civis_http_submit(fsstate->http,
								  civis_build_url(fsstate->info->api_url, stream,
												  civis_count_parts(), false),
								  civis_build_url(NULL, stream,
												  civis_count_parts(), true));
			MemoryContextSwitchTo(old);
			MemoryContextReset(fsstate->url_cxt);
			submitted++;
		}
		CHECK_FOR_INTERRUPTS();
		stream = list_nth(fsstate->streams, s);
		MemoryContextReset(fsstate->page_cxt);
		old = MemoryContextSwitchTo(fsstate->page_cxt);
		shown = civis_build_url(NULL, stream, civis_count_parts(), true);
		civis_http_wait(fsstate->http, tickets[s], &resp);
		fsstate->slowest_ms = Max(fsstate->slowest_ms, resp.elapsed_ms);
		MemoryContextSwitchTo(old);
		fsstate->pages++;
		if (resp.status != 200)
		{
			if (!civis_status_means_empty(fsstate, resp.status))
				civis_raise_http_error(&resp, shown, fsstate->info->relname);
			continue;
		}
		if (resp.total_entries < 0)
		{
			civis_http_discard_all(fsstate->http);
			MemoryContextReset(fsstate->page_cxt);
			return false;
		}
		total += resp.total_entries;
	}
	MemoryContextReset(fsstate->page_cxt);
	*count = total;
	return true;
}

/*
 * The one row of a count(*) scan: every count(*) of the scan tuple (after
 * the columns the rechecks read) holds the count.
 */
TupleTableSlot *
civis_count_iterate(ForeignScanState *node)
{
	CivisScanState *fsstate = node->fdw_state;
	TupleTableSlot *slot = node->ss.ss_ScanTupleSlot;
	ExprContext *econtext = node->ss.ps.ps_ExprContext;
	int			natts = slot->tts_tupleDescriptor->natts;
	int			nretrieved = list_length(fsstate->retrieved_attrs);
	int64		count = 0;
	int			i;

	ExecClearTuple(slot);
	if (fsstate->count_done)
		return slot;
	if (!fsstate->started)
		civis_start_streams(fsstate, econtext);

	if (civis_count_uses_headers(fsstate->plan, fsstate->active_rechecks) &&
		count_from_headers(fsstate, &count))
		fsstate->count_source = "from X-Pagination-Total-Entries";
	else
	{
		fsstate->count_source =
			civis_count_uses_headers(fsstate->plan, fsstate->active_rechecks)
			? "counted rows (a response had no X-Pagination-Total-Entries)"
			: civis_count_rows_reason(fsstate->plan, fsstate->active_rechecks);
		for (;;)
		{
			CHECK_FOR_INTERRUPTS();
			if (!civis_next_kept_row(fsstate, econtext, slot))
				break;
			ResetExprContext(econtext);
			count++;
		}
	}

	ExecClearTuple(slot);
	for (i = 0; i < natts; i++)
	{
		slot->tts_values[i] = i < nretrieved ? (Datum) 0 : Int64GetDatum(count);
		slot->tts_isnull[i] = i < nretrieved;
	}
	ExecStoreVirtualTuple(slot);
	fsstate->count_done = true;
	return slot;
}
