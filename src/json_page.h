/*-------------------------------------------------------------------------
 *
 * json_page.h
 *		  A parsed page of JSON items, and the JSON helpers that reading a
 *		  page and decoding its items share (json_page.c).  Included by
 *		  json_page.c and decode.c only: nothing else sees cJSON.
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
#define JSON_EXACT_INT_LIMIT 9007199254740992.0	/* 2^53 */

/* Longest text of a formatted number: shortest form or an int64. */
#define NUMBER_BUF_LEN 32

/* The member key that stands for the whole item. */
#define WHOLE_ITEM_KEY "."

#define cjson_type(v) ((v)->type & 0xFF)

struct CivisPage
{
	cJSON	   *root;			/* the parsed body */
	cJSON	  **items;			/* its items, for O(1) access */
	int			nitems;
	char	   *shown;			/* the request as shown in messages */
	char	   *relname;
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
extern const cJSON *civis_json_member(const cJSON *obj, const char *name,
									  size_t len);

#endif							/* CIVIS_JSON_PAGE_H */
