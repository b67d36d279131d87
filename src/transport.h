/*-------------------------------------------------------------------------
 *
 * transport.h
 *		  The transport (transport.c), the only file that talks to libcurl.
 *
 * A request is described by a URL, what to show of it in messages, and a
 * CivisHttpConfig (key, limits, retry policy, where requests may go, whose
 * rate-limit budget it draws on).  The transport knows nothing of tables,
 * plans, catalogs or JSON: this header needs only postgres.h and
 * TimestampTz.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CIVIS_TRANSPORT_H
#define CIVIS_TRANSPORT_H

#include "postgres.h"

#include "datatype/timestamp.h"

/* The extension's version, as the User-Agent and civis_fdw_version() say. */
#define CIVIS_FDW_VERSION "1.2.0"

/*
 * Which rate-limit budget a request draws on.  The transport only compares
 * keys; option.c fills in the server's and the user mapping's OIDs, so that
 * pacing, and what civis_fdw_rate_limit() shows, are per (server, user
 * mapping): the API limits each key, and each mapping brings its own key.
 */
typedef struct CivisRateKey
{
	Oid			serverid;
	Oid			umid;
} CivisRateKey;

/*
 * What this backend last learnt of one key's rate limit.  The transport
 * keeps at most CIVIS_RATE_STATES_MAX of them; beyond that the one used
 * least recently is forgotten (a backend normally uses a handful).
 */
#define CIVIS_RATE_STATES_MAX	64

typedef struct CivisRateState
{
	CivisRateKey key;
	int64		limit;			/* X-RateLimit-Limit, -1 if never seen */
	int64		remaining;		/* X-RateLimit-Remaining, -1 if never seen */
	TimestampTz seen_at;		/* when either was last seen; 0 if never */
} CivisRateState;

typedef struct CivisHttpConfig
{
	const char *api_key;		/* sent as Basic auth user name only */
	long		connect_timeout_ms;
	long		request_timeout_ms;
	int64		max_response_bytes;
	const char *ca_file;		/* NULL: system CA store */
	int			max_retries;	/* retries after the first attempt */
	long		retry_max_time_ms;	/* total time budget for retries */
	int			max_in_flight;

	/*
	 * Where requests may go.  A host in civis_fdw.allowed_hosts (trusted) is
	 * connected to whatever its address; so is any host of a server with
	 * allow_private_addresses or a proxy (both superuser-only).  Otherwise
	 * loopback, private, link-local and other non-public addresses are
	 * refused before any packet is sent.  Bodies of non-2xx responses are
	 * handed on only from a trusted host.
	 */
	bool		trusted_host;
	bool		allow_private_addresses;
	const char *proxy;			/* NULL: no proxy, whatever the environment */

	CivisRateKey rate_key;		/* whose rate-limit budget (see above) */

	/*
	 * The budget shared by every backend (budget.c): the API's origin,
	 * normalized ("https://host:443"), which with the key identifies it; the
	 * window and the share kept for short queries (server options rate_window
	 * and rate_reserve).  Planning sets no_budget_wait: a request that would
	 * have to wait for budget fails at once instead.
	 */
	const char *origin;			/* NULL: per session only */
	int			rate_window_s;
	int			rate_reserve_pct;
	bool		no_budget_wait;
} CivisHttpConfig;

typedef struct CivisHttpStats
{
	int64		requests;		/* sends that reached the wire, retries and
								 * libcurl's own re-sends included */
	int64		retries;
	int64		bytes;			/* response body bytes received */
	double		wait_ms;		/* time spent waiting on the network */
	int			peak_in_flight;
	int64		discarded;		/* requests sent (at least once) and never
								 * handed to the caller: completed, in flight
								 * or waiting to retry; never-sent ones are
								 * not counted (they cost no budget) */
} CivisHttpStats;

typedef struct CivisResponse
{
	long		status;
	char	   *body;			/* NUL-terminated, palloc'd */
	size_t		body_len;
	char	   *content_type;
	int64		total_entries;	/* X-Pagination-*, -1 when absent */
	int64		total_pages;
	int64		per_page;
	int64		ratelimit_limit;	/* -1 when absent */
	int64		ratelimit_remaining;	/* -1 when absent */
	int			attempts;
	double		elapsed_ms;
	bool		body_withheld;	/* a non-2xx body from a host not in
								 * civis_fdw.allowed_hosts: left out */
} CivisResponse;

typedef struct CivisHttp CivisHttp;

/* A row of civis_fdw_scans() (budget.h, monitor.c), kept up to date. */
struct CivisScanSlot;

extern CivisHttp *civis_http_begin(MemoryContext cxt, const CivisHttpConfig *cfg);
extern int	civis_http_submit(CivisHttp *http, const char *url, const char *shown);
extern void civis_http_wait(CivisHttp *http, int ticket, CivisResponse *resp);
extern void civis_http_discard(CivisHttp *http, int ticket);
extern void civis_http_discard_all(CivisHttp *http);
extern int	civis_http_in_flight(CivisHttp *http);
extern int64 civis_http_backend_bytes(CivisHttp *except);
extern const CivisHttpStats *civis_http_stats(CivisHttp *http);
extern void civis_http_set_monitor(CivisHttp *http, struct CivisScanSlot *slot);
extern int	civis_http_rate_states(CivisRateState *out, int max);
extern char *civis_url_escape(const char *value);
extern void civis_http_invalidate_connections(void);
extern const char *civis_http_library_version(void);

#endif							/* CIVIS_TRANSPORT_H */
