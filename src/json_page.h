/*-------------------------------------------------------------------------
 *
 * json_page.h
 *		  A parsed page of JSON items, and the JSON helpers that reading a
 *		  page and decoding its items share (json_page.c).  Included by
 *		  json_page.c, decode.c and spec.c (which parses the Swagger spec
 *		  with the same budgeted parser): nothing else sees cJSON.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CIVIS_JSON_PAGE_H
#define CIVIS_JSON_PAGE_H

#include <math.h>

#include <cjson/cJSON.h>

#include "lib/stringinfo.h"

#include "civis_fdw.h"

/*
 * Integers below this magnitude survive the trip through a double.  2^53
 * itself does not count: 2^53 + 1 parses to the same double, so a value of
 * exactly 2^53 may be a rounded larger one.
 */
#define JSON_EXACT_INT_LIMIT 9007199254740992.0 /* 2^53 */

/* Longest text of a formatted number: shortest form or an int64. */
#define NUMBER_BUF_LEN 32

/* The member key that stands for the whole item. */
#define WHOLE_ITEM_KEY "."

#define cjson_type(v) ((v)->type & 0xFF)

/*
 * Most memory the tree of one parsed body may take (civis_json_parse).  A
 * tree of realistic items takes 3 to 10 times the bytes of its text, so any
 * body within the default max_response_bytes parses; `[0,0,...]` takes
 * about 40 times and is refused past about 5 MB.  With the read-ahead's
 * budget (scan.c) it bounds a scan's memory whatever the API sends.
 */
#define CIVIS_JSON_TREE_LIMIT ((Size) 192 * 1024 * 1024)

/* The memory budget of a parse: see civis_json_parse in json_page.c. */
typedef struct CivisJsonBudget
{
	MemoryContext cxt;			/* where the tree is palloc'd */
	Size		limit;			/* bytes it may take */
	Size		used;			/* bytes it took (chunk sizes) */
	uint32		nallocs;
	bool		exceeded;		/* an allocation was refused */
} CivisJsonBudget;

struct CivisPage
{
	cJSON	   *root;			/* the parsed body */
	cJSON	  **items;			/* its items, for O(1) access */
	int			nitems;
	char	   *shown;			/* the request as shown in messages */
};

static inline bool
is_exact_integer(double d)
{
	return d == floor(d) && fabs(d) < JSON_EXACT_INT_LIMIT;
}

static inline const cJSON *
page_item(const CivisPage *page, int index)
{
	if (page == NULL || index < 0 || index >= page->nitems)
		elog(ERROR, "civis_fdw: item %d out of range of a page of %d items",
			 index, page ? page->nitems : 0);
	return page->items[index];
}

extern const char *civis_json_type_name(const cJSON *v);
extern double civis_json_number(const cJSON *v);
extern int	civis_format_number(double d, char *out);
extern void civis_append_json(StringInfo buf, const cJSON *v, int limit);
extern char *civis_value_excerpt(const cJSON *v);
extern void civis_json_budget_init(CivisJsonBudget *budget, Size limit);
extern cJSON *civis_json_parse(const char *text, size_t len,
							   const char **parse_end, CivisJsonBudget *budget);
CIVIS_NORETURN extern void civis_json_budget_error(const CivisJsonBudget *budget,
												   size_t len,
												   const char *shown);
extern const cJSON *civis_json_step(const cJSON *v, const char *name, size_t len);
extern const cJSON *civis_json_member(const cJSON *obj, const char *name,
									  size_t len);

#endif							/* CIVIS_JSON_PAGE_H */
