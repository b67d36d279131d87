/*-------------------------------------------------------------------------
 *
 * explain.c
 *		  EXPLAIN output of a civis_fdw scan.
 *
 * VERBOSE shows the exact request(s) the scan sends, the way postgres_fdw
 * shows "Remote SQL": method, path and query string of the first page of
 * each stream, with constants filled in, $n for parameters known only at
 * execution, and secret parameters masked.  ANALYZE adds what the network
 * did: requests, pages, retries, bytes, time waiting, concurrency.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "nodes/nodeFuncs.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/ruleutils.h"

#include "civis_fdw.h"
#include "request.h"
#include "paging.h"
#include "explain.h"
#include "scan.h"

#define MAX_SHOWN_REQUESTS 20

/* A LIMIT/OFFSET value of the plan as shown, or dflt when absent or NULL. */
static const char *
limit_text(CivisValue *values, int index, const char *dflt)
{
	if (index < 0 || values[index].isnull)
		return dflt;
	if (values[index].unknown)
		return values[index].shown;
	return psprintf(INT64_FORMAT, DatumGetInt64(values[index].value));
}

/* Values of the plan's expressions as EXPLAIN can know them. */
static CivisValue *
explain_values(List *exprs, ExplainState *es)
{
	CivisValue *values = palloc0(sizeof(CivisValue) * Max(list_length(exprs), 1));
	ListCell   *lc;
	int			i = 0;

	foreach(lc, exprs)
	{
		Node	   *expr = lfirst(lc);

		while (IsA(expr, RelabelType))
			expr = (Node *) ((RelabelType *) expr)->arg;
		values[i].typid = exprType(expr);
		if (IsA(expr, Const))
		{
			values[i].isnull = ((Const *) expr)->constisnull;
			values[i].value = ((Const *) expr)->constvalue;
		}
		else
		{
			/* known only at execution: show the expression itself */
			char	   *text = deparse_expression(expr, es->deparse_cxt, false, false);

			/* $1 shows as such; anything else (a join's column) in braces */
			if (text[0] != '$')
				text = psprintf("{%s}", text);
			values[i].unknown = true;
			values[i].shown = text;
		}
		i++;
	}
	return values;
}

static const char *
paging_description(const CivisRequestPlan *plan)
{
	const char *how = civis_paging_name(plan->paging);

	if (plan->kind == CIVIS_PLAN_DETAIL)
		return "get by id (detail endpoint, one object per request)";
	if (plan->page_size > 0 && plan->paging != CIVIS_PAGING_NONE &&
		plan->paging != CIVIS_PAGING_AUTO)
		return psprintf("%s, up to %d per page", how, plan->page_size);
	if (plan->paging == CIVIS_PAGING_AUTO)
		return "auto (follows X-Pagination headers)";
	return how;
}


/*
 * An adaptive parameterized scan: per rescan get-by-id (the id) or the
 * filtered listing (another join column), then the listing kept.
 */
static void
explain_adaptive(ExplainState *es, bool filtered, int max,
				 const CivisExpansion *exp, int64 spent, int64 kept,
				 int64 answered)
{
	const char *request = exp->streams != NIL
	? psprintf("GET %s", civis_build_url(NULL, linitial(exp->streams), NIL, true))
	: "no request";

	if (filtered)
		ExplainPropertyText("Civis Filtered Listing",
							psprintf("per rescan, while all rescans need fewer than %d requests: %s; then the listing is read once and answers the remaining rescans",
									 max, request),
							es);
	else
		ExplainPropertyText("Civis Get By Id",
							psprintf("per rescan, while all rescans need at most %d requests: %s; then the listing is read once and answers the remaining rescans",
									 max, request),
							es);
	if (!es->analyze)
		return;
	ExplainPropertyInteger(filtered ? "Civis Filtered Listing Requests" :
						   "Civis Get By Id Requests", NULL, spent, es);
	ExplainPropertyText("Civis Listing Kept",
						kept < 0 ? "no" :
						psprintf("%lld rows, answered %lld rescans",
								 (long long) kept, (long long) answered),
						es);
}

/*
 * A get-by-id plan decided at scan start: what it sends, when, and (after
 * a run) what the last start chose.
 */
static void
explain_detail_alternative(ForeignScanState *node, CivisValue *values,
						   ExplainState *es)
{
	int			max,
				ids;
	bool		chosen;
	CivisRequestPlan *alt = civis_scan_detail_alternative(node, &max, &ids,
														  &chosen);
	CivisRequestPlan *plan;
	CivisTableInfo *info;
	CivisExpansion exp;
	int64		spent,
				kept,
				answered;
	bool		filtered;

	if (alt == NULL)
		return;
	civis_scan_plan(node, &plan, &info);
	civis_expand(alt, values, info->relname, false, &exp);
	if (civis_scan_adaptive(node, &spent, &kept, &answered, &filtered))
	{
		explain_adaptive(es, filtered, max, &exp, spent, kept, answered);
		return;
	}
	ExplainPropertyText("Civis Get By Id",
						psprintf("when the ids are at most %d at scan start: %s",
								 max,
								 exp.streams != NIL
								 ? psprintf("GET %s", civis_build_url(NULL, linitial(exp.streams), NIL, true))
								 : "no request"),
						es);
	if (ids >= 0)
		ExplainPropertyText("Civis Get By Id Chosen",
							psprintf("%s (%d ids)", chosen ? "yes" : "no, the listing", ids),
							es);
}

/*
 * The properties of one scan (requests, count, paging, order, bound, early
 * stop, limit), each from the expansion of the plan with EXPLAIN's values.
 *
 * Long because it is the list of the scan's EXPLAIN properties in the order
 * they are printed, each a few lines over the same expansion; split, the
 * order of the output would be spread over several functions.
 */
static void
explain_requests(ForeignScanState *node, ExplainState *es)
{
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;
	CivisRequestPlan *plan;
	CivisTableInfo *info;
	CivisValue *values;
	CivisExpansion exp;
	ListCell   *lc;
	int			shown = 0;
	const char *count_source;
	bool		count_scan = civis_scan_count(node, &count_source);
	bool		count_headers;

	civis_scan_plan(node, &plan, &info);
	values = explain_values(fsplan->fdw_exprs, es);
	civis_expand(plan, values, info->relname, false, &exp);
	count_headers = count_scan && civis_count_uses_headers(plan, exp.rechecks);
	if (exp.no_rows)
		ExplainPropertyText("Civis Request", "none (no row can match: a value is NULL or an empty list)", es);
	else if (exp.error)
		ExplainPropertyText("Civis Request", "none (a value cannot be sent: the scan raises an error)", es);
	foreach(lc, exp.streams)
	{
		CivisStream *stream = lfirst(lc);

		if (plan->limit_expr >= 0 && !values[plan->limit_expr].unknown &&
			strcmp(limit_text(values, plan->limit_expr, "ALL"), "0") == 0)
		{
			ExplainPropertyText("Civis Request", "none (LIMIT 0)", es);
			continue;
		}
		if (shown++ == MAX_SHOWN_REQUESTS)
		{
			ExplainPropertyText("Civis Request",
								psprintf("... and %d more", list_length(exp.streams) - MAX_SHOWN_REQUESTS),
								es);
			break;
		}
		ExplainPropertyText("Civis Request",
							psprintf("GET %s",
									 civis_build_url(NULL, stream,
													 count_headers ? civis_count_parts() :
													 civis_first_page_parts(plan, info, &exp, values),
													 true)),
							es);
	}
	if (count_scan)
		ExplainPropertyText("Civis Count",
							count_source ? count_source :
							count_headers ? "from X-Pagination-Total-Entries" :
							civis_count_rows_reason(plan, exp.rechecks),
							es);
	explain_detail_alternative(node, values, es);
	ExplainPropertyText("Civis Paging", paging_description(plan), es);
	if (plan->order_by)
		ExplainPropertyText("Civis Order",
							psprintf("order=%s&order_dir=%s (arrival order checked)",
									 plan->order_by, plan->order_desc ? "desc" : "asc"),
							es);
	/* a pushed LIMIT says more than the bound it implies */
	if (plan->bound > 0 && plan->limit_expr < 0 && plan->offset_expr < 0)
		ExplainPropertyText("Civis Bound",
							plan->local_read > plan->bound
							? psprintf("%d rows (a hint; about %d read for the local conditions)",
									   plan->bound, plan->local_read)
							: psprintf("%d rows (a hint)", plan->bound),
							es);
	if (plan->stop_index >= 0 &&
		plan->stop_index < list_length(fsplan->fdw_recheck_quals))
		ExplainPropertyText("Civis Early Stop",
							psprintf("at the first row where %s is false",
									 deparse_expression(list_nth(fsplan->fdw_recheck_quals,
																 plan->stop_index),
														es->deparse_cxt, true, false)),
							es);
	if (plan->limit_expr >= 0 || plan->offset_expr >= 0)
		ExplainPropertyText("Civis Limit",
							psprintf("%s offset %s",
									 limit_text(values, plan->limit_expr, "ALL"),
									 limit_text(values, plan->offset_expr, "0")),
							es);
}

static void
explain_stats(ForeignScanState *node, ExplainState *es)
{
	const CivisHttpStats *http;
	int64		pages,
				rows,
				duplicates,
				removed;
	double		slowest_ms;

	civis_scan_stats(node, &http, &pages, &rows, &duplicates, &removed,
					 &slowest_ms);
	if (http == NULL)
		return;
	ExplainPropertyInteger("Civis Requests", NULL, http->requests, es);
	ExplainPropertyInteger("Civis Pages", NULL, pages, es);
	ExplainPropertyInteger("Civis Retries", NULL, http->retries, es);
	ExplainPropertyInteger("Civis Bytes Received", NULL, http->bytes, es);
	ExplainPropertyFloat("Civis Network Wait", "ms", http->wait_ms, 1, es);
	/* from the first attempt to the answer, retries and their waits included */
	ExplainPropertyFloat("Civis Slowest Request", "ms", slowest_ms, 1, es);
	ExplainPropertyInteger("Civis Peak In Flight", NULL, http->peak_in_flight, es);
	ExplainPropertyInteger("Civis Fetched Ahead Unused", NULL, http->discarded, es);
	if (duplicates > 0)
		ExplainPropertyInteger("Civis Duplicates Dropped", NULL, duplicates, es);
	if (removed > 0)
		ExplainPropertyInteger("Civis Rows Removed by Runtime Recheck", NULL, removed, es);
	{
		bool		sorted_locally,
					stopped;

		civis_scan_economy(node, &sorted_locally, &stopped);
		if (sorted_locally)
			ExplainPropertyText("Civis Sorted Locally", "yes (the rows needed did not fit in one sorted page)", es);
		if (stopped)
			ExplainPropertyText("Civis Stopped Early", "yes", es);
	}
}

void
civisExplainForeignScan(ForeignScanState *node, ExplainState *es)
{
	/* a scan of an upper relation (it also sorts or limits) names its table */
	if (((ForeignScan *) node->ss.ps.plan)->scan.scanrelid == 0)
	{
		CivisRequestPlan *plan;
		CivisTableInfo *info;

		civis_scan_plan(node, &plan, &info);
		ExplainPropertyText("Relations",
							quote_qualified_identifier(get_namespace_name(get_rel_namespace(info->relid)),
													   info->relname), es);
	}
	if (es->verbose)
		explain_requests(node, es);
	if (es->analyze)
		explain_stats(node, es);
}
