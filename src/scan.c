/*-------------------------------------------------------------------------
 *
 * scan.c
 *		  Execution: a request plan -> pages -> tuples.
 *
 * A scan evaluates the plan's expressions once per (re)scan, expands the
 * plan into request streams (request.c), and reads each stream page by
 * page with the paging kind of its endpoint.  Pages of a listing whose
 * total is known, and the first pages of the following streams, are
 * fetched ahead, up to max_in_flight requests at once; rows are still
 * returned in page order, because the transport hands back each request
 * by its ticket.
 *
 * Memory: scan_cxt (under es_query_cxt) holds the scan's state; page_cxt
 * holds one response body and its JSON tree and is reset per page;
 * row_cxt holds one row's Datums and is reset per row.  Nothing grows with
 * the number of rows.  The transport releases its curl handles through a
 * reset callback on scan_cxt, so an ERROR anywhere leaks nothing.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "foreign/fdwapi.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "civis_fdw.h"
#include "plan.h"
#include "planner.h"
#include "scan.h"

/* Paging state of one stream. */
typedef struct StreamState
{
	int			first_ticket;	/* prefetched first page, or -1 */
	int64		next_page;		/* next page number to consume (1-based) */
	int64		next_submit;	/* next page number to submit ahead */
	int64		total_pages;	/* from X-Pagination-Total-Pages, or -1 */
	int64		per_page;		/* from X-Pagination-Per-Page, or -1 */
	int64		total_entries;	/* first X-Pagination-Total-Entries, or -1 */
	int64		last_id;		/* cursor paging */
	int64		offset;			/* offset paging */
	char	   *window_start;	/* window paging: start_at of next page */
	bool		done;
	int64		pages;			/* pages consumed */
	int			ahead[64];		/* tickets of pages next_page.. (ring) */
	int			nahead;
	int			ahead_head;
} StreamState;

#define MAX_AHEAD 64

typedef struct CivisScanState
{
	CivisTableInfo *info;
	CivisRequestPlan *plan;
	List	   *retrieved_attrs;
	List	   *expr_states;	/* ExprState per fdw_expr */
	List	   *exprs;			/* the fdw_exprs themselves */
	CivisHttpConfig cfg;
	CivisHttp  *http;
	CivisDecoder *decoder;

	MemoryContext scan_cxt;		/* lives for the scan */
	MemoryContext rescan_cxt;	/* streams and values, reset per rescan */
	MemoryContext page_cxt;		/* one page: body and JSON tree */
	MemoryContext row_cxt;		/* one row's Datums */

	List	   *streams;		/* CivisStream * */
	StreamState *sstate;		/* per stream */
	int			cur;			/* current stream */
	bool		started;

	CivisPage  *page;
	int			item;
	int			nitems;
	int64	   *prev_ids;		/* ids of the previous page, sorted */
	int			nprev;
	int64	   *cur_ids;		/* ids of the current page, sorted */
	int			ncur;

	/* statistics for EXPLAIN ANALYZE */
	int64		pages;
	int64		rows;
	int64		duplicates;
} CivisScanState;

/* ------------------------------------------------------------------
 * Paging parameters
 * ------------------------------------------------------------------ */

static void
add_part(List **parts, const char *name, const char *value)
{
	*parts = lappend(*parts, civis_query_part(name, value));
}

static char *
int64_text(int64 v)
{
	return psprintf(INT64_FORMAT, v);
}

/*
 * The order a listing is read in when the query did not push one: "id"
 * ascending where the endpoint allows it, because ids do not change while
 * a listing is read (updated_at, the usual default, does).
 */
static const char *
stable_order(const CivisTableInfo *info)
{
	int			i;

	if (info == NULL)
		return NULL;
	for (i = 0; i < info->ncolumns; i++)
	{
		CivisColumn *col = &info->columns[i];

		if (!col->dropped && col->order_by && strcmp(col->order_by, "id") == 0)
			return "id";
	}
	return NULL;
}

static List *
page_parts(const CivisRequestPlan *plan, const CivisTableInfo *info,
		   const StreamState *st)
{
	List	   *parts = NIL;
	int			size = plan->page_size;

	if (plan->order_by)
	{
		add_part(&parts, "order", plan->order_by);
		add_part(&parts, "order_dir", plan->order_desc ? "desc" : "asc");
	}
	else if (plan->paging == CIVIS_PAGING_PAGES && stable_order(info))
	{
		add_part(&parts, "order", stable_order(info));
		add_part(&parts, "order_dir", "asc");
	}

	switch (plan->paging)
	{
		case CIVIS_PAGING_PAGES:
			if (size > 0)
				add_part(&parts, "limit", int64_text(size));
			add_part(&parts, "page_num", int64_text(st->next_page));
			break;
		case CIVIS_PAGING_AUTO:
			/* a hand-written table: follow the headers if there are any */
			if (st->next_page > 1)
			{
				if (st->per_page > 0)
					add_part(&parts, "limit", int64_text(st->per_page));
				add_part(&parts, "page_num", int64_text(st->next_page));
			}
			break;
		case CIVIS_PAGING_CURSOR:
			add_part(&parts, "last_id", int64_text(st->last_id));
			if (size > 0)
				add_part(&parts, "limit", int64_text(size));
			break;
		case CIVIS_PAGING_WINDOW:
			if (st->window_start)
				add_part(&parts, "start_at", st->window_start);
			if (size > 0)
				add_part(&parts, "limit", int64_text(size));
			break;
		case CIVIS_PAGING_OFFSET:
			add_part(&parts, "offset", int64_text(st->offset));
			if (size > 0)
				add_part(&parts, "limit", int64_text(size));
			break;
		case CIVIS_PAGING_NONE:
			break;
	}
	return parts;
}

/* Initial paging state; cursor_start is the pushed "id > n" or NULL. */
static void
init_stream_state(StreamState *st, const CivisRequestPlan *plan,
				  const char *cursor_start)
{
	memset(st, 0, sizeof(StreamState));
	st->first_ticket = -1;
	st->next_page = 1;
	st->next_submit = 1;
	st->total_pages = -1;
	st->per_page = -1;
	st->total_entries = -1;
	st->last_id = 0;
	if (cursor_start)
	{
		st->last_id = strtoll(cursor_start, NULL, 10);
		if (plan->cursor_inclusive)
			st->last_id -= 1;
	}
}

/* Cursor start as text, from the evaluated values (NULL when none). */
static const char *
cursor_start_text(const CivisRequestPlan *plan, CivisArgValues *values)
{
	if (plan->cursor_expr < 0 || values[plan->cursor_expr].isnull ||
		values[plan->cursor_expr].texts == NIL)
		return NULL;
	return strVal(linitial(values[plan->cursor_expr].texts));
}

List *
civis_first_page_parts(const CivisRequestPlan *plan, const CivisTableInfo *info,
					   CivisArgValues *values)
{
	StreamState st;
	const char *start = cursor_start_text(plan, values);

	/* a placeholder ($1) cursor start shows as given */
	init_stream_state(&st, plan, NULL);
	if (start && plan->cursor_expr >= 0 && values[plan->cursor_expr].placeholder)
	{
		List	   *parts = page_parts(plan, info, &st);
		ListCell   *lc;

		foreach(lc, parts)
		{
			CivisQueryPart *part = lfirst(lc);

			if (strcmp(part->name, "last_id") == 0)
			{
				part->value = pstrdup(start);
				part->verbatim = true;
			}
		}
		return parts;
	}
	init_stream_state(&st, plan, start);
	return page_parts(plan, info, &st);
}

/* ------------------------------------------------------------------
 * Values of the plan's expressions
 * ------------------------------------------------------------------ */

static CivisArgValues *
evaluate_values(CivisScanState *st, ExprContext *econtext)
{
	int			n = list_length(st->expr_states);
	CivisArgValues *values = palloc0(sizeof(CivisArgValues) * Max(n, 1));
	ListCell   *lc1,
			   *lc2;
	int			i = 0;

	forboth(lc1, st->expr_states, lc2, st->exprs)
	{
		ExprState  *state = lfirst(lc1);
		Expr	   *expr = lfirst(lc2);
		bool		isnull;
		Datum		value;
		MemoryContext old;

		old = MemoryContextSwitchTo(econtext->ecxt_per_tuple_memory);
		value = ExecEvalExpr(state, econtext, &isnull);
		MemoryContextSwitchTo(old);
		if (isnull)
			values[i].isnull = true;
		else
			civis_value_texts(&values[i], value, exprType((Node *) expr));
		i++;
	}
	return values;
}

/* ------------------------------------------------------------------
 * Callbacks
 * ------------------------------------------------------------------ */

static void
missing_path_param_error(CivisTableInfo *info, const CivisRequestPlan *plan)
{
	List	   *holders = civis_path_placeholders(plan->endpoint);
	ListCell   *lc;

	foreach(lc, holders)
	{
		const char *name = strVal(lfirst(lc));
		ListCell   *la;
		bool		found = false;
		CivisColumn *col;

		foreach(la, plan->args)
			if (((CivisArg *) lfirst(la))->in_path &&
				strcmp(((CivisArg *) lfirst(la))->param, name) == 0)
				found = true;
		if (found)
			continue;
		col = civis_column_by_param(info, name);
		ereport(ERROR,
				(errcode(ERRCODE_FDW_UNABLE_TO_CREATE_EXECUTION),
				 errmsg("foreign table \"%s\" needs a condition on column \"%s\"",
						info->relname, col ? col->attname : name),
				 errdetail("Its endpoint %s has the path parameter {%s}.",
						   plan->endpoint, name),
				 errhint("Add WHERE %s = <value> (or IN (...)), or join it to a table that supplies %s.",
						 col ? col->attname : name, col ? col->attname : name)));
	}
}

static Oid
scan_user(ForeignScanState *node)
{
#if PG_VERSION_NUM >= 160000
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;

	return OidIsValid(fsplan->checkAsUser) ? fsplan->checkAsUser : GetUserId();
#else
	EState	   *estate = node->ss.ps.state;
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;
	RangeTblEntry *rte = exec_rt_fetch(fsplan->scan.scanrelid, estate);

	return OidIsValid(rte->checkAsUser) ? rte->checkAsUser : GetUserId();
#endif
}

static void
civisBeginForeignScan(ForeignScanState *node, int eflags)
{
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;
	EState	   *estate = node->ss.ps.state;
	Relation	rel = node->ss.ss_currentRelation;
	CivisScanState *st;
	MemoryContext scan_cxt;
	MemoryContext old;
	char	   *api_key;

	scan_cxt = AllocSetContextCreate(estate->es_query_cxt, "civis_fdw scan",
									 ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(scan_cxt);

	st = palloc0(sizeof(CivisScanState));
	st->scan_cxt = scan_cxt;
	st->info = civis_get_table_info(RelationGetRelid(rel));
	st->plan = civis_plan_deserialize(list_nth(fsplan->fdw_private, CivisPrivatePlan));
	st->retrieved_attrs = list_nth(fsplan->fdw_private, CivisPrivateRetrievedAttrs);
	st->exprs = fsplan->fdw_exprs;
	node->fdw_state = st;

	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
	{
		MemoryContextSwitchTo(old);
		return;
	}

	missing_path_param_error(st->info, st->plan);

	st->expr_states = ExecInitExprList(fsplan->fdw_exprs, (PlanState *) node);
	api_key = civis_get_api_key(st->info->serverid, scan_user(node));
	civis_http_config_from_table(&st->cfg, st->info, api_key);
	st->http = civis_http_begin(scan_cxt, &st->cfg);
	st->decoder = civis_decoder_create(st->info, RelationGetDescr(rel),
									   st->retrieved_attrs);

	st->rescan_cxt = AllocSetContextCreate(scan_cxt, "civis_fdw streams",
										   ALLOCSET_SMALL_SIZES);
	st->page_cxt = AllocSetContextCreate(scan_cxt, "civis_fdw page",
										 ALLOCSET_DEFAULT_SIZES);
	st->row_cxt = AllocSetContextCreate(scan_cxt, "civis_fdw row",
										ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(old);
}

/* Expand the plan into streams with the current parameter values. */
static void
start_streams(ForeignScanState *node, CivisScanState *st)
{
	MemoryContext old = MemoryContextSwitchTo(st->rescan_cxt);
	CivisArgValues *values;
	const char *cursor_start;
	int			n,
				i;

	values = evaluate_values(st, node->ss.ps.ps_ExprContext);
	st->streams = civis_expand_streams(st->plan, values,
									   list_length(st->exprs), st->info->relname);
	cursor_start = cursor_start_text(st->plan, values);
	n = list_length(st->streams);
	st->sstate = palloc0(sizeof(StreamState) * n);
	for (i = 0; i < n; i++)
	{
		init_stream_state(&st->sstate[i], st->plan, cursor_start);
		if (((CivisStream *) list_nth(st->streams, i))->empty)
			st->sstate[i].done = true;
	}
	st->cur = -1;
	st->started = true;
	MemoryContextSwitchTo(old);
}

static int
submit_page(CivisScanState *st, int s, StreamState *ss, int64 page_num)
{
	CivisStream *stream = list_nth(st->streams, s);
	StreamState tmp = *ss;
	List	   *parts;
	char	   *url,
			   *shown;
	int			ticket;
	MemoryContext old = MemoryContextSwitchTo(st->rescan_cxt);

	tmp.next_page = page_num;
	parts = page_parts(st->plan, st->info, &tmp);
	url = civis_build_url(st->info->api_url, stream, parts, false);
	shown = civis_build_url(NULL, stream, parts, true);
	ticket = civis_http_submit(st->http, url, shown);
	pfree(url);
	MemoryContextSwitchTo(old);
	return ticket;
}

/*
 * Keep up to max_in_flight requests busy with pages that will certainly
 * be needed if the executor keeps asking: the rest of the current listing
 * once its total is known, then the first pages of the next streams.
 */
static void
fill_ahead(CivisScanState *st)
{
	int			budget = st->info->max_in_flight - civis_http_in_flight(st->http);
	int			n = list_length(st->streams);
	int			s;

	if (st->cur >= 0 && st->cur < n)
	{
		StreamState *ss = &st->sstate[st->cur];
		int64		last = ss->total_pages;

		if (last > st->info->max_pages)
			last = st->info->max_pages;
		while (budget > 0 && !ss->done && ss->total_pages >= 0 &&
			   ss->next_submit <= last && ss->nahead < MAX_AHEAD &&
			   (st->plan->paging == CIVIS_PAGING_PAGES ||
				st->plan->paging == CIVIS_PAGING_AUTO))
		{
			int			slot = (ss->ahead_head + ss->nahead) % MAX_AHEAD;

			ss->ahead[slot] = submit_page(st, st->cur, ss, ss->next_submit);
			ss->nahead++;
			ss->next_submit++;
			budget--;
		}
	}
	for (s = st->cur + 1; s < n && budget > 0; s++)
	{
		StreamState *ss = &st->sstate[s];

		if (!ss->done && ss->first_ticket < 0)
		{
			ss->first_ticket = submit_page(st, s, ss, 1);
			budget--;
		}
	}
}

static int
cmp_int64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

static bool
id_in(const int64 *ids, int n, int64 id)
{
	return n > 0 && bsearch(&id, ids, n, sizeof(int64), cmp_int64) != NULL;
}

/*
 * Remember the ids of the page just loaded (sorted, for lookups), keeping
 * the previous page's: a row that slid across a page boundary while the
 * listing changed is dropped the second time.  Memory: two pages of ids.
 */
static void
collect_ids(CivisScanState *st)
{
	int			i,
				n = st->nitems;
	MemoryContext old = MemoryContextSwitchTo(st->rescan_cxt);

	if (st->prev_ids)
		pfree(st->prev_ids);
	st->prev_ids = st->cur_ids;
	st->nprev = st->ncur;
	st->cur_ids = palloc(sizeof(int64) * Max(n, 1));
	st->ncur = 0;
	for (i = 0; i < n; i++)
	{
		bool		has_id;
		int64		id = civis_page_item_id(st->page, i, &has_id);

		if (has_id)
			st->cur_ids[st->ncur++] = id;
	}
	qsort(st->cur_ids, st->ncur, sizeof(int64), cmp_int64);
	MemoryContextSwitchTo(old);
}

static bool
same_page_again(CivisScanState *st)
{
	return st->ncur > 0 && st->ncur == st->nprev &&
		memcmp(st->cur_ids, st->prev_ids, sizeof(int64) * st->ncur) == 0;
}

/* A response status that means "no rows" rather than an error. */
static bool
status_means_empty(CivisScanState *st, long status)
{
	/* a detail or a parent resource that does not exist */
	return status == 404 &&
		(st->plan->kind == CIVIS_PLAN_DETAIL ||
		 strchr(st->plan->endpoint, '{') != NULL);
}

/* Advance paging state after a page of the current stream arrived. */
static void
advance_paging(CivisScanState *st, StreamState *ss, const CivisResponse *resp,
			   const char *shown)
{
	int			count = st->nitems;
	int			size = st->plan->page_size;

	ss->pages++;
	if (ss->pages > st->info->max_pages)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("listing of foreign table \"%s\" exceeds max_pages (%d)",
						st->info->relname, st->info->max_pages),
				 errcontext("Civis API request: GET %s", shown),
				 errhint("Raise the server option max_pages if the listing really is that long.")));
	if (same_page_again(st))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("the Civis API returned the same page twice for foreign table \"%s\"",
						st->info->relname),
				 errcontext("Civis API request: GET %s", shown),
				 errhint("Its paging headers cannot be trusted; the result would be incomplete.")));

	if (resp->total_entries >= 0)
	{
		if (ss->total_entries < 0)
			ss->total_entries = resp->total_entries;
		else if (ss->total_entries != resp->total_entries)
		{
			ereport(NOTICE,
					(errmsg("the listing of foreign table \"%s\" changed while it was read (%lld rows, now %lld)",
							st->info->relname, (long long) ss->total_entries,
							(long long) resp->total_entries),
					 errdetail("Rows that moved between pages are returned once; rows added or removed meanwhile may be missing.")));
			ss->total_entries = resp->total_entries;
		}
	}

	switch (st->plan->paging)
	{
		case CIVIS_PAGING_PAGES:
		case CIVIS_PAGING_AUTO:
			if (resp->total_pages >= 0)
			{
				ss->total_pages = resp->total_pages;
				ss->per_page = resp->per_page;
				if (ss->next_page >= resp->total_pages)
					ss->done = true;
			}
			else if (st->plan->paging == CIVIS_PAGING_AUTO || count == 0)
				ss->done = true;
			break;
		case CIVIS_PAGING_CURSOR:
			if (count == 0)
				ss->done = true;
			else if (st->ncur == 0 || st->cur_ids[st->ncur - 1] <= ss->last_id)
				ereport(ERROR,
						(errcode(ERRCODE_FDW_ERROR),
						 errmsg("cursor paging of foreign table \"%s\" made no progress",
								st->info->relname),
						 errcontext("Civis API request: GET %s", shown)));
			else
				ss->last_id = st->cur_ids[st->ncur - 1];
			break;
		case CIVIS_PAGING_WINDOW:
			if (count == 0 || (size > 0 && count < size))
				ss->done = true;
			else
			{
				char	   *last = civis_page_item_text(st->page, count - 1, "createdAt");
				MemoryContext old = MemoryContextSwitchTo(st->rescan_cxt);

				if (last == NULL || (ss->window_start && strcmp(last, ss->window_start) == 0))
					ss->done = true;
				else
					ss->window_start = pstrdup(last);
				MemoryContextSwitchTo(old);
			}
			break;
		case CIVIS_PAGING_OFFSET:
			ss->offset += count;
			if (count == 0 || (size > 0 && count < size))
				ss->done = true;
			break;
		case CIVIS_PAGING_NONE:
			ss->done = true;
			break;
	}
	/* pages next_page .. next_submit - 1 are the ones already in flight */
	ss->next_page++;
	if (ss->nahead == 0)
		ss->next_submit = ss->next_page;
}

/* Switch to the next stream that may have rows; false at the end. */
static bool
next_stream(CivisScanState *st)
{
	int			n = list_length(st->streams);

	while (++st->cur < n)
	{
		CivisStream *stream = list_nth(st->streams, st->cur);
		ListCell   *lc;

		if (st->sstate[st->cur].done)
			continue;
		foreach(lc, stream->echo)
		{
			CivisEcho  *echo = lfirst(lc);

			civis_decoder_set_constant(st->decoder, echo->attnum, echo->value);
		}
		st->nprev = st->ncur = 0;
		return true;
	}
	return false;
}

/* Load the next page with rows into st->page; false at the end. */
static bool
load_next_page(CivisScanState *st)
{
	for (;;)
	{
		StreamState *ss;
		int			ticket;
		CivisResponse resp;
		MemoryContext old;
		CivisStream *stream;
		char	   *shown;

		if (st->cur < 0 || st->sstate[st->cur].done)
		{
			if (!next_stream(st))
				return false;
		}
		ss = &st->sstate[st->cur];
		stream = list_nth(st->streams, st->cur);

		if (ss->next_page == 1 && ss->first_ticket >= 0)
		{
			ticket = ss->first_ticket;
			ss->first_ticket = -1;
		}
		else if (ss->nahead > 0)
		{
			ticket = ss->ahead[ss->ahead_head];
			ss->ahead_head = (ss->ahead_head + 1) % MAX_AHEAD;
			ss->nahead--;
		}
		else
			ticket = submit_page(st, st->cur, ss, ss->next_page);

		MemoryContextReset(st->page_cxt);
		st->page = NULL;
		st->nitems = st->item = 0;
		old = MemoryContextSwitchTo(st->page_cxt);
		{
			StreamState tmp = *ss;

			shown = civis_build_url(NULL, stream, page_parts(st->plan, st->info, &tmp), true);
		}
		civis_http_wait(st->http, ticket, &resp);

		if (resp.status != 200)
		{
			if (!status_means_empty(st, resp.status))
				civis_raise_http_error(&resp, shown, st->info->relname);
			ss->done = true;
			MemoryContextSwitchTo(old);
			continue;
		}

		st->page = civis_page_parse(resp.body, resp.body_len, shown,
									st->info->relname);
		st->nitems = civis_page_count(st->page);
		MemoryContextSwitchTo(old);

		collect_ids(st);
		advance_paging(st, ss, &resp, shown);
		st->pages++;
		fill_ahead(st);
		if (st->nitems > 0)
			return true;
	}
}

static TupleTableSlot *
civisIterateForeignScan(ForeignScanState *node)
{
	CivisScanState *st = node->fdw_state;
	TupleTableSlot *slot = node->ss.ss_ScanTupleSlot;

	ExecClearTuple(slot);
	if (!st->started)
		start_streams(node, st);

	MemoryContextReset(st->row_cxt);
	for (;;)
	{
		MemoryContext old;

		if (st->page == NULL || st->item >= st->nitems)
		{
			if (!load_next_page(st))
				return slot;
		}

		/* a row that slid here from the previous page was returned there */
		if (st->nprev > 0)
		{
			bool		has_id;
			int64		id = civis_page_item_id(st->page, st->item, &has_id);

			if (has_id && id_in(st->prev_ids, st->nprev, id))
			{
				st->item++;
				st->duplicates++;
				continue;
			}
		}

		old = MemoryContextSwitchTo(st->row_cxt);
		civis_decode_item(st->decoder, st->page, st->item,
						  slot->tts_values, slot->tts_isnull);
		MemoryContextSwitchTo(old);
		st->item++;
		st->rows++;
		ExecStoreVirtualTuple(slot);
		return slot;
	}
}

static void
civisReScanForeignScan(ForeignScanState *node)
{
	CivisScanState *st = node->fdw_state;

	if (st->http)
		civis_http_discard_all(st->http);
	MemoryContextReset(st->page_cxt);
	MemoryContextReset(st->rescan_cxt);
	st->page = NULL;
	st->nitems = st->item = 0;
	st->prev_ids = st->cur_ids = NULL;
	st->nprev = st->ncur = 0;
	st->streams = NIL;
	st->started = false;
}

static void
civisEndForeignScan(ForeignScanState *node)
{
	CivisScanState *st = node->fdw_state;

	/* deleting the context runs the transport's cleanup callback */
	if (st)
		MemoryContextDelete(st->scan_cxt);
	node->fdw_state = NULL;
}

/* For explain.c: the scan's statistics. */
void
civis_scan_stats(ForeignScanState *node, const CivisHttpStats **http,
				 int64 *pages, int64 *rows, int64 *duplicates)
{
	CivisScanState *st = node->fdw_state;

	*http = (st && st->http) ? civis_http_stats(st->http) : NULL;
	*pages = st ? st->pages : 0;
	*rows = st ? st->rows : 0;
	*duplicates = st ? st->duplicates : 0;
}

/* For explain.c: the plan and the table of a scan. */
void
civis_scan_plan(ForeignScanState *node, CivisRequestPlan **plan,
				CivisTableInfo **info)
{
	CivisScanState *st = node->fdw_state;

	*plan = st->plan;
	*info = st->info;
}

void
civis_scan_routines(FdwRoutine *routine)
{
	routine->BeginForeignScan = civisBeginForeignScan;
	routine->IterateForeignScan = civisIterateForeignScan;
	routine->ReScanForeignScan = civisReScanForeignScan;
	routine->EndForeignScan = civisEndForeignScan;
	routine->ExplainForeignScan = civis_explain_scan;
}
