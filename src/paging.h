/*-------------------------------------------------------------------------
 *
 * paging.h
 *		  The paging state machine of one request stream (paging.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef CIVIS_PAGING_H
#define CIVIS_PAGING_H

#include "request.h"

#define MAX_AHEAD 64

/* Paging state of one stream. */
typedef struct CivisPaging
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
	int64		window_start_us;	/* ... parsed (microseconds since 1970) */
	int			window_repeats; /* entries of this page marked repeats */
	char	  **window_seen;	/* items at window_start already returned,
								 * whole and sorted (a multiset) */
	int			window_nseen;
	MemoryContext window_cxt;	/* holds the two above */
	bool		done;
	int64		pages;			/* pages consumed */
	int			page_size;		/* limit sent per page (0: API default) */
	int64		last_page;		/* last page needed (pushed LIMIT), or -1 */
	bool		small;			/* the first page is sized by the read hint */
	bool		restart_pending;	/* page_num listing: page 1 again, full
									 * size (rows already returned skipped) */
	int			ahead[64];		/* tickets of pages next_page.. (ring) */
	int			nahead;
	int			ahead_head;
} CivisPaging;

extern void civis_paging_init(CivisPaging *ps, const CivisRequestPlan *plan,
							  const char *cursor_start);
extern List *civis_paging_parts(const CivisRequestPlan *plan,
								const CivisTableInfo *info,
								const CivisPaging *ps);
extern List *civis_first_page_parts(const CivisRequestPlan *plan,
									const CivisTableInfo *info,
									const CivisExpansion *exp,
									CivisValue *values);
extern int64 civis_limit_value(CivisValue *values, int index, bool is_offset);
extern void civis_paging_limit(CivisPaging *ps, const CivisRequestPlan *plan,
							   int64 count, int64 offset, int64 *skip);
extern void civis_paging_mark_repeats(CivisPaging *ps, const CivisRequestPlan *plan,
									  const CivisPage *page, int count, bool *skip);
extern void civis_paging_advance(CivisPaging *ps, const CivisRequestPlan *plan,
								 const CivisTableInfo *info, const CivisPage *page,
								 int count, bool has_ids, int64 max_id,
								 const CivisResponse *resp, const char *shown,
								 MemoryContext cxt);

#endif							/* CIVIS_PAGING_H */
