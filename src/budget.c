/*-------------------------------------------------------------------------
 *
 * budget.c
 *		  The request budget of an API key, shared by every backend.
 *
 * The Civis API allows each key a number of requests per window (1,000 per
 * 300 s, X-RateLimit-Limit) and answers 429 with Retry-After beyond it.
 * One key serves many sessions at once (scheduled refreshes, dashboards,
 * analysts), so the budget is kept once per cluster, in shared memory, and
 * every request takes one unit of it before it starts.
 *
 * Where the memory comes from
 * ---------------------------
 * PostgreSQL 17 and later: the DSM registry (GetNamedDSMSegment), created by
 * the first backend that needs it; no configuration.  PostgreSQL 15 and 16:
 * the main shared memory, requested by shmem_request_hook, which only a
 * library in shared_preload_libraries can install; without preloading
 * there is no shared state and every backend budgets alone, as 1.1.0 did
 * (civis_fdw_budget() says "shared = false").  The segment's name carries
 * a layout version (CIVIS_BUDGET_SEGMENT): after a package upgrade, old and
 * new libraries keep two budgets until the old sessions end.  The sizes are
 * compile-time constants and MaxBackends, never a GUC.
 *
 * What is kept
 * ------------
 * One BudgetKey per (API origin, key) pair, found by the SHA-256 of the
 * normalized origin and the key (civis_budget_hash; the key and its
 * Basic-auth form are never stored), at most CIVIS_BUDGET_KEYS of them.  A
 * key's requests are counted in a ring of time buckets, BUCKETS per window
 * (the server option rate_window: the API never says its window).  A
 * request counts from the bucket it was admitted in until BUCKETS + 2
 * buckets later: at least a window and a bucket after it was admitted, so
 * the model is never more permissive than the API's sliding window (nor
 * than a fixed one) as long as a request reaches the API within a bucket
 * (5 s at the default window) of its admission.  X-RateLimit-Limit sets the limit;
 * X-RateLimit-Remaining only ever raises the count (another client of the
 * same key, outside this cluster, may have used some).  Until the limit is
 * known, one request at a time probes for it.
 *
 * What belongs to a backend (its in-flight requests, its place in the
 * queue, the keys it uses) is in its own BudgetProc, indexed by its proc
 * number and tagged with its pid and start time.  A backend clears its own
 * at exit (before_shmem_exit: pg_terminate_backend included), and a row
 * whose pid is gone is cleared by whoever finds it; a crash restarts the
 * cluster and this state with it.  Totals are sums over the live rows, so
 * nothing a dead backend held can be counted for long.
 *
 * Admission
 * ---------
 * A request is admitted when the key is not on hold (a 429's Retry-After),
 * and taking one unit leaves the margin for libcurl's own re-sends
 * (CIVIS_BUDGET_MARGIN_PCT) and, for bulk work, the reserve (rate_reserve,
 * a share of the limit kept for short queries).  Backends waiting for the
 * same key take turns in the order they started waiting (a ticket each);
 * a backend admitted once takes a new ticket for its next request, so a
 * bulk reader cannot hold the head of the queue.  A waiter that could not
 * use the budget (bulk work, only the reserve left) does not hold up those
 * that can.
 *
 * Locking: one LWLock for the whole structure; nothing between acquire and
 * release can raise an ERROR (no palloc, no elog).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "common/cryptohash.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "budget.h"
#include "compat.h"

/* the name of the segment, with its layout version */
#define CIVIS_BUDGET_SEGMENT	"civis_fdw_budget_v1"
#define CIVIS_BUDGET_TRANCHE	"civis_fdw_budget"

/* buckets per window, and the ring that holds them (> BUCKETS + 1) */
#define BUCKETS					60
#define RING					64

/* a share of the limit left for libcurl's re-sends (at least one unit) */
#define CIVIS_BUDGET_MARGIN_PCT	1

/* the limit assumed when the API sends no X-RateLimit-Limit */
#define CIVIS_BUDGET_ASSUMED_LIMIT	1000

/* how soon a waiter looks again when only its turn is missing */
#define CIVIS_BUDGET_TURN_MS	20.0

/*
 * A waiter that has not looked for this long holds nobody up: a backend
 * waits for budget only inside a request loop, which looks at least every
 * 100 ms; an open cursor whose read-ahead was left queued does not look.
 */
#define CIVIS_BUDGET_STALE_US	(500 * INT64CONST(1000))

typedef struct BudgetKey
{
	bool		in_use;
	uint8		hash[CIVIS_BUDGET_HASH_LEN];
	int64		limit;			/* -1 until known */
	int64		window_us;
	int64		bucket_us;
	int64		ring_epoch[RING];
	int32		ring_count[RING];
	TimestampTz hold_until;
	TimestampTz last_request;
	int64		requests;		/* charged since the entry was made */
	uint64		next_ticket;
} BudgetKey;

typedef struct BudgetProc
{
	int			pid;			/* 0: free */
	TimestampTz started;		/* MyStartTimestamp of that pid */
	int16		users[CIVIS_BUDGET_KEYS];	/* open request sets per key */
	int16		in_flight[CIVIS_BUDGET_KEYS];
	int			wait_key;		/* -1: not waiting */
	bool		wait_bulk;
	uint64		wait_ticket;
	TimestampTz wait_since;
	TimestampTz wait_polled;	/* the waiter's latest look */
} BudgetProc;

typedef struct BudgetShared
{
#ifdef CIVIS_HAVE_DSM_REGISTRY
	LWLock		lock;
	int			tranche_id;
#endif
	int			nprocs;
	BudgetKey	keys[CIVIS_BUDGET_KEYS];
	BudgetProc	procs[FLEXIBLE_ARRAY_MEMBER];
	/* then CIVIS_SCANS_PER_BACKEND CivisScanSlots per proc (monitor.c) */
} BudgetShared;

int			civis_max_budget_wait_s = 300;
bool		civis_shared_budget = true;
int			civis_request_priority = CIVIS_PRIORITY_INTERACTIVE;

static const struct config_enum_entry priority_options[] = {
	{"interactive", CIVIS_PRIORITY_INTERACTIVE, false},
	{"background", CIVIS_PRIORITY_BACKGROUND, false},
	{NULL, 0, false}
};

static BudgetShared *budget = NULL;
static LWLock *budget_lock = NULL;
static bool budget_looked = false;	/* 17+: tried to attach already */
static bool budget_exiting = false; /* our row is cleared: do nothing */
static bool exit_registered = false;
static BudgetProc *my_proc = NULL;

#ifndef CIVIS_HAVE_DSM_REGISTRY
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;
#endif

static Size
procs_end(void)
{
	return MAXALIGN(add_size(offsetof(BudgetShared, procs),
							 mul_size(MaxBackends, sizeof(BudgetProc))));
}

static Size
budget_size(void)
{
	return add_size(procs_end(),
					mul_size(mul_size(MaxBackends, CIVIS_SCANS_PER_BACKEND),
							 sizeof(CivisScanSlot)));
}

static CivisScanSlot *
scan_slots(void)
{
	return (CivisScanSlot *) ((char *) budget + procs_end());
}

static void
budget_init_struct(BudgetShared *b)
{
	int			i;

	memset(b, 0, budget_size());
	b->nprocs = MaxBackends;
	for (i = 0; i < b->nprocs; i++)
		b->procs[i].wait_key = -1;
}

/* claim_proc under the lock, for callers outside this file's own paths */
static BudgetProc *claim_proc(void);
static void exit_callback(int code, Datum arg);

/*
 * The monitor rows of every backend (*nslots of them) and the index of
 * this backend's first one (*mine, -1: none), claiming this backend's row
 * on first use; NULL without shared memory.
 */
CivisScanSlot *
civis_budget_scan_slots(int *nslots, int *mine)
{
	*nslots = 0;
	*mine = -1;
	if (!civis_budget_is_shared() || budget_exiting)
		return NULL;
	if (!exit_registered)
	{
		before_shmem_exit(exit_callback, (Datum) 0);
		exit_registered = true;
	}
	if (my_proc == NULL || my_proc->pid != MyProcPid)
	{
		LWLockAcquire(budget_lock, LW_EXCLUSIVE);
		my_proc = claim_proc();
		LWLockRelease(budget_lock);
	}
	*nslots = budget->nprocs * CIVIS_SCANS_PER_BACKEND;
	if (my_proc != NULL)
		*mine = (int) (my_proc - budget->procs) * CIVIS_SCANS_PER_BACKEND;
	return scan_slots();
}

#ifdef CIVIS_HAVE_DSM_REGISTRY

static void
budget_dsm_init(void *ptr CIVIS_DSM_INIT_ARG)
{
	BudgetShared *b = (BudgetShared *) ptr;

	budget_init_struct(b);
	b->tranche_id = civis_lwlock_new_tranche_id(CIVIS_BUDGET_TRANCHE);
	LWLockInitialize(&b->lock, b->tranche_id);
}

/* Attach to (or create) the registry's segment, once per backend. */
static void
budget_attach_shared(void)
{
	bool		found;

	if (budget_looked)
		return;
	budget_looked = true;
	budget = civis_get_named_dsm_segment(CIVIS_BUDGET_SEGMENT, budget_size(),
										 budget_dsm_init, &found);
	civis_lwlock_register_tranche(budget->tranche_id, CIVIS_BUDGET_TRANCHE);
	budget_lock = &budget->lock;
}

#else							/* 15 and 16: preloaded, or nothing */

static void
budget_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(budget_size());
	RequestNamedLWLockTranche(CIVIS_BUDGET_TRANCHE, 1);
}

static void
budget_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	budget = ShmemInitStruct(CIVIS_BUDGET_SEGMENT, budget_size(), &found);
	if (!found)
		budget_init_struct(budget);
	budget_lock = &(GetNamedLWLockTranche(CIVIS_BUDGET_TRANCHE))->lock;
	LWLockRelease(AddinShmemInitLock);
}

static void
budget_attach_shared(void)
{
	/* the postmaster set budget up before forking us, or nobody did */
	budget_looked = true;
}

#endif

/* _PG_init: on 15 and 16, reserve the memory when preloaded. */
void
civis_budget_init(void)
{
#ifndef CIVIS_HAVE_DSM_REGISTRY
	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = budget_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = budget_shmem_startup;
#endif
}

void
civis_budget_define_gucs(void)
{
	DefineCustomBoolVariable("civis_fdw.shared_budget",
							 "Lets this session's requests draw on the request budget shared by every session using the same API key.",
							 "off: the session budgets alone, as civis_fdw 1.1.0 did (per-backend pacing; a 429 counts as a retry).",
							 &civis_shared_budget,
							 true,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("civis_fdw.max_budget_wait",
							"Longest time a request waits for its API key's budget, or for the end of a 429's hold.",
							"A Retry-After longer than this fails the request at once.",
							&civis_max_budget_wait_s,
							300, 1, 86400,
							PGC_USERSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomEnumVariable("civis_fdw.request_priority",
							 "Whether this session's requests may use the budget kept for short queries.",
							 "background: never (for scheduled jobs such as pg_cron refreshes); interactive: until a scan has read a few pages.",
							 &civis_request_priority,
							 CIVIS_PRIORITY_INTERACTIVE,
							 priority_options,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
}

bool
civis_budget_is_shared(void)
{
	budget_attach_shared();
	return budget != NULL;
}

/*
 * The SHA-256 of "origin NUL key".  Called in a transaction (pg_cryptohash
 * may palloc and ERROR), never from a libcurl callback.
 */
void
civis_budget_hash(const char *origin, const char *api_key, uint8 *hash)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	const uint8 nul = 0;

	if (ctx == NULL ||
		pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) origin, strlen(origin)) < 0 ||
		pg_cryptohash_update(ctx, &nul, 1) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) api_key, strlen(api_key)) < 0 ||
		pg_cryptohash_final(ctx, hash, CIVIS_BUDGET_HASH_LEN) < 0)
	{
		if (ctx)
			pg_cryptohash_free(ctx);
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compute the SHA-256 hash of an API key")));
	}
	pg_cryptohash_free(ctx);
}

/* ---- under the lock: plain C, no ERROR ---- */

static bool
proc_alive(BudgetProc *p)
{
	if (p->pid == 0)
		return false;
	if (p->pid == MyProcPid)
		return true;
	return kill(p->pid, 0) == 0 || errno != ESRCH;
}

static void
proc_clear(BudgetProc *p)
{
	int			idx = (int) (p - budget->procs);

	memset(p, 0, sizeof(*p));
	p->wait_key = -1;
	/* the monitor rows of that backend go with it */
	memset(scan_slots() + idx * CIVIS_SCANS_PER_BACKEND, 0,
		   sizeof(CivisScanSlot) * CIVIS_SCANS_PER_BACKEND);
}

/* A live row, or NULL (a dead one is cleared on the way: exclusive lock). */
static BudgetProc *
live_proc(int i, bool exclusive)
{
	BudgetProc *p = &budget->procs[i];

	if (p->pid == 0)
		return NULL;
	if (!proc_alive(p))
	{
		if (exclusive)
			proc_clear(p);
		return NULL;
	}
	return p;
}

static int64
bucket_epoch(BudgetKey *k, TimestampTz now)
{
	return now / k->bucket_us;
}

/*
 * Requests counted in the window ending now (and two buckets more), and in
 * "extra" more buckets before that.
 */
static int64
used_since(BudgetKey *k, TimestampTz now, int extra)
{
	int64		cur = bucket_epoch(k, now);
	int64		used = 0;
	int			i;

	for (i = 0; i < RING; i++)
		if (k->ring_epoch[i] >= cur - BUCKETS - 1 - extra && k->ring_epoch[i] <= cur)
			used += k->ring_count[i];
	return used;
}

static int64
used_in_window(BudgetKey *k, TimestampTz now)
{
	return used_since(k, now, 0);
}

/* Microseconds until the oldest counted request leaves the window. */
static int64
until_next_free(BudgetKey *k, TimestampTz now)
{
	int64		cur = bucket_epoch(k, now);
	int64		oldest = -1;
	int			i;

	for (i = 0; i < RING; i++)
		if (k->ring_count[i] > 0 &&
			k->ring_epoch[i] >= cur - BUCKETS - 1 && k->ring_epoch[i] <= cur &&
			(oldest < 0 || k->ring_epoch[i] < oldest))
			oldest = k->ring_epoch[i];
	if (oldest < 0)
		return 0;
	return (oldest + BUCKETS + 2) * k->bucket_us - now;
}

static void
charge(BudgetKey *k, TimestampTz now, int n)
{
	int64		cur = bucket_epoch(k, now);
	int			slot = (int) (cur % RING);

	Assert(LWLockHeldByMeInMode(budget_lock, LW_EXCLUSIVE));
	Assert(n > 0 && k->in_use && k->bucket_us > 0);
	if (k->ring_epoch[slot] != cur)
	{
		k->ring_epoch[slot] = cur;
		k->ring_count[slot] = 0;
	}
	k->ring_count[slot] += n;
	k->requests += n;
	k->last_request = now;
}

/*
 * A key used with a longer rate_window than before takes it (the longer
 * window is the safer reading); what was counted moves to the current
 * bucket, where it stays a whole window.
 */
static void
set_window(BudgetKey *k, int window_s, TimestampTz now)
{
	int64		want = (int64) window_s * USECS_PER_SEC;
	int64		used;

	if (k->window_us >= want)
		return;
	used = k->window_us > 0 ? used_in_window(k, now) : 0;
	k->window_us = want;
	k->bucket_us = Max(want / BUCKETS, 1);
	memset(k->ring_epoch, 0, sizeof(k->ring_epoch));
	memset(k->ring_count, 0, sizeof(k->ring_count));
	if (used > 0)
	{
		charge(k, now, (int) Min(used, PG_INT32_MAX));
		k->requests -= used;	/* moved, not new */
	}
}

static bool
waiter_fresh(BudgetProc *p, TimestampTz now)
{
	return p->wait_polled >= now - CIVIS_BUDGET_STALE_US;
}

/* Sums over the live rows of one key. */
static void
key_totals(int slot, bool exclusive, int *users, int *in_flight, int *waiting)
{
	int			i;

	*users = *in_flight = *waiting = 0;
	for (i = 0; i < budget->nprocs; i++)
	{
		BudgetProc *p = live_proc(i, exclusive);

		if (p == NULL)
			continue;
		*users += p->users[slot];
		*in_flight += p->in_flight[slot];
		if (p->wait_key == slot && waiter_fresh(p, GetCurrentTimestamp()))
			(*waiting)++;
	}
}

/*
 * Units a request of this class could take now: the limit less what the
 * window holds, the re-send margin and (bulk) the reserve.  A key whose
 * limit is not known yet takes one probe at a time.
 */
static int64
available(BudgetKey *k, int slot, bool bulk, int reserve_pct, TimestampTz now,
		  int in_flight)
{
	int64		margin;
	int64		reserve;

	if (now < k->hold_until)
		return 0;
	if (k->limit < 0)
		return in_flight == 0 ? 1 : 0;
	margin = Max(1, k->limit * CIVIS_BUDGET_MARGIN_PCT / 100);
	reserve = bulk ? (k->limit * reserve_pct + 99) / 100 : 0;
	return k->limit - margin - reserve - used_in_window(k, now);
}

static void
exit_callback(int code, Datum arg)
{
	if (budget == NULL || my_proc == NULL)
		return;
	LWLockAcquire(budget_lock, LW_EXCLUSIVE);
	if (my_proc->pid == MyProcPid)
		proc_clear(my_proc);
	LWLockRelease(budget_lock);
	budget_exiting = true;
}

/* This backend's row, claimed on first use (exclusive lock held). */
static BudgetProc *
claim_proc(void)
{
	int			idx = civis_my_proc_index();
	BudgetProc *p;

	if (idx < 0 || idx >= budget->nprocs)
		return NULL;
	p = &budget->procs[idx];
	if (p->pid != MyProcPid || p->started != MyStartTimestamp)
	{
		proc_clear(p);
		p->pid = MyProcPid;
		p->started = MyStartTimestamp;
	}
	return p;
}

/* ---- the transport's calls ---- */

/*
 * Attach a request set to its key's budget.  ref->slot is -1 when it runs
 * per session: no shared state, no free entry, or no row for this backend.
 */
void
civis_budget_attach(CivisBudgetRef *ref, const uint8 *hash, int window_s,
					int reserve_pct)
{
	TimestampTz now = GetCurrentTimestamp();
	int			slot = -1;
	int			i;

	ref->slot = -1;
	ref->window_s = Max(window_s, 1);
	ref->reserve_pct = Min(Max(reserve_pct, 0), 100);
	if (!civis_shared_budget || !civis_budget_is_shared() || budget_exiting)
		return;
	if (!exit_registered)
	{
		before_shmem_exit(exit_callback, (Datum) 0);
		exit_registered = true;
	}

	LWLockAcquire(budget_lock, LW_EXCLUSIVE);
	my_proc = claim_proc();
	if (my_proc != NULL)
	{
		for (i = 0; i < CIVIS_BUDGET_KEYS && slot < 0; i++)
			if (budget->keys[i].in_use &&
				memcmp(budget->keys[i].hash, hash, CIVIS_BUDGET_HASH_LEN) == 0)
				slot = i;
		/* a free entry, else one nobody uses whose last request is old */
		for (i = 0; i < CIVIS_BUDGET_KEYS && slot < 0; i++)
			if (!budget->keys[i].in_use)
				slot = i;
		for (i = 0; i < CIVIS_BUDGET_KEYS && slot < 0; i++)
		{
			BudgetKey  *k = &budget->keys[i];
			int			users,
						in_flight,
						waiting;

			key_totals(i, true, &users, &in_flight, &waiting);
			if (users == 0 && in_flight == 0 && waiting == 0 &&
				k->last_request < now - k->window_us)
				slot = i;
		}
		if (slot >= 0 && (!budget->keys[slot].in_use ||
						  memcmp(budget->keys[slot].hash, hash,
								 CIVIS_BUDGET_HASH_LEN) != 0))
		{
			BudgetKey  *k = &budget->keys[slot];

			memset(k, 0, sizeof(*k));
			k->in_use = true;
			memcpy(k->hash, hash, CIVIS_BUDGET_HASH_LEN);
			k->limit = -1;
		}
		if (slot >= 0)
		{
			set_window(&budget->keys[slot], ref->window_s, now);
			my_proc->users[slot]++;
		}
	}
	LWLockRelease(budget_lock);
	ref->slot = slot;
}

void
civis_budget_detach(CivisBudgetRef *ref)
{
	if (ref->slot < 0 || budget_exiting)
		return;
	LWLockAcquire(budget_lock, LW_EXCLUSIVE);
	if (my_proc && my_proc->pid == MyProcPid)
	{
		if (my_proc->users[ref->slot] > 0)
			my_proc->users[ref->slot]--;
		if (my_proc->wait_key == ref->slot)
			my_proc->wait_key = -1;
	}
	LWLockRelease(budget_lock);
	ref->slot = -1;
}

/*
 * Is there a backend that started waiting for this key before us (or at
 * all, when we do not wait yet) and could use the budget now?  It goes
 * first; one that has stopped looking does not count.
 */
static bool
earlier_waiter(BudgetKey *k, CivisBudgetRef *ref, TimestampTz now,
			   int in_flight)
{
	int			i;

	for (i = 0; i < budget->nprocs; i++)
	{
		BudgetProc *p = live_proc(i, true);

		if (p == NULL || p == my_proc || p->wait_key != ref->slot ||
			!waiter_fresh(p, now))
			continue;
		if (my_proc->wait_key == ref->slot &&
			p->wait_ticket > my_proc->wait_ticket)
			continue;
		if (available(k, ref->slot, p->wait_bulk, ref->reserve_pct, now,
					  in_flight) >= 1)
			return true;
	}
	return false;
}

/*
 * May a request start now?  If so, one unit is taken and the request
 * counts as in flight until civis_budget_finished.  If not, *wait_ms says
 * when to ask again, and the backend keeps its place in the queue.
 */
bool
civis_budget_admit(CivisBudgetRef *ref, bool bulk, double *wait_ms)
{
	TimestampTz now = GetCurrentTimestamp();
	BudgetKey  *k;
	int64		avail;
	int64		wait_us = 0;
	bool		admit = true;
	int			users,
				in_flight,
				waiting;

	*wait_ms = 0;
	if (ref->slot < 0 || budget_exiting)
		return true;
	k = &budget->keys[ref->slot];

	LWLockAcquire(budget_lock, LW_EXCLUSIVE);
	if (my_proc == NULL || my_proc->pid != MyProcPid)
	{
		LWLockRelease(budget_lock);
		return true;			/* our row is gone: per session from here */
	}
	key_totals(ref->slot, true, &users, &in_flight, &waiting);
	avail = available(k, ref->slot, bulk, ref->reserve_pct, now, in_flight);
	if (avail < 1)
	{
		admit = false;
		if (now < k->hold_until)
			wait_us = k->hold_until - now;
		else if (k->limit < 0)
			wait_us = (int64) (CIVIS_BUDGET_TURN_MS * 1000);
		else
			wait_us = until_next_free(k, now);
	}
	else if (earlier_waiter(k, ref, now, in_flight))
	{
		admit = false;
		wait_us = (int64) (CIVIS_BUDGET_TURN_MS * 1000);
	}

	if (admit)
	{
		charge(k, now, 1);
		my_proc->in_flight[ref->slot]++;
		if (my_proc->wait_key == ref->slot)
			my_proc->wait_key = -1;
	}
	else if (my_proc->wait_key != ref->slot)
	{
		my_proc->wait_key = ref->slot;
		my_proc->wait_bulk = bulk;
		my_proc->wait_ticket = ++k->next_ticket;
		my_proc->wait_since = now;
		my_proc->wait_polled = now;
	}
	else
	{
		my_proc->wait_bulk = my_proc->wait_bulk && bulk;
		my_proc->wait_polled = now;
	}
	LWLockRelease(budget_lock);

	*wait_ms = (double) Max(wait_us, 1000) / 1000.0;
	return admit;
}

/* The backend no longer waits for this key (its requests were dropped). */
void
civis_budget_stop_waiting(CivisBudgetRef *ref)
{
	if (ref->slot < 0 || budget_exiting)
		return;
	LWLockAcquire(budget_lock, LW_EXCLUSIVE);
	if (my_proc && my_proc->pid == MyProcPid && my_proc->wait_key == ref->slot)
		my_proc->wait_key = -1;
	LWLockRelease(budget_lock);
}

/* An admitted request ended (completed, failed, or dropped). */
void
civis_budget_finished(CivisBudgetRef *ref)
{
	if (ref->slot < 0 || budget_exiting)
		return;
	LWLockAcquire(budget_lock, LW_EXCLUSIVE);
	if (my_proc && my_proc->pid == MyProcPid &&
		my_proc->in_flight[ref->slot] > 0)
		my_proc->in_flight[ref->slot]--;
	LWLockRelease(budget_lock);
}

/* Charge sends that were not admitted (libcurl's re-sends). */
void
civis_budget_charge(CivisBudgetRef *ref, int n)
{
	if (ref->slot < 0 || budget_exiting || n <= 0)
		return;
	LWLockAcquire(budget_lock, LW_EXCLUSIVE);
	charge(&budget->keys[ref->slot], GetCurrentTimestamp(), n);
	LWLockRelease(budget_lock);
}

/*
 * What a response said of the limit: X-RateLimit-Limit sets it, and
 * X-RateLimit-Remaining may only raise the count (never lower it: a
 * response overtaken by later ones carries an older, higher value).  No
 * header at all: the documented limit is assumed.
 *
 * The API counted when it handled the request, up to elapsed_ms ago: our
 * requests that have left the model's window since then were still in the
 * API's.  So the count is raised only by what even the window stretched by
 * that time cannot explain (another client of the key): raising it by
 * requests already counted once would hold the key back a window for
 * nothing.
 */
void
civis_budget_observe(CivisBudgetRef *ref, int64 limit, int64 remaining,
					 double elapsed_ms)
{
	TimestampTz now;
	BudgetKey  *k;

	if (ref->slot < 0 || budget_exiting)
		return;
	now = GetCurrentTimestamp();
	k = &budget->keys[ref->slot];
	LWLockAcquire(budget_lock, LW_EXCLUSIVE);
	if (limit > 0)
		k->limit = limit;
	else if (k->limit < 0)
		k->limit = CIVIS_BUDGET_ASSUMED_LIMIT;
	if (remaining >= 0 && k->limit > 0)
	{
		int64		server_used = k->limit - remaining;
		int			stretch = (int) Min(RING - BUCKETS - 2,
										(int64) (elapsed_ms * 1000.0) / k->bucket_us + 1);
		int64		used = used_since(k, now, stretch);

		if (server_used > used)
		{
			charge(k, now, (int) Min(server_used - used, PG_INT32_MAX));
			k->requests -= server_used - used;	/* not ours */
		}
	}
	LWLockRelease(budget_lock);
}

/* A 429: the whole key waits for its Retry-After, in every backend. */
void
civis_budget_hold(CivisBudgetRef *ref, double ms)
{
	TimestampTz until;
	BudgetKey  *k;

	if (ref->slot < 0 || budget_exiting)
		return;
	until = GetCurrentTimestamp() + (int64) (ms * 1000.0);
	k = &budget->keys[ref->slot];
	LWLockAcquire(budget_lock, LW_EXCLUSIVE);
	if (until > k->hold_until)
		k->hold_until = until;
	LWLockRelease(budget_lock);
}

/* Copy the keys in use (at most max) for civis_fdw_budget(). */
int
civis_budget_rows(CivisBudgetRow *out, int max)
{
	TimestampTz now = GetCurrentTimestamp();
	int			n = 0;
	int			i;

	if (!civis_budget_is_shared())
		return 0;
	LWLockAcquire(budget_lock, LW_SHARED);
	for (i = 0; i < CIVIS_BUDGET_KEYS && n < max; i++)
	{
		BudgetKey  *k = &budget->keys[i];
		CivisBudgetRow *r = &out[n];
		int			users;

		if (!k->in_use)
			continue;
		memcpy(r->hash, k->hash, CIVIS_BUDGET_HASH_LEN);
		r->limit = k->limit;
		r->remaining = k->limit < 0 ? -1 :
			Max(k->limit - used_in_window(k, now), 0);
		r->requests = k->requests;
		r->hold_until = k->hold_until > now ? k->hold_until : 0;
		r->window_s = (int) (k->window_us / USECS_PER_SEC);
		key_totals(i, false, &users, &r->in_flight, &r->waiting);
		n++;
	}
	LWLockRelease(budget_lock);
	return n;
}

#ifdef CIVIS_TEST_BUILD
/* Testing only: a copy of the whole shared structure, to grep for keys. */
bytea *
civis_budget_shared_bytes(void)
{
	Size		size;
	bytea	   *b;

	if (!civis_budget_is_shared())
		return NULL;
	size = budget_size();
	b = palloc(VARHDRSZ + size);
	SET_VARSIZE(b, VARHDRSZ + size);
	LWLockAcquire(budget_lock, LW_SHARED);
	memcpy(VARDATA(b), budget, size);
	LWLockRelease(budget_lock);
	return b;
}
#endif
