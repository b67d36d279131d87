/*-------------------------------------------------------------------------
 *
 * scan_state.h
 *		  The state of one foreign scan, shared by the files of the execute
 *		  stage and by nothing else:
 *
 *		  scan.c        callbacks, request streams, pages and rows
 *		  scan_sort.c   the local sort of a pushed ORDER BY with ties
 *		  scan_store.c  the kept listing of an adaptive parameterized scan
 *		  scan_count.c  count(*) from the paging headers
 *
 *-------------------------------------------------------------------------
 */
#ifndef CIVIS_SCAN_STATE_H
#define CIVIS_SCAN_STATE_H

#include "executor/tuptable.h"
#include "nodes/execnodes.h"
#include "utils/tuplesort.h"
#include "utils/tuplestore.h"

#include "civis_fdw.h"
#include "paging.h"
#include "request.h"
#include "scan.h"
#include "transport.h"

struct CivisScanState
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
	CivisPaging *paging;		/* paging state per stream */
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
	double		slowest_ms;		/* longest request, its retries included */
	bool		object_noticed; /* the NOTICE of a 1.1.0 object table given */
	int64		pages;
	int64		reread_pages;	/* small first pages read again at full size */
	int64		rows;
	int64		duplicates;

	/* ANALYZE: read at most this many pages (0: no cap) */
	int64		page_cap;
	bool		capped;

	/* pushed LIMIT/OFFSET: rows still to skip, rows still allowed (-1) */
	int64		skip;
	int64		remaining;

	/*
	 * Conditions the plan removed from the Filter (fdw_recheck_quals, one
	 * ExprState each) and which of them this execution's values need
	 * evaluated here after all (civis_decide said LOOSE or NOT_SENT).
	 */
	int			nrecheck;
	ExprState **recheck_states;
	List	   *active_rechecks;	/* integer list of indexes */
	int64		rows_removed;	/* by those rechecks */

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
	MemoryContext order_cxt;	/* holds prev_value only */

	/* a count(*) scan: one row, from the paging headers or counted */
	bool		count_mode;
	bool		count_done;
	const char *count_source;	/* what the last execution did, for EXPLAIN */

	/*
	 * Get-by-id decided at scan start: "planned" is the plan as planned (the
	 * listing), alt_plan the get-by-id plan taken instead when the ids are at
	 * most alt_max; alt_ids is how many the last start saw (-1: not decided
	 * yet), alt_chosen whether it took alt_plan.
	 */
	CivisRequestPlan *planned;
	CivisRequestPlan *alt_plan;
	int			alt_max;
	int			alt_ids;
	bool		alt_chosen;

	/*
	 * An adaptive parameterized scan (a join on the id): get-by-id while the
	 * requests of all rescans (detail_spent) stay within alt_max; then the
	 * listing is read once into "store" (rows before the rechecks, with their
	 * ids sorted in store_ids; rows without an id in store_noid) and every
	 * later rescan is answered from it (local_pos: the positions of this
	 * rescan's candidates).
	 */
	bool		adaptive;
	AttrNumber	adaptive_key;	/* the join column when not the id: rescans
								 * read its value's filtered listing, the
								 * store is keyed by it, and detail_spent
								 * counts requests (scan.c, choose_filtered) */
	int64		requests_sent;	/* pages requested, over every rescan */
	bool		filtered_first_page;	/* this rescan's filtered listing has
										 * not had its first page yet */
	bool		switch_pending; /* ... which showed it too long: the store
								 * answers (scan.c, switch_to_store) */
	struct CivisValue *rescan_values;	/* this rescan's values */
	int64		detail_spent;
	bool		answer_locally; /* this rescan reads the store */
	Tuplestorestate *store;
	TupleTableSlot *store_slot;
	int64		store_rows;
	int64		store_read;		/* position of the store's read pointer */
	struct StoredId *store_ids;
	int64		nstore_ids;
	int64	   *store_noid;
	int64		nstore_noid;
	int64		local_rescans;	/* rescans answered from the store */
	int64	   *local_pos;
	int64		nlocal;
	int64		next_local;
	List	   *probe_texts;	/* this rescan's ids, as decide gave them */

	/*
	 * Request economy.  req_plan is what the paging sends: the plan, or the
	 * plan without its sort once the scan sorts locally.  A pushed sort on a
	 * key that is not unique (sorted_ties) is trusted for one page, or page
	 * after page while no tie straddles a page boundary when a condition
	 * stops the stream early (stop_state); the ids of the rows decoded
	 * meanwhile are kept so that the local sort skips them.
	 */
	CivisRequestPlan *req_plan;
	bool		sorted_ties;
	bool		ids_incomplete; /* a decoded row had no id */
	ExprState  *stop_state;
	TupleTableSlot *stop_slot;	/* the scan slot, to test a page's last row */
	ExprContext *stop_econtext;
	bool		stopped;
	bool		key_null;		/* the last row's sort key is NULL */
	bool		check_straddle; /* the next row starts a new sorted page */
	bool		tie_repeated;	/* a sorted page repeated a row of the
								 * previous one (next_page_row) */
	bool		need_local_sort;
	int			restart_skip;	/* rows to skip by position on a restart */
	int64	   *decoded_ids;
	int64		ndecoded;
	int64		decoded_cap;
	Tuplesortstate *sort;		/* the local sort, once started */
	TupleTableSlot *sort_in;
	TupleTableSlot *sort_out;
	bool		sorting;
	bool		sorted_locally; /* for EXPLAIN ANALYZE */

	/* civis_fdw_scans() (monitor.c): this scan's row, or NULL */
	struct CivisScanSlot *monitor;
	int64		rows_out;		/* rows returned, over every rescan */
	int64		expected_before;	/* pages expected by earlier rescans */

	/* the backend-wide memory budget (scan.c, CIVIS_BACKEND_MEMORY_BUDGET) */
	int64		page_bytes;		/* page_cxt after the latest parse, twice (the
								 * rows decoded from it as much again) */
	MemoryContextCallback memory_cb;
	dlist_node	open_node;		/* in scan.c's list of open scans */
};

/* scan.c */
extern void civis_start_streams(CivisScanState *fsstate, ExprContext *econtext);
extern bool civis_next_page_row(CivisScanState *fsstate, Datum *dvalues,
								bool *dnulls, int64 *id, bool *has_id);
extern bool civis_next_row(CivisScanState *fsstate, Datum *values, bool *isnull);
extern bool civis_next_kept_row(CivisScanState *fsstate, ExprContext *econtext,
								TupleTableSlot *slot);
extern bool civis_status_means_empty(CivisScanState *fsstate, long status);
extern int	civis_cmp_int64(const void *a, const void *b);
extern bool civis_id_in(const int64 *ids, int n, int64 id);

/* scan_sort.c */
extern void civis_remember_decoded(CivisScanState *fsstate, int64 id, bool has_id);
extern bool civis_straddles(CivisScanState *fsstate, Datum *dvalues, bool *dnulls);
extern void civis_start_local_sort(CivisScanState *fsstate);
extern void civis_end_local_sort(CivisScanState *fsstate);
extern bool civis_next_sorted_row(CivisScanState *fsstate, Datum *dvalues,
								  bool *dnulls);

/* scan_store.c */
extern void civis_fill_store(CivisScanState *fsstate);
extern void civis_local_candidates(CivisScanState *fsstate);
extern bool civis_next_local_row(CivisScanState *fsstate, Datum *dvalues,
								 bool *dnulls);

/* scan_count.c */
extern TupleTableSlot *civis_count_iterate(ForeignScanState *node);

#endif							/* CIVIS_SCAN_STATE_H */
