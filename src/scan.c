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
 * the number of rows, except a local sort (scan_sort.c) and an adaptive
 * scan's kept listing (scan_store.c), which spill to disk beyond work_mem.
 * The transport releases its curl handles through a reset callback on
 * scan_cxt, so an ERROR anywhere leaks nothing.  count(*) scans are in
 * scan_count.c; the state all four share is in scan_state.h.
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
#include "utils/tuplesort.h"
#include "utils/tuplestore.h"

#include "budget.h"
#include "civis_fdw.h"
#include "monitor.h"
#include "request.h"
#include "planner.h"
#include "paging.h"
#include "quirks.h"
#include "explain.h"
#include "scan.h"
#include "scan_state.h"

/* ------------------------------------------------------------------
 * Values of the plan's expressions
 * ------------------------------------------------------------------ */

/*
 * The values of the plan's expressions for this (re)scan, copied into
 * rescan_cxt: per-tuple memory does not live as long as the streams.
 */
static CivisValue *
evaluate_values(CivisScanState *fsstate, ExprContext *econtext)
{
	int			n = list_length(fsstate->expr_states);
	CivisValue *values = palloc0(sizeof(CivisValue) * Max(n, 1));
	ListCell   *lc1,
			   *lc2;
	int			i = 0;

	forboth(lc1, fsstate->expr_states, lc2, fsstate->exprs)
	{
		ExprState  *state = lfirst(lc1);
		Expr	   *expr = lfirst(lc2);
		MemoryContext old;
		int16		typlen;
		bool		typbyval;

		values[i].typid = exprType((Node *) expr);
		old = MemoryContextSwitchTo(econtext->ecxt_per_tuple_memory);
		values[i].value = ExecEvalExpr(state, econtext, &values[i].isnull);
		MemoryContextSwitchTo(old);
		get_typlenbyval(values[i].typid, &typlen, &typbyval);
		if (!values[i].isnull)
			values[i].value = datumCopy(values[i].value, typbyval, typlen);
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
						   civis_message_text(plan->endpoint,
											  strlen(plan->endpoint), 200),
						   name),
				 errhint("Add WHERE %s = <value> (or IN (...) or = ANY (...)) with a value of the column's type %s, or join it to a table that supplies %s; IS NOT DISTINCT FROM, or a comparison in another type, supplies no value.",
						 col ? col->attname : name,
						 col ? format_type_be(col->atttypid) : "text",
						 col ? col->attname : name)));
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
 * The backend-wide memory budget (CIVIS_BACKEND_MEMORY_BUDGET, below):
 * parsed pages held by the open scans, and how many scans are open.
 */
static int64 backend_page_bytes = 0;	/* parsed pages of the open scans */
static int	backend_open_scans = 0;
static dlist_head backend_scans = DLIST_STATIC_INIT(backend_scans);

/* The scan's memory context goes (end, abort, cursor closed). */
static void
scan_memory_release(void *arg)
{
	CivisScanState *fsstate = (CivisScanState *) arg;

	backend_page_bytes -= fsstate->page_bytes;
	fsstate->page_bytes = 0;
	backend_open_scans--;
	dlist_delete(&fsstate->open_node);
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
	CivisScanState *fsstate;
	char	   *api_key;

	scan_cxt = AllocSetContextCreate(parent, "civis_fdw scan",
									 ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(scan_cxt);

	fsstate = palloc0(sizeof(CivisScanState));
	fsstate->scan_cxt = scan_cxt;
	fsstate->rel = rel;
	fsstate->info = civis_get_table_info(RelationGetRelid(rel));
	fsstate->plan = plan;
	fsstate->planned = plan;
	fsstate->alt_ids = -1;
	fsstate->req_plan = plan;
	fsstate->retrieved_attrs = retrieved_attrs;
	fsstate->exprs = exprs;
	fsstate->remaining = -1;
	fsstate->natts = RelationGetDescr(rel)->natts;
	fsstate->rel_values = palloc0(sizeof(Datum) * Max(fsstate->natts, 1));
	fsstate->rel_nulls = palloc0(sizeof(bool) * Max(fsstate->natts, 1));

	if (plan->order_attnum > 0)
	{
		Form_pg_attribute att = TupleDescAttr(RelationGetDescr(rel),
											  plan->order_attnum - 1);
		TypeCacheEntry *tce = lookup_type_cache(att->atttypid,
												TYPECACHE_CMP_PROC_FINFO);

		if (!OidIsValid(tce->cmp_proc))
			elog(ERROR, "no comparison function for type %u", att->atttypid);
		fmgr_info_cxt(tce->cmp_proc, &fsstate->order_cmp, scan_cxt);
		fsstate->order_collation = att->attcollation;
		fsstate->order_cxt = AllocSetContextCreate(scan_cxt, "civis_fdw order",
												   ALLOCSET_SMALL_SIZES);
		fsstate->sorted_ties =
			strcmp(fsstate->info->columns[plan->order_attnum - 1].key, civis_quirk_id_key) != 0;
	}


	api_key = civis_get_api_key(fsstate->info->serverid, userid);
	civis_http_config_from_table(&fsstate->cfg, fsstate->info, userid, api_key);
	fsstate->http = civis_http_begin(scan_cxt, &fsstate->cfg);
	{
		uint8		hash[CIVIS_BUDGET_HASH_LEN];

		/* its row in civis_fdw_scans(), visible to the key's users */
		civis_budget_hash(fsstate->cfg.origin, api_key, hash);
		fsstate->monitor = civis_monitor_begin(scan_cxt, RelationGetRelid(rel),
											   fsstate->info->serverid, userid,
											   hash);
		civis_http_set_monitor(fsstate->http, fsstate->monitor);
	}
	fsstate->decoder = civis_decoder_create(fsstate->info, RelationGetDescr(rel),
											fsstate->retrieved_attrs);

	fsstate->rescan_cxt = AllocSetContextCreate(scan_cxt, "civis_fdw streams",
												ALLOCSET_SMALL_SIZES);
	fsstate->page_cxt = AllocSetContextCreate(scan_cxt, "civis_fdw page",
											  ALLOCSET_DEFAULT_SIZES);
	fsstate->url_cxt = AllocSetContextCreate(scan_cxt, "civis_fdw url",
											 ALLOCSET_SMALL_SIZES);
	fsstate->row_cxt = AllocSetContextCreate(scan_cxt, "civis_fdw row",
											 ALLOCSET_DEFAULT_SIZES);
	/* the backend-wide memory budget counts this scan while it is open */
	fsstate->memory_cb.func = scan_memory_release;
	fsstate->memory_cb.arg = fsstate;
	MemoryContextRegisterResetCallback(scan_cxt, &fsstate->memory_cb);
	backend_open_scans++;
	dlist_push_tail(&backend_scans, &fsstate->open_node);
	MemoryContextSwitchTo(old);
	return fsstate;
}

/*
 * The optional entries of fdw_private: count(*) scans, and a get-by-id
 * plan to decide on at scan start.
 */
static void
read_private_extras(CivisScanState *fsstate, List *fdw_private)
{
	fsstate->planned = fsstate->plan;
	fsstate->alt_ids = -1;
	if (list_length(fdw_private) > CivisPrivateCount)
		fsstate->count_mode = intVal(list_nth(fdw_private, CivisPrivateCount)) != 0;
	if (list_length(fdw_private) > CivisPrivateDetailMax &&
		list_nth(fdw_private, CivisPrivateDetailAlt) != NIL)
	{
		fsstate->alt_plan = civis_plan_deserialize(list_nth(fdw_private,
															CivisPrivateDetailAlt));
		fsstate->alt_max = intVal(list_nth(fdw_private, CivisPrivateDetailMax));
	}
	if (list_length(fdw_private) > CivisPrivateAdaptive)
		fsstate->adaptive = intVal(list_nth(fdw_private, CivisPrivateAdaptive)) != 0;
	if (list_length(fdw_private) > CivisPrivateAdaptiveKey)
		fsstate->adaptive_key = intVal(list_nth(fdw_private, CivisPrivateAdaptiveKey));
}

static void
civisBeginForeignScan(ForeignScanState *node, int eflags)
{
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;
	EState	   *estate = node->ss.ps.state;
	Relation	rel = node->ss.ss_currentRelation;
	CivisRequestPlan *plan;
	List	   *retrieved_attrs;
	CivisScanState *fsstate;
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
		fsstate = palloc0(sizeof(CivisScanState));
		fsstate->info = civis_get_table_info(RelationGetRelid(rel));
		fsstate->plan = plan;
		fsstate->req_plan = plan;
		fsstate->exprs = fsplan->fdw_exprs;
		read_private_extras(fsstate, fsplan->fdw_private);
		node->fdw_state = fsstate;
		return;
	}

	/*
	 * A LIMIT/OFFSET the scan counts itself is right only if nothing above
	 * the scan drops rows: the planner pushes one only when no condition
	 * stays in the Filter (planner.c, upper_pushable).  Checked here, with
	 * the planner's own count, because a violation would silently return too
	 * few rows.
	 */
	if ((plan->limit_expr >= 0 || plan->offset_expr >= 0) &&
		intVal(list_nth(fsplan->fdw_private, CivisPrivateLocalConds)) != 0)
		elog(ERROR, "a pushed LIMIT with %d conditions left in the Filter",
			 intVal(list_nth(fsplan->fdw_private, CivisPrivateLocalConds)));

	fsstate = scan_create(rel, plan, retrieved_attrs, fsplan->fdw_exprs,
						  scan_user(node, rtindex), estate->es_query_cxt);
	fsstate->upper = (fsplan->scan.scanrelid == 0);
	old = MemoryContextSwitchTo(fsstate->scan_cxt);
	read_private_extras(fsstate, fsplan->fdw_private);
	MemoryContextSwitchTo(old);
	old = MemoryContextSwitchTo(fsstate->scan_cxt);
	fsstate->expr_states = ExecInitExprList(fsplan->fdw_exprs, (PlanState *) node);
	fsstate->nrecheck = list_length(fsplan->fdw_recheck_quals);
	if (fsstate->nrecheck > 0)
	{
		ListCell   *lc;
		int			i = 0;

		fsstate->recheck_states = palloc(sizeof(ExprState *) * fsstate->nrecheck);
		foreach(lc, fsplan->fdw_recheck_quals)
			fsstate->recheck_states[i++] = ExecInitQual(list_make1(lfirst(lc)),
														(PlanState *) node);
		if (plan->stop_index >= 0 && plan->stop_index < fsstate->nrecheck)
		{
			fsstate->stop_state = fsstate->recheck_states[plan->stop_index];
			fsstate->stop_slot = node->ss.ss_ScanTupleSlot;
			fsstate->stop_econtext = node->ss.ps.ps_ExprContext;
		}
	}
	MemoryContextSwitchTo(old);
	node->fdw_state = fsstate;
}

/*
 * civis_fdw_scans(): a page was read.  The pages expected are the API's
 * totals over the streams that said one, plus those of earlier rescans.
 */
static int64
pages_expected(CivisScanState *fsstate)
{
	int			n = list_length(fsstate->streams);
	int64		sum = fsstate->expected_before;
	bool		known = fsstate->expected_before > 0;
	int			i;

	for (i = 0; fsstate->paging != NULL && i < n; i++)
		if (fsstate->paging[i].total_pages >= 0)
		{
			sum += fsstate->paging[i].total_pages;
			known = true;
		}
	return known ? sum : -1;
}

static void
monitor_page(CivisScanState *fsstate)
{
	if (fsstate->monitor != NULL)
		civis_monitor_page(fsstate->monitor, pages_expected(fsstate),
						   fsstate->rows_out);
}

/*
 * A pushed LIMIT/OFFSET decides the requests: exactly the pages that hold
 * the wanted rows (one stream), or the rows counted across streams.
 */
static void
apply_limit(CivisScanState *fsstate, CivisValue *values, int nstreams)
{
	const CivisRequestPlan *plan = fsstate->plan;
	int64		count,
				offset;

	fsstate->skip = 0;
	fsstate->remaining = -1;
	if (plan->limit_expr < 0 && plan->offset_expr < 0)
		return;
	count = civis_limit_value(values, plan->limit_expr, false);
	offset = civis_limit_value(values, plan->offset_expr, true);
	fsstate->remaining = count;
	fsstate->skip = offset;
	/* rows the scan filters itself are not counted by pages */
	if (nstreams == 1 && fsstate->active_rechecks == NIL)
		civis_paging_limit(&fsstate->paging[0], plan, count, offset, &fsstate->skip);
}

static void start_plan(CivisScanState *fsstate, CivisValue *values);
static void set_page_bytes(CivisScanState *fsstate, int64 bytes);
static void drop_page(CivisScanState *fsstate);

/* Read the unfiltered listing into the store, or answer from it. */
static void
answer_from_store(CivisScanState *fsstate)
{
	fsstate->answer_locally = true;
	if (fsstate->store == NULL)
	{
		/* the store keeps every row, whatever bound the plan had */
		CivisRequestPlan *all = palloc(sizeof(CivisRequestPlan));

		*all = *fsstate->planned;
		all->bound = -1;
		all->read_hint = 0;
		all->local_read = 0;
		fsstate->plan = fsstate->req_plan = all;
	}
}

/*
 * An adaptive scan on a join column other than the id (planner.c,
 * add_filtered_alternative): this rescan's value's filtered listing while
 * the requests of all rescans so far (every one a filtered listing: the
 * scan sends nothing else before the store) are below alt_max, the
 * unfiltered listing's pages; then the unfiltered listing is read once
 * into the store, keyed by the column, and answers this rescan and the
 * remaining ones.  Either way the rows are the same: the join condition
 * stays in the Filter, the store keeps every row of the listing of the
 * other conditions, and its lookup (civis_local_candidates) returns every
 * row whose key equals the value.  A value the API cannot take exactly
 * (not an integer written plainly) reads the store too, every row a
 * candidate.  A NULL value sends nothing (no row equals NULL).
 */
static void
choose_filtered(CivisScanState *fsstate, CivisValue *values)
{
	const char *param = fsstate->info->columns[fsstate->adaptive_key - 1].param;
	ListCell   *lc;

	fsstate->filtered_first_page = false;
	fsstate->switch_pending = false;
	foreach(lc, fsstate->alt_plan->args)
	{
		CivisArg   *arg = lfirst(lc);
		CivisDecision d;

		if (arg->expr_index < 0 || strcmp(arg->param, param) != 0)
			continue;
		civis_decide(arg, &values[arg->expr_index], &d);
		fsstate->alt_ids = list_length(d.texts);
		fsstate->probe_texts = d.outcome == CIVIS_EXACT ? d.texts : NIL;
		if (fsstate->store == NULL)
			fsstate->detail_spent = fsstate->requests_sent;
		if (d.outcome == CIVIS_NO_ROWS ||
			(d.outcome == CIVIS_EXACT && fsstate->store == NULL &&
			 fsstate->detail_spent < fsstate->alt_max))
		{
			fsstate->plan = fsstate->alt_plan;
			fsstate->req_plan = fsstate->plan;
			fsstate->alt_chosen = true;

			/*
			 * A rescan that may stop early (the inner side of a semi- or
			 * anti-join, a LIMIT: bound > 0) pays only the pages it reads:
			 * its first page does not decide the switch, the next rescan
			 * does.
			 */
			fsstate->filtered_first_page = (d.outcome == CIVIS_EXACT &&
											fsstate->planned->bound <= 0);
		}
		else
			answer_from_store(fsstate);
		return;
	}
	answer_from_store(fsstate); /* not reached: the plan sends the column */
}

/*
 * Get-by-id or the listing, now that the ids are known: the ids as the
 * detail plan would send them (NULLs dropped, duplicates removed), at
 * most alt_max of them.  Either way the rows are the same: the id
 * condition stays in the Filter, and get-by-id drops what the listing
 * hides (plan->hidden_key).
 */
static void
choose_detail(CivisScanState *fsstate, CivisValue *values)
{
	ListCell   *lc;

	if (fsstate->alt_plan == NULL)
		return;
	fsstate->plan = fsstate->planned;
	fsstate->req_plan = fsstate->plan;
	fsstate->alt_chosen = false;
	fsstate->answer_locally = false;

	/*
	 * A scan that delivers a pushed sort (no Sort above it) fetches objects
	 * by id only when the sort is by id: the streams are then put in id order
	 * (start_streams).  Any other sort keeps the listing.
	 */
	if (fsstate->planned->order_attnum > 0 &&
		strcmp(fsstate->info->columns[fsstate->planned->order_attnum - 1].key,
			   civis_quirk_id_key) != 0)
		return;
	if (fsstate->adaptive_key > 0)
	{
		choose_filtered(fsstate, values);
		return;
	}
	foreach(lc, fsstate->alt_plan->args)
	{
		CivisArg   *arg = lfirst(lc);
		CivisDecision d;

		if (arg->kind != CIVIS_ARG_DETAIL_ID || arg->expr_index < 0)
			continue;
		civis_decide(arg, &values[arg->expr_index], &d);
		fsstate->alt_ids = list_length(d.texts);
		fsstate->probe_texts = d.outcome == CIVIS_EXACT ? d.texts : NIL;
		if (d.outcome == CIVIS_NO_ROWS ||
			(d.outcome == CIVIS_EXACT && fsstate->store == NULL &&
			 fsstate->detail_spent + fsstate->alt_ids <= fsstate->alt_max))
		{
			fsstate->plan = fsstate->alt_plan;
			fsstate->req_plan = fsstate->plan;
			fsstate->alt_chosen = true;
			if (fsstate->adaptive && d.outcome == CIVIS_EXACT)
				fsstate->detail_spent += fsstate->alt_ids;
		}
		else if (fsstate->adaptive)
			answer_from_store(fsstate);
		return;
	}
}

/* Detail streams in id order (a pushed ORDER BY id met by get-by-id). */
static int
stream_id_cmp_asc(const ListCell *a, const ListCell *b)
{
	const CivisStream *sa = lfirst(a);
	const CivisStream *sb = lfirst(b);
	int64		x = sa->detail_id ? strtoll(sa->detail_id, NULL, 10) : 0;
	int64		y = sb->detail_id ? strtoll(sb->detail_id, NULL, 10) : 0;

	return (x > y) - (x < y);
}

static int
stream_id_cmp_desc(const ListCell *a, const ListCell *b)
{
	return stream_id_cmp_asc(b, a);
}

/* Expand the plan into streams with the current parameter values. */
void
civis_start_streams(CivisScanState *fsstate, ExprContext *econtext)
{
	MemoryContext old = MemoryContextSwitchTo(fsstate->rescan_cxt);
	CivisValue *values;

	/*
	 * Only a scan that runs needs its path parameters: a gating One-Time
	 * Filter (WHERE ... AND NULL) never gets here, and returns no rows.
	 */
	missing_path_param_error(fsstate->info,
							 fsstate->planned ? fsstate->planned : fsstate->plan);
	values = econtext ? evaluate_values(fsstate, econtext)
		: palloc0(sizeof(CivisValue));
	fsstate->rescan_values = values;
	choose_detail(fsstate, values);
	start_plan(fsstate, values);
	MemoryContextSwitchTo(old);
}

/*
 * Expand the plan chosen for this rescan into streams and start them (or
 * answer from the kept listing).  In rescan_cxt.
 */
static void
start_plan(CivisScanState *fsstate, CivisValue *values)
{
	CivisExpansion exp;
	int			n,
				i;

	civis_expand(fsstate->plan, values, fsstate->info->relname, true, &exp);
	fsstate->streams = exp.streams;
	fsstate->active_rechecks = exp.rechecks;
	if (fsstate->alt_chosen && fsstate->planned->order_attnum > 0)
		list_sort(fsstate->streams, fsstate->planned->order_desc
				  ? stream_id_cmp_desc : stream_id_cmp_asc);
	if (fsstate->alt_chosen)
	{
		ListCell   *lc;

		/*
		 * The listing's conditions that left the Filter are not sent to a
		 * detail endpoint: evaluate them here (its path parameters are sent
		 * there too).
		 */
		foreach(lc, fsstate->planned->args)
		{
			CivisArg   *arg = lfirst(lc);

			if (arg->recheck_index >= 0 && arg->kind != CIVIS_ARG_PATH)
				fsstate->active_rechecks =
					list_append_unique_int(fsstate->active_rechecks,
										   arg->recheck_index);
		}
	}
	n = list_length(fsstate->streams);
	fsstate->paging = palloc0(sizeof(CivisPaging) * Max(n, 1));
	for (i = 0; i < n; i++)
		civis_paging_init(&fsstate->paging[i], fsstate->plan, exp.cursor_start);
	apply_limit(fsstate, values, n);
	fsstate->cur = -1;
	fsstate->started = true;
	if (fsstate->answer_locally)
	{
		/* the listing's request is the same for every rescan (planner.c) */
		if (fsstate->store == NULL)
			civis_fill_store(fsstate);
		civis_http_discard_all(fsstate->http);
		MemoryContextReset(fsstate->page_cxt);
		fsstate->page = NULL;
		fsstate->nitems = fsstate->item = 0;
		fsstate->streams = NIL;
		civis_local_candidates(fsstate);
	}
}

/*
 * An adaptive scan on a column other than the id whose filtered listing,
 * at its first page, turns out to need more requests than the budget has
 * left (load_next_page): none of its rows has been returned yet, so the
 * rest of it is not requested; the unfiltered listing is read into the
 * store (once, for every remaining rescan) and answers this rescan.  The
 * requests of all rescans are then at most twice the unfiltered listing's
 * pages: fewer than alt_max before this rescan, this one page, and the
 * listing.
 */
static void
switch_to_store(CivisScanState *fsstate)
{
	MemoryContext old = MemoryContextSwitchTo(fsstate->rescan_cxt);

	fsstate->switch_pending = false;
	fsstate->detail_spent = fsstate->requests_sent;
	civis_http_discard_all(fsstate->http);
	drop_page(fsstate);
	fsstate->have_prev = false;
	fsstate->stopped = false;
	fsstate->alt_chosen = false;
	answer_from_store(fsstate);
	start_plan(fsstate, fsstate->rescan_values);
	MemoryContextSwitchTo(old);
}

static int
submit_page(CivisScanState *fsstate, int s, CivisPaging *ps, int64 page_num)
{
	CivisStream *stream = list_nth(fsstate->streams, s);
	CivisPaging tmp = *ps;
	List	   *parts;
	char	   *url,
			   *shown;
	int			ticket;
	MemoryContext old;

	/* the transport keeps its own copies: nothing here outlives the call */
	MemoryContextReset(fsstate->url_cxt);
	old = MemoryContextSwitchTo(fsstate->url_cxt);
	tmp.next_page = page_num;
	parts = civis_paging_parts(fsstate->req_plan, fsstate->info, &tmp);
	url = civis_build_url(fsstate->info->api_url, stream, parts, false);
	shown = civis_build_url(NULL, stream, parts, true);
	ticket = civis_http_submit(fsstate->http, url, shown);
	fsstate->requests_sent++;
	MemoryContextSwitchTo(old);
	MemoryContextReset(fsstate->url_cxt);
	return ticket;
}

/*
 * Pages of the ramp held back because rows are filtered here under a
 * bound (a condition left in the Filter at planning, or one this
 * execution's value made the scan evaluate itself): the first full page
 * may hold every row the bound needs, so nothing goes out ahead of it;
 * only once its rows have all been read, and the executor still asks,
 * have the rows requested not sufficed, and the ramp starts, one page
 * later than without a Filter.  A small first page read again at the full
 * size (a value found not exact at execution) is not a page of new rows:
 * it does not advance the ramp either.  The requests wasted when the
 * executor stops then stay below the pages it used (none at all when the
 * first full page suffices).
 */
static int64
ramp_delay(CivisScanState *fsstate)
{
	if (fsstate->req_plan->bound <= 0 ||
		(fsstate->req_plan->local_read <= 0 && fsstate->active_rechecks == NIL))
		return 0;
	return 1 + fsstate->reread_pages;
}

/*
 * May the next page of this stream go out before it is asked for?  The
 * pages a pushed LIMIT needs, yes; the pages the bound needs if every row
 * passes, yes; beyond those, read-ahead ramps up with the pages consumed
 * (1, 2, 4, ...), so that the requests wasted when the executor stops
 * early never outnumber those it used (held back one page under a local
 * Filter: ramp_delay).  Never while a page sized by the read hint decides
 * what comes next, nor for a sorted stream that goes on to a local sort
 * rather than to its next page.
 */
static bool
ahead_allowed(CivisScanState *fsstate, const CivisPaging *ps)
{
	int			bound = fsstate->req_plan->bound;

	if (ps->small || ps->restart_pending)
		return false;
	if (fsstate->sorted_ties && fsstate->stop_state == NULL)
		return false;
	if (ps->last_page > 0)
		return true;

	/*
	 * A stream that may stop at any row: the next page is needed (the last
	 * row passed the stop, see last_row_stops), the ones after it only one
	 * page later than the ramp.
	 */
	if (fsstate->stop_state != NULL)
		return ps->next_submit <= ps->next_page || ps->nahead < ps->pages - 1;
	/* the query reads every row (planning said so): no ramp */
	if (bound < 0)
		return true;
	if (bound > 0 && ps->page_size > 0 &&
		ps->next_submit <= ((int64) bound + ps->page_size - 1) / ps->page_size)
		return true;
	return ps->nahead < ps->pages - ramp_delay(fsstate);
}

/*
 * How many response bodies a scan may hold ahead of the one it reads (in
 * flight or arrived): each can reach max_response_bytes, so together they
 * stay within CIVIS_SCAN_BODY_BUDGET.  With the defaults (16 MiB bodies)
 * that is 16, so the default max_in_flight of 16 is never held back; with
 * the parse budget (CIVIS_JSON_TREE_LIMIT, 192 MiB) a scan's worst case is
 * 17 bodies of 16 MiB plus one tree, 464 MiB (487 MB), under 512 MB
 * whatever the API sends.  A raised max_response_bytes lowers the
 * read-ahead, down to one request at a time.
 */
#define CIVIS_SCAN_BODY_BUDGET ((int64) 256 * 1024 * 1024)

/*
 * The same bound for a whole backend, whatever the number of foreign scans
 * it keeps open (cursors, several foreign tables in one plan): response
 * bodies held or in flight (the transport's count, each request not
 * answered yet at its max_response_bytes) plus the parsed pages the open
 * scans hold (backend_page_bytes).  Read-ahead shrinks first, down to no
 * page ahead; a scan whose next page cannot fit beside what the others
 * hold is an ERROR (check_page_fits).  Measured (test/suites/memory.sh):
 * 8 cursors over an API answering 15 MB items stay under 512 MB of
 * VmHWM; 64 are an ERROR, not an out-of-memory kill.  Tuplestores and
 * sorts (the kept listing, the local sort) are bounded by work_mem and
 * stay outside this budget.
 */
#define CIVIS_BACKEND_MEMORY_BUDGET ((int64) 384 * 1024 * 1024)


/* Memory of this backend's requests and pages, this scan's set apart. */
static int64
held_elsewhere(CivisScanState *fsstate)
{
	return civis_http_backend_bytes(fsstate->http) +
		backend_page_bytes - fsstate->page_bytes;
}

static int
bodies_allowed(CivisScanState *fsstate)
{
	int64		each = Max(fsstate->info->max_response_bytes, 1);
	int64		room;

	/* what the backend leaves this scan, less the page it reads now */
	room = (CIVIS_BACKEND_MEMORY_BUDGET - held_elsewhere(fsstate)) / each - 1;
	return (int) Max(0, Min(Min(CIVIS_SCAN_BODY_BUDGET / each, MAX_AHEAD), room));
}

/*
 * Drop what another open scan fetched ahead (in flight or arrived, not yet
 * read): it is fetched again when that scan gets there.  Its current page
 * stays.
 */
static void
drop_read_ahead(CivisScanState *other)
{
	int			n = list_length(other->streams);
	int			s;

	for (s = 0; other->paging != NULL && s < n; s++)
	{
		CivisPaging *ps = &other->paging[s];

		while (ps->nahead > 0)
		{
			civis_http_discard(other->http, ps->ahead[ps->ahead_head]);
			ps->ahead_head = (ps->ahead_head + 1) % MAX_AHEAD;
			ps->nahead--;
		}
		ps->next_submit = ps->next_page;
		if (ps->first_ticket >= 0 && s != other->cur)
		{
			civis_http_discard(other->http, ps->first_ticket);
			ps->first_ticket = -1;
		}
	}
}

/*
 * The next page must be requested now: it may take max_response_bytes as
 * it arrives and as much again parsed.  If that cannot fit beside what the
 * backend's other requests and open scans hold, the other scans' pages
 * fetched ahead go first; if it still cannot, nothing is sent.
 */
static void
check_page_fits(CivisScanState *fsstate)
{
	int64		each = Max(fsstate->info->max_response_bytes, 1);
	int64		held = (civis_http_backend_bytes(NULL) + backend_page_bytes -
						fsstate->page_bytes);

	if (held > 0 && held + 2 * each > CIVIS_BACKEND_MEMORY_BUDGET)
	{
		dlist_iter	it;

		dlist_foreach(it, &backend_scans)
		{
			CivisScanState *other = dlist_container(CivisScanState, open_node, it.cur);

			if (other != fsstate && other->http != NULL)
				drop_read_ahead(other);
		}
		held = civis_http_backend_bytes(NULL) + backend_page_bytes -
			fsstate->page_bytes;
	}
	/* alone, a scan is bounded by the per-scan limits above */
	if (held > 0 && held + 2 * each > CIVIS_BACKEND_MEMORY_BUDGET)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("foreign table \"%s\" cannot read its next page within the memory civis_fdw allows one session",
						fsstate->info->relname),
				 errdetail("The session's %d open foreign scans hold %lld MB of responses and parsed pages; the next page may take up to twice max_response_bytes (%lld MB), and the limit is %lld MB.",
						   backend_open_scans,
						   (long long) (held / (1024 * 1024)),
						   (long long) (each / (1024 * 1024)),
						   (long long) (CIVIS_BACKEND_MEMORY_BUDGET / (1024 * 1024))),
				 errhint("Close the cursors over foreign tables that are no longer needed (%d foreign scans are open), or lower the server option max_response_bytes.",
						 backend_open_scans)));
}

/* A page was parsed (bytes of page_cxt), or dropped (0). */
static void
set_page_bytes(CivisScanState *fsstate, int64 bytes)
{
	backend_page_bytes += bytes - fsstate->page_bytes;
	fsstate->page_bytes = bytes;
}

/*
 * Forget the current page and the ids of it and of the one before (a
 * rescan, or the adaptive scan's switch to the kept listing).
 */
static void
drop_page(CivisScanState *fsstate)
{
	MemoryContextReset(fsstate->page_cxt);
	set_page_bytes(fsstate, 0);
	fsstate->page = NULL;
	fsstate->nitems = fsstate->item = 0;
	fsstate->prev_ids = fsstate->cur_ids = NULL;
	fsstate->nprev = fsstate->ncur = 0;
}


/*
 * Keep up to max_in_flight requests busy with pages that will be needed if
 * the executor keeps asking (ahead_allowed): the rest of the current
 * listing once its total is known, then the first pages of the next
 * streams, as many as pages were consumed.
 */
static void
fill_ahead(CivisScanState *fsstate)
{
	int			budget = fsstate->info->max_in_flight - civis_http_in_flight(fsstate->http);
	int			n = list_length(fsstate->streams);
	int			s;
	int64		outstanding = 0;
	int			bodies = bodies_allowed(fsstate);

	if (fsstate->cur >= 0 && fsstate->cur < n)
	{
		CivisPaging *ps = &fsstate->paging[fsstate->cur];
		int64		last = ps->total_pages;

		/*
		 * Only pages known to exist are fetched ahead: a pushed LIMIT may
		 * stop earlier, but before the first page says how many there are, a
		 * LIMIT alone (LIMIT 9223372036854775807) proves nothing.
		 */
		if (ps->last_page > 0 && last >= 0 && ps->last_page < last)
			last = ps->last_page;
		if (last > fsstate->info->max_pages)
			last = fsstate->info->max_pages;
		if (fsstate->page_cap > 0 && last > fsstate->page_cap)
			last = fsstate->page_cap;
		/* pages that arrived but wait to be read count too: memory is bounded */
		while (budget > 0 && !ps->done && last >= 0 &&
			   ps->next_submit <= last &&
			   ps->nahead < Min(MAX_AHEAD, Min(2 * fsstate->info->max_in_flight, bodies)) &&
			   (fsstate->plan->paging == CIVIS_PAGING_PAGES ||
				fsstate->plan->paging == CIVIS_PAGING_AUTO) &&
			   ahead_allowed(fsstate, ps))
		{
			int			slot = (ps->ahead_head + ps->nahead) % MAX_AHEAD;

			ps->ahead[slot] = submit_page(fsstate, fsstate->cur, ps, ps->next_submit);
			ps->nahead++;
			ps->next_submit++;
			budget--;
		}
	}
	if (fsstate->cur >= 0 && fsstate->cur < n)
		outstanding = fsstate->paging[fsstate->cur].nahead;
	for (s = fsstate->cur + 1; s < n && budget > 0; s++)
	{
		CivisPaging *ps = &fsstate->paging[s];

		if (ps->first_ticket >= 0)
			outstanding++;
		else if (!ps->done)
		{
			if (outstanding >= fsstate->pages - ramp_delay(fsstate) &&
				fsstate->req_plan->bound >= 0)
				break;
			if (outstanding >= bodies)
				break;
			ps->first_ticket = submit_page(fsstate, s, ps, ps->next_page);
			outstanding++;
			budget--;
		}
	}
}

int
civis_cmp_int64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

bool
civis_id_in(const int64 *ids, int n, int64 id)
{
	return n > 0 && bsearch(&id, ids, n, sizeof(int64), civis_cmp_int64) != NULL;
}

/*
 * Remember the ids of the page just loaded (sorted, for lookups), keeping
 * the previous page's: a row that slid across a page boundary while the
 * listing changed is dropped the second time.  Memory: two pages of ids.
 */
static void
collect_ids(CivisScanState *fsstate)
{
	int			i,
				n = fsstate->nitems;
	MemoryContext old = MemoryContextSwitchTo(fsstate->rescan_cxt);

	if (fsstate->prev_ids)
		pfree(fsstate->prev_ids);
	fsstate->prev_ids = fsstate->cur_ids;
	fsstate->nprev = fsstate->ncur;
	fsstate->cur_ids = palloc(sizeof(int64) * Max(n, 1));
	fsstate->ncur = 0;
	MemoryContextSwitchTo(old);

	/* one id lookup per item, here; the rows then only read the flag */
	fsstate->seen_before = MemoryContextAllocZero(fsstate->page_cxt, sizeof(bool) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		bool		has_id;
		int64		id = civis_page_item_id(fsstate->page, i, &has_id);

		if (!has_id)
			continue;
		fsstate->cur_ids[fsstate->ncur++] = id;
		fsstate->seen_before[i] = civis_id_in(fsstate->prev_ids, fsstate->nprev, id);
	}
	qsort(fsstate->cur_ids, fsstate->ncur, sizeof(int64), civis_cmp_int64);
}

static bool
same_page_again(CivisScanState *fsstate)
{
	return fsstate->ncur > 0 && fsstate->ncur == fsstate->nprev &&
		memcmp(fsstate->cur_ids, fsstate->prev_ids, sizeof(int64) * fsstate->ncur) == 0;
}

/* A response status that means "no rows" rather than an error. */
bool
civis_status_means_empty(CivisScanState *fsstate, long status)
{
	/* a detail or a parent resource that does not exist */
	return civis_quirk_status_means_no_rows(status) &&
		(fsstate->plan->kind == CIVIS_PLAN_DETAIL ||
		 strchr(fsstate->plan->endpoint, '{') != NULL);
}

/* Switch to the next stream that may have rows; false at the end. */
static bool
next_stream(CivisScanState *fsstate)
{
	int			n = list_length(fsstate->streams);

	while (++fsstate->cur < n)
	{
		CivisStream *stream = list_nth(fsstate->streams, fsstate->cur);
		ListCell   *lc;

		if (fsstate->paging[fsstate->cur].done)
			continue;
		foreach(lc, stream->echo)
		{
			CivisEcho  *echo = lfirst(lc);

			if (echo->has_datum)
				civis_decoder_set_datum(fsstate->decoder, echo->attnum, echo->datum);
			else
				civis_decoder_set_constant(fsstate->decoder, echo->attnum, echo->text);
		}
		fsstate->nprev = fsstate->ncur = 0;
		return true;
	}
	return false;
}

/* The request of the stream's next page: fetched ahead, or sent now. */
static int
take_ticket(CivisScanState *fsstate, CivisPaging *ps)
{
	int			ticket;

	if (ps->first_ticket >= 0)
	{
		ticket = ps->first_ticket;
		ps->first_ticket = -1;
		ps->next_submit = ps->next_page + 1;
	}
	else if (ps->nahead > 0)
	{
		ticket = ps->ahead[ps->ahead_head];
		ps->ahead_head = (ps->ahead_head + 1) % MAX_AHEAD;
		ps->nahead--;
	}
	else
	{
		if (ps->restart_pending)
		{
			/*
			 * Page 1 again, full size: the rows of the small page are skipped
			 * by id as rows seen on the previous page, or by position where
			 * items have no id.
			 */
			ps->restart_pending = false;
			fsstate->restart_skip = (fsstate->ncur < fsstate->nitems) ? fsstate->nitems : 0;
			fsstate->reread_pages++;
		}
		check_page_fits(fsstate);
		ticket = submit_page(fsstate, fsstate->cur, ps, ps->next_page);
		ps->next_submit = ps->next_page + 1;
	}
	return ticket;
}

/*
 * Does the last row of the page just loaded already fail the early stop?
 * Then every later row does too, and the stream needs no further page.
 * Called between rows, when the scan slot holds nothing the executor
 * still reads.
 */
static bool
last_row_stops(CivisScanState *fsstate)
{
	TupleTableSlot *slot = fsstate->stop_slot;
	ExprContext *econtext = fsstate->stop_econtext;
	Datum	   *dvalues;
	bool	   *dnulls;
	MemoryContext old;
	bool		stops;

	if (fsstate->stop_state == NULL || fsstate->sorting || slot == NULL ||
		fsstate->req_plan->order_by == NULL || fsstate->nitems == 0)
		return false;
	dvalues = fsstate->upper ? fsstate->rel_values : slot->tts_values;
	dnulls = fsstate->upper ? fsstate->rel_nulls : slot->tts_isnull;
	ExecClearTuple(slot);
	MemoryContextReset(fsstate->row_cxt);
	old = MemoryContextSwitchTo(fsstate->row_cxt);
	civis_decode_item(fsstate->decoder, fsstate->page, fsstate->nitems - 1,
					  dvalues, dnulls);
	MemoryContextSwitchTo(old);
	if (dnulls[fsstate->plan->order_attnum - 1])
		return false;
	if (fsstate->upper)
	{
		ListCell   *lc;
		int			i = 0;

		foreach(lc, fsstate->retrieved_attrs)
		{
			slot->tts_values[i] = dvalues[lfirst_int(lc) - 1];
			slot->tts_isnull[i] = dnulls[lfirst_int(lc) - 1];
			i++;
		}
	}
	ExecStoreVirtualTuple(slot);
	econtext->ecxt_scantuple = slot;
	stops = !ExecQual(fsstate->stop_state, econtext);
	ExecClearTuple(slot);
	ResetExprContext(econtext);
	MemoryContextReset(fsstate->row_cxt);
	return stops;
}


/*
 * An object where a listing was expected.  Only a table with the option
 * response 'object' (IMPORT writes it for the endpoints quirks.c lists:
 * the shares, /search) reads one object as its one row; for any other an
 * object would silently be one row of a listing, so it is an ERROR.
 * Tables imported by 1.1.0 had no such option and read the object with
 * paging 'none': for one release they get a NOTICE naming the option.
 */
static void
refuse_object(CivisScanState *fsstate, const char *shown)
{
	const CivisTableInfo *info = fsstate->info;

	if (info->response_object)
		return;
	if (info->paging != CIVIS_PAGING_NONE)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("the response to %s is a JSON object, not an array", shown),
				 errdetail("Foreign table \"%s\" reads a listing, and an object is not one.",
						   info->relname),
				 errhint("If this endpoint answers one object, set the table option response 'object'.")));
	if (!fsstate->object_noticed)
		ereport(NOTICE,
				(errmsg("foreign table \"%s\" reads a JSON object as its one row without the table option response 'object'",
						info->relname),
				 errdetail("This release still reads it; the next one refuses an object where a listing was expected."),
				 errhint("Use ALTER FOREIGN TABLE ... OPTIONS (ADD response 'object'), or import the table again.")));
	fsstate->object_noticed = true;
}

/*
 * Load the next page with rows into fsstate->page; false at the end.
 *
 * Long because it is one turn of the page loop with its steps in the order
 * they must happen (next stream and caps, the request, the response's
 * checks, the paging state's advance, read-ahead), all over the same page,
 * URL and response.
 */
static bool
load_next_page(CivisScanState *fsstate)
{
	for (;;)
	{
		CivisPaging *ps;
		int			ticket;
		CivisResponse resp;
		MemoryContext old;
		CivisStream *stream;
		char	   *shown;
		bool		straddle = false;
		bool		restarting;

		if (fsstate->cur < 0 || fsstate->paging[fsstate->cur].done)
		{
			if (!next_stream(fsstate))
				return false;
		}
		if (fsstate->page_cap > 0 && fsstate->pages >= fsstate->page_cap)
		{
			fsstate->capped = true;
			civis_http_discard_all(fsstate->http);
			return false;
		}
		ps = &fsstate->paging[fsstate->cur];
		stream = list_nth(fsstate->streams, fsstate->cur);

		/* a sorted stream with ties needs a second page: sort locally? */
		if (fsstate->sorted_ties && fsstate->pages > 0)
		{
			if (fsstate->stop_state == NULL)
			{
				fsstate->need_local_sort = true;
				return false;
			}
			straddle = !ps->restart_pending;
		}

		restarting = ps->restart_pending && ps->first_ticket < 0 && ps->nahead == 0;
		ticket = take_ticket(fsstate, ps);
		/* pages known to be needed go out while this one is awaited */
		fill_ahead(fsstate);

		MemoryContextReset(fsstate->page_cxt);
		set_page_bytes(fsstate, 0);
		fsstate->page = NULL;
		fsstate->nitems = fsstate->item = 0;
		old = MemoryContextSwitchTo(fsstate->page_cxt);
		{
			CivisPaging tmp = *ps;

			shown = civis_build_url(NULL, stream, civis_paging_parts(fsstate->req_plan, fsstate->info, &tmp), true);
		}
		civis_http_wait(fsstate->http, ticket, &resp);
		fsstate->slowest_ms = Max(fsstate->slowest_ms, resp.elapsed_ms);

		if (resp.status != 200)
		{
			if (!civis_status_means_empty(fsstate, resp.status))
				civis_raise_http_error(&resp, shown, fsstate->info->relname);
			ps->done = true;
			MemoryContextSwitchTo(old);
			continue;
		}

		fsstate->page = civis_page_parse(resp.body, resp.body_len, shown,
										 fsstate->info->relname);
		fsstate->nitems = civis_page_count(fsstate->page);
		/* the tree holds what the rows need: the body can go */
		pfree(resp.body);
		resp.body = NULL;
		MemoryContextSwitchTo(old);
		set_page_bytes(fsstate, 2 * (int64) MemoryContextMemAllocated(fsstate->page_cxt, true));

		if (!civis_page_is_array(fsstate->page) && fsstate->plan->kind == CIVIS_PLAN_LIST)
			refuse_object(fsstate, shown);

		collect_ids(fsstate);
		/* a window repeats entries at its start_at: those are skipped */
		civis_paging_mark_repeats(ps, fsstate->plan, fsstate->page,
								  fsstate->nitems, fsstate->seen_before);
		if (restarting)
		{
			int			i;

			/* the rows of the small page again: not duplicates of a move */
			for (i = 0; i < fsstate->nitems; i++)
				if (fsstate->seen_before[i])
					fsstate->duplicates--;
		}
		if (fsstate->restart_skip > 0)
		{
			fsstate->item = Max(fsstate->item, Min(fsstate->restart_skip, fsstate->nitems));
			fsstate->restart_skip = 0;
		}
		fsstate->check_straddle = straddle;
		if (same_page_again(fsstate))
			ereport(ERROR,
					(errcode(ERRCODE_FDW_ERROR),
					 errmsg("the Civis API returned the same page twice for foreign table \"%s\"",
							fsstate->info->relname),
					 errcontext("Civis API request: GET %s", shown),
					 errhint("Its paging headers cannot be trusted; the result would be incomplete.")));
		civis_paging_advance(ps, fsstate->req_plan, fsstate->info, fsstate->page, fsstate->nitems,
							 fsstate->ncur > 0, fsstate->ncur > 0 ? fsstate->cur_ids[fsstate->ncur - 1] : 0,
							 &resp, shown, fsstate->rescan_cxt);
		fsstate->pages++;
		monitor_page(fsstate);
		if (fsstate->filtered_first_page)
		{
			/* a filtered listing longer than the budget left: switch_to_store */
			fsstate->filtered_first_page = false;
			if (!ps->done && ps->total_pages > 1 &&
				fsstate->detail_spent + ps->total_pages > fsstate->alt_max)
			{
				fsstate->switch_pending = true;
				return fsstate->item < fsstate->nitems;
			}
		}
		if (!ps->done && last_row_stops(fsstate))
			ps->done = true;
		fill_ahead(fsstate);
		if (fsstate->item < fsstate->nitems)
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
check_order(CivisScanState *fsstate, Datum value, bool isnull)
{
	bool		ok = true;
	Form_pg_attribute att;

	if (fsstate->have_prev)
	{
		if (fsstate->prev_null != isnull)
			ok = fsstate->plan->order_desc ? fsstate->prev_null : isnull;
		else if (!isnull)
		{
			int32		cmp = DatumGetInt32(FunctionCall2Coll(&fsstate->order_cmp,
															  fsstate->order_collation,
															  fsstate->prev_value, value));

			ok = fsstate->plan->order_desc ? cmp >= 0 : cmp <= 0;
		}
	}
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("the Civis API returned rows of foreign table \"%s\" out of the requested order",
						fsstate->info->relname),
				 errdetail("The query's ORDER BY %s %s was sent as order=%s.",
						   fsstate->info->columns[fsstate->plan->order_attnum - 1].attname,
						   fsstate->plan->order_desc ? "DESC" : "ASC", fsstate->plan->order_by),
				 errhint("Set civis_fdw.enable_pushdown = off (or the table option pushdown 'false') to sort locally.")));

	/* keep this value (the previous one is no longer needed) */
	MemoryContextReset(fsstate->order_cxt);
	fsstate->have_prev = true;
	fsstate->prev_null = isnull;
	if (!isnull)
	{
		MemoryContext old = MemoryContextSwitchTo(fsstate->order_cxt);

		att = TupleDescAttr(RelationGetDescr(fsstate->rel), fsstate->plan->order_attnum - 1);
		fsstate->prev_value = datumCopy(value, att->attbyval, att->attlen);
		MemoryContextSwitchTo(old);
	}
}

/*
 * The next row of the pages, decoded into arrays of the relation's width,
 * with its id; false at the end.  Datums live in row_cxt.
 */
bool
civis_next_page_row(CivisScanState *fsstate, Datum *dvalues, bool *dnulls,
					int64 *id, bool *has_id)
{
	for (;;)
	{
		MemoryContext old;

		if (fsstate->page == NULL || fsstate->item >= fsstate->nitems)
		{
			if (!load_next_page(fsstate))
				return false;
		}

		/*
		 * A row that slid here from the previous page was returned there. In
		 * a stream sorted on a key with ties, its key is the boundary's (it
		 * belongs to both pages), so a run of ties straddles the boundary and
		 * another row of that run may be on neither page: next_row sorts
		 * locally.
		 */
		if (fsstate->seen_before[fsstate->item])
		{
			fsstate->item++;
			fsstate->duplicates++;
			if (fsstate->sorted_ties)
				fsstate->tie_repeated = true;
			continue;
		}

		/* get-by-id: an object the listing would have hidden (quirks.c) */
		if (fsstate->plan->hidden_key)
		{
			char	   *hidden = civis_page_item_text(fsstate->page, fsstate->item,
													  fsstate->plan->hidden_key);

			if (hidden && strcmp(hidden, "true") == 0)
			{
				fsstate->item++;
				continue;
			}
		}

		*id = civis_page_item_id(fsstate->page, fsstate->item, has_id);
		old = MemoryContextSwitchTo(fsstate->row_cxt);
		civis_decode_item(fsstate->decoder, fsstate->page, fsstate->item, dvalues, dnulls);
		MemoryContextSwitchTo(old);
		fsstate->item++;
		return true;
	}
}

/*
 * The next row into values/isnull (arrays of the relation's width, or of
 * the scan tuple for an upper relation); false at the end.  Datums live in
 * row_cxt (or the local sort) until the next call.
 */
bool
civis_next_row(CivisScanState *fsstate, Datum *values, bool *isnull)
{
	Datum	   *dvalues = fsstate->upper ? fsstate->rel_values : values;
	bool	   *dnulls = fsstate->upper ? fsstate->rel_nulls : isnull;

	MemoryContextReset(fsstate->row_cxt);
	if (fsstate->stopped)
		return false;
	if (fsstate->answer_locally)
	{
		if (!civis_next_local_row(fsstate, dvalues, dnulls))
			return false;
	}
	else if (fsstate->sorting)
	{
		if (!civis_next_sorted_row(fsstate, dvalues, dnulls))
			return false;
	}
	else
	{
		int64		id;
		bool		has_id;
		bool		got = civis_next_page_row(fsstate, dvalues, dnulls, &id, &has_id);

		if (fsstate->switch_pending)
		{
			/* the row decoded is not returned: the store answers */
			switch_to_store(fsstate);
			if (!civis_next_local_row(fsstate, dvalues, dnulls))
				return false;
		}
		else if (!got)
		{
			if (!fsstate->need_local_sort && !fsstate->tie_repeated)
				return false;
			fsstate->need_local_sort = false;
			civis_start_local_sort(fsstate);
			if (!civis_next_sorted_row(fsstate, dvalues, dnulls))
				return false;
		}
		else if (fsstate->sorted_ties)
		{
			if (fsstate->tie_repeated ||
				(fsstate->check_straddle && civis_straddles(fsstate, dvalues, dnulls)))
			{
				/* this row is not returned: the local sort has it */
				civis_start_local_sort(fsstate);
				if (!civis_next_sorted_row(fsstate, dvalues, dnulls))
					return false;
			}
			else
				civis_remember_decoded(fsstate, id, has_id);
			fsstate->check_straddle = false;
		}
	}

	if (fsstate->plan->order_attnum > 0)
	{
		fsstate->key_null = dnulls[fsstate->plan->order_attnum - 1];
		check_order(fsstate, dvalues[fsstate->plan->order_attnum - 1],
					dnulls[fsstate->plan->order_attnum - 1]);
	}
	fsstate->rows++;
	if (fsstate->upper)
	{
		ListCell   *lc;
		int			i = 0;

		foreach(lc, fsstate->retrieved_attrs)
		{
			values[i] = dvalues[lfirst_int(lc) - 1];
			isnull[i] = dnulls[lfirst_int(lc) - 1];
			i++;
		}
	}
	return true;
}

/*
 * Does the row in the scan slot pass the conditions this execution must
 * evaluate itself?  Each is one clause the plan removed from the Filter,
 * so NULL counts as false, as in a WHERE clause.
 */
static bool
recheck_row(CivisScanState *fsstate, ExprContext *econtext, TupleTableSlot *slot)
{
	ListCell   *lc;

	econtext->ecxt_scantuple = slot;
	foreach(lc, fsstate->active_rechecks)
		if (!ExecQual(fsstate->recheck_states[lfirst_int(lc)], econtext))
			return false;
	return true;
}

/*
 * The next row into the scan slot that the scan keeps: before an early
 * stop (the stream is sorted by the scan's own request and this row's key
 * is past a bound of the WHERE clause, so is every later row's) and
 * passing the conditions this execution rechecks.  false at the end.
 */
bool
civis_next_kept_row(CivisScanState *fsstate, ExprContext *econtext,
					TupleTableSlot *slot)
{
	for (;;)
	{
		ExecClearTuple(slot);
		if (!civis_next_row(fsstate, slot->tts_values, slot->tts_isnull))
			return false;
		ExecStoreVirtualTuple(slot);
		if (fsstate->stop_state && !fsstate->key_null)
		{
			econtext->ecxt_scantuple = slot;
			if (!ExecQual(fsstate->stop_state, econtext))
			{
				fsstate->stopped = true;
				civis_http_discard_all(fsstate->http);
				ResetExprContext(econtext);
				ExecClearTuple(slot);
				return false;
			}
		}
		if (fsstate->active_rechecks != NIL && !recheck_row(fsstate, econtext, slot))
		{
			fsstate->rows_removed++;
			ResetExprContext(econtext);
			continue;
		}
		return true;
	}
}


static TupleTableSlot *
civisIterateForeignScan(ForeignScanState *node)
{
	CivisScanState *fsstate = node->fdw_state;
	TupleTableSlot *slot = node->ss.ss_ScanTupleSlot;
	ExprContext *econtext = node->ss.ps.ps_ExprContext;

	if (fsstate->count_mode)
		return civis_count_iterate(node);
	if (!fsstate->started)
		civis_start_streams(fsstate, econtext);
	for (;;)
	{
		if (fsstate->remaining == 0)
		{
			/* the pushed LIMIT is met: pages fetched ahead are not needed */
			civis_http_discard_all(fsstate->http);
			return ExecClearTuple(slot);
		}
		if (!civis_next_kept_row(fsstate, econtext, slot))
			return ExecClearTuple(slot);
		/* a pushed OFFSET/LIMIT counts the rows that pass */
		if (fsstate->skip > 0)
		{
			fsstate->skip--;
			continue;
		}
		if (fsstate->remaining > 0)
			fsstate->remaining--;
		fsstate->rows_out++;
		return slot;
	}
}

static void
civisReScanForeignScan(ForeignScanState *node)
{
	CivisScanState *fsstate = node->fdw_state;

	if (fsstate->http == NULL)
		return;
	civis_http_discard_all(fsstate->http);
	civis_end_local_sort(fsstate);
	fsstate->expected_before = Max(pages_expected(fsstate), 0);
	drop_page(fsstate);
	MemoryContextReset(fsstate->rescan_cxt);
	fsstate->streams = NIL;
	fsstate->started = false;
	fsstate->have_prev = false;
	fsstate->count_done = false;
	fsstate->req_plan = fsstate->plan;
	fsstate->sorted_ties = fsstate->plan->order_attnum > 0 &&
		strcmp(fsstate->info->columns[fsstate->plan->order_attnum - 1].key, civis_quirk_id_key) != 0;
	fsstate->ids_incomplete = false;
	fsstate->stopped = false;
	fsstate->check_straddle = false;
	fsstate->tie_repeated = false;
	fsstate->need_local_sort = false;
	fsstate->restart_skip = 0;
	fsstate->decoded_ids = NULL;
	fsstate->ndecoded = fsstate->decoded_cap = 0;
}

static void
civisEndForeignScan(ForeignScanState *node)
{
	CivisScanState *fsstate = node->fdw_state;

	/* deleting the context runs the transport's cleanup callback */
	if (fsstate && fsstate->scan_cxt)
	{
		civis_end_local_sort(fsstate);
		if (fsstate->store)
			tuplestore_end(fsstate->store);
		MemoryContextDelete(fsstate->scan_cxt);
	}
	node->fdw_state = NULL;
}

/* For explain.c: the scan's statistics. */
void
civis_scan_stats(ForeignScanState *node, const CivisHttpStats **http,
				 int64 *pages, int64 *rows, int64 *duplicates,
				 int64 *removed, double *slowest_ms)
{
	CivisScanState *fsstate = node->fdw_state;

	*slowest_ms = fsstate ? fsstate->slowest_ms : 0;
	*http = (fsstate && fsstate->http) ? civis_http_stats(fsstate->http) : NULL;
	*pages = fsstate ? fsstate->pages : 0;
	*rows = fsstate ? fsstate->rows : 0;
	*duplicates = fsstate ? fsstate->duplicates : 0;
	*removed = fsstate ? fsstate->rows_removed : 0;
}

/* For explain.c: what the request economy did. */
void
civis_scan_economy(ForeignScanState *node, bool *sorted_locally, bool *stopped)
{
	CivisScanState *fsstate = node->fdw_state;

	*sorted_locally = fsstate && fsstate->sorted_locally;
	*stopped = fsstate && fsstate->stopped;
}

/* For explain.c: the plan and the table of a scan. */
void
civis_scan_plan(ForeignScanState *node, CivisRequestPlan **plan,
				CivisTableInfo **info)
{
	CivisScanState *fsstate = node->fdw_state;

	*plan = fsstate->planned ? fsstate->planned : fsstate->plan;
	*info = fsstate->info;
}

/*
 * For explain.c: is this a count(*) scan, and what did its last execution
 * do (NULL before one)?
 */
bool
civis_scan_count(ForeignScanState *node, const char **source)
{
	CivisScanState *fsstate = node->fdw_state;

	*source = fsstate ? fsstate->count_source : NULL;
	return fsstate && fsstate->count_mode;
}

/*
 * For explain.c: the get-by-id plan decided at scan start, if any, its
 * limit, and what the last start saw (*ids -1: none yet).
 */
CivisRequestPlan *
civis_scan_detail_alternative(ForeignScanState *node, int *max, int *ids,
							  bool *chosen)
{
	CivisScanState *fsstate = node->fdw_state;

	if (fsstate == NULL || fsstate->alt_plan == NULL)
		return NULL;
	*max = fsstate->alt_max;
	*ids = fsstate->alt_ids;
	*chosen = fsstate->alt_chosen;
	return fsstate->alt_plan;
}

/*
 * For explain.c: an adaptive parameterized scan, its get-by-id requests so
 * far (its requests, when it reads filtered listings: *filtered), the rows
 * of the listing it kept (-1: none) and the rescans answered from them.
 */
bool
civis_scan_adaptive(ForeignScanState *node, int64 *spent, int64 *kept,
					int64 *answered, bool *filtered)
{
	CivisScanState *fsstate = node->fdw_state;

	if (fsstate == NULL || !fsstate->adaptive)
		return false;
	*spent = fsstate->adaptive_key > 0 && fsstate->store == NULL
		? fsstate->requests_sent : fsstate->detail_spent;
	*kept = fsstate->store ? fsstate->store_rows : -1;
	*answered = fsstate->local_rescans;
	*filtered = fsstate->adaptive_key > 0;
	return true;
}

/* ------------------------------------------------------------------
 * Scans outside the executor (ANALYZE)
 * ------------------------------------------------------------------ */

CivisScanState *
civis_scan_open(Relation rel, CivisRequestPlan *plan, List *retrieved_attrs,
				Oid userid, int64 max_pages)
{
	CivisScanState *fsstate = scan_create(rel, plan, retrieved_attrs, NIL, userid,
										  CurrentMemoryContext);

	fsstate->page_cap = max_pages;
	civis_start_streams(fsstate, NULL);
	return fsstate;
}

/* Did the scan stop at its page cap with more pages left? */
bool
civis_scan_capped(CivisScanState *fsstate)
{
	return fsstate->capped;
}

/* X-Pagination-Total-Entries of the first stream's first page, or -1. */
int64
civis_scan_total_entries(CivisScanState *fsstate)
{
	if (fsstate->paging == NULL || list_length(fsstate->streams) == 0)
		return -1;
	return fsstate->paging[0].total_entries;
}

bool
civis_scan_next(CivisScanState *fsstate, Datum *values, bool *isnull)
{
	return civis_next_row(fsstate, values, isnull);
}

int64
civis_scan_pages_read(CivisScanState *fsstate)
{
	return fsstate->pages;
}

void
civis_scan_close(CivisScanState *fsstate)
{
	MemoryContextDelete(fsstate->scan_cxt);
}

void
civis_scan_routines(FdwRoutine *routine)
{
	routine->BeginForeignScan = civisBeginForeignScan;
	routine->IterateForeignScan = civisIterateForeignScan;
	routine->ReScanForeignScan = civisReScanForeignScan;
	routine->EndForeignScan = civisEndForeignScan;
	routine->ExplainForeignScan = civisExplainForeignScan;
}
