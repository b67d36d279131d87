/*-------------------------------------------------------------------------
 *
 * civis_fdw.c
 *		  Module entry points: the FDW handler, GUCs, cache invalidation and
 *		  the small SQL-callable utility functions.
 *
 * The callbacks themselves live with their stage: planning in planner.c,
 * execution in scan.c, IMPORT FOREIGN SCHEMA in import.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/plancache.h"

#include "access/htup_details.h"
#include "catalog/pg_user_mapping.h"
#include "commands/defrem.h"
#include "fmgr.h"
#include "foreign/fdwapi.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"

#include "budget.h"
#include "civis_fdw.h"
#include "compat.h"
#include "analyze.h"
#include "planner.h"
#include "scan.h"

PG_MODULE_MAGIC;

bool		civis_enable_pushdown = true;
#ifdef CIVIS_TEST_BUILD
bool		civis_debug_skip_recheck = false;
#endif

void		_PG_init(void);

PG_FUNCTION_INFO_V1(civis_fdw_handler);
PG_FUNCTION_INFO_V1(civis_fdw_disconnect_all);
PG_FUNCTION_INFO_V1(civis_fdw_version);
PG_FUNCTION_INFO_V1(civis_fdw_rate_limit);
PG_FUNCTION_INFO_V1(civis_fdw_budget);
#ifdef CIVIS_TEST_BUILD
PG_FUNCTION_INFO_V1(civis_fdw_test_shared_bytes);
#endif

/*
 * A server or user mapping changed (new api_url, new key, new CA file):
 * cached connections may belong to the old settings, so drop them.
 */
static void
civis_inval_callback(Datum arg, int cacheid, uint32 hashvalue)
{
	civis_http_invalidate_connections();
}

/*
 * Plans made under the other setting would keep pushing (or not): changing
 * the switch drops every cached plan, as the error HINTs that suggest it
 * promise.
 */
static void
assign_enable_pushdown(bool newval, void *extra)
{
	if (newval != civis_enable_pushdown)
		ResetPlanCache();
}

void
_PG_init(void)
{
	DefineCustomBoolVariable("civis_fdw.enable_pushdown",
							 "Lets civis_fdw send optimisation parameters (filters, sorts, limits, get-by-id) to the API.",
							 "Parameters that decide which rows exist (path parameters, parameter-only columns, scopes) are always sent.",
							 &civis_enable_pushdown,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, assign_enable_pushdown, NULL);

#ifdef CIVIS_TEST_BUILD
	DefineCustomBoolVariable("civis_fdw.debug_skip_recheck",
							 "Testing only: trust every pushed filter and skip the local recheck (gives wrong results).",
							 NULL,
							 &civis_debug_skip_recheck,
							 false,
							 PGC_SUSET,
							 GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE,
							 NULL, NULL, NULL);
#endif

	DefineCustomStringVariable("civis_fdw.allowed_hosts",
							   "Hosts any server owner may point a civis_fdw server at.",
							   "Comma-separated host[:port] entries; prefix one with http:// to allow plain http to it. Other hosts need a superuser, and their addresses are checked when connecting.",
							   &civis_allowed_hosts,
							   "api.civisanalytics.com",
							   PGC_SUSET,
							   GUC_LIST_INPUT,
							   civis_check_allowed_hosts, NULL, NULL);

	civis_budget_define_gucs();
	civis_budget_init();

	/* what a non-superuser may raise the size and time options to */
	for (CivisOptionCeiling *c = civis_option_ceilings; c->option; c++)
		DefineCustomIntVariable(c->guc,
								c->description,
								"Set by superusers, also per role or database (ALTER ROLE/DATABASE ... SET); superusers themselves are not bound by it.",
								c->limit,
								c->boot_value,
								c->minval,
								INT_MAX,
								PGC_SUSET,
								c->flags,
								NULL, NULL, NULL);

	civis_mark_guc_prefix_reserved("civis_fdw");

	CacheRegisterSyscacheCallback(FOREIGNSERVEROID, civis_inval_callback, (Datum) 0);
	CacheRegisterSyscacheCallback(USERMAPPINGOID, civis_inval_callback, (Datum) 0);
}

Datum
civis_fdw_handler(PG_FUNCTION_ARGS)
{
	FdwRoutine *routine = makeNode(FdwRoutine);

	civis_planner_routines(routine);
	civis_scan_routines(routine);
	routine->ImportForeignSchema = civisImportForeignSchema;
	routine->AnalyzeForeignTable = civisAnalyzeForeignTable;

	PG_RETURN_POINTER(routine);
}

Datum
civis_fdw_disconnect_all(PG_FUNCTION_ARGS)
{
	civis_http_invalidate_connections();
	PG_RETURN_VOID();
}

Datum
civis_fdw_version(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(psprintf("civis_fdw %s, libcurl %s, cJSON %s, PostgreSQL %s",
											  CIVIS_FDW_VERSION,
											  civis_http_library_version(),
											  civis_json_library_version(),
											  PG_VERSION)));
}

/*
 * civis_fdw_rate_limit(): for each (server, user mapping) this session sent
 * requests with, one row: the server's name, the mapping's user (PUBLIC for
 * a public mapping), the latest X-RateLimit-Limit and X-RateLimit-Remaining
 * seen and when (NULL when no response carried them yet).  Since 1.1.0.
 *
 * The states come from the transport (civis_http_rate_states), keyed by the
 * server's and the mapping's OIDs; the names are looked up here.  A server
 * or mapping dropped since is left out: its budget is nobody's any more, and
 * an OID would name nothing.  So is the mapping of a role whose privileges
 * the current user does not have (used earlier in the session under another
 * role, by SET ROLE or a SECURITY DEFINER function); PUBLIC mappings are
 * shown to everyone.  The transport remembers at most CIVIS_RATE_STATES_MAX
 * mappings per backend (the least recently used one is forgotten first).
 * Neither the key nor anything derived from it is shown.
 */
Datum
civis_fdw_rate_limit(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	CivisRateState states[CIVIS_RATE_STATES_MAX];
	int			n;
	int			i;

	civis_materialized_srf(fcinfo);
	n = civis_http_rate_states(states, CIVIS_RATE_STATES_MAX);
	for (i = 0; i < n; i++)
	{
		CivisRateState *st = &states[i];
		ForeignServer *server;
		HeapTuple	tp;
		Oid			umuser;
		char	   *user_name;
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};

		CHECK_FOR_INTERRUPTS();
		server = GetForeignServerExtended(st->key.serverid, FSV_MISSING_OK);
		if (server == NULL)
			continue;
		tp = SearchSysCache1(USERMAPPINGOID, ObjectIdGetDatum(st->key.umid));
		if (!HeapTupleIsValid(tp))
			continue;
		umuser = ((Form_pg_user_mapping) GETSTRUCT(tp))->umuser;
		ReleaseSysCache(tp);
		if (OidIsValid(umuser) && !has_privs_of_role(GetUserId(), umuser))
			continue;
		if (!OidIsValid(umuser))
			user_name = "PUBLIC";
		else if ((user_name = GetUserNameFromId(umuser, true)) == NULL)
			continue;

		values[0] = CStringGetTextDatum(server->servername);
		values[1] = CStringGetTextDatum(user_name);
		values[2] = Int64GetDatum(st->limit);
		nulls[2] = st->limit < 0;
		values[3] = Int64GetDatum(st->remaining);
		nulls[3] = st->remaining < 0;
		values[4] = TimestampTzGetDatum(st->seen_at);
		nulls[4] = st->seen_at == 0;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * civis_fdw_budget(): the request budget of every key the current user may
 * use, one row per user mapping (since 1.2.0).  The budget is kept per (API
 * origin, key) pair in shared memory (budget.c), identified by a hash; a
 * mapping is matched to it by hashing its server's origin and its key here.
 *
 * Rows: the mappings usable in this database by the current user (their
 * own, else PUBLIC's, per server); a superuser sees every mapping, and also
 * the budgets no mapping of this database matches (one key used from
 * another database), with NULL names.  A mapping with api_key_file is
 * matched only for a superuser (reading the file is theirs to do).
 * "shared" is false where the budget is per session: no shared memory (15
 * without shared_preload_libraries; the latest X-RateLimit-* this session
 * saw are shown then), or a key the full key table could not take.
 */
#define BUDGET_COLS 10

static void
budget_put_row(ReturnSetInfo *rsinfo, const char *server_name,
			   const char *user_name, bool shared, const CivisBudgetRow *r,
			   int window_s, int64 limit, int64 remaining)
{
	Datum		values[BUDGET_COLS];
	bool		nulls[BUDGET_COLS];

	memset(nulls, 0, sizeof(nulls));
	values[0] = server_name ? CStringGetTextDatum(server_name) : (Datum) 0;
	nulls[0] = server_name == NULL;
	values[1] = user_name ? CStringGetTextDatum(user_name) : (Datum) 0;
	nulls[1] = user_name == NULL;
	values[2] = BoolGetDatum(shared);
	if (r != NULL)
	{
		limit = r->limit;
		remaining = r->remaining;
		window_s = r->window_s;
	}
	values[3] = Int64GetDatum(limit);
	nulls[3] = limit < 0;
	values[4] = Int64GetDatum(remaining);
	nulls[4] = remaining < 0;
	values[5] = Int32GetDatum(r ? r->in_flight : 0);
	nulls[5] = !shared;
	values[6] = Int32GetDatum(r ? r->waiting : 0);
	nulls[6] = !shared;
	values[7] = TimestampTzGetDatum(r ? r->hold_until : 0);
	nulls[7] = r == NULL || r->hold_until == 0;
	values[8] = Int32GetDatum(window_s);
	values[9] = Int64GetDatum(r ? r->requests : 0);
	nulls[9] = !shared;
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/* This session's own view of a mapping's limit (no shared state). */
static void
session_rate_state(Oid serverid, Oid umid, int64 *limit, int64 *remaining)
{
	CivisRateState states[CIVIS_RATE_STATES_MAX];
	int			n = civis_http_rate_states(states, CIVIS_RATE_STATES_MAX);
	int			i;

	*limit = *remaining = -1;
	for (i = 0; i < n; i++)
		if (states[i].key.serverid == serverid && states[i].key.umid == umid)
		{
			*limit = states[i].limit;
			*remaining = states[i].remaining;
		}
}

/* The server option rate_window, or its default. */
static int
server_rate_window(ForeignServer *server)
{
	ListCell   *lc;

	foreach(lc, server->options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);

		if (strcmp(def->defname, "rate_window") == 0)
			return pg_strtoint32(defGetString(def));
	}
	return CIVIS_DEFAULT_RATE_WINDOW_S;
}

/*
 * The row of one mapping: its shared budget (found), a shared budget no
 * session has used yet (can_share), or this session's own view.
 */
static void
budget_mapping_row(ReturnSetInfo *rsinfo, ForeignServer *server, Oid umid,
				   const char *user_name, CivisBudgetRow *found,
				   bool can_share)
{
	int64		limit,
				remaining;

	if (found != NULL)
		budget_put_row(rsinfo, server->servername, user_name, true, found,
					   0, -1, -1);
	else if (can_share)
		budget_put_row(rsinfo, server->servername, user_name, true, NULL,
					   server_rate_window(server), -1, -1);
	else
	{
		session_rate_state(server->serverid, umid, &limit, &remaining);
		budget_put_row(rsinfo, server->servername, user_name, false, NULL,
					   server_rate_window(server), limit, remaining);
	}
}

typedef struct BudgetListing
{
	ReturnSetInfo *rsinfo;
	CivisBudgetRow *rows;
	bool	   *matched;
	int			nrows;
	bool		can_share;
} BudgetListing;

static void
budget_listing_row(ForeignServer *server, Oid umid, const char *user_name,
				   const uint8 *hash, void *arg)
{
	BudgetListing *bl = (BudgetListing *) arg;
	CivisBudgetRow *found = NULL;
	int			i;

	for (i = 0; i < bl->nrows && found == NULL; i++)
		if (memcmp(bl->rows[i].hash, hash, CIVIS_BUDGET_HASH_LEN) == 0)
		{
			found = &bl->rows[i];
			bl->matched[i] = true;
		}
	budget_mapping_row(bl->rsinfo, server, umid, user_name, found,
					   bl->can_share);
}

Datum
civis_fdw_budget(PG_FUNCTION_ARGS)
{
	BudgetListing bl;
	bool		matched[CIVIS_BUDGET_KEYS];
	int			i;

	civis_materialized_srf(fcinfo);
	memset(matched, 0, sizeof(matched));
	bl.rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bl.rows = palloc0(sizeof(CivisBudgetRow) * CIVIS_BUDGET_KEYS);
	bl.matched = matched;
	bl.nrows = civis_budget_rows(bl.rows, CIVIS_BUDGET_KEYS);
	bl.can_share = civis_shared_budget && civis_budget_is_shared() &&
		bl.nrows < CIVIS_BUDGET_KEYS;
	civis_for_each_usable_mapping(budget_listing_row, &bl);

	/* a superuser also sees the budgets of keys unknown here */
	if (superuser())
		for (i = 0; i < bl.nrows; i++)
			if (!matched[i])
				budget_put_row(bl.rsinfo, NULL, NULL, true, &bl.rows[i], 0, -1, -1);
	return (Datum) 0;
}

#ifdef CIVIS_TEST_BUILD
/* Testing only: the bytes of civis_fdw's shared memory (NULL: none). */
Datum
civis_fdw_test_shared_bytes(PG_FUNCTION_ARGS)
{
	bytea	   *b = civis_budget_shared_bytes();

	if (b == NULL)
		PG_RETURN_NULL();
	PG_RETURN_BYTEA_P(b);
}
#endif
