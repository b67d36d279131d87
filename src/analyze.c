/*-------------------------------------------------------------------------
 *
 * analyze.c
 *		  ANALYZE of a civis_fdw foreign table.
 *
 * The sample comes from the table's listing, read the way a scan reads it
 * (scan.c: same paging, transport and decoding), with reservoir sampling
 * (Vitter's algorithm, as in file_fdw and postgres_fdw) over at most
 * analyze_max_pages pages.  When the page cap stops the read early, the
 * table's size is the listing's X-Pagination-Total-Entries (one extra
 * limit=1 request, see estimate.c) or, without that header, the rows seen.
 *
 * A table whose endpoint has path parameters (/jobs/{id}/runs) has no
 * listing of its own: ANALYZE says so in a WARNING and stores nothing.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "commands/vacuum.h"
#include "foreign/fdwapi.h"
#include "miscadmin.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/sampling.h"

#include "civis_fdw.h"
#include "plan.h"
#include "analyze.h"
#include "estimate.h"
#include "scan.h"

static int	civisAcquireSampleRows(Relation relation, int elevel,
								   HeapTuple *rows, int targrows,
								   double *totalrows, double *totaldeadrows);

/* The first path parameter of the table's endpoint, or NULL. */
static char *
first_path_param(const CivisTableInfo *info)
{
	List	   *holders = civis_path_placeholders(info->endpoint);

	return holders != NIL ? strVal(linitial(holders)) : NULL;
}

bool
civisAnalyzeForeignTable(Relation relation, AcquireSampleRowsFunc *func,
						 BlockNumber *totalpages)
{
	CivisTableInfo *info = civis_get_table_info(RelationGetRelid(relation));
	char	   *param = first_path_param(info);

	if (param != NULL)
	{
		CivisColumn *col = civis_column_by_param(info, param);

		ereport(WARNING,
				(errmsg("foreign table \"%s\" needs a value for path parameter {%s}; ANALYZE skipped",
						RelationGetRelationName(relation), param),
				 errdetail("Its endpoint %s has no listing of its own to sample.",
						   civis_message_text(info->endpoint,
											  strlen(info->endpoint), 200)),
				 col ? errhint("The planner estimates it per value of %s, from default_rows or use_remote_estimate.",
							   col->attname) : 0));
		return false;
	}

	*func = civisAcquireSampleRows;
	/* a "page" here is a page of the listing; only the ratio matters */
	*totalpages = 1;
	return true;
}

/*
 * The sample of ANALYZE while it is drawn: the first targrows rows fill it,
 * then each row replaces a random one with falling probability.  Its tuples
 * live in "cxt", the caller's context (ANALYZE's).
 */
typedef struct CivisSample
{
	HeapTuple  *rows;
	int			targrows;
	int			numrows;
	double		seen;			/* rows read so far */
	double		rowstoskip;		/* rows until the next replacement */
	ReservoirStateData rstate;
	TupleDesc	tupdesc;
	MemoryContext cxt;
} CivisSample;

/* Offer one row to the sample. */
static void
sample_add(CivisSample *sample, Datum *values, bool *isnull)
{
	MemoryContext old;
	int			k;

	sample->seen += 1;
	if (sample->numrows < sample->targrows)
	{
		old = MemoryContextSwitchTo(sample->cxt);
		sample->rows[sample->numrows++] = heap_form_tuple(sample->tupdesc, values, isnull);
		MemoryContextSwitchTo(old);
		return;
	}
	if (sample->rowstoskip < 0)
		sample->rowstoskip = reservoir_get_next_S(&sample->rstate, sample->seen,
												  sample->targrows);
	if (sample->rowstoskip <= 0)
	{
		k = (int) (sample->targrows * civis_sampler_random_fract(&sample->rstate));
		Assert(k >= 0 && k < sample->targrows);
		heap_freetuple(sample->rows[k]);
		old = MemoryContextSwitchTo(sample->cxt);
		sample->rows[k] = heap_form_tuple(sample->tupdesc, values, isnull);
		MemoryContextSwitchTo(old);
	}
	sample->rowstoskip -= 1;
}

/*
 * The table's size when the page cap stopped the read: the listing's own
 * count (its paging headers, else a limit=1 request), or the rows seen.
 */
static double
capped_total(CivisTableInfo *info, CivisPlanResult *res, CivisScanState *st,
			 double seen)
{
	double		total = civis_scan_total_entries(st);
	bool		use = info->use_remote_estimate;

	info->use_remote_estimate = true;
	if (total < 0 &&
		!civis_remote_estimate(info, res->plan, res->fdw_exprs, GetUserId(), &total))
		total = -1;
	info->use_remote_estimate = use;
	return total > seen ? total : seen;
}

static int
civisAcquireSampleRows(Relation relation, int elevel, HeapTuple *rows,
					   int targrows, double *totalrows, double *totaldeadrows)
{
	TupleDesc	tupdesc = RelationGetDescr(relation);
	CivisTableInfo *info;
	CivisPlanResult *res;
	List	   *attrs = NIL;
	CivisScanState *st;
	MemoryContext anl_cxt;
	CivisSample sample;
	Datum	   *values;
	bool	   *isnull;
	int			max_pages;
	bool		capped;
	int			i;

	sample.rows = rows;
	sample.targrows = targrows;
	sample.numrows = 0;
	sample.seen = 0;
	sample.rowstoskip = -1;
	sample.tupdesc = tupdesc;
	sample.cxt = CurrentMemoryContext;

	/*
	 * Everything but the sample itself lives in a context of its own, deleted
	 * at the end (the transport's handles with it).
	 */
	anl_cxt = AllocSetContextCreate(CurrentMemoryContext,
									"civis_fdw analyze",
									ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(anl_cxt);

	info = civis_get_table_info(RelationGetRelid(relation));
	max_pages = Min(info->analyze_max_pages, info->max_pages);
	res = civis_build_request_plan(info, NIL, true);
	for (i = 0; i < tupdesc->natts; i++)
		if (!TupleDescAttr(tupdesc, i)->attisdropped)
			attrs = lappend_int(attrs, i + 1);

	values = palloc(sizeof(Datum) * Max(tupdesc->natts, 1));
	isnull = palloc(sizeof(bool) * Max(tupdesc->natts, 1));

	reservoir_init_selection_state(&sample.rstate, targrows);
	/* the sample reads every page up to its cap: fetch ahead at once */
	res->plan->bound = -1;
	st = civis_scan_open(relation, res->plan, attrs, GetUserId(), max_pages);

	for (;;)
	{
		civis_analyze_delay_point();
		if (!civis_scan_next(st, values, isnull))
			break;
		sample_add(&sample, values, isnull);
	}

	capped = civis_scan_capped(st);
	*totalrows = capped ? capped_total(info, res, st, sample.seen) : sample.seen;
	*totaldeadrows = 0;

	ereport(elevel,
			(errmsg("\"%s\": read %lld pages of the Civis API listing%s, %.0f rows seen; %d rows in sample, %.0f estimated total rows",
					RelationGetRelationName(relation),
					(long long) (capped ? max_pages : civis_scan_pages_read(st)),
					capped ? psprintf(" (analyze_max_pages %d reached)", max_pages) : "",
					sample.seen, sample.numrows, *totalrows)));

	civis_scan_close(st);
	MemoryContextSwitchTo(sample.cxt);
	MemoryContextDelete(anl_cxt);
	return sample.numrows;
}
