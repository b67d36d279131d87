/*-------------------------------------------------------------------------
 *
 * paging.c
 *		  The paging state machine of one request stream: which paging
 *		  parameters each request carries, when a listing is done, and how a
 *		  pushed LIMIT/OFFSET becomes the fewest requests.
 *
 * Every paging kind of the spec is here: limit + page_num (stop by the
 * X-Pagination headers, else on an empty page), last_id cursors (logs:
 * last_id=0 for id order, stop on an empty page), start_at windows
 * (deployment logs), offset (/search/), and none.  A stream never talks to
 * the network itself: scan.c submits what civis_paging_parts says and
 * reports back with civis_paging_advance.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "nodes/value.h"
#include "utils/memutils.h"

#include "civis_fdw.h"
#include "paging.h"
#include "quirks.h"

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

		if (!col->dropped && col->order_by && strcmp(col->order_by, civis_quirk_id_key) == 0)
			return civis_quirk_id_key;
	}
	return NULL;
}

List *
civis_paging_parts(const CivisRequestPlan *plan, const CivisTableInfo *info,
				   const CivisPaging *ps)
{
	List	   *parts = NIL;
	int			size = ps->page_size;

	if (plan->order_by)
	{
		add_part(&parts, civis_quirk_order_param, plan->order_by);
		add_part(&parts, civis_quirk_order_dir_param, plan->order_desc ? "desc" : "asc");
	}
	else if (plan->paging == CIVIS_PAGING_PAGES && stable_order(info))
	{
		add_part(&parts, civis_quirk_order_param, stable_order(info));
		add_part(&parts, civis_quirk_order_dir_param, "asc");
	}

	switch (plan->paging)
	{
		case CIVIS_PAGING_PAGES:
			if (size > 0)
				add_part(&parts, "limit", int64_text(size));
			add_part(&parts, "page_num", int64_text(ps->next_page));
			break;
		case CIVIS_PAGING_AUTO:
			/* a hand-written table: follow the headers if there are any */
			if (ps->next_page > 1)
			{
				if (ps->per_page > 0)
					add_part(&parts, "limit", int64_text(ps->per_page));
				add_part(&parts, "page_num", int64_text(ps->next_page));
			}
			break;
		case CIVIS_PAGING_CURSOR:
			add_part(&parts, "last_id", int64_text(ps->last_id));
			if (size > 0)
				add_part(&parts, "limit", int64_text(size));
			break;
		case CIVIS_PAGING_WINDOW:
			if (ps->window_start)
				add_part(&parts, "start_at", ps->window_start);
			if (size > 0)
				add_part(&parts, "limit", int64_text(size));
			break;
		case CIVIS_PAGING_OFFSET:
			add_part(&parts, "offset", int64_text(ps->offset));
			if (size > 0)
				add_part(&parts, "limit", int64_text(size));
			break;
		case CIVIS_PAGING_NONE:
			break;
	}
	return parts;
}

/* Initial paging state; cursor_start is the pushed "id > n" or NULL. */
void
civis_paging_init(CivisPaging *ps, const CivisRequestPlan *plan,
				  const char *cursor_start)
{
	memset(ps, 0, sizeof(CivisPaging));
	ps->first_ticket = -1;
	ps->next_page = 1;
	ps->next_submit = 1;
	ps->page_size = plan->page_size;
	ps->last_page = -1;
	ps->total_pages = -1;
	ps->per_page = -1;
	ps->total_entries = -1;
	ps->last_id = 0;
	if (cursor_start)
	{
		ps->last_id = strtoll(cursor_start, NULL, 10);
	}

	/*
	 * The read hint (the rows the query will likely consume) sizes the first
	 * page; if more rows turn out to be needed, the next request uses the
	 * full size (civis_paging_advance).  Not for window paging: it moves on
	 * by timestamp, so a page must be wider than a run of entries at one
	 * instant, which a small page need not be (the fuzzer, seed 2519584257:
	 * LIMIT 3 over three entries of one timestamp).
	 */
	if (plan->read_hint > 0 && plan->page_size > 0 &&
		plan->read_hint < plan->page_size &&
		(plan->paging == CIVIS_PAGING_PAGES || plan->paging == CIVIS_PAGING_CURSOR ||
		 plan->paging == CIVIS_PAGING_OFFSET))
	{
		ps->page_size = plan->read_hint;
		ps->small = true;
	}
}

/*
 * The paging parameters of the first request of a stream, as EXPLAIN shows
 * them: a cursor start known only at execution shows as "$1" (or "$1 - 1"),
 * a pushed LIMIT/OFFSET with its constant values.
 */
List *
civis_first_page_parts(const CivisRequestPlan *plan, const CivisTableInfo *info,
					   const CivisExpansion *exp, CivisValue *values)
{
	CivisPaging ps;
	List	   *parts;
	ListCell   *lc;

	civis_paging_init(&ps, plan, exp->cursor_shown ? NULL : exp->cursor_start);
	if ((plan->limit_expr < 0 || !values[plan->limit_expr].unknown) &&
		(plan->offset_expr < 0 || !values[plan->offset_expr].unknown) &&
		(plan->limit_expr >= 0 || plan->offset_expr >= 0))
	{
		int64		skip;

		civis_paging_limit(&ps, plan, civis_limit_value(values, plan->limit_expr, false),
						   civis_limit_value(values, plan->offset_expr, true), &skip);
	}
	parts = civis_paging_parts(plan, info, &ps);
	if (exp->cursor_shown)
		foreach(lc, parts)
		{
			CivisQueryPart *part = lfirst(lc);

			if (strcmp(part->name, "last_id") == 0)
			{
				part->value = pstrdup(exp->cursor_start);
				part->verbatim = true;
			}
		}
	return parts;
}

/* A LIMIT or OFFSET value: -1 for NULL (no limit); negative is an ERROR. */
int64
civis_limit_value(CivisValue *values, int index, bool is_offset)
{
	int64		v;

	if (index < 0 || values[index].isnull || values[index].unknown)
		return is_offset ? 0 : -1;
	v = DatumGetInt64(values[index].value);
	if (v < 0)
		ereport(ERROR,
				(errcode(is_offset ? ERRCODE_INVALID_ROW_COUNT_IN_RESULT_OFFSET_CLAUSE
						 : ERRCODE_INVALID_ROW_COUNT_IN_LIMIT_CLAUSE),
				 is_offset ? errmsg("OFFSET must not be negative") :
				 errmsg("LIMIT must not be negative")));
	return v;
}

/*
 * The fewest requests that cover rows [offset, offset + count) of a listing
 * paged by limit + page_num, with pages of at most max_size: for each page
 * size p, the pages from offset / p to (offset + count - 1) / p; among the
 * sizes needing the fewest pages, the one transferring the fewest rows.
 */
static void
plan_limit_pages(CivisPaging *ps, int max_size, int64 offset, int64 count,
				 int64 *skip)
{
	int64		best_n = PG_INT64_MAX,
				best_rows = PG_INT64_MAX;
	int			best_p = max_size;
	int			p;

	/* the last wanted row, saturated: LIMIT 9223372036854775807 OFFSET 100 */
	int64		last_row = ((count > PG_INT64_MAX - offset) ? PG_INT64_MAX - 1
							: offset + count - 1);

	for (p = max_size; p >= 1; p--)
	{
		int64		first = offset / p;
		int64		last = last_row / p;
		int64		n = last - first + 1;

		if (n < best_n || (n == best_n && (double) n * p < (double) best_rows))
		{
			best_n = n;
			best_rows = ((double) n * p >= (double) PG_INT64_MAX) ? PG_INT64_MAX : n * p;
			best_p = p;
		}
	}
	ps->page_size = best_p;
	ps->next_page = offset / best_p + 1;
	ps->next_submit = ps->next_page;
	ps->last_page = last_row / best_p + 1;
	*skip = offset - (ps->next_page - 1) * best_p;
}

/*
 * The requests of one stream under LIMIT count OFFSET offset; *skip is
 * set to the rows to drop before the first wanted one.
 */
void
civis_paging_limit(CivisPaging *ps, const CivisRequestPlan *plan, int64 count,
				   int64 offset, int64 *skip)
{
	int			max_size = plan->page_size;

	if (count == 0)
	{
		ps->done = true;
		return;
	}
	if (count < 0 || max_size <= 0)
		return;
	/* the LIMIT plans the pages exactly: no hint needed */
	ps->small = false;
	ps->page_size = max_size;
	switch (plan->paging)
	{
		case CIVIS_PAGING_PAGES:
			plan_limit_pages(ps, max_size, offset, count, skip);
			break;
		case CIVIS_PAGING_OFFSET:
			/* the API skips: offset=O&limit=L */
			ps->offset = offset;
			ps->page_size = (int) Min(count, max_size);
			*skip = 0;
			break;
		case CIVIS_PAGING_CURSOR:
			/* no way to jump ahead: read offset + count rows */
			ps->page_size = (int) ((count > max_size - offset) ? max_size
								   : offset + count);
			break;
		case CIVIS_PAGING_WINDOW:

			/*
			 * Full pages: a window moves on by timestamp, and a page of
			 * offset + count entries may all be at one instant (see
			 * civis_paging_init).  The scan stops at the LIMIT.
			 */
			break;
		default:
			break;
	}
}

static int
cmp_text(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/*
 * Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's
 * days_from_civil).
 */
static int64
days_from_civil(int y, int m, int d)
{
	int64		era;
	int			yoe;
	int			doy;
	int			doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (int) (y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static bool
read_digits(const char **s, int n, int *out)
{
	int			v = 0;

	for (int i = 0; i < n; i++)
	{
		if ((*s)[i] < '0' || (*s)[i] > '9')
			return false;
		v = v * 10 + ((*s)[i] - '0');
	}
	*s += n;
	*out = v;
	return true;
}

/*
 * An ISO 8601 instant as the API writes window timestamps
 * ("2024-01-02T03:04:05Z", "...:05.5Z", "...:05.123+01:00"), in
 * microseconds since 1970: instants are compared as instants, never as
 * text ("...:00Z" sorts after "...:00.5Z").  False when it is none.
 */
static bool
parse_instant(const char *s, int64 *us)
{
	int			y,
				mo,
				d,
				h,
				mi,
				se;
	int64		frac = 0;
	int			zone = 0;

	if (s == NULL ||
		!read_digits(&s, 4, &y) || *s++ != '-' ||
		!read_digits(&s, 2, &mo) || *s++ != '-' ||
		!read_digits(&s, 2, &d) || (*s != 'T' && *s != 't' && *s != ' ') ||
		!(s++, read_digits(&s, 2, &h)) || *s++ != ':' ||
		!read_digits(&s, 2, &mi) || *s++ != ':' ||
		!read_digits(&s, 2, &se))
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
		return false;
	if (*s == '.')
	{
		int			n = 0;

		s++;
		if (*s < '0' || *s > '9')
			return false;
		for (; *s >= '0' && *s <= '9'; s++, n++)
			if (n < 6)
				frac = frac * 10 + (*s - '0');
		for (; n < 6; n++)
			frac *= 10;
	}
	if (*s == 'Z' || *s == 'z')
		s++;
	else if (*s == '+' || *s == '-')
	{
		int			sign = *s++ == '-' ? -1 : 1;
		int			zh,
					zm = 0;

		if (!read_digits(&s, 2, &zh))
			return false;
		if (*s == ':')
			s++;
		if (*s != '\0' && !read_digits(&s, 2, &zm))
			return false;
		zone = sign * (zh * 60 + zm);
	}
	if (*s != '\0')
		return false;
	*us = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * INT64CONST(60000000) +
		(int64) se * 1000000 + frac - (int64) zone * 60000000;
	return true;
}

/* The instant of a window entry; an ERROR when it has none. */
static int64
entry_instant(const CivisPage *page, int i, const CivisTableInfo *info,
			  const char *shown)
{
	char	   *at = civis_page_item_text(page, i, civis_quirk_window_key);
	int64		us;

	if (!parse_instant(at, &us))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("cannot page through foreign table \"%s\": an entry's \"%s\" is not a timestamp",
						info->relname, civis_quirk_window_key),
				 errdetail("Value: %s", at ? at : "null"),
				 errcontext("Civis API request: GET %s", shown)));
	return us;
}

/*
 * Mark the entries of a window that the previous window returned already.
 * start_at is inclusive, so a window starts with the entries at that
 * instant, and among equal instants the API keeps no order: an entry is a
 * repeat when the whole item equals one returned before (each returned one
 * matches once), never by its position.  ps->window_repeats counts them
 * (civis_paging_advance refuses a page of repeats only).
 */
void
civis_paging_mark_repeats(CivisPaging *ps, const CivisRequestPlan *plan,
						  const CivisPage *page, int count, bool *skip)
{
	bool	   *used;
	int			i;

	ps->window_repeats = 0;
	if (plan->paging != CIVIS_PAGING_WINDOW || ps->window_start == NULL ||
		ps->window_nseen == 0)
		return;
	used = palloc0(sizeof(bool) * ps->window_nseen);
	for (i = 0; i < count; i++)
	{
		char	   *at = civis_page_item_text(page, i, civis_quirk_window_key);
		int64		us;
		char	   *item;
		char	  **hit;
		int			k;

		CHECK_FOR_INTERRUPTS();
		if (!parse_instant(at, &us) || us != ps->window_start_us)
			break;
		item = civis_page_item_text(page, i, ".");
		hit = bsearch(&item, ps->window_seen, ps->window_nseen, sizeof(char *),
					  cmp_text);
		if (hit == NULL)
			continue;
		/* the first unused one among equal items */
		k = hit - ps->window_seen;
		while (k > 0 && strcmp(ps->window_seen[k - 1], item) == 0)
			k--;
		while (k < ps->window_nseen && used[k] &&
			   strcmp(ps->window_seen[k], item) == 0)
			k++;
		if (k < ps->window_nseen && !used[k] &&
			strcmp(ps->window_seen[k], item) == 0)
		{
			used[k] = true;
			skip[i] = true;
			ps->window_repeats++;
		}
	}
	pfree(used);
}

/*
 * A window must make progress, as a cursor must (cursor paging's "made no
 * progress"): an API that ignores start_at answers the first window again,
 * and without this check a LIMIT would return repeated rows and a full
 * read would run to max_pages.  Checked on every page after the first, so
 * the second page at the latest is an ERROR: an entry earlier than the
 * window's start, or a full page of nothing but entries already returned
 * (a short one is the end of the listing).
 */
static void
check_window_page(CivisPaging *ps, const CivisTableInfo *info,
				  const CivisPage *page, int count, const char *shown)
{
	int			size = ps->page_size;

	if (ps->window_start == NULL)
		return;
	for (int i = 0; i < count; i++)
	{
		CHECK_FOR_INTERRUPTS();
		if (entry_instant(page, i, info, shown) < ps->window_start_us)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_ERROR),
					 errmsg("window paging of foreign table \"%s\" made no progress",
							info->relname),
					 errdetail("The window starting at %s holds an entry of an earlier instant (%s).",
							   ps->window_start,
							   civis_page_item_text(page, i, civis_quirk_window_key)),
					 errcontext("Civis API request: GET %s", shown),
					 errhint("The API did not honour start_at; the result would repeat rows.")));
	}
	/* a short page of repeats is the end of the listing */
	if (count > 0 && ps->window_repeats == count && size > 0 && count >= size)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("window paging of foreign table \"%s\" made no progress",
						info->relname),
				 errdetail("The window starting at %s only repeats entries already returned.",
						   ps->window_start),
				 errcontext("Civis API request: GET %s", shown),
				 errhint("The API did not honour start_at; the result would repeat rows.")));
}

/*
 * The next window of a window-paged stream.  start_at is inclusive and log
 * entries have no id: the next window starts at the last timestamp seen,
 * and the entries at that instant returned so far (this page's, including
 * any it repeated from the one before) are remembered whole, to be skipped
 * there (civis_paging_mark_repeats).  A window that would not start later
 * than this one is an ERROR.  Memory: one window's boundary.
 */
static void
advance_window(CivisPaging *ps, const CivisTableInfo *info,
			   const CivisPage *page, int count, const char *shown,
			   MemoryContext cxt)
{
	int64		last = entry_instant(page, count - 1, info, shown);
	MemoryContext old;
	int			first = count;
	int			i;

	for (i = count - 1; i >= 0; i--)
	{
		CHECK_FOR_INTERRUPTS();
		if (entry_instant(page, i, info, shown) != last)
			break;
		first = i;
	}
	if (first == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("cannot page through foreign table \"%s\": a whole page of entries has one timestamp",
						info->relname),
				 errcontext("Civis API request: GET %s", shown),
				 errhint("Raise the table option page_size.")));
	if (ps->window_start != NULL && last <= ps->window_start_us)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("window paging of foreign table \"%s\" made no progress",
						info->relname),
				 errdetail("The next window would not start later than the one starting at %s.",
						   ps->window_start),
				 errcontext("Civis API request: GET %s", shown),
				 errhint("The API did not honour start_at; the result would repeat rows.")));
	if (ps->window_cxt == NULL)
		ps->window_cxt = AllocSetContextCreate(cxt, "civis_fdw window",
											   ALLOCSET_SMALL_SIZES);
	MemoryContextReset(ps->window_cxt);
	old = MemoryContextSwitchTo(ps->window_cxt);
	ps->window_start = civis_page_item_text(page, count - 1, civis_quirk_window_key);
	ps->window_start_us = last;
	ps->window_nseen = count - first;
	ps->window_seen = palloc(sizeof(char *) * ps->window_nseen);
	for (i = first; i < count; i++)
		ps->window_seen[i - first] = civis_page_item_text(page, i, ".");
	qsort(ps->window_seen, ps->window_nseen, sizeof(char *), cmp_text);
	MemoryContextSwitchTo(old);
}

/*
 * Count one more page of the stream against max_pages, and follow the
 * listing's total (X-Pagination-Total-Entries): a total that changes while
 * the listing is read is said in a NOTICE.
 */
static void
count_page(CivisPaging *ps, const CivisTableInfo *info,
		   const CivisResponse *resp, const char *shown)
{
	ps->pages++;
	if (ps->pages > info->max_pages)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("listing of foreign table \"%s\" exceeds max_pages (%d)",
						info->relname, info->max_pages),
				 errcontext("Civis API request: GET %s", shown),
				 errhint("Raise the server option max_pages if the listing really is that long.")));

	if (resp->total_entries >= 0)
	{
		if (ps->total_entries < 0)
			ps->total_entries = resp->total_entries;
		else if (ps->total_entries != resp->total_entries)
		{
			ereport(NOTICE,
					(errmsg("the listing of foreign table \"%s\" changed while it was read (%lld rows, now %lld)",
							info->relname, (long long) ps->total_entries,
							(long long) resp->total_entries),
					 errdetail("Rows that moved between pages are returned once; rows added or removed meanwhile may be missing.")));
			ps->total_entries = resp->total_entries;
		}
	}
}

/*
 * A first page sized by the read hint did not end the listing: never a
 * series of small pages.  Cursors and offsets go on from
 * where they are with the full size; page_num listings cannot (offsets
 * are (page - 1) x limit), so they start again at page 1 with the full
 * size, and the scan skips the rows it has already returned.
 */
static void
leave_small_pages(CivisPaging *ps, const CivisRequestPlan *plan)
{
	ps->small = false;
	ps->page_size = plan->page_size;
	if (plan->paging == CIVIS_PAGING_PAGES)
	{
		ps->next_page = 1;
		ps->next_submit = 1;
		ps->total_pages = -1;
		ps->per_page = -1;
		ps->restart_pending = true;
	}
}

/*
 * Advance the paging state after a page of the stream arrived: count items,
 * of which the largest id is max_id (has_ids false when items have none).
 * Decides whether the stream is done and what the next request asks for.
 * Allocations that must outlive the page go in "cxt".
 */
void
civis_paging_advance(CivisPaging *ps, const CivisRequestPlan *plan,
					 const CivisTableInfo *info, const CivisPage *page,
					 int count, bool has_ids, int64 max_id,
					 const CivisResponse *resp, const char *shown,
					 MemoryContext cxt)
{
	int			size = ps->page_size;

	count_page(ps, info, resp, shown);

	switch (plan->paging)
	{
		case CIVIS_PAGING_PAGES:
		case CIVIS_PAGING_AUTO:
			if (resp->total_pages >= 0)
			{
				ps->total_pages = resp->total_pages;
				ps->per_page = resp->per_page;
				if (ps->next_page >= resp->total_pages)
					ps->done = true;
			}
			else if (plan->paging == CIVIS_PAGING_AUTO || count == 0)
				ps->done = true;
			if (ps->last_page > 0 && ps->next_page >= ps->last_page)
				ps->done = true;
			break;
		case CIVIS_PAGING_CURSOR:
			if (count == 0)
				ps->done = true;
			else if (!has_ids || max_id <= ps->last_id)
				ereport(ERROR,
						(errcode(ERRCODE_FDW_ERROR),
						 errmsg("cursor paging of foreign table \"%s\" made no progress",
								info->relname),
						 errcontext("Civis API request: GET %s", shown)));
			else
				ps->last_id = max_id;
			break;
		case CIVIS_PAGING_WINDOW:
			check_window_page(ps, info, page, count, shown);
			if (count == 0 || (size > 0 && count < size) ||
				ps->window_repeats == count)
				ps->done = true;
			else
				advance_window(ps, info, page, count, shown, cxt);
			break;
		case CIVIS_PAGING_OFFSET:
			ps->offset += count;
			if (count == 0 || (size > 0 && count < size))
				ps->done = true;
			break;
		case CIVIS_PAGING_NONE:
			ps->done = true;
			break;
	}
	/* pages next_page .. next_submit - 1 are the ones already in flight */
	ps->next_page++;

	/* a first page sized by the read hint: the full size from now on */
	if (ps->small && !ps->done)
		leave_small_pages(ps, plan);
}
