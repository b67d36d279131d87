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
