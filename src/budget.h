/*-------------------------------------------------------------------------
 *
 * budget.h
 *		  The request budget of an API key, shared by every backend
 *		  (budget.c).
 *
 * The Civis API limits each key (1,000 requests per 5 minutes).  One key
 * serves many sessions at once, so the budget is kept in shared memory,
 * one entry per (API origin, key) pair, identified by a SHA-256 hash; the
 * key itself never reaches shared memory.  The transport (transport.c) asks
 * for admission before it starts a request, and reports what the API said
 * of the limit.  This header needs only postgres.h and TimestampTz: the
 * transport includes it, and nothing here knows libcurl, tables or plans.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CIVIS_BUDGET_H
#define CIVIS_BUDGET_H

#include "postgres.h"

#include "datatype/timestamp.h"

#define CIVIS_BUDGET_HASH_LEN	32	/* SHA-256 */

/* Keys in the shared table; a key beyond them runs per session. */
#define CIVIS_BUDGET_KEYS		64

/* Defaults of the server options rate_window and rate_reserve. */
#define CIVIS_DEFAULT_RATE_WINDOW_S		300
#define CIVIS_DEFAULT_RATE_RESERVE_PCT	10

/*
 * One backend's attachment to a key's budget (inside a CivisHttp).  slot is
 * -1 when the budget is not shared: no shared state in this cluster (15
 * without shared_preload_libraries), or the key table is full.
 */
typedef struct CivisBudgetRef
{
	int			slot;
	int			window_s;		/* the server option rate_window */
	int			reserve_pct;	/* the server option rate_reserve */
} CivisBudgetRef;

/* What civis_fdw_budget() shows of one key. */
typedef struct CivisBudgetRow
{
	uint8		hash[CIVIS_BUDGET_HASH_LEN];
	int64		limit;			/* -1: not known yet */
	int64		remaining;		/* the model's: limit - used - margin */
	int64		requests;		/* charged since the entry was created */
	int			in_flight;
	int			waiting;		/* backends waiting for budget */
	TimestampTz hold_until;		/* 0: no hold */
	int			window_s;
} CivisBudgetRow;

/* GUCs (defined by civis_budget_define_gucs) */
extern int	civis_max_budget_wait_s;
extern bool civis_shared_budget;
extern int	civis_request_priority;

#define CIVIS_PRIORITY_INTERACTIVE	0
#define CIVIS_PRIORITY_BACKGROUND	1

extern void civis_budget_define_gucs(void);
extern void civis_budget_init(void);
extern bool civis_budget_is_shared(void);
extern void civis_budget_hash(const char *origin, const char *api_key,
							  uint8 *hash);

extern void civis_budget_attach(CivisBudgetRef *ref, const uint8 *hash,
								int window_s, int reserve_pct);
extern void civis_budget_detach(CivisBudgetRef *ref);
extern bool civis_budget_admit(CivisBudgetRef *ref, bool bulk, double *wait_ms);
extern void civis_budget_stop_waiting(CivisBudgetRef *ref);
extern void civis_budget_finished(CivisBudgetRef *ref);
extern void civis_budget_charge(CivisBudgetRef *ref, int n);
extern void civis_budget_observe(CivisBudgetRef *ref, int64 limit,
								 int64 remaining, double elapsed_ms);
extern void civis_budget_hold(CivisBudgetRef *ref, double ms);
extern int	civis_budget_rows(CivisBudgetRow *out, int max);

/*
 * The rows of civis_fdw_scans() (monitor.c): a fixed number per backend,
 * in the same shared memory.  Only the owning backend writes its rows,
 * without a lock: it fills a row, then marks it in use (write barrier);
 * readers copy a row and accept a slightly stale snapshot.
 */
#define CIVIS_SCANS_PER_BACKEND	8
#define CIVIS_SCAN_TABLE_LEN	(2 * NAMEDATALEN + 4)

typedef enum CivisWaitingFor
{
	CIVIS_WAITING_NONE = 0,
	CIVIS_WAITING_BUDGET,
	CIVIS_WAITING_RETRY,
	CIVIS_WAITING_NETWORK
} CivisWaitingFor;

typedef struct CivisScanSlot
{
	volatile bool in_use;
	int			pid;
	Oid			userid;
	bool		has_hash;
	uint8		hash[CIVIS_BUDGET_HASH_LEN];	/* the key's budget */
	TimestampTz started_at;
	char		database[NAMEDATALEN];
	char		user_name[NAMEDATALEN];
	char		server_name[NAMEDATALEN];
	char		foreign_table[CIVIS_SCAN_TABLE_LEN];
	int64		requests;
	int64		pages_read;
	int64		pages_expected; /* -1: not known */
	int64		rows_returned;
	int64		retries;
	int			waiting_for;	/* CivisWaitingFor */
	TimestampTz waiting_since;
	int			unmonitored;	/* first row of a backend only: its scans that
								 * found no free row */
} CivisScanSlot;

extern CivisScanSlot *civis_budget_scan_slots(int *nslots, int *mine);

#ifdef CIVIS_TEST_BUILD
extern bytea *civis_budget_shared_bytes(void);
#endif

#endif							/* CIVIS_BUDGET_H */
