/*-------------------------------------------------------------------------
 *
 * estimate.c
 *		  Row estimates from the API itself (option use_remote_estimate).
 *
 * When a table (or its server) says use_remote_estimate 'true', planning a
 * scan of a paged listing asks the API for the first page of the request
 * the scan would send, with limit=1, and reads X-Pagination-Total-Entries:
 * the number of rows the listing holds with every pushed condition already
 * applied.  One small request per distinct request, not per planning: the
 * answer is cached per backend, keyed by server, user and URL, for
 * CIVIS_ESTIMATE_TTL_SECONDS.
 *
 * Only requests whose every value is known at plan time (Consts) are
 * estimated; a fan-out (IN on a path parameter) is the sum of its
 * requests, up to CIVIS_ESTIMATE_MAX_REQUESTS of them.  Anything else --
 * a parameter known only at execution, a missing path parameter, a detail
 * endpoint, an endpoint without paging headers -- returns false and the
 * planner falls back to ANALYZE's statistics or default_rows.
 *
 * Failures: the estimate is an optimisation, so a network failure, a
 * timeout, a 429 or a 5xx answer returns false (logged at DEBUG1) and is
 * remembered for the same TTL, so that an API that is down does not slow
 * every planning down.  Only an answer that says the query cannot succeed
 * for this user -- 401 or 403 -- raises its ERROR at plan time, with the
 * same message the scan would give.  The request is tried once
 * (max_retries does not apply) within CIVIS_ESTIMATE_TIMEOUT_MS at most.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_user_mapping.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "civis_fdw.h"
#include "request.h"
#include "estimate.h"

/* How long a remote estimate is trusted, per backend. */
#define CIVIS_ESTIMATE_TTL_SECONDS	60
/* Upper bound on the time an estimate request may take. */
#define CIVIS_ESTIMATE_TIMEOUT_MS	10000
/* Fan-outs wider than this are not estimated remotely. */
#define CIVIS_ESTIMATE_MAX_REQUESTS 10
/* Entries kept; when full, expired ones go first, then all of them. */
#define CIVIS_ESTIMATE_CACHE_SIZE	1024
/* Longest cache key (server, user, URL); longer URLs are not cached. */
#define CIVIS_ESTIMATE_KEY_LEN		1024

typedef struct EstimateEntry
{
	char		key[CIVIS_ESTIMATE_KEY_LEN];	/* hash key: must be first */
	TimestampTz fetched;
	double		rows;			/* X-Pagination-Total-Entries, -1: unknown */
} EstimateEntry;

static HTAB *estimate_cache = NULL;

static HTAB *
cache(void)
{
	if (estimate_cache == NULL)
	{
		HASHCTL		ctl;

		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = CIVIS_ESTIMATE_KEY_LEN;
		ctl.entrysize = sizeof(EstimateEntry);
		ctl.hcxt = TopMemoryContext;
		estimate_cache = hash_create("civis_fdw remote estimates", 64, &ctl,
									 HASH_ELEM | CIVIS_HASH_STRINGS | HASH_CONTEXT);
	}
	return estimate_cache;
}

static bool
entry_fresh(const EstimateEntry *e, TimestampTz now)
{
	return !TimestampDifferenceExceeds(e->fetched, now,
									   CIVIS_ESTIMATE_TTL_SECONDS * 1000);
}

/* Keep the cache bounded: drop expired entries, and everything if full. */
static void
cache_make_room(HTAB *h, TimestampTz now)
{
	HASH_SEQ_STATUS seq;
	EstimateEntry *e;

	if (hash_get_num_entries(h) < CIVIS_ESTIMATE_CACHE_SIZE)
		return;
	hash_seq_init(&seq, h);
	while ((e = hash_seq_search(&seq)) != NULL)
		if (!entry_fresh(e, now))
			hash_search(h, e->key, HASH_REMOVE, NULL);
	if (hash_get_num_entries(h) < CIVIS_ESTIMATE_CACHE_SIZE)
		return;
	hash_seq_init(&seq, h);
	while ((e = hash_seq_search(&seq)) != NULL)
		hash_search(h, e->key, HASH_REMOVE, NULL);
}

static void
cache_store(const char *key, double rows)
{
	HTAB	   *h = cache();
	TimestampTz now = GetCurrentTimestamp();
	EstimateEntry *e;

	if (strlen(key) >= CIVIS_ESTIMATE_KEY_LEN)
		return;
	cache_make_room(h, now);
	e = hash_search(h, key, HASH_ENTER, NULL);
	e->fetched = now;
	e->rows = rows;
}

static EstimateEntry *
cache_lookup(const char *key)
{
	EstimateEntry *e;

	if (strlen(key) >= CIVIS_ESTIMATE_KEY_LEN)
		return NULL;
	e = hash_search(cache(), key, HASH_FIND, NULL);
	if (e && !entry_fresh(e, GetCurrentTimestamp()))
	{
		hash_search(cache(), key, HASH_REMOVE, NULL);
		return NULL;
	}
	return e;
}

/* Does a user mapping apply (the user's own or PUBLIC's)? Never raises. */
static bool
has_user_mapping(Oid serverid, Oid userid)
{
	return SearchSysCacheExists2(USERMAPPINGUSERSERVER,
								 ObjectIdGetDatum(userid),
								 ObjectIdGetDatum(serverid)) ||
		SearchSysCacheExists2(USERMAPPINGUSERSERVER,
							  ObjectIdGetDatum(InvalidOid),
							  ObjectIdGetDatum(serverid));
}

/* Values of the plan's expressions, when all of them are Consts. */
static CivisValue *
const_values(List *fdw_exprs)
{
	CivisValue *values;
	ListCell   *lc;
	int			i = 0;

	values = palloc0(sizeof(CivisValue) * Max(list_length(fdw_exprs), 1));
	foreach(lc, fdw_exprs)
	{
		Node	   *expr = lfirst(lc);

		while (expr && IsA(expr, RelabelType))
			expr = (Node *) ((RelabelType *) expr)->arg;
		if (expr == NULL || !IsA(expr, Const))
			return NULL;
		values[i].typid = ((Const *) expr)->consttype;
		values[i].isnull = ((Const *) expr)->constisnull;
		values[i].value = ((Const *) expr)->constvalue;
		i++;
	}
	return values;
}

typedef enum
{
	FETCH_OK,					/* *rows is the total */
	FETCH_UNKNOWN,				/* no usable answer: fall back */
	FETCH_RAISE					/* an answer that must be reported */
} FetchResult;

/*
 * GET one limit=1 page.  Transport failures are caught in a subtransaction
 * (the transport cleans up through its memory context callback) and turn
 * into FETCH_UNKNOWN; a cancel is re-thrown.
 */
static FetchResult
fetch_total(const CivisTableInfo *info, Oid userid, const char *api_key,
			const char *url, const char *shown, double *rows,
			CivisResponse *resp)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	MemoryContext cxt;
	FetchResult result = FETCH_UNKNOWN;

	cxt = AllocSetContextCreate(oldcxt, "civis_fdw estimate",
								ALLOCSET_SMALL_SIZES);

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		CivisHttpConfig cfg;
		CivisHttp  *http;
		int			ticket;

		civis_http_config_from_table(&cfg, info, userid, api_key);
		cfg.max_retries = 0;
		cfg.max_in_flight = 1;
		cfg.no_budget_wait = true;	/* planning never waits for budget */
		cfg.request_timeout_ms = Min(cfg.request_timeout_ms,
									 CIVIS_ESTIMATE_TIMEOUT_MS);
		cfg.connect_timeout_ms = Min(cfg.connect_timeout_ms,
									 CIVIS_ESTIMATE_TIMEOUT_MS);
		http = civis_http_begin(cxt, &cfg);
		ticket = civis_http_submit(http, url, shown);

		/* the response (body included) goes to the caller's context */
		MemoryContextSwitchTo(oldcxt);
		civis_http_wait(http, ticket, resp);

		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		MemoryContextDelete(cxt);

		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED ||
			edata->sqlerrcode == ERRCODE_OUT_OF_MEMORY)
			ReThrowError(edata);
		elog(DEBUG1, "no remote estimate for \"%s\" (GET %s): %s",
			 info->relname, shown, edata->message);
		FreeErrorData(edata);
		return FETCH_UNKNOWN;
	}
	PG_END_TRY();

	/* releases the curl handle; the connection stays in the backend's cache */
	MemoryContextDelete(cxt);

	if (resp->status == 200 && resp->total_entries >= 0)
	{
		*rows = (double) resp->total_entries;
		result = FETCH_OK;
	}
	else if (resp->status == 404 && strchr(info->endpoint, '{') != NULL)
	{
		/* the parent resource does not exist: the scan returns no rows */
		*rows = 0;
		result = FETCH_OK;
	}
	else if (resp->status == 401 || resp->status == 403)
		result = FETCH_RAISE;
	else
		elog(DEBUG1, "no remote estimate for \"%s\" (GET %s): status %ld%s",
			 info->relname, shown, resp->status,
			 resp->status == 200 ? ", no X-Pagination-Total-Entries" : "");
	return result;
}

bool
civis_remote_estimate(CivisTableInfo *info, const CivisRequestPlan *plan,
					  List *fdw_exprs, Oid userid, double *rows)
{
	CivisValue *values;
	CivisExpansion exp;
	List	   *streams;
	List	   *parts;
	ListCell   *lc;
	char	   *api_key;
	double		total = 0;

	if (!info->use_remote_estimate || plan->kind != CIVIS_PLAN_LIST ||
		(plan->paging != CIVIS_PAGING_PAGES && plan->paging != CIVIS_PAGING_AUTO))
		return false;
	if ((values = const_values(fdw_exprs)) == NULL)
		return false;
	if (!has_user_mapping(info->serverid, userid))
		return false;			/* the scan will say so, if it runs */

	civis_expand(plan, values, info->relname, false, &exp);
	if (exp.error)
		return false;			/* the scan will raise it */
	if (exp.no_rows)
	{
		*rows = 0;
		return true;
	}
	streams = exp.streams;
	if (list_length(streams) > CIVIS_ESTIMATE_MAX_REQUESTS)
		return false;

	parts = list_make2(civis_query_part("limit", "1"),
					   civis_query_part("page_num", "1"));
	api_key = NULL;

	foreach(lc, streams)
	{
		CivisStream *stream = lfirst(lc);
		char	   *url;
		char	   *shown;
		char	   *key;
		EstimateEntry *e;
		double		n = -1;
		CivisResponse resp;

		if (strchr(stream->path, '{') != NULL)
			return false;		/* a path parameter without a value */

		url = civis_build_url(info->api_url, stream, parts, false);
		shown = civis_build_url(NULL, stream, parts, true);
		key = psprintf("%u/%u %s", info->serverid, userid, url);

		if ((e = cache_lookup(key)) != NULL)
			n = e->rows;
		else
		{
			FetchResult r;

			if (api_key == NULL)
				api_key = civis_get_api_key(info->serverid, userid);
			memset(&resp, 0, sizeof(resp));
			r = fetch_total(info, userid, api_key, url, shown, &n, &resp);
			if (r == FETCH_RAISE)
				civis_raise_http_error(&resp, shown, info->relname);
			cache_store(key, r == FETCH_OK ? n : -1);
			if (r != FETCH_OK)
				n = -1;
		}
		if (n < 0)
			return false;
		total += n;
	}

	*rows = total;
	return true;
}
