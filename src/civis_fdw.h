/*-------------------------------------------------------------------------
 *
 * civis_fdw.h
 *		  Shared declarations of the Civis Platform API foreign data wrapper.
 *
 * Data flows one way, one stage per file:
 *
 *   option.c     options: validation, defaults, resolution for one table
 *   spec.c       the Swagger spec -> list endpoints, parameters, items
 *   import.c     IMPORT FOREIGN SCHEMA: endpoints -> CREATE FOREIGN TABLE
 *   naming.c     table and column naming rules (pure string functions)
 *   quirks.c     the one reviewed list of things the real API does that its
 *                spec does not say (spec-time: read by spec.c and import.c;
 *                run-time: read by planning and execution, see quirks.h)
 *   qual.c       planner expressions -> neutral conditions (CivisCond)
 *   decide.c     what one condition becomes for one value (exact, loose,
 *                not sent, no rows, error), shared by plan, scan, EXPLAIN
 *   value.c      a SQL value -> the API's text
 *   plan.c       conditions -> a request plan (pure)
 *   planner.c    FDW planning callbacks (paths, costs, ORDER BY and LIMIT
 *                through upper relations)
 *   estimate.c   row estimates from the API (use_remote_estimate)
 *   analyze.c    ANALYZE: a capped sample of the listing
 *   scan.c       execution: request plan -> pages -> tuples
 *   paging.c     the paging state machine of one request stream
 *   request.c    a request plan plus runtime values -> URLs (encoded)
 *   transport.c  the only file that talks to libcurl
 *   http_error.c HTTP status -> SQLSTATE, messages, hints
 *   json_page.c  a response body -> a page of JSON items
 *   decode.c     the only file that turns JSON into Datums
 *   explain.c    EXPLAIN output of a scan
 *   civis_fdw.c  handler, GUCs, module init
 *
 * Nothing in this header includes libcurl or cJSON: libcurl stays behind
 * transport.c, cJSON behind spec.c, json_page.c and decode.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CIVIS_FDW_H
#define CIVIS_FDW_H

#include "postgres.h"

#include "access/attnum.h"
#include "access/tupdesc.h"
#include "foreign/foreign.h"
#include "lib/stringinfo.h"
#include "nodes/execnodes.h"
#include "nodes/pathnodes.h"
#include "utils/guc.h"
#include "utils/relcache.h"

#include "compat.h"

#define CIVIS_DEFAULT_API_URL "https://api.civisanalytics.com"

/* --------------------------------------------------------------------
 * option.c
 * -------------------------------------------------------------------- */

/* How an endpoint pages its results (table option "paging"). */
typedef enum CivisPagingKind
{
	CIVIS_PAGING_AUTO,			/* follow X-Pagination-* headers when present */
	CIVIS_PAGING_PAGES,			/* limit + page_num (1-based) */
	CIVIS_PAGING_CURSOR,		/* limit + last_id (logs), stop on empty page */
	CIVIS_PAGING_WINDOW,		/* limit + start_at/end_at (deployment logs) */
	CIVIS_PAGING_OFFSET,		/* limit + offset (/search/) */
	CIVIS_PAGING_NONE			/* one request answers everything */
} CivisPagingKind;

/* How a parameter takes several values (column option "list"). */
typedef enum CivisListStyle
{
	CIVIS_LIST_NONE,			/* one value only */
	CIVIS_LIST_CSV,				/* name=a,b,c */
	CIVIS_LIST_ARRAY			/* name[]=a&name[]=b */
} CivisListStyle;

/*
 * Everything the planner and executor need to know about one foreign table:
 * server options overlaid by table options, plus per-column options.
 * Built once per planning of a relation; never contains the API key.
 */
typedef struct CivisColumn
{
	AttrNumber	attnum;
	char	   *attname;
	Oid			atttypid;
	int32		atttypmod;
	bool		dropped;

	char	   *key;			/* JSON member (dotted path allowed) */
	char	   *param;			/* query or path parameter, or NULL */
	bool		is_path_param;	/* param names a {placeholder} of endpoint */
	bool		param_only;		/* not a response field: echoes condition */
	bool		exact;			/* API filter == SQL equality */
	char	   *values;			/* comma list of values the API accepts */
	CivisListStyle list;		/* how IN lists are sent */
	char	   *after;			/* range parameter for > / >= */
	char	   *before;			/* range parameter for < / <= */
	char	   *scope_default;	/* value sent when unconstrained ("all") */
	char	   *order_by;		/* value of "order" that sorts by this column */
	bool		secret;			/* mask the value wherever it is shown */
} CivisColumn;

typedef struct CivisTableInfo
{
	Oid			relid;
	Oid			serverid;
	char	   *relname;		/* for messages */

	/* server options (possibly overridden by the table) */
	char	   *api_url;		/* no trailing slash */
	int			connect_timeout_ms;
	int			request_timeout_ms;
	int			max_retries;
	int			retry_max_time_ms;
	int64		max_response_bytes;
	int			max_pages;
	int			max_in_flight;
	int			page_size_cap;
	bool		pushdown;
	bool		jsonb_snake_case;	/* jsonb keys converted to snake_case */
	int			fanout_limit;
	bool		use_remote_estimate;
	bool		allow_insecure_http;
	bool		allow_private_addresses;	/* superuser-only exemption */
	bool		host_allowed;	/* api_url's host in civis_fdw.allowed_hosts */
	char	   *proxy;			/* superuser-only; NULL: no proxy at all */
	char	   *ca_file;
	double		request_cost;
	double		row_cost;
	double		default_rows;
	int			analyze_max_pages;	/* ANALYZE reads at most this many pages */
	int			rate_window_s;	/* the shared budget's window (budget.c) */
	int			rate_reserve_pct;	/* budget kept for short queries */
	char	   *origin;			/* api_url's normalized origin */

	/* table options */
	char	   *endpoint;		/* path template, e.g. /jobs/{id}/runs */
	CivisPagingKind paging;
	int			page_size;		/* the endpoint's maximum page size */
	char	   *detail_endpoint;	/* e.g. /jobs/{id}, or NULL */
	char	   *order_default;	/* the endpoint's default "order" value */
	bool		response_object;	/* "response 'object'": answers one
									 * object, the one row */

	/* columns, indexed by attnum - 1 */
	int			ncolumns;
	CivisColumn *columns;
} CivisTableInfo;

extern CivisTableInfo *civis_get_table_info(Oid relid);
extern CivisTableInfo *civis_get_server_info(Oid serverid);
extern char *civis_get_api_key(Oid serverid, Oid userid);
extern bool civis_mapping_budget_hash(ForeignServer *server, List *umoptions,
									  uint8 *hash);
extern List *civis_usable_mapping_hashes(void);
extern void civis_for_each_usable_mapping(void (*fn) (ForeignServer *server,
													  Oid umid,
													  const char *user_name,
													  const uint8 *hash,
													  void *arg),
										  void *arg);
extern CivisPagingKind civis_parse_paging(const char *value);
extern const char *civis_paging_name(CivisPagingKind kind);
extern CivisPagingKind civis_paging_detect(bool (*has_param) (const void *arg,
															  const char *name),
										   const void *arg);
extern bool civis_is_paging_param(const char *name);
extern CivisColumn *civis_column_by_param(CivisTableInfo *info, const char *param);
extern char *civis_allowed_hosts;
extern bool civis_check_allowed_hosts(char **newval, void **extra,
									  GucSource source);

/*
 * Ceilings on what a non-superuser may set (issue 19): for each size and
 * time option of a server, a PGC_SUSET GUC civis_fdw.<option>_limit that
 * civis_fdw.c defines from this table.  A non-superuser may set the option
 * up to the GUC's value; checked by the validator and again when a server
 * whose owner is not a superuser is used.
 */
typedef struct CivisOptionCeiling
{
	const char *option;			/* server option, e.g. "max_response_bytes" */
	const char *guc;			/* e.g. "civis_fdw.max_response_bytes_limit" */
	const char *description;	/* short description of the GUC */
	int		   *limit;			/* the GUC's variable */
	int			boot_value;		/* the option's default: today's ceiling */
	int			minval;			/* the option's least valid value */
	int			flags;			/* GUC_UNIT_S, GUC_UNIT_BYTE or 0 */
} CivisOptionCeiling;

extern CivisOptionCeiling civis_option_ceilings[];

/*
 * Why a path is not one that stays under the server's URL, or NULL
 * (option.c).  CIVIS_PATH_TEMPLATE: {name} path parameters may appear;
 * CIVIS_PATH_SENT: a request's path with its values in place, each value
 * percent-encoded, so an encoded "/" or "\" is a value's own character.
 */
#define CIVIS_PATH_PREFIX	0	/* the path of api_url */
#define CIVIS_PATH_TEMPLATE	1	/* endpoint, detail_endpoint, spec paths */
#define CIVIS_PATH_SENT		2	/* a request's path (request.c) */
extern const char *civis_path_problem(const char *path, int kind);

/* --------------------------------------------------------------------
 * naming.c (pure functions, palloc'd results)
 * -------------------------------------------------------------------- */
extern char *civis_camel_to_snake(const char *name);
extern char *civis_snake_to_camel(const char *name);
extern char *civis_table_name_for_path(const char *path);
extern char *civis_singular(const char *plural);
extern char *civis_path_param_column(const char *path, const char *param);
extern List *civis_path_placeholders(const char *path);

/* --------------------------------------------------------------------
 * transport.c (declared in transport.h: requests know nothing of tables);
 * option.c turns a table's options into a transport configuration
 * -------------------------------------------------------------------- */
#include "transport.h"

extern void civis_http_config_from_table(CivisHttpConfig *cfg,
										 const CivisTableInfo *info,
										 Oid userid, const char *api_key);

/* --------------------------------------------------------------------
 * http_error.c
 * -------------------------------------------------------------------- */
CIVIS_NORETURN extern void civis_raise_http_error(const CivisResponse *resp,
												  const char *shown,
												  const char *relname);
extern char *civis_message_text(const char *text, size_t len, int maxchars);
extern int	civis_bidi_control_len(const char *s, size_t len);

/* --------------------------------------------------------------------
 * json_page.c: a response body -> a page of JSON items;
 * decode.c: the only file that turns JSON into Datums
 * -------------------------------------------------------------------- */
typedef struct CivisPage CivisPage; /* a parsed page of items */
typedef struct CivisDecoder CivisDecoder;

extern CivisDecoder *civis_decoder_create(const CivisTableInfo *info,
										  TupleDesc tupdesc,
										  List *retrieved_attrs);
extern void civis_decoder_set_constant(CivisDecoder *dec, AttrNumber attnum,
									   const char *text_value);
extern void civis_decoder_set_datum(CivisDecoder *dec, AttrNumber attnum,
									Datum value);
extern CivisPage *civis_page_parse(const char *body, size_t len,
								   const char *shown, const char *relname);
extern int	civis_page_count(const CivisPage *page);
extern bool civis_page_is_array(const CivisPage *page);
extern int64 civis_page_item_id(const CivisPage *page, int index, bool *has_id);
extern void civis_decode_item(CivisDecoder *dec, const CivisPage *page, int index,
							  Datum *values, bool *nulls);
extern char *civis_page_item_text(const CivisPage *page, int index, const char *key);
extern char *civis_json_top_string(const char *body, size_t len,
								   const char *key);
extern const char *civis_json_library_version(void);

/* --------------------------------------------------------------------
 * import.c
 * -------------------------------------------------------------------- */
extern List *civisImportForeignSchema(ImportForeignSchemaStmt *stmt,
									  Oid serverOid);

/* --------------------------------------------------------------------
 * civis_fdw.c: GUCs
 * -------------------------------------------------------------------- */
extern bool civis_enable_pushdown;
#ifdef CIVIS_TEST_BUILD
extern bool civis_debug_skip_recheck;	/* test builds only (Makefile) */
#else
#define civis_debug_skip_recheck false
#endif

#endif							/* CIVIS_FDW_H */
