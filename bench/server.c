/*
 * bench/server.c: a small, fast HTTP/1.1 keep-alive server for the civis_fdw
 * benchmark (not a test mock: see test/mock for the API's behaviour).
 *
 * One epoll thread.  Serves deterministic, pre-generated rows shaped like
 * the fixture's JobSummary, paged like the Civis API:
 *
 *   [/n<ROWS>][/l<MS>]/jobs/?limit=50&page_num=N[&order=..&order_dir=..&state=a,b]
 *   [/n<ROWS>][/l<MS>]/jobs/<id>           one row (404 when absent)
 *   [/n<ROWS>][/l<MS>]/endpoints           the Swagger spec given by --spec
 *   /_stats[?reset=1]                      counters (never counted, never delayed)
 *
 * /n<ROWS> picks the first ROWS rows of the data set (default: all of
 * --rows); /l<MS> delays each answer by MS milliseconds without blocking
 * other connections (a timer per waiting request, not a sleep).
 *
 * Peak concurrency: a request is "in flight" from the moment the server has
 * read it completely until its answer is completely written.  Each loop
 * turn reads every readable connection before answering any, so requests
 * that arrive together are seen together even at zero latency.
 *
 * Build: gcc -O2 -Wall -o server server.c
 * Run:   server --port 0 --port-file F --rows 200000 --spec civis_spec.json
 *        [--trace FILE]  (fd, read ms, answer ms, in flight, target per request)
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#define MAX_CONNS	4096
#define INBUF		16384
#define MAX_VIEWS	64

/* ---------------------------------------------------------------- data */

typedef struct Row
{
	char	   *json;
	int			len;
	int64_t		updated;		/* sort keys */
	int64_t		created;
	int			state;			/* index into STATES, -1 = null */
	char	   *name;			/* for order=name */
} Row;

static const char *STATES[] = {"queued", "running", "succeeded", "failed", "cancelled", "idle"};
#define NSTATES 6
static const char *TYPES[] = {"JobTypes::Import", "JobTypes::PythonDocker",
	"JobTypes::Query", "JobTypes::ContainerDocker", "JobTypes::SqlRunner",
"JobTypes::Workflow"};
static const char *WORDS[] = {"alpha", "bravo", "charlie", "delta", "echo",
"foxtrot", "golf", "hotel"};

static Row *rows;
static int	nrows;
static char *spec;
static size_t spec_len;

/* orders of all rows by each key, ascending (ties by id) */
enum {ORD_ID, ORD_UPDATED, ORD_CREATED, ORD_NAME, NORD};
static int *order_all[NORD];

static uint64_t
mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

typedef struct Buf
{
	char	   *p;
	size_t		len, cap;
} Buf;

static void
buf_need(Buf *b, size_t n)
{
	if (b->len + n + 1 > b->cap)
	{
		size_t		c = b->cap ? b->cap : 4096;

		while (c < b->len + n + 1)
			c *= 2;
		b->p = realloc(b->p, c);
		if (!b->p)
		{
			perror("realloc");
			exit(1);
		}
		b->cap = c;
	}
}

static void
buf_add(Buf *b, const char *s, size_t n)
{
	buf_need(b, n);
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}

static void
buf_printf(Buf *b, const char *fmt,...)
{
	va_list		ap;
	int			n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	buf_need(b, n);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, n + 1, fmt, ap);
	va_end(ap);
	b->len += n;
}

/* seconds since 2023-01-01 -> "YYYY-MM-DDTHH:MM:SS.mmmZ" */
static void
fmt_ts(char *out, int64_t ms)
{
	time_t		t = (time_t) (1672531200 + ms / 1000);
	struct tm	tm;

	gmtime_r(&t, &tm);
	sprintf(out, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
			tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			(int) (ms % 1000));
}

static void
int_list(Buf *b, uint64_t r, int maxn, int maxv)
{
	int			n = (int) (r % (maxn + 1));
	int			i;

	buf_add(b, "[", 1);
	for (i = 0; i < n; i++)
		buf_printf(b, "%s%d", i ? "," : "", (int) (mix(r + i) % maxv));
	buf_add(b, "]", 1);
}

/* One row, JobSummary-shaped, members in name order like the mock. */
static void
gen_row(int i, Row *row)
{
	Buf			b = {0};
	uint64_t	r = mix((uint64_t) i * 7919 + 17);
	int64_t		created = (int64_t) i * 37000 + (int64_t) (r % 1000);
	int64_t		updated = created + (int64_t) (mix(r) % (400LL * 86400 * 1000));
	char		ts1[32], ts2[32], ts3[32], ts4[32], ts5[32];
	int			state = (int) (mix(r + 1) % (NSTATES + 1)) - 1;
	int			author = (int) (mix(r + 2) % 60) + 1;
	char		name[160];

	if (i % 7 == 3)
		snprintf(name, sizeof(name),
				 "Job %d \\\"quoted\\\", comma, back\\\\slash (paren) \\u00e9t\\u00e9 \xe6\x97\xa5\xe6\x9c\xac", i + 1);
	else
		snprintf(name, sizeof(name), "%s name %d", WORDS[mix(r + 3) % 8], i + 1);

	fmt_ts(ts1, created);
	fmt_ts(ts2, updated);
	buf_printf(&b, "{\"archived\":false,\"author\":{\"id\":%d,\"initials\":\"%c%c\","
			   "\"name\":\"%s user %d\",\"online\":%s,\"username\":\"user%d\"},",
			   author, 'A' + author % 26, 'A' + (author * 7) % 26,
			   WORDS[author % 8], author, (mix(r + 4) & 1) ? "true" : "false", author);
	buf_printf(&b, "\"createdAt\":\"%s\",", ts1);
	if (mix(r + 5) % 4 == 0)
		buf_printf(&b, "\"fromTemplateId\":null,");
	else
		buf_printf(&b, "\"fromTemplateId\":%d,", (int) (mix(r + 5) % 20000));
	buf_printf(&b, "\"id\":%d,", i + 1);
	if (mix(r + 6) % 5 == 0)
		buf_printf(&b, "\"lastRun\":null,");
	else
	{
		int64_t		rc = updated - (int64_t) (mix(r + 7) % 86400000);

		fmt_ts(ts3, rc);
		fmt_ts(ts4, rc + 1000);
		fmt_ts(ts5, rc + 1000 + (int64_t) (mix(r + 8) % 3600000));
		buf_printf(&b, "\"lastRun\":{\"createdAt\":\"%s\",\"error\":%s,\"finishedAt\":\"%s\","
				   "\"id\":%d,\"startedAt\":\"%s\",\"state\":\"%s\"},",
				   ts3, state == 3 ? "\"exit code 1: Traceback (most recent call last)\"" : "null",
				   ts5, 100000 + i, ts4, state >= 0 ? STATES[state] : "succeeded");
	}
	buf_printf(&b, "\"name\":\"%s\",", name);
	buf_add(&b, "\"schedule\":{\"scheduled\":", 24);
	buf_add(&b, (mix(r + 9) & 1) ? "true" : "false", (mix(r + 9) & 1) ? 4 : 5);
	buf_add(&b, ",\"scheduledDays\":", 17);
	int_list(&b, mix(r + 10), 3, 7);
	buf_add(&b, ",\"scheduledHours\":", 18);
	int_list(&b, mix(r + 11), 3, 24);
	buf_add(&b, ",\"scheduledMinutes\":", 20);
	int_list(&b, mix(r + 12), 2, 60);
	buf_printf(&b, ",\"scheduledRunsPerHour\":%d},", (int) (mix(r + 13) % 4));
	if (state >= 0)
		buf_printf(&b, "\"state\":\"%s\",", STATES[state]);
	else
		buf_add(&b, "\"state\":null,", 13);
	buf_printf(&b, "\"type\":\"%s\",\"updatedAt\":\"%s\"}", TYPES[mix(r + 14) % 6], ts2);

	row->json = realloc(b.p, b.len + 1);	/* trim the 4 kB scratch */
	row->len = (int) b.len;
	row->created = created;
	row->updated = updated;
	row->state = state;
	row->name = strdup(name);
}

static int	sort_key;
static int
cmp_rows(const void *a, const void *b)
{
	int			x = *(const int *) a,
				y = *(const int *) b;
	int			c = 0;

	switch (sort_key)
	{
		case ORD_UPDATED:
			c = (rows[x].updated > rows[y].updated) - (rows[x].updated < rows[y].updated);
			break;
		case ORD_CREATED:
			c = (rows[x].created > rows[y].created) - (rows[x].created < rows[y].created);
			break;
		case ORD_NAME:
			c = strcmp(rows[x].name, rows[y].name);
			break;
	}
	return c ? c : (x > y) - (x < y);
}

/* A listing: which rows, in which order.  Cached by its parameters. */
typedef struct View
{
	int			nrows;
	int			ord;
	int			desc;
	unsigned	state_mask;		/* 0 = no filter; bit NSTATES = null never */
	int		   *idx;
	int			n;
	uint64_t	last_use;
} View;

static View views[MAX_VIEWS];
static uint64_t use_clock;

static View *
get_view(int n, int ord, int desc, unsigned state_mask)
{
	int			i,
				victim = 0;
	View	   *v;

	for (i = 0; i < MAX_VIEWS; i++)
	{
		v = &views[i];
		if (v->idx && v->nrows == n && v->ord == ord && v->desc == desc &&
			v->state_mask == state_mask)
		{
			v->last_use = ++use_clock;
			return v;
		}
		if (!v->idx || v->last_use < views[victim].last_use)
			victim = i;
	}
	v = &views[victim];
	free(v->idx);
	v->idx = malloc(sizeof(int) * (n > 0 ? n : 1));
	v->n = 0;
	for (i = 0; i < nrows; i++)
	{
		int			k = order_all[ord][desc ? nrows - 1 - i : i];

		if (k >= n)
			continue;
		if (state_mask && (rows[k].state < 0 || !(state_mask & (1u << rows[k].state))))
			continue;
		v->idx[v->n++] = k;
	}
	v->nrows = n;
	v->ord = ord;
	v->desc = desc;
	v->state_mask = state_mask;
	v->last_use = ++use_clock;
	return v;
}

/* ---------------------------------------------------------- connections */

enum {C_FREE, C_READ, C_WAIT, C_WRITE};

typedef struct Conn
{
	int			state;
	char		in[INBUF];
	int			inlen;
	int			reqlen;			/* bytes of the request being answered */
	int			close_after;
	int			counted;		/* the request counts in the stats */
	double		due;			/* C_WAIT: answer at this time */
	double		read_at;		/* when the request was complete */
	Buf			out;			/* the response */
	size_t		outoff;
	/* the request to answer */
	char		target[4096];
	int			authorized;	/* an Authorization header was sent */
} Conn;

static Conn *conns[MAX_CONNS];
static int	epfd;
static int	max_fd;
static FILE *trace;			/* --trace: one line per answered request */
static double t0;			/* highest connection fd in use */

/* stats */
static long long st_requests, st_bytes;
static int	st_in_flight, st_peak_in_flight, st_conns, st_peak_conns;
static long long st_conns_total;

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static void
close_conn(int fd)
{
	Conn	   *c = conns[fd];

	if (!c)
		return;
	if ((c->state == C_WAIT || c->state == C_WRITE) && c->counted)
		st_in_flight--;
	epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
	free(c->out.p);
	free(c);
	conns[fd] = NULL;
	st_conns--;
}

static const char *
qparam(const char *query, const char *name, char *out, size_t outsz)
{
	size_t		nl = strlen(name);
	const char *p = query;

	while (p && *p)
	{
		if (strncmp(p, name, nl) == 0 && p[nl] == '=')
		{
			const char *v = p + nl + 1;
			size_t		o = 0;

			while (*v && *v != '&' && o + 1 < outsz)
			{
				if (*v == '%' && isxdigit((unsigned char) v[1]) && isxdigit((unsigned char) v[2]))
				{
					char		h[3] = {v[1], v[2], 0};

					out[o++] = (char) strtol(h, NULL, 16);
					v += 3;
				}
				else
					out[o++] = (*v == '+') ? ' ' : *v, v++;
			}
			out[o] = 0;
			return out;
		}
		p = strchr(p, '&');
		if (p)
			p++;
	}
	return NULL;
}

static void
respond(Conn *c, int status, const char *extra_headers, const char *body, size_t blen)
{
	const char *reason = status == 200 ? "OK" : status == 400 ? "Bad Request" :
	status == 401 ? "Unauthorized" : status == 404 ? "Not Found" : "Error";

	c->out.len = 0;
	buf_printf(&c->out, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
			   "Content-Length: %zu\r\n%s%s\r\n", status, reason, blen,
			   extra_headers ? extra_headers : "",
			   c->close_after ? "Connection: close\r\n" : "");
	buf_add(&c->out, body, blen);
	if (c->counted)
		st_bytes += (long long) blen;
}

static void
respond_error(Conn *c, int status, const char *err, const char *desc)
{
	char		body[512];

	snprintf(body, sizeof(body), "{\"error\":\"%s\",\"errorDescription\":\"%s\",\"code\":%d}",
			 err, desc, status);
	respond(c, status, status == 401 ? "WWW-Authenticate: Bearer realm=\"bench\"\r\n" : NULL,
			body, strlen(body));
}

/* Build the answer to c->target into c->out. */
static void
answer(Conn *c, int authorized)
{
	char		path[4096];
	char	   *query;
	char	   *p;
	int			n = nrows;
	char		v[256];

	snprintf(path, sizeof(path), "%s", c->target);
	query = strchr(path, '?');
	if (query)
		*query++ = 0;
	else
		query = "";

	if (strcmp(path, "/_stats") == 0)
	{
		char		body[512];

		snprintf(body, sizeof(body),
				 "{\"requests\":%lld,\"bytes\":%lld,\"peak_in_flight\":%d,\"in_flight\":%d,"
				 "\"connections\":%d,\"peak_connections\":%d,\"connections_total\":%lld}",
				 st_requests, st_bytes, st_peak_in_flight, st_in_flight, st_conns,
				 st_peak_conns, st_conns_total);
		respond(c, 200, NULL, body, strlen(body));
		if (qparam(query, "reset", v, sizeof(v)))
		{
			st_requests = st_bytes = 0;
			st_peak_in_flight = st_in_flight;
			st_peak_conns = st_conns;
			st_conns_total = 0;
		}
		return;
	}

	/* prefixes */
	p = path;
	for (;;)
	{
		if (p[0] == '/' && p[1] == 'n' && isdigit((unsigned char) p[2]))
		{
			n = (int) strtol(p + 2, &p, 10);
			if (n > nrows)
				n = nrows;
		}
		else if (p[0] == '/' && p[1] == 'l' && isdigit((unsigned char) p[2]))
			strtol(p + 2, &p, 10);	/* latency: already applied */
		else
			break;
	}

	if (!authorized)
	{
		respond_error(c, 401, "invalid_token", "No API key was given.");
		return;
	}

	if (strcmp(p, "/endpoints") == 0 || strcmp(p, "/endpoints/") == 0)
	{
		respond(c, 200, NULL, spec, spec_len);
		return;
	}

	if (strcmp(p, "/jobs/") == 0 || strcmp(p, "/jobs") == 0)
	{
		int			limit = 50,
					page = 1,
					ord = ORD_UPDATED,
					desc = 1;
		unsigned	mask = 0;
		View	   *view;
		int			start,
					end,
					i,
					total_pages;
		char		hdr[512];
		Buf		   *o = &c->out;
		size_t		blen = 2;

		if (qparam(query, "limit", v, sizeof(v)))
			limit = atoi(v);
		if (limit < 1 || limit > 50)
		{
			respond_error(c, 400, "bad_request", "limit must be between 1 and 50");
			return;
		}
		if (qparam(query, "page_num", v, sizeof(v)))
			page = atoi(v);
		if (page < 1)
			page = 1;
		if (qparam(query, "order", v, sizeof(v)))
		{
			if (strcmp(v, "id") == 0)
				ord = ORD_ID;
			else if (strcmp(v, "updated_at") == 0)
				ord = ORD_UPDATED;
			else if (strcmp(v, "created_at") == 0)
				ord = ORD_CREATED;
			else if (strcmp(v, "name") == 0)
				ord = ORD_NAME;
			else
			{
				respond_error(c, 400, "bad_request", "unknown order");
				return;
			}
		}
		if (qparam(query, "order_dir", v, sizeof(v)))
			desc = strcasecmp(v, "asc") != 0;
		if (qparam(query, "state", v, sizeof(v)))
		{
			char	   *tok,
					   *save = NULL;

			for (tok = strtok_r(v, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
				for (i = 0; i < NSTATES; i++)
					if (strcasecmp(tok, STATES[i]) == 0)
						mask |= 1u << i;
			if (mask == 0)
				mask = 1u << NSTATES;	/* matches nothing */
		}

		view = get_view(n, ord, desc, mask);
		total_pages = (view->n + limit - 1) / limit;
		start = (int) ((long long) (page - 1) * limit > view->n ? view->n : (page - 1) * limit);
		end = start + limit > view->n ? view->n : start + limit;
		for (i = start; i < end; i++)
			blen += rows[view->idx[i]].len + (i > start);
		snprintf(hdr, sizeof(hdr),
				 "X-Pagination-Per-Page: %d\r\nX-Pagination-Current-Page: %d\r\n"
				 "X-Pagination-Total-Pages: %d\r\nX-Pagination-Total-Entries: %d\r\n"
				 "Access-Control-Expose-Headers: X-Pagination-Per-Page, X-Pagination-Current-Page, X-Pagination-Total-Pages, X-Pagination-Total-Entries\r\n",
				 limit, page, total_pages, view->n);
		o->len = 0;
		buf_printf(o, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
				   "Content-Length: %zu\r\n%s%s\r\n", blen, hdr,
				   c->close_after ? "Connection: close\r\n" : "");
		buf_need(o, blen);
		o->p[o->len++] = '[';
		for (i = start; i < end; i++)
		{
			Row		   *r = &rows[view->idx[i]];

			if (i > start)
				o->p[o->len++] = ',';
			memcpy(o->p + o->len, r->json, r->len);
			o->len += r->len;
		}
		o->p[o->len++] = ']';
		o->p[o->len] = 0;
		if (c->counted)
			st_bytes += (long long) blen;
		return;
	}

	if (strncmp(p, "/jobs/", 6) == 0 && isdigit((unsigned char) p[6]))
	{
		char	   *e;
		long		id = strtol(p + 6, &e, 10);

		if ((*e == 0 || strcmp(e, "/") == 0) && id >= 1 && id <= n)
		{
			respond(c, 200, NULL, rows[id - 1].json, rows[id - 1].len);
			return;
		}
		respond_error(c, 404, "not_found", "The requested resource could not be found.");
		return;
	}
	respond_error(c, 404, "not_found", "No such route.");
}

/* Try to write the pending answer; 1 when complete, 0 when blocked, -1 on error. */
static int
flush_out(int fd, Conn *c)
{
	while (c->outoff < c->out.len)
	{
		ssize_t		w = write(fd, c->out.p + c->outoff, c->out.len - c->outoff);

		if (w < 0)
		{
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			return -1;
		}
		c->outoff += (size_t) w;
	}
	return 1;
}

static int	parse_next(int fd, Conn *c);

/* Answer a due request; continue with pipelined input. */
static void
send_answer(int fd, Conn *c, int authorized)
{
	int			r;

	answer(c, authorized);
	c->outoff = 0;
	if (trace && c->counted)
		fprintf(trace, "%d %.3f %.3f %d %s\n", fd, c->read_at - t0, now_ms() - t0,
				st_in_flight, c->target);
	r = flush_out(fd, c);
	if (r < 0)
	{
		close_conn(fd);
		return;
	}
	if (r == 0)
	{
		struct epoll_event ev = {.events = EPOLLOUT, .data.fd = fd};

		c->state = C_WRITE;
		epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
		return;
	}
	/* done */
	if (c->counted)
		st_in_flight--;
	c->state = C_READ;
	if (c->close_after)
	{
		close_conn(fd);
		return;
	}
	memmove(c->in, c->in + c->reqlen, c->inlen - c->reqlen);
	c->inlen -= c->reqlen;
	c->reqlen = 0;
	c->state = C_READ;
	parse_next(fd, c);
}

/*
 * Parse one complete request from c->in, if there is one: schedule it.
 * Returns 1 if a request was taken.
 */
static int
parse_next(int fd, Conn *c)
{
	char	   *end,
			   *line_end,
			   *sp1,
			   *sp2,
			   *h;
	int			http10;

	if (c->state != C_READ || c->inlen == 0)
		return 0;
	c->in[c->inlen] = 0;
	end = strstr(c->in, "\r\n\r\n");
	if (!end)
	{
		if (c->inlen >= INBUF - 1)
			close_conn(fd);
		return 0;
	}
	c->reqlen = (int) (end + 4 - c->in);
	line_end = strstr(c->in, "\r\n");
	sp1 = memchr(c->in, ' ', line_end - c->in);
	sp2 = sp1 ? memchr(sp1 + 1, ' ', line_end - sp1 - 1) : NULL;
	if (!sp1 || !sp2 || (size_t) (sp2 - sp1 - 1) >= sizeof(c->target))
	{
		close_conn(fd);
		return 0;
	}
	memcpy(c->target, sp1 + 1, sp2 - sp1 - 1);
	c->target[sp2 - sp1 - 1] = 0;
	http10 = strncmp(sp2 + 1, "HTTP/1.0", 8) == 0;
	c->close_after = http10;
	c->counted = strncmp(c->target, "/_", 2) != 0;
	/* headers of interest: Connection, Authorization */
	{
		int			authorized = 0;

		for (h = line_end + 2; h < end; h = strstr(h, "\r\n") + 2)
		{
			if (strncasecmp(h, "Connection:", 11) == 0)
			{
				char	   *val = h + 11;

				while (*val == ' ')
					val++;
				if (strncasecmp(val, "close", 5) == 0)
					c->close_after = 1;
				else if (strncasecmp(val, "keep-alive", 10) == 0)
					c->close_after = 0;
			}
			else if (strncasecmp(h, "Authorization:", 14) == 0)
				authorized = 1;
		}
		c->authorized = authorized;
	}
	{
		/* latency prefix */
		const char *p = c->target;
		int			lat = 0;

		while (p[0] == '/' && (p[1] == 'n' || p[1] == 'l') && isdigit((unsigned char) p[2]))
		{
			char	   *e;
			long		x = strtol(p + 2, &e, 10);

			if (p[1] == 'l')
				lat = (int) x;
			p = e;
		}
		c->read_at = now_ms();
		c->due = c->read_at + (c->counted ? lat : 0);
	}
	if (c->counted)
	{
		st_requests++;
		st_in_flight++;
		if (st_in_flight > st_peak_in_flight)
			st_peak_in_flight = st_in_flight;
	}
	c->state = C_WAIT;
	return 1;
}

static void
on_readable(int fd, Conn *c)
{
	for (;;)
	{
		ssize_t		r;

		if (c->inlen >= INBUF - 1)
			break;
		r = read(fd, c->in + c->inlen, INBUF - 1 - c->inlen);
		if (r > 0)
		{
			c->inlen += (int) r;
			continue;
		}
		if (r == 0)
		{
			/* peer closed; an in-progress request would get no answer */
			if (c->state == C_READ)
			{
				close_conn(fd);
				return;
			}
			break;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
		{
			close_conn(fd);
			return;
		}
		break;
	}
	parse_next(fd, c);
}

static void
load_spec(const char *path)
{
	FILE	   *f = fopen(path, "rb");
	long		n;

	if (!f)
	{
		perror(path);
		exit(1);
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	spec = malloc(n + 1);
	if (fread(spec, 1, n, f) != (size_t) n)
	{
		perror("fread");
		exit(1);
	}
	spec[n] = 0;
	spec_len = (size_t) n;
	fclose(f);
}

int
main(int argc, char **argv)
{
	int			port = 0,
				want = 200000,
				i,
				lfd,
				one = 1;
	const char *port_file = NULL,
			   *spec_path = NULL;
	struct sockaddr_in addr;
	socklen_t	alen = sizeof(addr);
	struct epoll_event ev;
	struct epoll_event events[256];

	for (i = 1; i < argc; i++)
	{
		if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
			port = atoi(argv[++i]);
		else if (strcmp(argv[i], "--port-file") == 0 && i + 1 < argc)
			port_file = argv[++i];
		else if (strcmp(argv[i], "--rows") == 0 && i + 1 < argc)
			want = atoi(argv[++i]);
		else if (strcmp(argv[i], "--spec") == 0 && i + 1 < argc)
			spec_path = argv[++i];
		else if (strcmp(argv[i], "--trace") == 0 && i + 1 < argc)
		{
			trace = fopen(argv[++i], "w");
			if (trace)
				setvbuf(trace, NULL, _IOLBF, 0);
		}
		else
		{
			fprintf(stderr, "usage: %s [--port N] [--port-file F] [--rows N] --spec FILE\n", argv[0]);
			return 2;
		}
	}
	if (spec_path)
		load_spec(spec_path);
	else
	{
		spec = strdup("{}");
		spec_len = 2;
	}
	signal(SIGPIPE, SIG_IGN);
	t0 = now_ms();

	nrows = want;
	rows = calloc(nrows > 0 ? nrows : 1, sizeof(Row));
	for (i = 0; i < nrows; i++)
		gen_row(i, &rows[i]);
	for (sort_key = 0; sort_key < NORD; sort_key++)
	{
		order_all[sort_key] = malloc(sizeof(int) * (nrows > 0 ? nrows : 1));
		for (i = 0; i < nrows; i++)
			order_all[sort_key][i] = i;
		if (sort_key != ORD_ID)
			qsort(order_all[sort_key], nrows, sizeof(int), cmp_rows);
	}

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = htons(port);
	if (bind(lfd, (struct sockaddr *) &addr, sizeof(addr)) < 0 || listen(lfd, 1024) < 0)
	{
		perror("bind/listen");
		return 1;
	}
	getsockname(lfd, (struct sockaddr *) &addr, &alen);
	port = ntohs(addr.sin_port);
	fprintf(stderr, "listening on http://127.0.0.1:%d (%d rows)\n", port, nrows);
	if (port_file)
	{
		char		tmp[4096];
		FILE	   *f;

		snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
		f = fopen(tmp, "w");
		fprintf(f, "%d\n", port);
		fclose(f);
		rename(tmp, port_file);
	}

	epfd = epoll_create1(0);
	ev.events = EPOLLIN;
	ev.data.fd = lfd;
	epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev);

	for (;;)
	{
		double		now = now_ms(),
					next = -1;
		int			timeout = -1,
					nev,
					k;

		/* earliest due answer */
		for (i = 0; i <= max_fd; i++)
			if (conns[i] && conns[i]->state == C_WAIT &&
				(next < 0 || conns[i]->due < next))
				next = conns[i]->due;
		if (next >= 0)
		{
			double		d = next - now;

			timeout = d <= 0 ? 0 : (int) (d + 0.999);
		}
		nev = epoll_wait(epfd, events, 256, timeout);
		if (nev < 0 && errno != EINTR)
		{
			perror("epoll_wait");
			return 1;
		}
		/* phase 1: accept and read everything that is ready */
		for (k = 0; k < nev; k++)
		{
			int			fd = events[k].data.fd;

			if (fd == lfd)
			{
				for (;;)
				{
					int			cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
					struct epoll_event cev;

					if (cfd < 0)
						break;
					if (cfd >= MAX_CONNS)
					{
						close(cfd);
						continue;
					}
					setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
					conns[cfd] = calloc(1, sizeof(Conn));
					if (cfd > max_fd)
						max_fd = cfd;
					conns[cfd]->state = C_READ;
					cev.events = EPOLLIN | EPOLLRDHUP;
					cev.data.fd = cfd;
					epoll_ctl(epfd, EPOLL_CTL_ADD, cfd, &cev);
					st_conns++;
					st_conns_total++;
					if (st_conns > st_peak_conns)
						st_peak_conns = st_conns;
				}
				continue;
			}
			if (!conns[fd])
				continue;
			if (conns[fd]->state == C_WRITE && (events[k].events & EPOLLOUT))
			{
				Conn	   *c = conns[fd];
				int			r = flush_out(fd, c);

				if (r < 0)
					close_conn(fd);
				else if (r > 0)
				{
					struct epoll_event cev = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = fd};

					if (c->counted)
						st_in_flight--;
					c->state = C_READ;
					if (c->close_after)
					{
						close_conn(fd);
						continue;
					}
					epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &cev);
					memmove(c->in, c->in + c->reqlen, c->inlen - c->reqlen);
					c->inlen -= c->reqlen;
					c->reqlen = 0;
					c->state = C_READ;
					parse_next(fd, c);
				}
				continue;
			}
			if (events[k].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
				on_readable(fd, conns[fd]);
		}
		/* phase 2: answer what is due */
		now = now_ms();
		for (i = 0; i <= max_fd; i++)
		{
			Conn	   *c = conns[i];

			if (c && c->state == C_WAIT && c->due <= now)
				send_answer(i, c, c->authorized);
		}
	}
	return 0;
}
