/*-------------------------------------------------------------------------
 *
 * transport.c
 *		  HTTP transport of civis_fdw: the only file that talks to libcurl.
 *
 * Ownership
 * ---------
 * A CivisHttp is one scan's (or one IMPORT's) set of requests.  It is
 * palloc'd in a memory context chosen by the caller, and a reset callback
 * on that context releases everything it still owns: the easy handles
 * (removed from the multi handle first), the receive buffers and the
 * request records.  This is what releases libcurl resources when a query
 * fails, since EndForeignScan is not called on abort.
 *
 * Request records, receive buffers and header values are malloc'd, never
 * palloc'd: libcurl callbacks write into them, and a libcurl callback must
 * never palloc, elog or longjmp.  An easy handle exists only while its
 * request is attached to the multi handle; between a failed attempt and its
 * retry the handle is cleaned up and recreated at restart.
 *
 * Connection reuse
 * ----------------
 * One CURLM multi handle per backend, created lazily, serves every CivisHttp
 * of the backend: its connection cache keeps connections alive across
 * requests and scans, HTTP/2 multiplexing is used where the server offers
 * it, and a CURLSH share keeps DNS answers and TLS sessions across easy
 * handles.  Several CivisHttp can be active at once (a nested loop over two
 * foreign tables); each request points to its owner, so driving the multi
 * handle on behalf of one CivisHttp also completes, buffers or schedules
 * retries for the requests of the others.
 *
 * Waiting
 * -------
 * civis_http_wait() drives the multi handle until the wanted ticket is
 * complete, polling with at most 100 ms between CHECK_FOR_INTERRUPTS()
 * calls, so cancel and statement_timeout take effect promptly.  All
 * bookkeeping is consistent before every CHECK_FOR_INTERRUPTS() or ereport,
 * so an ERROR can longjmp out at any of those points and the reset callback
 * cleans up.
 *
 * Retries
 * -------
 * A request that ends with 429, 502, 503 or 504, or with a connection-level
 * failure, is re-issued after max(Retry-After, full-jitter exponential
 * backoff) while the attempt count and time budget allow.  A retrying
 * request does not hold a slot of max_in_flight while it sleeps; other
 * requests keep progressing meanwhile.
 *
 * Connect and resolve failures (CURLE_COULDNT_CONNECT, _RESOLVE_HOST,
 * _RESOLVE_PROXY) fail fast instead: retrying cannot fix a wrong port or
 * host name, so they are retried at most CIVIS_FAST_MAX_RETRIES times within
 * CIVIS_FAST_RETRY_MS.
 *
 * Security: the API key is only ever handed to CURLOPT_USERNAME.  It is not
 * logged, not shown in messages, and libcurl's verbose output is never
 * enabled.
 *
 * Where requests go: unless the host is in civis_fdw.allowed_hosts (or a
 * superuser gave the server allow_private_addresses or a proxy), the address
 * actually connected to is checked before any packet is sent (the
 * CURLOPT_OPENSOCKETFUNCTION callback) and again before each request on a
 * reused connection (CURLOPT_PREREQFUNCTION): loopback, private, link-local,
 * unspecified, shared (CGNAT), multicast and reserved addresses are refused,
 * IPv4-mapped IPv6 addresses by their IPv4 address.  The callbacks only
 * record the reason; the ERROR is raised after libcurl returns.  The
 * process's proxy environment variables are ignored: a proxy is used only
 * when the superuser-only server option names one.  The connections of a
 * backend are capped at CIVIS_MAX_CONNECTIONS.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "budget.h"
#include "compat.h"
#include "transport.h"

#include "lib/ilist.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

/* Wait events (their own names from PostgreSQL 17 on, see compat.h). */
static uint32 wait_event_network = 0;
static uint32 wait_event_backoff = 0;
static uint32 wait_event_budget = 0;

/*
 * The shared budget (budget.c): a scan that has submitted more than this
 * many requests is bulk work, and may not take the budget's reserve.
 */
#define CIVIS_BULK_AFTER_REQUESTS	4

/*
 * A request answered 429 again and again (an API that says "Retry-After:
 * 0" forever) gives up after this many holds, or once its holds have
 * lasted civis_fdw.max_budget_wait in all.
 */
#define CIVIS_MAX_HOLDS				50

/* Longest sleep between two CHECK_FOR_INTERRUPTS() calls. */
#define CIVIS_POLL_MS			100

/* Full-jitter exponential backoff: base * 2^(attempt-1), capped. */
#define CIVIS_BACKOFF_BASE_MS	500.0
#define CIVIS_BACKOFF_CAP_MS	30000.0

/*
 * Rate-limit pacing.  The Civis API allows 1,000 general requests per 300 s
 * per key and reports the limit and what is left in X-RateLimit-Limit and
 * X-RateLimit-Remaining.  The backend keeps one RateEntry per rate key (the
 * caller's opaque CivisRateKey: option.c makes it the server and the user
 * mapping), at most CIVIS_RATE_STATES_MAX of them, the least recently used
 * one forgotten first.  When the latest Remaining seen for a key drops below
 * CIVIS_PACE_THRESHOLD, new request starts of that key are spaced out by up
 * to CIVIS_PACE_MAX_GAP_MS (the long-run sustainable interval, 300 s /
 * 1000), proportionally to how close to zero it is; requests of other keys
 * are not slowed.  This is per backend only: other backends using the same
 * key are not seen, so 429 handling with Retry-After remains the real
 * safety net.
 *
 * Where the budget is shared (budget.c: 17 and later, or 15 with
 * shared_preload_libraries), this pacing is off: every start takes a unit
 * of the key's budget first (start_due_requests), a request without one
 * stays queued and holds no slot of max_in_flight, and a 429 puts the key
 * on hold for every backend; such a 429 counts against neither max_retries
 * nor retry_max_time, and the wait for it is bounded by
 * civis_fdw.max_budget_wait instead.
 */
#define CIVIS_PACE_THRESHOLD	20
#define CIVIS_PACE_MAX_GAP_MS	300.0

/* Largest Content-Length used to size a body buffer up front. */
#define CIVIS_PRESIZE_MAX		(16 * 1024 * 1024)

/* Default connection cache size of the multi handle. */
#define CIVIS_MIN_MAXCONNECTS	16

/*
 * Most connections (and requests in flight) of one backend, whatever the
 * options: max_in_flight is at most 64 per scan, and several scans of one
 * query share this.
 */
#define CIVIS_MAX_CONNECTIONS	64

/* Fail fast on connect and resolve failures: retries, their time budget. */
#define CIVIS_FAST_MAX_RETRIES	2
#define CIVIS_FAST_RETRY_MS		3000.0
#define CIVIS_FAST_BACKOFF_MS	250.0

typedef enum CivisReqState
{
	REQ_QUEUED,					/* waiting for a slot (or for pacing) */
	REQ_RUNNING,				/* easy handle attached to the multi handle */
	REQ_SLEEPING,				/* waiting for retry_at */
	REQ_DONE					/* final: response or error recorded */
} CivisReqState;

typedef enum CivisReqFailure
{
	FAIL_NONE,					/* an HTTP response (any status) */
	FAIL_TRANSPORT,				/* libcurl error, retries exhausted */
	FAIL_TLS,					/* certificate problem, never retried */
	FAIL_TOO_LARGE,				/* body exceeded max_response_bytes */
	FAIL_OOM,					/* malloc failed inside a callback */
	FAIL_ABORTED,				/* aborted by the progress callback */
	FAIL_REFUSED,				/* address refused by our socket callbacks */
	FAIL_BUDGET					/* no budget in time (or while planning) */
} CivisReqFailure;

typedef struct CivisRequest
{
	dlist_node	node;			/* in owner->requests, ticket order */
	CivisHttp  *owner;
	int			ticket;
	CivisReqState state;

	char	   *url;			/* malloc'd; may hold secrets: never shown */
	char	   *shown;			/* malloc'd display form */

	CURL	   *easy;			/* only while REQ_RUNNING */

	/* receive state of the current attempt (written by callbacks) */
	char	   *buf;			/* malloc'd body */
	size_t		len;
	size_t		cap;
	bool		too_large;
	bool		oom;
	const char *refused;		/* static text: why the address was refused */
	char		errbuf[CURL_ERROR_SIZE];

	/* response headers of the current attempt */
	int64		total_entries;
	int64		total_pages;
	int64		per_page;
	int64		ratelimit_limit;
	int64		ratelimit_remaining;
	char		content_type[128];
	char		retry_after[64];

	/* outcome */
	long		status;
	CURLcode	result;
	CivisReqFailure failure;
	int			attempts;
	bool		sent;			/* an attempt reached the wire (its request
								 * was written): it cost rate-limit budget */
	bool		admitted;		/* holds a unit of the shared budget for the
								 * current attempt (in flight there) */
	int			wire_sends;		/* sends of the current attempt: libcurl
								 * re-sends on a fresh connection when a
								 * reused one turns out closed */
	int			holds;			/* 429s answered by the key's hold */
	double		budget_wait_since;	/* 0: not waiting for budget */
	double		first_hold_ms;	/* the first 429 answered by a hold */
	double		retry_clock_ms; /* retry_max_time counts from here */
	double		first_start_ms; /* monotonic ms of the first attempt */
	double		attempt_start_ms;
	double		retry_at_ms;	/* when REQ_SLEEPING */
	double		done_ms;
} CivisRequest;

struct CivisHttp
{
	dlist_node	node;			/* in the backend's list of active sets */
	MemoryContext cxt;
	MemoryContextCallback cb;

	/* private copy of the configuration */
	char	   *api_key;
	long		connect_timeout_ms;
	long		request_timeout_ms;
	int64		max_response_bytes;
	char	   *ca_file;
	int			max_retries;
	long		retry_max_time_ms;
	int			max_in_flight;
	bool		check_addresses;	/* refuse non-public addresses */
	bool		body_trusted;	/* hand on bodies of non-2xx responses */
	char	   *proxy;			/* NULL: none */
	CivisRateKey rate_key;
	CivisBudgetRef budget;		/* slot -1: per session */
	CivisScanSlot *monitor;		/* civis_fdw_scans() row, or NULL */
	bool		no_budget_wait;
	int64		submitted;		/* requests submitted (bulk work after a few) */

	int			next_ticket;
	int			running;		/* requests in REQ_RUNNING */
	dlist_head	requests;
	CivisHttpStats stats;
	CivisHttpStats report;		/* what civis_http_stats() hands out */
};

/* One rate key's state (see CIVIS_PACE_THRESHOLD). */
typedef struct RateEntry
{
	CivisRateState pub;			/* what civis_http_rate_states() copies */
	double		last_start_ms;	/* monotonic ms of the key's latest start */
	uint64		last_used;		/* backend_rate_clock at the latest use */
	uint64		first_used;		/* order of first use, for listing */
} RateEntry;

/* ---- per-backend state ---- */
static bool curl_initialized = false;
static CURLM *backend_multi = NULL;
static CURLSH *backend_share = NULL;
static struct curl_slist *backend_headers = NULL;
static int	backend_attached = 0;	/* easy handles alive (all attached) */
static bool backend_recycle_pending = false;
static long backend_maxconnects = 0;
static dlist_head backend_sets = DLIST_STATIC_INIT(backend_sets);
static RateEntry backend_rates[CIVIS_RATE_STATES_MAX];
static int	backend_nrates = 0;
static uint64 backend_rate_clock = 0;
static char backend_user_agent[256];
#if LIBCURL_VERSION_NUM < 0x075200
static CURL *escape_handle = NULL;
#endif

static void civis_curl_init(void);
static void civis_http_exit(int code, Datum arg);
static void civis_http_reset_cb(void *arg);
static void release_request(CivisRequest *req);
static void detach_easy(CivisRequest *req);
static void drive(CivisRequest *target);
static void check_multi(void);

/* --------------------------------------------------------------------
 * small helpers
 * -------------------------------------------------------------------- */

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec * 1000.0 + (double) ts.tv_nsec / 1000000.0;
}

static double
random_fraction(void)
{
	return civis_random_fraction();
}

static char *
malloc_strdup_or_error(const char *s)
{
	char	   *p = strdup(s ? s : "");

	if (p == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	return p;
}

/*
 * Per-backend libcurl initialization, done lazily on first use so that the
 * postmaster never initializes libcurl.
 */
static void
civis_curl_init(void)
{
	curl_version_info_data *vi;

	if (curl_initialized)
		return;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("could not initialize libcurl")));

	/* PG_VERSION may carry a packager's suffix: keep the number only */
	vi = curl_version_info(CURLVERSION_NOW);
	snprintf(backend_user_agent, sizeof(backend_user_agent),
			 "civis_fdw/%s (PostgreSQL %.*s; libcurl %s)",
			 CIVIS_FDW_VERSION, (int) strcspn(PG_VERSION, " "), PG_VERSION,
			 (vi && vi->version) ? vi->version : LIBCURL_VERSION);

	on_proc_exit(civis_http_exit, (Datum) 0);
	curl_initialized = true;
}

static void
destroy_multi(void)
{
	Assert(backend_attached == 0);
	if (backend_multi)
		curl_multi_cleanup(backend_multi);
	backend_multi = NULL;
	if (backend_share)
		curl_share_cleanup(backend_share);
	backend_share = NULL;
	backend_maxconnects = 0;
	backend_recycle_pending = false;
}

/* Called at safe points: drop the multi handle if an invalidation asked. */
static void
maybe_recycle_multi(void)
{
	if (backend_recycle_pending && backend_attached == 0)
		destroy_multi();
}

/* Create the multi handle, share and header list if needed. */
static void
check_multi(void)
{
	civis_curl_init();
	maybe_recycle_multi();

	if (backend_headers == NULL)
	{
		backend_headers = curl_slist_append(NULL, "Accept: application/json");
		if (backend_headers == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory")));
	}

	if (backend_share == NULL)
	{
		CURLSH	   *sh = curl_share_init();

		if (sh == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory"),
					 errdetail("Could not create a libcurl share handle.")));
		/* single-threaded backend: no lock callbacks needed */
		curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
		curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
		backend_share = sh;
	}

	if (backend_multi == NULL)
	{
		CURLM	   *m = curl_multi_init();

		if (m == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory"),
					 errdetail("Could not create a libcurl multi handle.")));
		curl_multi_setopt(m, CURLMOPT_PIPELINING, (long) CURLPIPE_MULTIPLEX);
		curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long) CIVIS_MIN_MAXCONNECTS);
		curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS,
						  (long) CIVIS_MAX_CONNECTIONS);
		backend_maxconnects = CIVIS_MIN_MAXCONNECTS;
		backend_multi = m;
	}
}

static void
civis_http_exit(int code, Datum arg)
{
	/*
	 * Normally every CivisHttp has been released by its memory context by
	 * now.  If some easy handle is still attached (the process is exiting in
	 * an unusual way), leave everything to the OS rather than touch it.
	 */
	if (backend_attached == 0)
	{
		if (backend_multi || backend_share)
			destroy_multi();
		if (backend_headers)
			curl_slist_free_all(backend_headers);
		backend_headers = NULL;
	}
}

/* --------------------------------------------------------------------
 * libcurl callbacks: no palloc, no elog, no longjmp in here
 * -------------------------------------------------------------------- */

static size_t
write_cb(char *data, size_t size, size_t nmemb, void *userdata)
{
	CivisRequest *req = (CivisRequest *) userdata;
	size_t		n = size * nmemb;
	int64		cap = req->owner->max_response_bytes;

	if (n == 0)
		return 0;
	if (cap <= 0 || cap > (int64) MaxAllocHugeSize - 1)
		cap = (int64) MaxAllocHugeSize - 1;
	if ((int64) (req->len + n) > cap)
	{
		req->too_large = true;
		return 0;
	}
	if (req->len + n + 1 > req->cap)
	{
		size_t		newcap = req->cap ? req->cap : 16384;
		char	   *p;

		while (newcap < req->len + n + 1)
			newcap *= 2;
		p = realloc(req->buf, newcap);
		if (p == NULL)
		{
			req->oom = true;
			return 0;
		}
		req->buf = p;
		req->cap = newcap;
	}
	memcpy(req->buf + req->len, data, n);
	req->len += n;
	req->buf[req->len] = '\0';
	return n;
}

/* Does the header line start with "name:" (case-insensitively)? */
static bool
header_is(const char *line, size_t n, const char *name, const char **value,
		  size_t *vlen)
{
	size_t		nl = strlen(name);
	const char *v;
	const char *e;

	if (n <= nl || line[nl] != ':' || pg_strncasecmp(line, name, nl) != 0)
		return false;
	v = line + nl + 1;
	e = line + n;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' ' ||
					 e[-1] == '\t'))
		e--;
	*value = v;
	*vlen = e - v;
	return true;
}

static void
copy_header_value(char *dst, size_t dstsize, const char *v, size_t vlen)
{
	if (vlen >= dstsize)
		vlen = dstsize - 1;
	memcpy(dst, v, vlen);
	dst[vlen] = '\0';
}

static int64
header_int(const char *v, size_t vlen)
{
	char		tmp[32];
	char	   *end;
	long long	x;

	if (vlen == 0 || vlen >= sizeof(tmp))
		return -1;
	memcpy(tmp, v, vlen);
	tmp[vlen] = '\0';
	errno = 0;
	x = strtoll(tmp, &end, 10);
	if (errno != 0 || end == tmp || *end != '\0' || x < 0)
		return -1;
	return (int64) x;
}

static void
reset_headers(CivisRequest *req)
{
	req->total_entries = -1;
	req->total_pages = -1;
	req->per_page = -1;
	req->ratelimit_limit = -1;
	req->ratelimit_remaining = -1;
	req->content_type[0] = '\0';
	req->retry_after[0] = '\0';
}

static size_t
header_cb(char *data, size_t size, size_t nmemb, void *userdata)
{
	CivisRequest *req = (CivisRequest *) userdata;
	size_t		n = size * nmemb;
	const char *v;
	size_t		vlen;

	/* a new status line (after a 1xx) starts a new header block */
	if (n >= 5 && strncmp(data, "HTTP/", 5) == 0)
	{
		reset_headers(req);
		return n;
	}

	if (header_is(data, n, "X-Pagination-Total-Entries", &v, &vlen))
		req->total_entries = header_int(v, vlen);
	else if (header_is(data, n, "X-Pagination-Total-Pages", &v, &vlen))
		req->total_pages = header_int(v, vlen);
	else if (header_is(data, n, "X-Pagination-Per-Page", &v, &vlen))
		req->per_page = header_int(v, vlen);
	else if (header_is(data, n, "X-RateLimit-Remaining", &v, &vlen))
		req->ratelimit_remaining = header_int(v, vlen);
	else if (header_is(data, n, "X-RateLimit-Limit", &v, &vlen))
		req->ratelimit_limit = header_int(v, vlen);
	else if (header_is(data, n, "Retry-After", &v, &vlen))
		copy_header_value(req->retry_after, sizeof(req->retry_after), v, vlen);
	else if (header_is(data, n, "Content-Type", &v, &vlen))
		copy_header_value(req->content_type, sizeof(req->content_type), v, vlen);
	else if (header_is(data, n, "Content-Length", &v, &vlen))
	{
		int64		cl = header_int(v, vlen);
		int64		cap = req->owner->max_response_bytes;

		/* refuse early what cannot fit (the body may grow when decoded) */
		if (cap > 0 && cl > cap)
		{
			req->too_large = true;
			return 0;
		}

		/*
		 * Size the body buffer once instead of doubling it from 16 kB: less
		 * copying, and a page buffered ahead holds its own size rather than
		 * up to twice that.  Only a hint: a compressed body outgrows it and
		 * write_cb grows the buffer as usual; a failed malloc is left for
		 * write_cb to meet.
		 */
		if (cl > 0 && cl <= CIVIS_PRESIZE_MAX && req->buf == NULL)
		{
			char	   *p = malloc((size_t) cl + 1);

			if (p != NULL)
			{
				req->buf = p;
				req->cap = (size_t) cl + 1;
				req->len = 0;
				req->buf[0] = '\0';
			}
		}
	}
	return n;
}

static int
xferinfo_cb(void *userdata, curl_off_t dltotal, curl_off_t dlnow,
			curl_off_t ultotal, curl_off_t ulnow)
{
	/* read-only check; the pending interrupt is serviced after return */
	if (QueryCancelPending || ProcDiePending)
		return 1;
	return 0;
}

/*
 * Why an IPv4 address (host byte order) may not be connected to, or NULL.
 * Plain C: called from libcurl callbacks.
 */
static const char *
ipv4_refusal(uint32 a)
{
	unsigned int b0 = a >> 24;
	unsigned int b1 = (a >> 16) & 0xff;
	unsigned int b2 = (a >> 8) & 0xff;

	if (b0 == 0)
		return "an unspecified address (0.0.0.0/8)";
	if (b0 == 127)
		return "a loopback address";
	if (b0 == 10 || (b0 == 172 && (b1 & 0xf0) == 16) ||
		(b0 == 192 && b1 == 168))
		return "a private address (RFC 1918)";
	if (b0 == 169 && b1 == 254)
		return "a link-local address";
	if (b0 == 100 && (b1 & 0xc0) == 64)
		return "a shared address (100.64.0.0/10, carrier-grade NAT)";
	if (b0 == 192 && b1 == 0 && b2 == 0)
		return "a reserved address (192.0.0.0/24)";
	if (b0 == 198 && (b1 & 0xfe) == 18)
		return "a reserved address (198.18.0.0/15)";
	if (b0 >= 224 && b0 < 240)
		return "a multicast address";
	if (b0 >= 240)
		return "a reserved or broadcast address";
	return NULL;
}

/* The same for an IPv6 address; IPv4 embedded in it is judged as IPv4. */
static const char *
ipv6_refusal(const unsigned char *b)
{
	static const unsigned char zero[12] = {0};
	static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b};
	uint32		v4 = (((uint32) b[12] << 24) | ((uint32) b[13] << 16) |
					  ((uint32) b[14] << 8) | (uint32) b[15]);
	int			i;
	bool		all_zero = true;

	for (i = 0; i < 15; i++)
		if (b[i] != 0)
			all_zero = false;
	if (all_zero && b[15] == 0)
		return "an unspecified address";
	if (all_zero && b[15] == 1)
		return "a loopback address";
	/* IPv4-mapped ::ffff:a.b.c.d, IPv4-compatible ::a.b.c.d, NAT64 */
	if ((memcmp(b, zero, 10) == 0 && b[10] == 0xff && b[11] == 0xff) ||
		memcmp(b, zero, 12) == 0 || memcmp(b, nat64, 12) == 0)
	{
		const char *why = ipv4_refusal(v4);

		return why ? why : (memcmp(b, zero, 12) == 0 ?
							"a reserved address (IPv4-compatible IPv6)" : NULL);
	}
	if ((b[0] & 0xfe) == 0xfc)
		return "a private address (fc00::/7)";
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
		return "a link-local address";
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)
		return "a private address (site-local fec0::/10)";
	if (b[0] == 0xff)
		return "a multicast address";
	return NULL;
}

static const char *
sockaddr_refusal(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
	{
		const struct sockaddr_in *in = (const struct sockaddr_in *) sa;

		return ipv4_refusal(ntohl(in->sin_addr.s_addr));
	}
	if (sa->sa_family == AF_INET6)
	{
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) sa;

		return ipv6_refusal(in6->sin6_addr.s6_addr);
	}
	return "an address of an unsupported family";
}

/*
 * CURLOPT_OPENSOCKETFUNCTION: every connection libcurl opens (to the API
 * host, or to a proxy) goes through here, after name resolution and before
 * any packet.  A refused address is recorded and no socket is made; libcurl
 * tries the host's other addresses, if any, and otherwise fails with
 * CURLE_COULDNT_CONNECT.
 */
static curl_socket_t
opensocket_cb(void *clientp, curlsocktype purpose, struct curl_sockaddr *address)
{
	CivisRequest *req = (CivisRequest *) clientp;

	if (req->owner->check_addresses)
	{
		const char *why = sockaddr_refusal(&address->addr);

		if (why != NULL)
		{
			req->refused = why;
			return CURL_SOCKET_BAD;
		}
	}
	return socket(address->family, address->socktype, address->protocol);
}

/*
 * A send reached the wire: EXPLAIN ANALYZE's count of requests, and the
 * budget's (the first send of an attempt was admitted beforehand; libcurl's
 * re-sends of it on a fresh connection are charged after the attempt, in
 * finish_attempt).  Plain C: called from a libcurl callback.
 */
static void
wire_send(CivisRequest *req)
{
	req->sent = true;
	req->wire_sends++;
	req->owner->stats.requests++;
}

#if LIBCURL_VERSION_NUM >= 0x075000
/*
 * CURLOPT_PREREQFUNCTION: called before each request is sent, on a new or
 * a reused connection.  A connection cached for another server (one with
 * allow_private_addresses, say) to the same host and port would otherwise
 * carry this request without going through opensocket_cb.
 */
static int
prereq_cb(void *clientp, char *conn_primary_ip, char *conn_local_ip,
		  int conn_primary_port, int conn_local_port)
{
	CivisRequest *req = (CivisRequest *) clientp;
	char		ip[64];
	unsigned char addr[16];
	const char *why = NULL;

	if (!req->owner->check_addresses)
	{
		wire_send(req);
		return CURL_PREREQFUNC_OK;
	}
	if (conn_primary_ip == NULL)
		why = "an address that could not be checked";
	else
	{
		strlcpy(ip, conn_primary_ip, sizeof(ip));
		ip[strcspn(ip, "%")] = '\0';	/* zone id of a link-local address */
		if (inet_pton(AF_INET, ip, addr) == 1)
			why = ipv4_refusal(((uint32) addr[0] << 24) | ((uint32) addr[1] << 16) |
							   ((uint32) addr[2] << 8) | (uint32) addr[3]);
		else if (inet_pton(AF_INET6, ip, addr) == 1)
			why = ipv6_refusal(addr);
		else
			why = "an address that could not be checked";
	}
	if (why != NULL)
	{
		req->refused = why;
		return CURL_PREREQFUNC_ABORT;
	}
	wire_send(req);
	return CURL_PREREQFUNC_OK;
}
#endif

/* --------------------------------------------------------------------
 * request lifecycle
 * -------------------------------------------------------------------- */

static void
free_body(CivisRequest *req)
{
	if (req->buf)
		free(req->buf);
	req->buf = NULL;
	req->len = 0;
	req->cap = 0;
}

/* Remove the easy handle of a running request; plain C, cannot fail. */
static void
detach_easy(CivisRequest *req)
{
	if (req->admitted)
	{
		req->admitted = false;
		civis_budget_finished(&req->owner->budget);
	}
	if (req->easy == NULL)
		return;
	if (backend_multi)
		curl_multi_remove_handle(backend_multi, req->easy);
	curl_easy_cleanup(req->easy);
	req->easy = NULL;
	backend_attached--;
	if (req->state == REQ_RUNNING)
		req->owner->running--;
}

/* Free one request record entirely (it must already be unlinked or be
 * unlinked here); plain C, cannot fail. */
static void
release_request(CivisRequest *req)
{
	detach_easy(req);
	dlist_delete(&req->node);
	free_body(req);
	free(req->url);
	free(req->shown);
	free(req);
}

static void
civis_http_reset_cb(void *arg)
{
	CivisHttp  *h = (CivisHttp *) arg;
	dlist_mutable_iter it;

	dlist_foreach_modify(it, &h->requests)
	{
		CivisRequest *req = dlist_container(CivisRequest, node, it.cur);

		release_request(req);
	}
	h->running = 0;
	dlist_delete(&h->node);
	civis_budget_detach(&h->budget);
	/* do not leave the key behind in freed memory */
	if (h->api_key)
		explicit_bzero(h->api_key, strlen(h->api_key));
	maybe_recycle_multi();
}

static CivisRequest *
find_request(CivisHttp *h, int ticket)
{
	dlist_iter	it;

	dlist_foreach(it, &h->requests)
	{
		CivisRequest *req = dlist_container(CivisRequest, node, it.cur);

		if (req->ticket == ticket)
			return req;
	}
	return NULL;
}

/* --------------------------------------------------------------------
 * rate-limit state per rate key (plain C, cannot fail)
 * -------------------------------------------------------------------- */

static bool
rate_key_equal(const CivisRateKey *a, const CivisRateKey *b)
{
	return a->serverid == b->serverid && a->umid == b->umid;
}

/*
 * The entry of a rate key, or NULL when there is none and create is false.
 * With create, a missing key gets a fresh entry, in place of the least
 * recently used one when the table is full.
 */
static RateEntry *
rate_entry(const CivisRateKey *key, bool create)
{
	RateEntry  *e = NULL;
	int			i;

	for (i = 0; i < backend_nrates; i++)
	{
		if (rate_key_equal(&backend_rates[i].pub.key, key))
		{
			e = &backend_rates[i];
			break;
		}
	}
	if (e == NULL)
	{
		if (!create)
			return NULL;
		if (backend_nrates < CIVIS_RATE_STATES_MAX)
			e = &backend_rates[backend_nrates++];
		else
		{
			e = &backend_rates[0];
			for (i = 1; i < backend_nrates; i++)
				if (backend_rates[i].last_used < e->last_used)
					e = &backend_rates[i];
		}
		memset(e, 0, sizeof(*e));
		e->pub.key = *key;
		e->pub.limit = -1;
		e->pub.remaining = -1;
		e->pub.seen_at = 0;
		e->first_used = ++backend_rate_clock;
	}
	e->last_used = ++backend_rate_clock;
	return e;
}

#define SETOPT(opt, val) \
	do { \
		if (rc == CURLE_OK) \
			rc = curl_easy_setopt(e, opt, val); \
	} while (0)

/*
 * Start (or restart) a request: create its easy handle and attach it.
 * On return the request is REQ_RUNNING.  Raises only on resource failure,
 * with the request left consistent (queued, no handle).
 *
 * Long because the easy handle's options are one flat list, one line each,
 * all under the same "rc" (SETOPT): a split would only cut that list.
 */
static void
start_request(CivisRequest *req)
{
	CivisHttp  *h = req->owner;
	CURL	   *e;
	CURLcode	rc = CURLE_OK;
	CURLMcode	mrc;

	check_multi();

	e = curl_easy_init();
	if (e == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory"),
				 errdetail("Could not create a libcurl easy handle.")));

	free_body(req);
	reset_headers(req);
	req->too_large = false;
	req->oom = false;
	req->refused = NULL;
	req->errbuf[0] = '\0';
	req->status = 0;
	req->result = CURLE_OK;

	SETOPT(CURLOPT_URL, req->url);
	SETOPT(CURLOPT_PRIVATE, (void *) req);
	SETOPT(CURLOPT_ERRORBUFFER, req->errbuf);
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_VERBOSE, 0L);
	SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
	SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
	SETOPT(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	SETOPT(CURLOPT_PROTOCOLS, (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS));
	SETOPT(CURLOPT_REDIR_PROTOCOLS, (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif

	/*
	 * The URL goes out byte for byte as EXPLAIN shows it.  libcurl's own
	 * dot-segment removal would not confine the path to api_url's prefix
	 * either (/prefix/../x becomes /x): the path rule of option.c, checked
	 * again when request.c builds each URL, does.
	 */
	SETOPT(CURLOPT_PATH_AS_IS, 1L);
	SETOPT(CURLOPT_HTTPGET, 1L);
	if (h->connect_timeout_ms > 0)
		SETOPT(CURLOPT_CONNECTTIMEOUT_MS, h->connect_timeout_ms);
	SETOPT(CURLOPT_TIMEOUT_MS, h->request_timeout_ms);
	SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
	SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
	if (h->ca_file && h->ca_file[0] != '\0')
		SETOPT(CURLOPT_CAINFO, h->ca_file);
	SETOPT(CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
	SETOPT(CURLOPT_USERNAME, h->api_key);
	SETOPT(CURLOPT_PASSWORD, "");
	SETOPT(CURLOPT_USERAGENT, backend_user_agent);
	SETOPT(CURLOPT_HTTPHEADER, backend_headers);
	SETOPT(CURLOPT_ACCEPT_ENCODING, "");
	SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);

	/*
	 * Over TLS, ALPN tells early whether HTTP/2 is available, so waiting for
	 * it lets a burst of requests share one multiplexed connection.  Plain
	 * HTTP never multiplexes here, and waiting would only delay a burst until
	 * the first response arrives.
	 */
	if (pg_strncasecmp(req->url, "https:", 6) == 0)
		SETOPT(CURLOPT_PIPEWAIT, 1L);
	SETOPT(CURLOPT_SHARE, backend_share);
	SETOPT(CURLOPT_WRITEFUNCTION, write_cb);
	SETOPT(CURLOPT_WRITEDATA, (void *) req);
	SETOPT(CURLOPT_HEADERFUNCTION, header_cb);
	SETOPT(CURLOPT_HEADERDATA, (void *) req);
	SETOPT(CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
	SETOPT(CURLOPT_XFERINFODATA, (void *) req);
	SETOPT(CURLOPT_NOPROGRESS, 0L);
	SETOPT(CURLOPT_OPENSOCKETFUNCTION, opensocket_cb);
	SETOPT(CURLOPT_OPENSOCKETDATA, (void *) req);
#if LIBCURL_VERSION_NUM >= 0x075000
	SETOPT(CURLOPT_PREREQFUNCTION, prereq_cb);
	SETOPT(CURLOPT_PREREQDATA, (void *) req);
#endif
	/* a proxy only when a superuser named one: never from the environment */
	if (h->proxy)
		SETOPT(CURLOPT_PROXY, h->proxy);
	else
	{
		SETOPT(CURLOPT_PROXY, "");
		SETOPT(CURLOPT_NOPROXY, "*");
	}
	if (h->max_response_bytes > 0)
		SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) h->max_response_bytes);

	if (rc != CURLE_OK)
	{
		curl_easy_cleanup(e);
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("could not configure a libcurl request: %s",
						curl_easy_strerror(rc))));
	}

	mrc = curl_multi_add_handle(backend_multi, e);
	if (mrc != CURLM_OK)
	{
		curl_easy_cleanup(e);
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("could not start a libcurl request: %s",
						curl_multi_strerror(mrc))));
	}

	/* from here on, the reset callback can undo everything */
	req->easy = e;
	backend_attached++;
	req->state = REQ_RUNNING;
	h->running++;
	req->attempts++;
	req->wire_sends = 0;
	req->attempt_start_ms = now_ms();
	if (req->attempts == 1)
		req->first_start_ms = req->attempt_start_ms;
	if (req->retry_clock_ms == 0)
		req->retry_clock_ms = req->attempt_start_ms;
	if (h->running > h->stats.peak_in_flight)
		h->stats.peak_in_flight = h->running;
#if LIBCURL_VERSION_NUM < 0x075000
	wire_send(req);				/* no CURLOPT_PREREQFUNCTION to tell */
#endif

	rate_entry(&h->rate_key, true)->last_start_ms = req->attempt_start_ms;
}

/*
 * Earliest time the next request of a set may start under rate-limit pacing
 * (see CIVIS_PACE_THRESHOLD), from the latest X-RateLimit-Remaining seen for
 * the set's rate key and that key's latest start: a fresh, higher value
 * lifts the pacing at once, and other keys' values do not matter.
 */
static double
paced_start_ms(CivisHttp *h)
{
	RateEntry  *e;

	if (h->budget.slot >= 0)
		return 0;				/* the shared budget admits instead */
	e = rate_entry(&h->rate_key, false);
	if (e == NULL || e->pub.remaining < 0 ||
		e->pub.remaining >= CIVIS_PACE_THRESHOLD)
		return 0;
	return e->last_start_ms + CIVIS_PACE_MAX_GAP_MS *
		(double) (CIVIS_PACE_THRESHOLD - e->pub.remaining) /
		(double) CIVIS_PACE_THRESHOLD;
}

/* Is some request of this backend waiting for budget (wait event)? */
static bool backend_budget_waiting = false;

/*
 * Take a unit of the shared budget for a request about to start.  false:
 * not now (*wait_ms says when to look again), or never (the request is
 * failed with FAIL_BUDGET: planning does not wait, and nobody waits longer
 * than civis_fdw.max_budget_wait).
 */
static bool
admit_request(CivisHttp *h, CivisRequest *req, double now, double *wait_ms)
{
	bool		bulk;

	*wait_ms = 0;
	if (h->budget.slot < 0 || req->admitted)
		return true;
	bulk = civis_request_priority == CIVIS_PRIORITY_BACKGROUND ||
		h->submitted > CIVIS_BULK_AFTER_REQUESTS;
	if (civis_budget_admit(&h->budget, bulk, wait_ms))
	{
		req->admitted = true;
		req->budget_wait_since = 0;
		return true;
	}
	if (req->budget_wait_since == 0)
		req->budget_wait_since = now;
	if (h->no_budget_wait ||
		now - req->budget_wait_since > civis_max_budget_wait_s * 1000.0)
	{
		civis_budget_stop_waiting(&h->budget);
		req->state = REQ_DONE;
		req->failure = FAIL_BUDGET;
		req->done_ms = now;
		return false;
	}
	backend_budget_waiting = true;
	return false;
}

/*
 * Start the queued requests and due retries of every active CivisHttp, in
 * ticket order, as far as max_in_flight, pacing and the shared budget
 * allow.  Returns the number of milliseconds until something else becomes
 * startable (or CIVIS_POLL_MS when nothing is waiting on time).
 */
static double
start_due_requests(void)
{
	dlist_iter	hit;
	double		now = now_ms();
	double		next = CIVIS_POLL_MS;

	backend_budget_waiting = false;
	dlist_foreach(hit, &backend_sets)
	{
		CivisHttp  *h = dlist_container(CivisHttp, node, hit.cur);
		dlist_iter	it;

		dlist_foreach(it, &h->requests)
		{
			CivisRequest *req = dlist_container(CivisRequest, node, it.cur);
			double		wait;

			if (req->state == REQ_SLEEPING)
			{
				if (req->retry_at_ms > now)
				{
					next = Min(next, req->retry_at_ms - now);
					continue;
				}
			}
			else if (req->state != REQ_QUEUED)
				continue;

			if (h->running >= h->max_in_flight ||
				backend_attached >= CIVIS_MAX_CONNECTIONS)
				continue;		/* a completion will free a slot */
			if (paced_start_ms(h) > now)
			{
				next = Min(next, paced_start_ms(h) - now);
				continue;
			}
			if (!admit_request(h, req, now, &wait))
			{
				/* the set's later requests would wait behind this one */
				if (req->state != REQ_DONE)
					next = Min(next, wait);
				break;
			}
			start_request(req);
			now = now_ms();
		}
	}
	return Max(next, 0.0);
}

static bool
retryable_status(long status)
{
	return status == 429 || status == 502 || status == 503 || status == 504;
}

static bool
retryable_curl_error(CURLcode code)
{
	switch (code)
	{
		case CURLE_COULDNT_CONNECT:
		case CURLE_SEND_ERROR:
		case CURLE_RECV_ERROR:
		case CURLE_GOT_NOTHING:
		case CURLE_PARTIAL_FILE:
		case CURLE_OPERATION_TIMEDOUT:
		case CURLE_HTTP2:
		case CURLE_HTTP2_STREAM:
			return true;
		default:
			return false;
	}
}

/* Errors that retrying rarely fixes: a wrong port, a wrong host name. */
static bool
fast_fail_curl_error(CURLcode code)
{
	return code == CURLE_COULDNT_CONNECT ||
		code == CURLE_COULDNT_RESOLVE_HOST ||
		code == CURLE_COULDNT_RESOLVE_PROXY;
}

static bool
tls_curl_error(CURLcode code)
{
	switch (code)
	{
		case CURLE_PEER_FAILED_VERIFICATION:
		case CURLE_SSL_CACERT_BADFILE:
		case CURLE_SSL_CONNECT_ERROR:
		case CURLE_SSL_CERTPROBLEM:
		case CURLE_SSL_ISSUER_ERROR:
		case CURLE_SSL_CRL_BADFILE:
		case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
			return true;
		default:
			return false;
	}
}

/* Retry-After in milliseconds, or -1 when absent or unparseable. */
static double
retry_after_ms(const char *value)
{
	char	   *end;
	double		secs;
	time_t		when;

	if (value[0] == '\0')
		return -1;
	errno = 0;
	secs = strtod(value, &end);
	if (end != value && errno == 0)
	{
		while (*end == ' ' || *end == '\t')
			end++;
		if (*end == '\0' && secs >= 0 && isfinite(secs))
			return secs * 1000.0;
	}
	when = curl_getdate(value, NULL);
	if (when != (time_t) -1)
	{
		double		d = difftime(when, time(NULL));

		return d > 0 ? d * 1000.0 : 0.0;
	}
	return -1;
}

/*
 * Handle the end of one attempt: detach its handle, decide between done and
 * retry, log it.  All state is updated before the DEBUG1 line is emitted.
 *
 * Long because it is one decision taken in order: the kind of failure, then
 * whether it is retried and how long to wait (bounded by max_retries and
 * retry_max_time), then the request's new state and the DEBUG1 line that
 * reports all of it.
 */
static void
finish_attempt(CivisRequest *req, CURLcode code)
{
	CivisHttp  *h = req->owner;
	long		status = 0;
	double		now = now_ms();
	double		ms = now - req->attempt_start_ms;
	bool		retry = false;
	bool		fast = false;
	double		wait = 0;
	size_t		bytes = req->len;
	char		note[256];

	note[0] = '\0';
	if (code == CURLE_OK)
		curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &status);
	detach_easy(req);			/* running-- */

	req->status = status;
	req->result = code;
	h->stats.bytes += req->len;

	/* libcurl's re-sends were not admitted: charge them now */
	if (req->wire_sends > 1)
		civis_budget_charge(&h->budget, req->wire_sends - 1);
	if (code == CURLE_OK)
		civis_budget_observe(&h->budget, req->ratelimit_limit,
							 req->ratelimit_remaining, ms);

	if (req->ratelimit_remaining >= 0 || req->ratelimit_limit >= 0)
	{
		RateEntry  *e = rate_entry(&h->rate_key, true);

		if (req->ratelimit_remaining >= 0)
			e->pub.remaining = req->ratelimit_remaining;
		if (req->ratelimit_limit >= 0)
			e->pub.limit = req->ratelimit_limit;
		e->pub.seen_at = GetCurrentTimestamp();
	}

	if (code == CURLE_OK)
	{
		req->failure = FAIL_NONE;
		retry = retryable_status(status);
	}
	else if (req->refused)
		req->failure = FAIL_REFUSED;	/* never retried */
	else if (req->too_large)
		req->failure = FAIL_TOO_LARGE;
	else if (req->oom)
		req->failure = FAIL_OOM;
	else if (code == CURLE_ABORTED_BY_CALLBACK)
		req->failure = FAIL_ABORTED;
	else if (code == CURLE_FILESIZE_EXCEEDED)
		req->failure = FAIL_TOO_LARGE;
	else if (tls_curl_error(code))
		req->failure = FAIL_TLS;
	else
	{
		req->failure = FAIL_TRANSPORT;
		fast = fast_fail_curl_error(code);
		retry = fast || retryable_curl_error(code);
	}

	if (retry && status == 429 && h->budget.slot >= 0)
	{
		/*
		 * The key is over its limit for every backend: hold it for the
		 * Retry-After (or a backoff when there is none) and queue the request
		 * for admission again.  This counts against neither max_retries nor
		 * retry_max_time; a Retry-After longer than civis_fdw.max_budget_wait
		 * fails the request at once.
		 */
		double		ra = retry_after_ms(req->retry_after);

		if (ra < 0)
			ra = CIVIS_BACKOFF_BASE_MS * pow(2.0, Min(req->holds, 6));
		if (req->first_hold_ms == 0)
			req->first_hold_ms = now;
		if (req->holds < CIVIS_MAX_HOLDS &&
			now + ra - req->first_hold_ms <= civis_max_budget_wait_s * 1000.0)
		{
			civis_budget_hold(&h->budget, ra);
			req->holds++;
			req->state = REQ_QUEUED;
			req->retry_clock_ms = 0;
			h->stats.retries++;
			free_body(req);
			elog(DEBUG1, "GET %s -> 429, %zu bytes, %.1f ms; the key is on hold for %.0f ms (attempt %d)",
				 req->shown, bytes, ms, ra, req->attempts + 1);
			return;
		}
		retry = false;
	}

	if (retry)
	{
		double		backoff;
		double		ra;
		double		cap;
		int			max_retries = h->max_retries;
		double		max_time = (double) h->retry_max_time_ms;

		cap = (fast ? CIVIS_FAST_BACKOFF_MS : CIVIS_BACKOFF_BASE_MS) *
			pow(2.0, Min(req->attempts - 1, 30));
		cap = Min(cap, CIVIS_BACKOFF_CAP_MS);
		backoff = random_fraction() * cap;
		ra = (code == CURLE_OK) ? retry_after_ms(req->retry_after) : -1;
		wait = Max(backoff, ra);
		if (fast)
		{
			max_retries = Min(max_retries, CIVIS_FAST_MAX_RETRIES);
			max_time = Min(max_time, CIVIS_FAST_RETRY_MS);
		}

		if (req->attempts - 1 - req->holds >= max_retries)
			retry = false;
		else if ((now + wait) - req->retry_clock_ms > max_time)
			retry = false;
	}

	if (retry)
	{
		req->state = REQ_SLEEPING;
		req->retry_at_ms = now + wait;
		h->stats.retries++;
		free_body(req);
		snprintf(note, sizeof(note), "%s%s; retrying in %.0f ms (attempt %d)",
				 code == CURLE_OK ? "" : "; ",
				 code == CURLE_OK ? "" : curl_easy_strerror(code),
				 wait, req->attempts + 1);
	}
	else
	{
		req->state = REQ_DONE;
		req->done_ms = now;
		if (req->failure == FAIL_REFUSED)
			snprintf(note, sizeof(note), "; refused: %s", req->refused);
		else if (code != CURLE_OK)
			snprintf(note, sizeof(note), "; %s", curl_easy_strerror(code));
	}

	elog(DEBUG1, "GET %s -> %ld, %zu bytes, %.1f ms%s",
		 req->shown, status, bytes, ms, note);
}

/* Collect completions from the multi handle. */
static void
collect_completions(void)
{
	CURLMsg    *msg;
	int			left;

	while (backend_multi &&
		   (msg = curl_multi_info_read(backend_multi, &left)) != NULL)
	{
		CivisRequest *req = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &req);
		if (req == NULL || req->easy != msg->easy_handle)
			continue;			/* cannot happen */
		finish_attempt(req, msg->data.result);
	}
}

static void
perform(void)
{
	int			still;
	CURLMcode	mrc;

	if (backend_multi == NULL || backend_attached == 0)
		return;
	mrc = curl_multi_perform(backend_multi, &still);
	if (mrc != CURLM_OK)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("libcurl multi handle failed: %s",
						curl_multi_strerror(mrc))));
	collect_completions();
}

/*
 * One round of driving on behalf of the request the caller waits for: start
 * what can start, make progress, and unless the target is done, wait at
 * most CIVIS_POLL_MS (less when a retry or a paced start is due sooner);
 * then service interrupts.  Requests of other CivisHttp sets progress too.
 */
static void
drive(CivisRequest *target)
{
	double		timeout;

	maybe_recycle_multi();
	timeout = start_due_requests();
	perform();
	if (target->state == REQ_DONE)
	{
		CHECK_FOR_INTERRUPTS();
		return;
	}

	/* completions may have freed slots: start what can start now */
	timeout = Min(timeout, start_due_requests());

	if (backend_attached > 0)
	{
		int			numfds = 0;
		CURLMcode	mrc;

		pgstat_report_wait_start(civis_wait_event("CivisFdwNetwork",
												  &wait_event_network));
		mrc = curl_multi_poll(backend_multi, NULL, 0,
							  (int) ceil(Min(timeout, CIVIS_POLL_MS)), &numfds);
		pgstat_report_wait_end();
		if (mrc != CURLM_OK)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_ERROR),
					 errmsg("libcurl multi handle failed: %s",
							curl_multi_strerror(mrc))));
		perform();
	}
	else if (timeout > 0)
	{
		/* nothing on the wire: a plain interruptible sleep */
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 (long) ceil(Min(timeout, CIVIS_POLL_MS)),
						 backend_budget_waiting ?
						 civis_wait_event("CivisFdwBudget", &wait_event_budget) :
						 civis_wait_event("CivisFdwBackoff", &wait_event_backoff));
		ResetLatch(MyLatch);
	}

	CHECK_FOR_INTERRUPTS();
}

/* --------------------------------------------------------------------
 * public API
 * -------------------------------------------------------------------- */

/* Let the connection cache keep what a set needs, up to the backend cap. */
static void
grow_connection_cache(CivisHttp *h)
{
	long		want = Min(2L * h->max_in_flight, (long) CIVIS_MAX_CONNECTIONS);

	if (backend_multi && want > backend_maxconnects)
	{
		backend_maxconnects = want;
		curl_multi_setopt(backend_multi, CURLMOPT_MAXCONNECTS,
						  backend_maxconnects);
	}
}

CivisHttp *
civis_http_begin(MemoryContext cxt, const CivisHttpConfig *cfg)
{
	CivisHttp  *h;

	civis_curl_init();

	h = MemoryContextAllocZero(cxt, sizeof(CivisHttp));
	h->cxt = cxt;
	h->api_key = MemoryContextStrdup(cxt, cfg->api_key ? cfg->api_key : "");
	h->connect_timeout_ms = cfg->connect_timeout_ms;
	h->request_timeout_ms = cfg->request_timeout_ms;
	if (h->request_timeout_ms <= 0)
		h->request_timeout_ms = 300000; /* defensive: never unbounded */
	h->max_response_bytes = cfg->max_response_bytes;
	h->ca_file = cfg->ca_file ? MemoryContextStrdup(cxt, cfg->ca_file) : NULL;
	h->max_retries = Max(cfg->max_retries, 0);
	h->retry_max_time_ms = Max(cfg->retry_max_time_ms, 0);
	h->max_in_flight = Min(Max(cfg->max_in_flight, 1), CIVIS_MAX_CONNECTIONS);
	h->proxy = (cfg->proxy && cfg->proxy[0] != '\0') ?
		MemoryContextStrdup(cxt, cfg->proxy) : NULL;
	h->check_addresses = !cfg->trusted_host && !cfg->allow_private_addresses &&
		h->proxy == NULL;
	h->body_trusted = cfg->trusted_host;
	h->rate_key = cfg->rate_key;
	h->next_ticket = 1;
	h->no_budget_wait = cfg->no_budget_wait;
	h->budget.slot = -1;
	dlist_init(&h->requests);

	/* grow the connection cache to fit the widest fan-out seen */
	grow_connection_cache(h);

	h->cb.func = civis_http_reset_cb;
	h->cb.arg = h;
	dlist_push_tail(&backend_sets, &h->node);
	MemoryContextRegisterResetCallback(cxt, &h->cb);

	/* the key's shared budget; the reset callback detaches */
	if (cfg->origin != NULL)
	{
		uint8		hash[CIVIS_BUDGET_HASH_LEN];

		civis_budget_hash(cfg->origin, h->api_key, hash);
		civis_budget_attach(&h->budget, hash, cfg->rate_window_s,
							cfg->rate_reserve_pct);
		explicit_bzero(hash, sizeof(hash));
	}

	return h;
}

int
civis_http_submit(CivisHttp *h, const char *url, const char *shown)
{
	CivisRequest *req;

	check_multi();
	grow_connection_cache(h);

	req = calloc(1, sizeof(CivisRequest));
	if (req == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	req->owner = h;
	req->state = REQ_QUEUED;
	req->ticket = h->next_ticket++;
	h->submitted++;
	reset_headers(req);
	dlist_push_tail(&h->requests, &req->node);
	/* owned by h from here on: errors below are cleaned up by the callback */
	req->url = malloc_strdup_or_error(url);
	req->shown = malloc_strdup_or_error(shown ? shown : "");

	/* start it now if a slot is free, and get the bytes moving */
	(void) start_due_requests();
	perform();

	return req->ticket;
}

/*
 * libcurl's messages say how long a failure took ("... after 12 ms: ...");
 * messages are compared by people and tests, so the timing is left out.
 */
static void
drop_elapsed_time(char *msg)
{
	char	   *at = strstr(msg, " after ");
	char	   *p;

	if (at == NULL)
		return;
	p = at + 7;
	if (!isdigit((unsigned char) *p))
		return;
	while (isdigit((unsigned char) *p))
		p++;
	if (strncmp(p, " ms", 3) != 0)
		return;
	memmove(at, p + 3, strlen(p + 3) + 1);
}

/* The host of a URL (IPv6 literals with their brackets), palloc'd. */
static char *
url_host(const char *url)
{
	const char *p = strstr(url, "://");
	size_t		n;

	p = p ? p + 3 : url;
	if (*p == '[')
		n = strcspn(p, "]") + 1;
	else
		n = strcspn(p, ":/");
	return pnstrdup(p, Min(n, strlen(p)));
}

/*
 * Raise the error recorded for a failed request.  The request is released
 * first (after copying what the message needs), so that a caller catching
 * the error in a subtransaction does not keep it.
 *
 * Long because it is one switch over the kinds of failure, each one
 * ereport with its own SQLSTATE, message and hint: the table of what a
 * user sees when the network fails, best read in one place.
 */
static void
raise_request_failure(CivisHttp *h, CivisRequest *req)
{
	char	   *shown = pstrdup(req->shown);
	char	   *errbuf = pstrdup(req->errbuf);
	CURLcode	code = req->result;
	int			attempts = req->attempts;
	CivisReqFailure failure = req->failure;
	const char *refused = req->refused;
	char	   *host = url_host(req->url);
	const char *path;
	StringInfoData detail;

	/* curl's error text never shows our path or query, but make sure */
	path = strchr(req->url, '/');
	if (path && strncmp(path, "//", 2) == 0)
		path = strchr(path + 2, '/');
	if (path && strlen(path) > 1 && strstr(errbuf, path) != NULL)
		errbuf[0] = '\0';
	if (strcmp(errbuf, curl_easy_strerror(code)) == 0)
		errbuf[0] = '\0';
	drop_elapsed_time(errbuf);

	release_request(req);

	initStringInfo(&detail);
	if (errbuf[0] != '\0')
		appendStringInfoString(&detail, errbuf);
	if (attempts > 1)
		appendStringInfo(&detail, "%sGave up after %d attempts.",
						 detail.len > 0 ? "\n" : "", attempts);

	switch (failure)
	{
		case FAIL_REFUSED:

			/*
			 * insufficient_privilege: a policy refused the request, nothing
			 * was sent, and retrying cannot help.  The message is the same
			 * whatever the port, and whether anything listens there.
			 */
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("civis_fdw refuses to connect to host \"%s\": its address is %s",
							host, refused),
					 errdetail("Nothing was sent for %s.  Only hosts in civis_fdw.allowed_hosts, and servers with the option allow_private_addresses, may use loopback, private, link-local or other non-public addresses.",
							   shown),
					 errhint("A superuser can add the host to civis_fdw.allowed_hosts, or set the server option allow_private_addresses 'true'.")));
			break;
		case FAIL_BUDGET:

			/*
			 * Nothing was sent: the key's budget, shared by every session
			 * using it, stayed exhausted (or on hold after a 429) longer than
			 * this request may wait; planning never waits.
			 */
			ereport(ERROR,
					(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
					 errmsg("the Civis API key's request budget was exhausted for %s", shown),
					 errdetail("Nothing was sent.  Other sessions using the same key, or earlier requests of this one, used the requests the API allows per rate_window."),
					 errhint("Wait, or raise civis_fdw.max_budget_wait (now %d s); civis_fdw_budget() shows the key's budget.",
							 civis_max_budget_wait_s)));
			break;
		case FAIL_ABORTED:
			CHECK_FOR_INTERRUPTS();
			ereport(ERROR,
					(errcode(ERRCODE_QUERY_CANCELED),
					 errmsg("Civis API request %s was interrupted", shown)));
			break;
		case FAIL_OOM:
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory"),
					 errdetail("Could not buffer the response from %s.", shown)));
			break;
		case FAIL_TOO_LARGE:
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("response from %s exceeds max_response_bytes (%lld bytes)",
							shown, (long long) h->max_response_bytes),
					 errhint("Raise the max_response_bytes option of the foreign server, or lower the page_size option of the table.")));
			break;
		case FAIL_TLS:
			if (code == CURLE_SSL_CACERT_BADFILE)
				ereport(ERROR,
						(errcode(ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION),
						 errmsg("could not load the CA certificates to verify the Civis API server for %s: %s",
								shown, curl_easy_strerror(code)),
						 detail.len > 0 ? errdetail("%s", detail.data) : 0,
						 errhint("Check the ca_file option of the foreign server: it must name a readable PEM file.")));
			else
				ereport(ERROR,
						(errcode(ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION),
						 errmsg("could not verify the TLS certificate of the Civis API server for %s: %s",
								shown, curl_easy_strerror(code)),
						 detail.len > 0 ? errdetail("%s", detail.data) : 0,
						 errhint("Set the ca_file option of the foreign server to a PEM file of the certificate authorities to trust, or fix the system CA store.")));
			break;
		case FAIL_TRANSPORT:
		default:
			{
				bool		connect_failure;
				const char *hint;

				connect_failure = (code == CURLE_COULDNT_CONNECT ||
								   code == CURLE_COULDNT_RESOLVE_HOST ||
								   code == CURLE_COULDNT_RESOLVE_PROXY ||
								   code == CURLE_UNSUPPORTED_PROTOCOL ||
								   code == CURLE_URL_MALFORMAT);
				if (code == CURLE_OPERATION_TIMEDOUT)
					hint = "The connect_timeout and request_timeout server options (in seconds) bound each attempt; max_retries and retry_max_time bound the retries.";
				else if (connect_failure)
					hint = "Check the api_url option of the foreign server and that the database server can reach it.";
				else
					hint = "The max_retries and retry_max_time server options control how often a failed request is retried.";

				ereport(ERROR,
						(errcode(connect_failure ?
								 ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION :
								 ERRCODE_CONNECTION_FAILURE),
						 errmsg("could not fetch %s from the Civis API: %s",
								shown, curl_easy_strerror(code)),
						 detail.len > 0 ? errdetail("%s", detail.data) : 0,
						 errhint("%s", hint)));
			}
			break;
	}
	pg_unreachable();
}

/*
 * What a scan's row in civis_fdw_scans() says while it waits for req: its
 * requests and retries so far, and what it waits for (NONE: done).  Plain
 * stores into this backend's own row: no lock.
 */
static void
monitor_waiting(CivisHttp *h, CivisRequest *req)
{
	CivisScanSlot *m = h->monitor;
	int			what = CIVIS_WAITING_NONE;

	if (m == NULL)
		return;
	m->requests = h->stats.requests;
	m->retries = h->stats.retries;
	if (req == NULL || req->state == REQ_DONE)
		what = CIVIS_WAITING_NONE;
	else if (req->state == REQ_SLEEPING)
		what = CIVIS_WAITING_RETRY;
	else if (req->state == REQ_QUEUED && req->budget_wait_since > 0)
		what = CIVIS_WAITING_BUDGET;
	else
		what = CIVIS_WAITING_NETWORK;
	if (what != m->waiting_for)
	{
		m->waiting_since = GetCurrentTimestamp();
		m->waiting_for = what;
	}
}

void
civis_http_set_monitor(CivisHttp *h, struct CivisScanSlot *slot)
{
	h->monitor = slot;
}

void
civis_http_wait(CivisHttp *h, int ticket, CivisResponse *resp)
{
	CivisRequest *req;
	double		t0 = now_ms();
	char	   *body;

	req = find_request(h, ticket);
	if (req == NULL)
		elog(ERROR, "unknown request ticket %d", ticket);

	while (req->state != REQ_DONE)
	{
		monitor_waiting(h, req);
		drive(req);
	}
	monitor_waiting(h, NULL);

	h->stats.wait_ms += now_ms() - t0;

	if (req->failure != FAIL_NONE)
		raise_request_failure(h, req);

	/* copy out first (may ERROR: the request is still owned by h) */
	memset(resp, 0, sizeof(*resp));
	if (!h->body_trusted && (req->status < 200 || req->status > 299))
	{
		/* what an untrusted host says in an error never reaches a message */
		free_body(req);
		resp->body_withheld = true;
	}
	body = MemoryContextAllocExtended(CurrentMemoryContext, req->len + 1,
									  MCXT_ALLOC_HUGE);
	if (req->len > 0)
		memcpy(body, req->buf, req->len);
	body[req->len] = '\0';
	resp->body = body;
	resp->body_len = req->len;
	resp->status = req->status;
	resp->content_type = req->content_type[0] ? pstrdup(req->content_type) : NULL;
	resp->total_entries = req->total_entries;
	resp->total_pages = req->total_pages;
	resp->per_page = req->per_page;
	resp->ratelimit_limit = req->ratelimit_limit;
	resp->ratelimit_remaining = req->ratelimit_remaining;
	resp->attempts = req->attempts;
	resp->elapsed_ms = req->done_ms - req->first_start_ms;

	release_request(req);
	maybe_recycle_multi();
}

/*
 * Drop requests the caller will not wait for: a running one is aborted, a
 * queued one never starts.  Those that were sent (an attempt reached the
 * wire, whether it completed, is still running or sleeps before a retry)
 * cost rate-limit budget for nothing: stats.discarded counts them.
 */
void
civis_http_discard(CivisHttp *h, int ticket)
{
	CivisRequest *req = find_request(h, ticket);

	if (req == NULL)
		return;
	if (req->sent)
		h->stats.discarded++;
	release_request(req);
	maybe_recycle_multi();
}

void
civis_http_discard_all(CivisHttp *h)
{
	dlist_mutable_iter it;

	dlist_foreach_modify(it, &h->requests)
	{
		CivisRequest *req = dlist_container(CivisRequest, node, it.cur);

		if (req->sent)
			h->stats.discarded++;
		release_request(req);
	}
	maybe_recycle_multi();
}

int
civis_http_in_flight(CivisHttp *h)
{
	dlist_iter	it;
	int			n = 0;

	dlist_foreach(it, &h->requests)
	{
		CivisRequest *req = dlist_container(CivisRequest, node, it.cur);

		if (req->state != REQ_DONE)
			n++;
	}
	return n;
}

/*
 * The statistics of a set.  EXPLAIN ANALYZE reads them when the executor
 * has finished but before the scan ends, so requests still outstanding then
 * will never be waited for: those already sent count as discarded (fetched
 * ahead, unused) here too.
 */
const CivisHttpStats *
civis_http_stats(CivisHttp *h)
{
	dlist_iter	it;

	h->report = h->stats;
	dlist_foreach(it, &h->requests)
	{
		CivisRequest *req = dlist_container(CivisRequest, node, it.cur);

		if (req->sent)
			h->report.discarded++;
	}
	return &h->report;
}

/*
 * Response-body memory this backend holds or may soon hold for every
 * request set but except (NULL: all): a request not answered yet may
 * grow to its set's max_response_bytes, an answered one holds its buffer.
 * The scans' backend-wide memory budget (scan.c) adds their parsed pages.
 */
int64
civis_http_backend_bytes(CivisHttp *except)
{
	dlist_iter	hit;
	int64		sum = 0;

	dlist_foreach(hit, &backend_sets)
	{
		CivisHttp  *h = dlist_container(CivisHttp, node, hit.cur);
		dlist_iter	it;

		if (h == except)
			continue;
		dlist_foreach(it, &h->requests)
		{
			CivisRequest *req = dlist_container(CivisRequest, node, it.cur);

			if (req->state == REQ_DONE)
				sum += (int64) req->cap;
			else
				sum += Max((int64) req->cap, h->max_response_bytes);
		}
	}
	return sum;
}

/*
 * Copy the rate-limit states of this backend (at most max, in the order
 * their keys were first used) into out; returns how many.
 */
int
civis_http_rate_states(CivisRateState *out, int max)
{
	int			n = 0;
	uint64		after = 0;

	/* a selection by first use: the table is small */
	while (n < max)
	{
		RateEntry  *next = NULL;
		int			i;

		for (i = 0; i < backend_nrates; i++)
			if (backend_rates[i].first_used > after &&
				(next == NULL || backend_rates[i].first_used < next->first_used))
				next = &backend_rates[i];
		if (next == NULL)
			break;
		out[n++] = next->pub;
		after = next->first_used;
	}
	return n;
}

char *
civis_url_escape(const char *value)
{
	char	   *esc;
	char	   *res;
	size_t		len = strlen(value);

	if (len > (size_t) INT_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("value too long to be sent to the Civis API")));
	if (len == 0)
		return pstrdup("");

	civis_curl_init();
#if LIBCURL_VERSION_NUM >= 0x075200
	/* since 7.82.0 the handle argument is ignored */
	esc = curl_easy_escape(NULL, value, (int) len);
#else
	if (escape_handle == NULL)
	{
		escape_handle = curl_easy_init();
		if (escape_handle == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory")));
	}
	esc = curl_easy_escape(escape_handle, value, (int) len);
#endif
	if (esc == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	len = strlen(esc);
	res = MemoryContextAllocExtended(CurrentMemoryContext, len + 1,
									 MCXT_ALLOC_NO_OOM);
	if (res != NULL)
		memcpy(res, esc, len + 1);
	curl_free(esc);
	if (res == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	return res;
}

void
civis_http_invalidate_connections(void)
{
	if (backend_multi == NULL && backend_share == NULL)
		return;
	backend_recycle_pending = true;
	maybe_recycle_multi();
}

/* The libcurl version this backend runs with (civis_fdw_version()). */
const char *
civis_http_library_version(void)
{
	return curl_version_info(CURLVERSION_NOW)->version;
}
