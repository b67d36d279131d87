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

#include "fmgr.h"
#include "foreign/fdwapi.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/syscache.h"

#include "civis_fdw.h"
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
