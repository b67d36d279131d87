/*-------------------------------------------------------------------------
 *
 * monitor.c
 *		  What every running foreign scan is doing, from any session:
 *		  civis_fdw_scans().
 *
 * Each backend has CIVIS_SCANS_PER_BACKEND rows in the shared memory of the
 * request budget (budget.c).  A scan takes a row when it starts and gives
 * it back when its memory context goes (EndForeignScan, an abort, or the
 * close of a cursor that held it open); a backend's rows are cleared when
 * it exits.  Scans beyond its rows run unmonitored, and are counted so
 * that civis_fdw_scans() can say how many it does not show.
 *
 * Only the owning backend writes its rows, without a lock: the counters
 * are updated per page (the transport's request counts as they happen),
 * and a reader takes a slightly stale snapshot.  A row is filled before it
 * is marked in use, behind a write barrier.
 *
 * Without shared memory (15 without shared_preload_libraries) the rows are
 * this backend's own, and civis_fdw_scans() shows only this session's
 * scans, with a NOTICE saying so.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "commands/dbcommands.h"
#include "fmgr.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "budget.h"
#include "civis_fdw.h"
#include "compat.h"
#include "monitor.h"

PG_FUNCTION_INFO_V1(civis_fdw_scans);

/* rows of this backend when nothing is shared */
static CivisScanSlot local_slots[CIVIS_SCANS_PER_BACKEND];

typedef struct MonitorHandle
{
	MemoryContextCallback cb;
	CivisScanSlot *slot;		/* NULL: this scan is not monitored */
	CivisScanSlot *first;		/* this backend's first row (its count of
								 * unmonitored scans) */
} MonitorHandle;

static void
monitor_release(void *arg)
{
	MonitorHandle *mh = (MonitorHandle *) arg;

	if (mh->slot != NULL)
	{
		mh->slot->in_use = false;
		pg_write_barrier();
	}
	else if (mh->first->unmonitored > 0)
		mh->first->unmonitored--;
	mh->slot = NULL;
}

static void
copy_name(char *dst, size_t size, const char *src)
{
	strlcpy(dst, src ? src : "", size);
}

/*
 * Take a row for a scan of the foreign table relid, given back when cxt
 * goes.  NULL when this backend's rows are all taken (the scan then runs
 * unmonitored, and is counted).
 */
CivisScanSlot *
civis_monitor_begin(MemoryContext cxt, Oid relid, Oid serverid, Oid userid,
					const uint8 *hash)
{
	int			nslots;
	int			mine;
	CivisScanSlot *slots = civis_budget_scan_slots(&nslots, &mine);
	CivisScanSlot *slot = NULL;
	MonitorHandle *mh;
	int			i;

	if (slots == NULL)
	{
		slots = local_slots;
		mine = 0;
	}
	for (i = 0; mine >= 0 && i < CIVIS_SCANS_PER_BACKEND && slot == NULL; i++)
		if (!slots[mine + i].in_use)
			slot = &slots[mine + i];

	if (mine < 0)
		return NULL;			/* no row for this backend at all */
	mh = MemoryContextAllocZero(cxt, sizeof(MonitorHandle));
	mh->slot = slot;
	mh->first = &slots[mine];
	if (slot == NULL)
		mh->first->unmonitored++;
	else
	{
		int			keep = slot->unmonitored;

		char	   *nsp = get_namespace_name(get_rel_namespace(relid));
		char	   *rel = get_rel_name(relid);

		memset(slot, 0, sizeof(*slot));
		slot->unmonitored = keep;
		slot->pid = MyProcPid;
		slot->userid = userid;
		if (hash != NULL)
		{
			memcpy(slot->hash, hash, CIVIS_BUDGET_HASH_LEN);
			slot->has_hash = true;
		}
		slot->started_at = GetCurrentTimestamp();
		copy_name(slot->database, NAMEDATALEN, get_database_name(MyDatabaseId));
		copy_name(slot->user_name, NAMEDATALEN, GetUserNameFromId(userid, true));
		copy_name(slot->server_name, NAMEDATALEN,
				  GetForeignServer(serverid)->servername);
		copy_name(slot->foreign_table, CIVIS_SCAN_TABLE_LEN,
				  quote_qualified_identifier(nsp, rel));
		slot->pages_expected = -1;
		pg_write_barrier();
		slot->in_use = true;
	}
	mh->cb.func = monitor_release;
	mh->cb.arg = mh;
	MemoryContextRegisterResetCallback(cxt, &mh->cb);
	return slot;
}

/*
 * A page was read: the pages expected in all (-1: the API did not say),
 * and the rows returned so far.
 */
void
civis_monitor_page(CivisScanSlot *slot, int64 pages_expected,
				   int64 rows_returned)
{
	if (slot == NULL)
		return;
	Assert(slot->in_use && slot->pid == MyProcPid); /* only the owner writes */
	slot->pages_read++;
	slot->pages_expected = pages_expected;
	slot->rows_returned = rows_returned;
}

static bool
visible(const CivisScanSlot *s, List *hashes, bool is_super)
{
	ListCell   *lc;

	if (is_super || s->userid == GetUserId())
		return true;
	if (!s->has_hash)
		return false;
	foreach(lc, hashes)
		if (memcmp(lfirst(lc), s->hash, CIVIS_BUDGET_HASH_LEN) == 0)
			return true;
	return false;
}

#define SCANS_COLS 13

static void
put_scan(ReturnSetInfo *rsinfo, const CivisScanSlot *s)
{
	Datum		values[SCANS_COLS];
	bool		nulls[SCANS_COLS];
	static const char *const waiting[] = {NULL, "budget", "retry", "network"};

	memset(nulls, 0, sizeof(nulls));
	values[0] = Int32GetDatum(s->pid);
	values[1] = CStringGetTextDatum(s->user_name);
	values[2] = CStringGetTextDatum(s->database);
	values[3] = CStringGetTextDatum(s->foreign_table);
	values[4] = CStringGetTextDatum(s->server_name);
	values[5] = TimestampTzGetDatum(s->started_at);
	values[6] = Int64GetDatum(s->requests);
	values[7] = Int64GetDatum(s->pages_read);
	values[8] = Int64GetDatum(s->pages_expected);
	nulls[8] = s->pages_expected < 0;
	values[9] = Int64GetDatum(s->rows_returned);
	values[10] = Int64GetDatum(s->retries);
	if (s->waiting_for > CIVIS_WAITING_NONE && s->waiting_for <= CIVIS_WAITING_NETWORK)
	{
		values[11] = CStringGetTextDatum(waiting[s->waiting_for]);
		values[12] = TimestampTzGetDatum(s->waiting_since);
	}
	else
		nulls[11] = nulls[12] = true;
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * civis_fdw_scans(): one row per foreign scan running in any backend that
 * the current user may see: their own, and those on mappings they may use
 * (the visibility rule of civis_fdw_budget()); a superuser sees all.
 */
Datum
civis_fdw_scans(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			nslots;
	int			mine;
	CivisScanSlot *slots = civis_budget_scan_slots(&nslots, &mine);
	bool		is_super = superuser();
	List	   *hashes = is_super ? NIL : civis_usable_mapping_hashes();
	int			hidden = 0;
	int			i;

	civis_materialized_srf(fcinfo);
	if (slots == NULL)
	{
		ereport(NOTICE,
				(errmsg("civis_fdw shares no memory between sessions here: only this session's foreign scans are shown"),
				 errhint("On PostgreSQL 15, add civis_fdw to shared_preload_libraries and restart the server.")));
		slots = local_slots;
		nslots = CIVIS_SCANS_PER_BACKEND;
	}
	for (i = 0; i < nslots; i++)
	{
		CivisScanSlot copy;

		if (i % CIVIS_SCANS_PER_BACKEND == 0)
			hidden += slots[i].unmonitored;
		if (!slots[i].in_use)
			continue;
		pg_read_barrier();
		memcpy(&copy, &slots[i], sizeof(copy));
		if (!copy.in_use || !visible(&copy, hashes, is_super))
			continue;
		put_scan(rsinfo, &copy);
	}
	if (hidden > 0)
		ereport(NOTICE,
				(errmsg_plural("%d running foreign scan is not shown: it found no free monitoring row",
							   "%d running foreign scans are not shown: they found no free monitoring row",
							   hidden, hidden),
				 errdetail("Each session shows at most %d foreign scans at once.",
						   CIVIS_SCANS_PER_BACKEND)));
	return (Datum) 0;
}
