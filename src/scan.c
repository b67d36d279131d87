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
#include "utils/datum.h"
#include "utils/typcache.h"

#include "civis_fdw.h"
#include "plan.h"
#include "planner.h"
#include "paging.h"
#include "scan.h"



typedef struct CivisScanState
{
	Relation	rel;
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
	MemoryContext url_cxt;		/* one request's URL, reset per submit */
	MemoryContext row_cxt;		/* one row's Datums */

	List	   *streams;		/* CivisStream * */
	CivisPaging *sstate;		/* per stream */
	int			cur;			/* current stream */
	bool		started;

	CivisPage  *page;
	int			item;
	int			nitems;
	int64	   *prev_ids;		/* ids of the previous page, sorted */
	int			nprev;
	int64	   *cur_ids;		/* ids of the current page, sorted */
	int			ncur;
	bool	   *seen_before;	/* per item of the page: id on the previous */

	/* statistics for EXPLAIN ANALYZE */
	int64		pages;
	int64		rows;
	int64		duplicates;

	/* ANALYZE: read at most this many pages (0: no cap) */
	int64		page_cap;
	bool		capped;

	/* pushed LIMIT/OFFSET: rows still to skip, rows still allowed (-1) */
	int64		skip;
	int64		remaining;

	/* a scan of an upper relation decodes into the table's width first */
	bool		upper;
	Datum	   *rel_values;
	bool	   *rel_nulls;
	int			natts;

	/* pushed ORDER BY: the rows must arrive in that order */
	FmgrInfo	order_cmp;
	Oid			order_collation;
	bool		have_prev;
	bool		prev_null;
	Datum		prev_value;
	MemoryContext order_cxt[2];
	int			order_flip;
} CivisScanState;

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

/*
 * The range table index of the scanned table.  A scan of an upper
 * relation has scanrelid 0; its one base relation is in fs_relids, which
 * setrefs.c keeps right when subqueries are flattened into the plan.
 */
static Index
scan_rtindex(ForeignScan *fsplan)
{
	if (fsplan->scan.scanrelid > 0)
		return fsplan->scan.scanrelid;
	return bms_next_member(civis_fs_base_relids(fsplan), -1);
}

static Oid
scan_user(ForeignScanState *node, Index rtindex)
{
	Oid			checkuser = civis_check_as_user(node, rtindex);

	return OidIsValid(checkuser) ? checkuser : GetUserId();
}

/*
 * Everything a scan needs, in a new context under "parent": the table's
 * options, the transport, the decoder and the memory contexts.
 */
static CivisScanState *
scan_create(Relation rel, CivisRequestPlan *plan, List *retrieved_attrs,
			List *exprs, Oid userid, MemoryContext parent)
{
	MemoryContext scan_cxt;
	MemoryContext old;
	CivisScanState *st;
	char	   *api_key;

	scan_cxt = AllocSetContextCreate(parent, "civis_fdw scan",
									 ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(scan_cxt);

	st = palloc0(sizeof(CivisScanState));
	st->scan_cxt = scan_cxt;
	st->rel = rel;
	st->info = civis_get_table_info(RelationGetRelid(rel));
	st->plan = plan;
	st->retrieved_attrs = retrieved_attrs;
	st->exprs = exprs;
	st->remaining = -1;
	st->natts = RelationGetDescr(rel)->natts;
	st->rel_values = palloc0(sizeof(Datum) * Max(st->natts, 1));
	st->rel_nulls = palloc0(sizeof(bool) * Max(st->natts, 1));

	if (plan->order_attnum > 0)
	{
		Form_pg_attribute att = TupleDescAttr(RelationGetDescr(rel),
											  plan->order_attnum - 1);
		TypeCacheEntry *tce = lookup_type_cache(att->atttypid,
												TYPECACHE_CMP_PROC_FINFO);

		if (!OidIsValid(tce->cmp_proc))
			elog(ERROR, "no comparison function for type %u", att->atttypid);
		fmgr_info_cxt(tce->cmp_proc, &st->order_cmp, scan_cxt);
		st->order_collation = att->attcollation;
		st->order_cxt[0] = AllocSetContextCreate(scan_cxt, "civis_fdw order",
												 ALLOCSET_SMALL_SIZES);
		st->order_cxt[1] = AllocSetContextCreate(scan_cxt, "civis_fdw order",
												 ALLOCSET_SMALL_SIZES);
	}

	missing_path_param_error(st->info, st->plan);

	api_key = civis_get_api_key(st->info->serverid, userid);
	civis_http_config_from_table(&st->cfg, st->info, api_key);
	st->http = civis_http_begin(scan_cxt, &st->cfg);
	st->decoder = civis_decoder_create(st->info, RelationGetDescr(rel),
									   st->retrieved_attrs);

	st->rescan_cxt = AllocSetContextCreate(scan_cxt, "civis_fdw streams",
										   ALLOCSET_SMALL_SIZES);
	st->page_cxt = AllocSetContextCreate(scan_cxt, "civis_fdw page",
										 ALLOCSET_DEFAULT_SIZES);
	st->url_cxt = AllocSetContextCreate(scan_cxt, "civis_fdw url",
										ALLOCSET_SMALL_SIZES);
	st->row_cxt = AllocSetContextCreate(scan_cxt, "civis_fdw row",
										ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(old);
	return st;
}

static void
civisBeginForeignScan(ForeignScanState *node, int eflags)
{
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;
	EState	   *estate = node->ss.ps.state;
	Relation	rel = node->ss.ss_currentRelation;
	CivisRequestPlan *plan;
	List	   *retrieved_attrs;
	CivisScanState *st;
	MemoryContext old;
	Index		rtindex = scan_rtindex(fsplan);

	/* a scan of an upper relation (scanrelid 0) opens its table itself */
	if (rel == NULL)
		rel = civis_exec_get_rt_relation(estate, rtindex);

	plan = civis_plan_deserialize(list_nth(fsplan->fdw_private, CivisPrivatePlan));
	retrieved_attrs = list_nth(fsplan->fdw_private, CivisPrivateRetrievedAttrs);

	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
	{
		/* EXPLAIN needs only the plan and the table's options */
		st = palloc0(sizeof(CivisScanState));
		st->info = civis_get_table_info(RelationGetRelid(rel));
		st->plan = plan;
		st->exprs = fsplan->fdw_exprs;
		node->fdw_state = st;
		return;
	}

	st = scan_create(rel, plan, retrieved_attrs, fsplan->fdw_exprs,
					 scan_user(node, rtindex), estate->es_query_cxt);
	st->upper = (fsplan->scan.scanrelid == 0);
	old = MemoryContextSwitchTo(st->scan_cxt);
	st->expr_states = ExecInitExprList(fsplan->fdw_exprs, (PlanState *) node);
	MemoryContextSwitchTo(old);
	node->fdw_state = st;
}

/*
 * A pushed LIMIT/OFFSET decides the requests: exactly the pages that hold
 * the wanted rows (one stream), or the rows counted across streams.
 */
static void
apply_limit(CivisScanState *st, CivisArgValues *values, int nstreams)
{
	const CivisRequestPlan *plan = st->plan;
	int64		count,
				offset;

	st->skip = 0;
	st->remaining = -1;
	if (plan->limit_expr < 0 && plan->offset_expr < 0)
		return;
	count = civis_limit_value(values, plan->limit_expr, false);
	offset = civis_limit_value(values, plan->offset_expr, true);
	st->remaining = count;
	st->skip = offset;
	if (nstreams == 1)
		civis_paging_limit(&st->sstate[0], plan, count, offset, &st->skip);
}

/* Expand the plan into streams with the current parameter values. */
static void
start_streams(CivisScanState *st, ExprContext *econtext)
{
	MemoryContext old = MemoryContextSwitchTo(st->rescan_cxt);
	CivisArgValues *values;
	const char *cursor_start;
	int			n,
				i;

	values = econtext ? evaluate_values(st, econtext)
		: palloc0(sizeof(CivisArgValues));
	st->streams = civis_expand_streams(st->plan, values,
									   list_length(st->exprs), st->info->relname);
	cursor_start = civis_paging_cursor_start(st->plan, values);
	n = list_length(st->streams);
	st->sstate = palloc0(sizeof(CivisPaging) * n);
	for (i = 0; i < n; i++)
	{
		civis_paging_init(&st->sstate[i], st->plan, cursor_start);
		if (((CivisStream *) list_nth(st->streams, i))->empty)
			st->sstate[i].done = true;
	}
	apply_limit(st, values, n);
	st->cur = -1;
	st->started = true;
	MemoryContextSwitchTo(old);
}

static int
submit_page(CivisScanState *st, int s, CivisPaging *ss, int64 page_num)
{
	CivisStream *stream = list_nth(st->streams, s);
	CivisPaging tmp = *ss;
	List	   *parts;
	char	   *url,
			   *shown;
	int			ticket;
	MemoryContext old;

	/* the transport keeps its own copies: nothing here outlives the call */
	MemoryContextReset(st->url_cxt);
	old = MemoryContextSwitchTo(st->url_cxt);
	tmp.next_page = page_num;
	parts = civis_paging_parts(st->plan, st->info, &tmp);
	url = civis_build_url(st->info->api_url, stream, parts, false);
	shown = civis_build_url(NULL, stream, parts, true);
	ticket = civis_http_submit(st->http, url, shown);
	MemoryContextSwitchTo(old);
	MemoryContextReset(st->url_cxt);
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
		CivisPaging *ss = &st->sstate[st->cur];
		int64		last = ss->total_pages;

		/* a pushed LIMIT says which pages are needed before any arrives */
		if (ss->last_page > 0 && (last < 0 || ss->last_page < last))
			last = ss->last_page;
		if (last > st->info->max_pages)
			last = st->info->max_pages;
		if (st->page_cap > 0 && last > st->page_cap)
			last = st->page_cap;
		/* pages that arrived but wait to be read count too: memory is bounded */
		while (budget > 0 && !ss->done && last >= 0 &&
			   ss->next_submit <= last &&
			   ss->nahead < Min(MAX_AHEAD, 2 * st->info->max_in_flight) &&
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
		CivisPaging *ss = &st->sstate[s];

		if (!ss->done && ss->first_ticket < 0)
		{
			ss->first_ticket = submit_page(st, s, ss, ss->next_page);
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
	MemoryContextSwitchTo(old);

	/* one id lookup per item, here; the rows then only read the flag */
	st->seen_before = MemoryContextAllocZero(st->page_cxt, sizeof(bool) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		bool		has_id;
		int64		id = civis_page_item_id(st->page, i, &has_id);

		if (!has_id)
			continue;
		st->cur_ids[st->ncur++] = id;
		st->seen_before[i] = id_in(st->prev_ids, st->nprev, id);
	}
	qsort(st->cur_ids, st->ncur, sizeof(int64), cmp_int64);
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
		CivisPaging *ss;
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
		if (st->page_cap > 0 && st->pages >= st->page_cap)
		{
			st->capped = true;
			civis_http_discard_all(st->http);
			return false;
		}
		ss = &st->sstate[st->cur];
		stream = list_nth(st->streams, st->cur);

		if (ss->first_ticket >= 0)
		{
			ticket = ss->first_ticket;
			ss->first_ticket = -1;
			ss->next_submit = ss->next_page + 1;
		}
		else if (ss->nahead > 0)
		{
			ticket = ss->ahead[ss->ahead_head];
			ss->ahead_head = (ss->ahead_head + 1) % MAX_AHEAD;
			ss->nahead--;
		}
		else
		{
			ticket = submit_page(st, st->cur, ss, ss->next_page);
			ss->next_submit = ss->next_page + 1;
		}
		/* pages known to be needed go out while this one is awaited */
		fill_ahead(st);

		MemoryContextReset(st->page_cxt);
		st->page = NULL;
		st->nitems = st->item = 0;
		old = MemoryContextSwitchTo(st->page_cxt);
		{
			CivisPaging tmp = *ss;

			shown = civis_build_url(NULL, stream, civis_paging_parts(st->plan, st->info, &tmp), true);
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

		/*
		 * An object where a list was expected is one row where one request
		 * answers everything (the shares endpoints do that); in a paged
		 * listing it would silently turn every page into one row.
		 */
		if (!civis_page_is_array(st->page) && st->plan->kind == CIVIS_PLAN_LIST &&
			st->plan->paging != CIVIS_PAGING_NONE &&
			(st->plan->paging != CIVIS_PAGING_AUTO || resp.total_pages >= 0))
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
					 errmsg("the response to %s is a JSON object, not an array", shown),
					 errdetail("The endpoint of foreign table \"%s\" pages its results, so each page must be a list.",
							   st->info->relname),
					 errhint("If this endpoint answers one object, set the table option paging 'none'.")));

		/* a window repeats the entries at its start_at: skip those */
		if (st->plan->paging == CIVIS_PAGING_WINDOW && ss->window_start)
		{
			while (st->item < st->nitems && st->item < ss->window_repeat)
			{
				char	   *at = civis_page_item_text(st->page, st->item, "createdAt");

				if (at == NULL || strcmp(at, ss->window_start) != 0)
					break;
				st->item++;
			}
		}

		collect_ids(st);
		if (same_page_again(st))
			ereport(ERROR,
					(errcode(ERRCODE_FDW_ERROR),
					 errmsg("the Civis API returned the same page twice for foreign table \"%s\"",
							st->info->relname),
					 errcontext("Civis API request: GET %s", shown),
					 errhint("Its paging headers cannot be trusted; the result would be incomplete.")));
		civis_paging_advance(ss, st->plan, st->info, st->page, st->nitems,
							 st->ncur > 0, st->ncur > 0 ? st->cur_ids[st->ncur - 1] : 0,
							 &resp, shown, st->rescan_cxt);
		st->pages++;
		fill_ahead(st);
		if (st->item < st->nitems)
			return true;
	}
}

/*
 * A pushed ORDER BY is trusted only as far as the rows prove it: each row
 * is compared with the previous one (NULLs last ascending, first
 * descending, as PostgreSQL sorts), and a row out of order is an ERROR
 * rather than a wrongly sorted result.
 */
static void
check_order(CivisScanState *st, Datum value, bool isnull)
{
	bool		ok = true;
	Form_pg_attribute att;

	if (st->have_prev)
	{
		if (st->prev_null != isnull)
			ok = st->plan->order_desc ? st->prev_null : isnull;
		else if (!isnull)
		{
			int32		cmp = DatumGetInt32(FunctionCall2Coll(&st->order_cmp,
															  st->order_collation,
															  st->prev_value, value));

			ok = st->plan->order_desc ? cmp >= 0 : cmp <= 0;
		}
	}
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("the Civis API returned rows of foreign table \"%s\" out of the requested order",
						st->info->relname),
				 errdetail("The query's ORDER BY %s %s was sent as order=%s.",
						   st->info->columns[st->plan->order_attnum - 1].attname,
						   st->plan->order_desc ? "DESC" : "ASC", st->plan->order_by),
				 errhint("Set civis_fdw.enable_pushdown = off (or the table option pushdown 'false') to sort locally.")));

	/* keep this value, alternating between two contexts */
	st->order_flip = 1 - st->order_flip;
	MemoryContextReset(st->order_cxt[st->order_flip]);
	st->have_prev = true;
	st->prev_null = isnull;
	if (!isnull)
	{
		MemoryContext old = MemoryContextSwitchTo(st->order_cxt[st->order_flip]);

		att = TupleDescAttr(RelationGetDescr(st->rel), st->plan->order_attnum - 1);
		st->prev_value = datumCopy(value, att->attbyval, att->attlen);
		MemoryContextSwitchTo(old);
	}
}

/*
 * The next row into values/isnull (arrays of the relation's width, or of
 * the scan tuple for an upper relation); false at the end.  Datums live in
 * row_cxt until the next call.
 */
static bool
next_row(CivisScanState *st, Datum *values, bool *isnull)
{
	Datum	   *dvalues = st->upper ? st->rel_values : values;
	bool	   *dnulls = st->upper ? st->rel_nulls : isnull;

	MemoryContextReset(st->row_cxt);
	for (;;)
	{
		MemoryContext old;

		if (st->remaining == 0)
		{
			/* the pushed LIMIT is met: pages fetched ahead are not needed */
			civis_http_discard_all(st->http);
			return false;
		}
		if (st->page == NULL || st->item >= st->nitems)
		{
			if (!load_next_page(st))
				return false;
		}

		/* a row that slid here from the previous page was returned there */
		if (st->seen_before[st->item])
		{
			st->item++;
			st->duplicates++;
			continue;
		}

		old = MemoryContextSwitchTo(st->row_cxt);
		civis_decode_item(st->decoder, st->page, st->item, dvalues, dnulls);
		MemoryContextSwitchTo(old);
		st->item++;
		if (st->plan->order_attnum > 0)
			check_order(st, dvalues[st->plan->order_attnum - 1],
						dnulls[st->plan->order_attnum - 1]);
		if (st->skip > 0)
		{
			st->skip--;
			continue;
		}
		if (st->remaining > 0)
			st->remaining--;
		st->rows++;
		if (st->upper)
		{
			ListCell   *lc;
			int			i = 0;

			foreach(lc, st->retrieved_attrs)
			{
				values[i] = dvalues[lfirst_int(lc) - 1];
				isnull[i] = dnulls[lfirst_int(lc) - 1];
				i++;
			}
		}
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
		start_streams(st, node->ss.ps.ps_ExprContext);
	if (next_row(st, slot->tts_values, slot->tts_isnull))
		ExecStoreVirtualTuple(slot);
	return slot;
}

static void
civisReScanForeignScan(ForeignScanState *node)
{
	CivisScanState *st = node->fdw_state;

	if (st->http == NULL)
		return;
	civis_http_discard_all(st->http);
	MemoryContextReset(st->page_cxt);
	MemoryContextReset(st->rescan_cxt);
	st->page = NULL;
	st->nitems = st->item = 0;
	st->prev_ids = st->cur_ids = NULL;
	st->nprev = st->ncur = 0;
	st->streams = NIL;
	st->started = false;
	st->have_prev = false;
}

static void
civisEndForeignScan(ForeignScanState *node)
{
	CivisScanState *st = node->fdw_state;

	/* deleting the context runs the transport's cleanup callback */
	if (st && st->scan_cxt)
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

/* ------------------------------------------------------------------
 * Scans outside the executor (ANALYZE)
 * ------------------------------------------------------------------ */

CivisScanState *
civis_scan_open(Relation rel, CivisRequestPlan *plan, List *retrieved_attrs,
				Oid userid, int64 max_pages)
{
	CivisScanState *st = scan_create(rel, plan, retrieved_attrs, NIL, userid,
									 CurrentMemoryContext);

	st->page_cap = max_pages;
	start_streams(st, NULL);
	return st;
}

/* Did the scan stop at its page cap with more pages left? */
bool
civis_scan_capped(CivisScanState *st)
{
	return st->capped;
}

/* X-Pagination-Total-Entries of the first stream's first page, or -1. */
int64
civis_scan_total_entries(CivisScanState *st)
{
	if (st->sstate == NULL || list_length(st->streams) == 0)
		return -1;
	return st->sstate[0].total_entries;
}

bool
civis_scan_next(CivisScanState *st, Datum *values, bool *isnull)
{
	return next_row(st, values, isnull);
}

int64
civis_scan_pages_read(CivisScanState *st)
{
	return st->pages;
}

void
civis_scan_close(CivisScanState *st)
{
	MemoryContextDelete(st->scan_cxt);
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
