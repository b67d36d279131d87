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

#ifdef CIVIS_TEST_BUILD
extern bytea *civis_budget_shared_bytes(void);
#endif

#endif							/* CIVIS_BUDGET_H */
