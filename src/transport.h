/*-------------------------------------------------------------------------
 *
 * transport.h
 *		  The transport (transport.c), the only file that talks to libcurl.
 *
 * A request is described by a URL, what to show of it in messages, and a
 * CivisHttpConfig (key, limits, retry policy, where requests may go).  The
 * transport knows nothing of tables, plans or JSON: this header needs only
 * postgres.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CIVIS_TRANSPORT_H
#define CIVIS_TRANSPORT_H

#include "postgres.h"

/* The extension's version, as the User-Agent and civis_fdw_version() say. */
#define CIVIS_FDW_VERSION "1.0.0"

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
	 * Where requests may go.  A host in civis_fdw.allowed_hosts (trusted)
	 * is connected to whatever its address; so is any host of a server with
	 * allow_private_addresses or a proxy (both superuser-only).  Otherwise
	 * loopback, private, link-local and other non-public addresses are
	 * refused before any packet is sent.  Bodies of non-2xx responses are
	 * handed on only from a trusted host.
	 */
	bool		trusted_host;
	bool		allow_private_addresses;
	const char *proxy;			/* NULL: no proxy, whatever the environment */
} CivisHttpConfig;

typedef struct CivisHttpStats
{
	int64		requests;		/* attempts sent, retries included */
	int64		retries;
	int64		bytes;			/* response body bytes received */
	double		wait_ms;		/* time spent waiting on the network */
	int			peak_in_flight;
	int64		discarded;		/* requests completed or cancelled unused */
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
	int64		ratelimit_remaining;	/* -1 when absent */
	int			attempts;
	double		elapsed_ms;
	bool		body_withheld;	/* a non-2xx body from a host not in
								 * civis_fdw.allowed_hosts: left out */
} CivisResponse;

typedef struct CivisHttp CivisHttp;

extern CivisHttp *civis_http_begin(MemoryContext cxt, const CivisHttpConfig *cfg);
extern int	civis_http_submit(CivisHttp *http, const char *url, const char *shown);
extern void civis_http_wait(CivisHttp *http, int ticket, CivisResponse *resp);
extern void civis_http_discard(CivisHttp *http, int ticket);
extern void civis_http_discard_all(CivisHttp *http);
extern int	civis_http_in_flight(CivisHttp *http);
extern const CivisHttpStats *civis_http_stats(CivisHttp *http);
extern char *civis_url_escape(const char *value);
extern void civis_http_invalidate_connections(void);
extern const char *civis_http_library_version(void);

#endif							/* CIVIS_TRANSPORT_H */
