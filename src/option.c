/*-------------------------------------------------------------------------
 *
 * option.c
 *		  Options of civis_fdw: the validator, the defaults, and the
 *		  resolution of server, table and column options for one table.
 *
 * Every option lives in one row of civis_options[] below: its name, the
 * catalog it may appear in, and how its value is checked.  Adding an option
 * means adding a row here and a field in CivisTableInfo.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <math.h>

#include "access/genam.h"
#include "access/reloptions.h"
#include "access/table.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_foreign_table.h"
#include "catalog/pg_user_mapping.h"
#include "commands/defrem.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "budget.h"
#include "civis_fdw.h"

PG_FUNCTION_INFO_V1(civis_fdw_validator);

typedef enum CivisOptionType
{
	OPT_STRING,
	OPT_BOOL,
	OPT_INT,					/* non-negative integer */
	OPT_POSINT,					/* positive integer */
	OPT_REAL,					/* non-negative real */
	OPT_URL,
	OPT_PATH,					/* endpoint path template */
	OPT_PAGING,
	OPT_LIST,
	OPT_RESPONSE,				/* "array" or "object" */
	OPT_SUPERUSER_STRING,		/* only superusers may set it */
	OPT_SUPERUSER_BOOL			/* only superusers may set it to true */
} CivisOptionType;

typedef struct CivisOption
{
	const char *name;
	Oid			context;		/* catalog the option belongs to */
	CivisOptionType type;
	int			maxval;			/* OPT_INT, OPT_POSINT: 0 means INT_MAX */
	const char *why;			/* superuser-only: the HINT of the refusal */
} CivisOption;

/*
 * Hard upper bounds.  Every request in flight holds a socket and a receive
 * buffer of the database server, so no option may ask for an unbounded
 * number of them; the transport also caps the connections of a whole
 * backend (CIVIS_MAX_CONNECTIONS in transport.c).
 */
#define MAX_IN_FLIGHT_LIMIT		64
#define FANOUT_LIMIT_LIMIT		1000

/*
 * The shared budget (budget.c): a key used with two windows keeps the
 * longer one for every session, so one server's rate_window must not be
 * able to stall a key for long; a reserve of more than 90% would leave
 * bulk work nothing.
 */
#define RATE_WINDOW_LIMIT		3600
#define RATE_RESERVE_LIMIT		90

/* the GUC civis_fdw.allowed_hosts (civis_fdw.c defines it) */
char	   *civis_allowed_hosts = NULL;

/*
 * Table options that also exist on the server override it for that table.
 * api_key is deliberately only a user mapping option: server and table
 * options are readable by every role (pg_foreign_server, pg_foreign_table).
 */
static const CivisOption civis_options[] = {
	/* server */
	{"api_url", ForeignServerRelationId, OPT_URL},
	{"allow_insecure_http", ForeignServerRelationId, OPT_SUPERUSER_BOOL, 0,
	"It lets the server send API keys over the network in clear text."},
	{"allow_private_addresses", ForeignServerRelationId, OPT_SUPERUSER_BOOL, 0,
	"It lets the server connect to loopback, private and link-local addresses: the database server's own machine and networks."},
	{"proxy", ForeignServerRelationId, OPT_SUPERUSER_STRING, 0,
	"It routes every request, API keys included, through another host."},
	{"ca_file", ForeignServerRelationId, OPT_SUPERUSER_STRING, 0,
	"It names a file on the database server."},
	{"connect_timeout", ForeignServerRelationId, OPT_POSINT},
	{"request_timeout", ForeignServerRelationId, OPT_POSINT},
	{"max_retries", ForeignServerRelationId, OPT_INT},
	{"retry_max_time", ForeignServerRelationId, OPT_POSINT},
	{"max_response_bytes", ForeignServerRelationId, OPT_POSINT},
	{"max_pages", ForeignServerRelationId, OPT_POSINT},
	{"max_in_flight", ForeignServerRelationId, OPT_POSINT, MAX_IN_FLIGHT_LIMIT},
	{"page_size_cap", ForeignServerRelationId, OPT_POSINT},
	{"pushdown", ForeignServerRelationId, OPT_BOOL},
	{"jsonb_snake_case", ForeignServerRelationId, OPT_BOOL},
	{"fanout_limit", ForeignServerRelationId, OPT_POSINT, FANOUT_LIMIT_LIMIT},
	{"use_remote_estimate", ForeignServerRelationId, OPT_BOOL},
	{"request_cost", ForeignServerRelationId, OPT_REAL},
	{"row_cost", ForeignServerRelationId, OPT_REAL},
	{"default_rows", ForeignServerRelationId, OPT_POSINT},
	{"analyze_max_pages", ForeignServerRelationId, OPT_POSINT},
	{"rate_window", ForeignServerRelationId, OPT_POSINT, RATE_WINDOW_LIMIT},
	{"rate_reserve", ForeignServerRelationId, OPT_INT, RATE_RESERVE_LIMIT},

	/* table */
	{"endpoint", ForeignTableRelationId, OPT_PATH},
	{"paging", ForeignTableRelationId, OPT_PAGING},
	{"page_size", ForeignTableRelationId, OPT_POSINT},
	{"detail_endpoint", ForeignTableRelationId, OPT_PATH},
	{"order_default", ForeignTableRelationId, OPT_STRING},
	{"response", ForeignTableRelationId, OPT_RESPONSE},
	{"pushdown", ForeignTableRelationId, OPT_BOOL},
	{"jsonb_snake_case", ForeignTableRelationId, OPT_BOOL},
	{"max_in_flight", ForeignTableRelationId, OPT_POSINT, MAX_IN_FLIGHT_LIMIT},
	{"fanout_limit", ForeignTableRelationId, OPT_POSINT, FANOUT_LIMIT_LIMIT},
	{"use_remote_estimate", ForeignTableRelationId, OPT_BOOL},
	{"request_cost", ForeignTableRelationId, OPT_REAL},
	{"row_cost", ForeignTableRelationId, OPT_REAL},
	{"default_rows", ForeignTableRelationId, OPT_POSINT},
	{"analyze_max_pages", ForeignTableRelationId, OPT_POSINT},
	/* the import record (import.c), read by civis_fdw_schema_diff only */
	{"import", ForeignTableRelationId, OPT_STRING},

	/* column */
	{"key", AttributeRelationId, OPT_STRING},
	{"param", AttributeRelationId, OPT_STRING},
	{"param_only", AttributeRelationId, OPT_BOOL},
	{"exact", AttributeRelationId, OPT_BOOL},
	{"evidence", AttributeRelationId, OPT_STRING},
	{"values", AttributeRelationId, OPT_STRING},
	{"list", AttributeRelationId, OPT_LIST},
	{"after", AttributeRelationId, OPT_STRING},
	{"before", AttributeRelationId, OPT_STRING},
	{"scope_default", AttributeRelationId, OPT_STRING},
	{"order_by", AttributeRelationId, OPT_STRING},
	{"secret", AttributeRelationId, OPT_BOOL},

	/* user mapping */
	{"api_key", UserMappingRelationId, OPT_STRING},
	{"api_key_file", UserMappingRelationId, OPT_SUPERUSER_STRING, 0,
	"It names a file on the database server, read by the server's operating system user."},

	{NULL, InvalidOid, OPT_STRING}
};

/* Defaults, in one place (the README's options table copies them). */
#define DEFAULT_CONNECT_TIMEOUT_S	10
#define DEFAULT_REQUEST_TIMEOUT_S	60
#define DEFAULT_MAX_RETRIES			10	/* as civis-python */
#define DEFAULT_RETRY_MAX_TIME_S	120
#define DEFAULT_MAX_RESPONSE_BYTES	(16 * 1024 * 1024)
#define DEFAULT_MAX_PAGES			100000
#define DEFAULT_MAX_IN_FLIGHT		16
#define DEFAULT_FANOUT_LIMIT		50
#define DEFAULT_REQUEST_COST		100.0
#define DEFAULT_ROW_COST			0.01
#define DEFAULT_ROWS				1000
#define DEFAULT_ANALYZE_MAX_PAGES	100

/*
 * The ceilings of what a non-superuser may set (issue 19).  Each size and
 * time option of a server decides how much memory a backend may take for a
 * response, or how long a backend may be held; a non-superuser may lower
 * it freely and raise it up to civis_fdw.<option>_limit, a PGC_SUSET GUC
 * (so a superuser may set it per role or database with ALTER ROLE/DATABASE
 * ... SET).  The ceilings default to the options' defaults.  Superusers
 * are bound only by the options' own ranges.  A new such option is a row
 * here; civis_fdw.c defines the GUCs from this table.
 */
static int	limit_connect_timeout = DEFAULT_CONNECT_TIMEOUT_S;
static int	limit_request_timeout = DEFAULT_REQUEST_TIMEOUT_S;
static int	limit_max_retries = DEFAULT_MAX_RETRIES;
static int	limit_retry_max_time = DEFAULT_RETRY_MAX_TIME_S;
static int	limit_max_response_bytes = DEFAULT_MAX_RESPONSE_BYTES;
static int	limit_max_pages = DEFAULT_MAX_PAGES;
static int	limit_rate_window = CIVIS_DEFAULT_RATE_WINDOW_S;

CivisOptionCeiling civis_option_ceilings[] = {
	{"connect_timeout", "civis_fdw.connect_timeout_limit",
		"The most a server not owned by a superuser may set connect_timeout to.",
	&limit_connect_timeout, DEFAULT_CONNECT_TIMEOUT_S, 1, GUC_UNIT_S},
	{"request_timeout", "civis_fdw.request_timeout_limit",
		"The most a server not owned by a superuser may set request_timeout to.",
	&limit_request_timeout, DEFAULT_REQUEST_TIMEOUT_S, 1, GUC_UNIT_S},
	{"max_retries", "civis_fdw.max_retries_limit",
		"The most a server not owned by a superuser may set max_retries to.",
	&limit_max_retries, DEFAULT_MAX_RETRIES, 0, 0},
	{"retry_max_time", "civis_fdw.retry_max_time_limit",
		"The most a server not owned by a superuser may set retry_max_time to.",
	&limit_retry_max_time, DEFAULT_RETRY_MAX_TIME_S, 1, GUC_UNIT_S},
	{"max_response_bytes", "civis_fdw.max_response_bytes_limit",
		"The most a server not owned by a superuser may set max_response_bytes to.",
	&limit_max_response_bytes, DEFAULT_MAX_RESPONSE_BYTES, 1, GUC_UNIT_BYTE},
	{"max_pages", "civis_fdw.max_pages_limit",
		"The most a server not owned by a superuser may set max_pages to.",
	&limit_max_pages, DEFAULT_MAX_PAGES, 1, 0},

	/*
	 * The shared budget (budget.c): a key used with two windows keeps the
	 * longer one for every session using it, so a longer rate_window slows
	 * other people's queries on that key.  (rate_reserve only holds back the
	 * bulk work of its own server's scans: no ceiling.)
	 */
	{"rate_window", "civis_fdw.rate_window_limit",
		"The most a server not owned by a superuser may set rate_window to.",
	&limit_rate_window, CIVIS_DEFAULT_RATE_WINDOW_S, 1, GUC_UNIT_S},
	{NULL}
};

static const CivisOptionCeiling *
ceiling_lookup(const char *option)
{
	for (const CivisOptionCeiling *c = civis_option_ceilings; c->option; c++)
		if (strcmp(c->option, option) == 0)
			return c;
	return NULL;
}

/*
 * The check of one server option against its ceiling, when the server's
 * owner is not a superuser: for_ddl in the validator (the current user is
 * the one setting it), else when the server is used (a value set under
 * 1.1.0, or before ALTER SERVER ... OWNER TO a non-superuser).
 */
static void
check_ceiling(const char *name, const char *value, const char *servername,
			  bool for_ddl)
{
	const CivisOptionCeiling *c = ceiling_lookup(name);
	char	   *end;
	long long	v;

	if (c == NULL)
		return;
	errno = 0;
	v = strtoll(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0' || v <= *c->limit)
		return;					/* the syntax is checked elsewhere */
	if (for_ddl)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("only superusers may set option \"%s\" above %d",
						name, *c->limit),
				 errdetail("The ceiling for other roles is %s = %d.",
						   c->guc, *c->limit),
				 errhint("Give a value of at most %d, or ask a superuser to raise %s for your role (ALTER ROLE ... SET %s = ...).",
						 *c->limit, c->guc, c->guc)));
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("option \"%s\" of server \"%s\" is %lld, above the ceiling %d of servers not owned by a superuser",
					name, servername, v, *c->limit),
			 errdetail("The server's owner is not a superuser, and %s is %d.",
					   c->guc, *c->limit),
			 errhint("Lower it with ALTER SERVER %s OPTIONS (SET %s '%d'), or ask a superuser to raise %s.",
					 quote_identifier(servername), name, *c->limit, c->guc)));
}

static const char *
context_name(Oid context)
{
	switch (context)
	{
		case ForeignServerRelationId:
			return "a foreign server";
		case ForeignTableRelationId:
			return "a foreign table";
		case AttributeRelationId:
			return "a foreign table column";
		case UserMappingRelationId:
			return "a user mapping";
		default:
			return "this object";
	}
}

static const CivisOption *
option_lookup(const char *name, Oid context)
{
	const CivisOption *opt;

	for (opt = civis_options; opt->name; opt++)
		if (opt->context == context && strcmp(opt->name, name) == 0)
			return opt;
	return NULL;
}

static char *
valid_option_list(Oid context)
{
	StringInfoData buf;
	const CivisOption *opt;

	initStringInfo(&buf);
	for (opt = civis_options; opt->name; opt++)
	{
		if (opt->context != context)
			continue;
		if (buf.len > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, opt->name);
	}
	return buf.data;
}

/* Parse an integer option between minval and maxval; ERROR on anything else. */
static int64
parse_int_range(const char *name, const char *value, int minval, int maxval)
{
	char	   *end;
	long long	v;

	errno = 0;
	v = strtoll(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0' || v < minval || v > maxval)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("invalid value for option \"%s\": \"%s\"", name, value),
				 maxval < INT_MAX ?
				 errhint("The value must be an integer between %d and %d (a hard upper bound that protects the database server).",
						 minval, maxval) :
				 errhint("The value must be an integer between %d and %d.",
						 minval, maxval)));
	return v;
}

/* Parse a non-negative (or positive) integer option; ERROR on anything else. */
static int64
parse_int_option(const char *name, const char *value, bool positive)
{
	return parse_int_range(name, value, positive ? 1 : 0, INT_MAX);
}

static double
parse_real_option(const char *name, const char *value)
{
	char	   *end;
	double		v;

	errno = 0;
	v = strtod(value, &end);
	if (errno != 0 || end == value || *end != '\0' || v < 0 || isnan(v) || isinf(v))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("invalid value for option \"%s\": \"%s\"", name, value),
				 errhint("The value must be a non-negative number.")));
	return v;
}

static bool
parse_bool_option(const char *name, const char *value)
{
	bool		result;

	if (!parse_bool(value, &result))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("invalid value for option \"%s\": \"%s\"", name, value),
				 errhint("The value must be a boolean: true or false.")));
	return result;
}

/*
 * The paging kinds, in the order of CivisPagingKind: the word of the table
 * option "paging", and the query parameters whose presence next to "limit"
 * identifies the kind in the spec (civis_paging_detect; the first kind
 * that matches wins, in this order).  A new paging kind is a row here and
 * its behaviour in paging.c.
 */
static const char *const paging_names[] = {
	"auto", "pages", "cursor", "window", "offset", "none"
};
static const char *const paging_markers[][2] = {
	{NULL, NULL},				/* auto: never detected, only written */
	{"page_num", NULL},			/* pages */
	{"last_id", NULL},			/* cursor (logs) */
	{"start_at", "end_at"},		/* window (deployment logs) */
	{"offset", NULL},			/* offset (/search/) */
	{NULL, NULL}				/* none */
};

StaticAssertDecl(lengthof(paging_names) == CIVIS_PAGING_NONE + 1,
				 "paging_names must match CivisPagingKind");
StaticAssertDecl(lengthof(paging_markers) == CIVIS_PAGING_NONE + 1,
				 "paging_markers must match CivisPagingKind");

static const char *const list_style_names[] = {"none", "csv", "array"};

StaticAssertDecl(lengthof(list_style_names) == CIVIS_LIST_ARRAY + 1,
				 "list_style_names must match CivisListStyle");

/*
 * The position of value among the n words a keyword option takes; an
 * ERROR that lists them when it is none of them.
 */
static int
parse_keyword(const char *name, const char *value, const char *const *words,
			  int n)
{
	StringInfoData valid;
	int			i;

	for (i = 0; i < n; i++)
		if (strcmp(value, words[i]) == 0)
			return i;
	initStringInfo(&valid);
	for (i = 0; i < n; i++)
		appendStringInfo(&valid, "%s%s", i > 0 ? ", " : "", words[i]);
	ereport(ERROR,
			(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
			 errmsg("invalid value for option \"%s\": \"%s\"", name, value),
			 errhint("Valid values are: %s.", valid.data)));
	return -1;					/* keep compiler quiet */
}

CivisPagingKind
civis_parse_paging(const char *value)
{
	return (CivisPagingKind) parse_keyword("paging", value, paging_names,
										   lengthof(paging_names));
}

/*
 * The table option "response": "array" (a listing, the default) or
 * "object" (the endpoint answers one object, the one row: quirks.c's
 * object_response_paths, written by IMPORT).
 */
static const char *const response_names[] = {"array", "object"};

static bool
parse_response_object(const char *value)
{
	return parse_keyword("response", value, response_names,
						 lengthof(response_names)) == 1;
}

/*
 * The paging kind of an endpoint from its query parameters: none without
 * "limit", else the first kind whose marker parameter it has.  has_param
 * answers for one parameter name.
 */
CivisPagingKind
civis_paging_detect(bool (*has_param) (const void *arg, const char *name),
					const void *arg)
{
	if (!has_param(arg, "limit"))
		return CIVIS_PAGING_NONE;
	for (int k = 0; k < (int) lengthof(paging_markers); k++)
		for (int m = 0; m < 2; m++)
			if (paging_markers[k][m] && has_param(arg, paging_markers[k][m]))
				return (CivisPagingKind) k;
	return CIVIS_PAGING_NONE;
}

/* Is this query parameter part of some paging kind's machinery? */
bool
civis_is_paging_param(const char *name)
{
	if (strcmp(name, "limit") == 0)
		return true;
	for (int k = 0; k < (int) lengthof(paging_markers); k++)
		for (int m = 0; m < 2; m++)
			if (paging_markers[k][m] && strcmp(paging_markers[k][m], name) == 0)
				return true;
	return false;
}

const char *
civis_paging_name(CivisPagingKind kind)
{
	if ((int) kind < 0 || (int) kind >= (int) lengthof(paging_names))
		return "auto";
	return paging_names[kind];
}

static CivisListStyle
parse_list_style(const char *value)
{
	return (CivisListStyle) parse_keyword("list", value, list_style_names,
										  lengthof(list_style_names));
}

/* ------------------------------------------------------------------
 * Where a server may point: api_url and civis_fdw.allowed_hosts
 *
 * Hosts are compared as text, exactly (case-insensitively), never
 * interpreted: "127.1" or "2130706433" are not "127.0.0.1".  That is
 * enough because the text only decides who may configure what; what is
 * actually connected to is checked by the transport on the address
 * (transport.c: opensocket_cb and prereq_cb, by ipv4_refusal and
 * ipv6_refusal).
 * ------------------------------------------------------------------ */

typedef struct HostPort
{
	bool		http;			/* plain http (URL), or http:// prefix (entry) */
	char		host[256];		/* lower case; IPv6 literals keep brackets */
	int			port;			/* -1 when not given */
} HostPort;

/*
 * Parse "[scheme://]host[:port]" at *p, leaving *p after it.  A scheme is
 * required when need_scheme, optional otherwise.  Returns an error text
 * (static) or NULL.  Plain C: used by the GUC check hook too.
 */
static const char *
parse_host_port(const char **p, bool need_scheme, HostPort *out)
{
	const char *s = *p;
	size_t		n = 0;

	memset(out, 0, sizeof(*out));
	out->port = -1;
	if (pg_strncasecmp(s, "https://", 8) == 0)
		s += 8;
	else if (pg_strncasecmp(s, "http://", 7) == 0)
	{
		out->http = true;
		s += 7;
	}
	else if (need_scheme)
		return "scheme";

	if (*s == '[')
	{
		/* IPv6 literal, no zone id */
		out->host[n++] = *s++;
		while (*s && (isxdigit((unsigned char) *s) || *s == ':' || *s == '.'))
		{
			if (n >= sizeof(out->host) - 2)
				return "host";
			out->host[n++] = tolower((unsigned char) *s++);
		}
		if (*s != ']' || n < 3)
			return "host";
		out->host[n++] = *s++;
	}
	else
	{
		while (*s && (isalnum((unsigned char) *s) || *s == '-' || *s == '.' ||
					  *s == '_'))
		{
			if (n >= sizeof(out->host) - 1)
				return "host";
			out->host[n++] = tolower((unsigned char) *s++);
		}
		if (n == 0)
			return "host";
		/* "example.com." and "example.com" are the same host */
		if (n > 1 && out->host[n - 1] == '.')
			n--;
	}
	out->host[n] = '\0';

	if (*s == ':')
	{
		long		port = 0;

		s++;
		if (!isdigit((unsigned char) *s))
			return "port";
		while (isdigit((unsigned char) *s))
		{
			port = port * 10 + (*s++ - '0');
			if (port > 65535)
				return "port";
		}
		if (port == 0)
			return "port";
		out->port = (int) port;
	}
	*p = s;
	return NULL;
}

/*
 * Check one civis_fdw.allowed_hosts entry of len bytes; fill *out.
 * Returns an error text or NULL.
 */
static const char *
parse_allowed_entry(const char *entry, size_t len, HostPort *out)
{
	char		buf[300];
	const char *p = buf;
	const char *err;

	if (len == 0)
		return "an empty entry";
	if (len >= sizeof(buf))
		return "an entry that is too long";
	memcpy(buf, entry, len);
	buf[len] = '\0';
	err = parse_host_port(&p, false, out);
	if (err == NULL && *p != '\0')
		err = "host";
	if (err != NULL)
		return "an entry that is not [http://]host[:port]";
	return NULL;
}

/* Walk the comma-separated entries of a list; false when one is invalid. */
typedef bool (*HostEntryFn) (const HostPort *entry, void *arg);

static bool
walk_allowed_hosts(const char *list, HostEntryFn fn, void *arg,
				   const char **bad, size_t *badlen, const char **why)
{
	const char *p = list ? list : "";

	for (;;)
	{
		const char *start;
		const char *end;
		HostPort	hp;
		const char *err;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			return true;
		start = p;
		while (*p && *p != ',')
			p++;
		end = p;
		while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		err = parse_allowed_entry(start, end - start, &hp);
		if (err != NULL)
		{
			if (bad)
			{
				*bad = start;
				*badlen = end - start;
				*why = err;
			}
			return false;
		}
		if (fn && fn(&hp, arg))
			return true;
		if (*p == ',')
			p++;
	}
}

/* check hook of civis_fdw.allowed_hosts */
bool
civis_check_allowed_hosts(char **newval, void **extra, GucSource source)
{
	const char *bad = NULL;
	size_t		badlen = 0;
	const char *why = NULL;

	if (walk_allowed_hosts(*newval, NULL, NULL, &bad, &badlen, &why))
		return true;
	if (badlen == 0)
		GUC_check_errdetail("The list has %s.", why);
	else
		GUC_check_errdetail("The list has %s: \"%.*s\".", why, (int) badlen, bad);
	GUC_check_errhint("Give a comma-separated list of host names or addresses, each optionally with a port, and prefixed with http:// when plain http may be used to it.");
	return false;
}

typedef struct HostMatch
{
	const HostPort *url;
	bool		found;
	bool		http_ok;
} HostMatch;

static bool
match_entry(const HostPort *entry, void *arg)
{
	HostMatch  *m = (HostMatch *) arg;
	int			port = m->url->port > 0 ? m->url->port : (m->url->http ? 80 : 443);

	if (strcmp(entry->host, m->url->host) != 0)
		return false;
	if (entry->port > 0 && entry->port != port)
		return false;
	m->found = true;
	if (entry->http)
		m->http_ok = true;
	return m->http_ok;			/* stop once nothing more can be learnt */
}

/*
 * Is the host (and port) of a parsed api_url in civis_fdw.allowed_hosts?
 * *http_ok says whether an entry also allows plain http to it.
 */
static bool
host_is_allowed(const HostPort *url, bool *http_ok)
{
	HostMatch	m = {url, false, false};

	(void) walk_allowed_hosts(civis_allowed_hosts, match_entry, &m,
							  NULL, NULL, NULL);
	*http_ok = m.http_ok;
	return m.found;
}

/*
 * Check an api_url's syntax: http(s) scheme, a host, an optional port and
 * path prefix; no credentials, query, fragment, white space or control
 * characters.  Fills *out.
 */
static void
parse_api_url(const char *url, HostPort *out)
{
	const char *p = url;
	const char *err = parse_host_port(&p, true, out);
	const char *c;

	if (err != NULL && strcmp(err, "scheme") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("invalid value for option \"api_url\": \"%s\"",
						civis_message_text(url, strlen(url), 200)),
				 errhint("The URL must start with https://.")));
	for (c = url; err == NULL && *c; c++)
		if ((unsigned char) *c <= ' ' || *c == 0x7f || *c == '\\')
			err = "character";
	if (err != NULL || (*p != '\0' && *p != '/') || strpbrk(url, "?#@") != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("invalid value for option \"api_url\": \"%s\"",
						civis_message_text(url, strlen(url), 200)),
				 errhint("Give a scheme, a host and optionally a port and a path prefix; no credentials, query or fragment.")));

	/* the path prefix, without its final slashes, follows the path rule */
	if (*p == '/')
	{
		size_t		len = strlen(p);
		char	   *prefix;
		const char *why;

		while (len > 0 && p[len - 1] == '/')
			len--;
		prefix = pnstrdup(p, len);
		if (len > 0 && (why = civis_path_problem(prefix, CIVIS_PATH_PREFIX)) != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
					 errmsg("invalid value for option \"api_url\": \"%s\"",
							civis_message_text(url, strlen(url), 200)),
					 errdetail("Its path %s.", why),
					 errhint("Give a path prefix such as /api, or none.")));
	}
}

/*
 * The origin of an api_url, normalized: scheme, host in lower case and the
 * port, given or implied ("https://api.civisanalytics.com:443").  With the
 * key it identifies a request budget (budget.c), so two spellings of one
 * origin share one.
 */
static char *
api_origin(const char *url)
{
	HostPort	hp;

	parse_api_url(url, &hp);
	return psprintf("%s://%s:%d", hp.http ? "http" : "https", hp.host,
					hp.port > 0 ? hp.port : (hp.http ? 80 : 443));
}

/*
 * Is the host, as written, a loopback, private or link-local address (or
 * "localhost")?  Only the text: a name is not resolved here (the transport
 * checks every address it connects to).  Used to name, in one HINT,
 * everything a plain http URL to such a host needs.
 */
static bool
host_is_private_literal(const char *host)
{
	char		buf[256];
	size_t		len = strlen(host);
	unsigned char a[16];

	if (pg_strcasecmp(host, "localhost") == 0 ||
		(len > 10 && pg_strcasecmp(host + len - 10, ".localhost") == 0))
		return true;
	if (host[0] == '[' && len >= 2 && len - 2 < sizeof(buf))
	{
		memcpy(buf, host + 1, len - 2);
		buf[len - 2] = '\0';
		if (inet_pton(AF_INET6, buf, a) != 1)
			return false;
		if (memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0)
			memmove(a, a + 12, 4);	/* IPv4-mapped: as IPv4 below */
		else
		{
			static const unsigned char loop[16] = {[15] = 1};

			return memcmp(a, loop, 16) == 0 || (a[0] & 0xfe) == 0xfc ||
				(a[0] == 0xfe && (a[1] & 0xc0) == 0x80);
		}
	}
	else if (inet_pton(AF_INET, host, a) != 1)
		return false;
	return a[0] == 127 || a[0] == 10 || a[0] == 0 ||
		(a[0] == 172 && (a[1] & 0xf0) == 16) ||
		(a[0] == 192 && a[1] == 168) || (a[0] == 169 && a[1] == 254) ||
		(a[0] == 100 && (a[1] & 0xc0) == 64);
}

/*
 * The policy on an api_url, for the validator (for_ddl) and again for every
 * scan with the current civis_fdw.allowed_hosts:
 *  - a host not in civis_fdw.allowed_hosts: only a superuser may set it
 *    (for_ddl);
 *  - plain http: only to a host listed as http://host, or when a superuser
 *    set allow_insecure_http.
 * Returns whether the host is allowed.
 */
static bool
check_api_url_policy(const char *url, bool allow_insecure_http,
					 bool allow_private, bool for_ddl)
{
	HostPort	hp;
	bool		http_ok;
	bool		allowed;

	parse_api_url(url, &hp);
	allowed = host_is_allowed(&hp, &http_ok);

	if (for_ddl && !allowed && !superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("only superusers may point a server at host \"%s\"", hp.host),
				 errdetail("The host is not in civis_fdw.allowed_hosts (\"%s\").",
						   civis_allowed_hosts ? civis_allowed_hosts : ""),
				 errhint("Ask a superuser to add it to civis_fdw.allowed_hosts, or to create the server.")));

	/* one HINT names everything the URL needs: a loopback URL needs two */
	if (hp.http && !allow_insecure_http && !(allowed && http_ok) &&
		!allow_private && host_is_private_literal(hp.host))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("plain http is not allowed to host \"%s\": \"%s\"", hp.host, url),
				 errdetail("The host is a loopback or private address, which needs its own permission too."),
				 errhint("Use https://.  A superuser may list the host as http://%s in civis_fdw.allowed_hosts (which allows both), or set the server options allow_insecure_http 'true' and allow_private_addresses 'true'.",
						 hp.host)));
	if (hp.http && !allow_insecure_http && !(allowed && http_ok))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("plain http is not allowed to host \"%s\": \"%s\"", hp.host, url),
				 errhint("Use https://.  A superuser may list the host as http://%s in civis_fdw.allowed_hosts, or set the server option allow_insecure_http 'true'.",
						 hp.host)));
	return allowed;
}

/* ------------------------------------------------------------------
 * Paths stay under the server's URL (issue 19)
 *
 * Requests go out with CURLOPT_PATH_AS_IS: the URL is sent byte for byte
 * as EXPLAIN shows it, and libcurl's own dot-segment removal would not
 * confine a path to the api_url's prefix anyway (it resolves /prefix/../x
 * to /x).  So a path is confined by refusing whatever a web server could
 * resolve outside the prefix: ".", ".." (also percent-encoded), an encoded
 * "/" or "\", a backslash, an empty segment.  Checked for the endpoint
 * options (validator), for spec paths at IMPORT (spec.c), for the path of
 * api_url, when a table is used, and when a request's URL is built
 * (request.c).
 * ------------------------------------------------------------------ */

/* Is s[0..len) a dot segment, "." or "..", spelled plainly or as %2e? */
static bool
is_dot_segment(const char *s, size_t len)
{
	int			dots = 0;
	size_t		i = 0;

	while (i < len)
	{
		if (s[i] == '.')
			i++;
		else if (len - i >= 3 && s[i] == '%' &&
				 s[i + 1] == '2' && (s[i + 2] == 'e' || s[i + 2] == 'E'))
			i += 3;
		else
			return false;
		dots++;
	}
	return dots == 1 || dots == 2;
}

/*
 * Why a path is not one that stays under the server's URL, or NULL.  The
 * path must start with "/", and have no "." or ".." segment (%2e and %2E
 * included), no %2f, %5c or backslash, no empty segment (a final "/" is
 * allowed), no control character, no "?" or "#".  With is_template, path
 * parameters may appear, only as {name} (letters, digits, "_", "-") and
 * as a whole segment or part of one; in the path of api_url, no brace at
 * all.  A request's path (CIVIS_PATH_SENT: the values in place, each
 * percent-encoded by civis_url_escape) may hold %2f or %5c, a value's own
 * "/" or "\" that stays in its segment, and braces are not looked at.
 * The texts are constant (used by spec.c's WARNING and by request.c).
 */
const char *
civis_path_problem(const char *path, int kind)
{
	const char *seg;
	const char *p;

	if (path == NULL || path[0] != '/')
		return "does not start with \"/\"";
	for (p = path; *p; p++)
	{
		unsigned char c = (unsigned char) *p;

		if (c < 0x20 || c == 0x7f)
			return "contains a control character";
		if (c == '?' || c == '#')
			return "contains \"?\" or \"#\"";
		if (c == '\\')
			return "contains a backslash";
		if (c == '%' && kind != CIVIS_PATH_SENT && p[1] != '\0' &&
			((p[1] == '2' && (p[2] == 'f' || p[2] == 'F')) ||
			 (p[1] == '5' && (p[2] == 'c' || p[2] == 'C'))))
			return "contains an encoded \"/\" or \"\\\" (%2f, %5c)";
		if (kind == CIVIS_PATH_SENT)
			continue;
		if (c == '{')
		{
			const char *q = p + 1;

			if (kind != CIVIS_PATH_TEMPLATE)
				return "contains a brace";
			while (isalnum((unsigned char) *q) || *q == '_' || *q == '-')
				q++;
			if (q == p + 1 || *q != '}')
				return "has a path parameter that is not {name}";
			p = q;
		}
		else if (c == '}')
			return kind == CIVIS_PATH_TEMPLATE ? "has a path parameter that is not {name}"
				: "contains a brace";
	}
	/* the segments between slashes; the one after a final "/" may be empty */
	seg = path + 1;
	for (;;)
	{
		const char *end = strchr(seg, '/');
		size_t		len = end ? (size_t) (end - seg) : strlen(seg);

		if (len == 0 && end != NULL)
			return "has an empty segment (\"//\")";
		if (is_dot_segment(seg, len))
			return "has a \".\" or \"..\" segment";
		if (end == NULL)
			break;
		seg = end + 1;
	}
	return NULL;
}

static void
check_path_template(const char *name, const char *value)
{
	const char *why = civis_path_problem(value, CIVIS_PATH_TEMPLATE);

	if (why != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("invalid value for option \"%s\": \"%s\"", name,
						civis_message_text(value, strlen(value), 200)),
				 errdetail("The path %s; a path must stay under the server's api_url.", why),
				 errhint("Give a path template such as /jobs/ or /jobs/{id}/runs.")));
}

static void
check_option_value(const CivisOption *opt, DefElem *def)
{
	const char *value = defGetString(def);
	HostPort	hp;

	switch (opt->type)
	{
		case OPT_STRING:
			break;
		case OPT_BOOL:
			(void) parse_bool_option(opt->name, value);
			break;
		case OPT_INT:
		case OPT_POSINT:
			(void) parse_int_range(opt->name, value,
								   opt->type == OPT_POSINT ? 1 : 0,
								   opt->maxval > 0 ? opt->maxval : INT_MAX);
			break;
		case OPT_REAL:
			(void) parse_real_option(opt->name, value);
			break;
		case OPT_URL:
			parse_api_url(value, &hp);	/* the policy: in the validator */
			break;
		case OPT_PATH:
			check_path_template(opt->name, value);
			break;
		case OPT_PAGING:
			(void) civis_parse_paging(value);
			break;
		case OPT_LIST:
			(void) parse_list_style(value);
			break;
		case OPT_RESPONSE:
			(void) parse_response_object(value);
			break;
		case OPT_SUPERUSER_BOOL:
			if (!parse_bool_option(opt->name, value))
				break;			/* false widens nothing */
			/* FALLTHROUGH */
		case OPT_SUPERUSER_STRING:
			if (!superuser())
				ereport(ERROR,
						(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						 errmsg("only superusers may set option \"%s\"", opt->name),
						 errhint("%s", opt->why)));
			break;
	}
}

/*
 * The validator: every option must be known in its catalog, appear once,
 * and have a valid value.
 *
 * PostgreSQL passes the whole resulting option list, for ALTER as for
 * CREATE: a server that holds a superuser-only option (or an api_url whose
 * host is not in civis_fdw.allowed_hosts) can then only be changed by a
 * superuser, whichever option the ALTER touches.  This is what keeps a
 * non-superuser owner from redirecting such a server (as with
 * postgres_fdw's password_required).
 *
 * Long because it is one pass over the option list that every rule reads
 * in order (names, values, ceilings, paths, then the rules that combine
 * options), as reloptions' validators are written.
 */
Datum
civis_fdw_validator(PG_FUNCTION_ARGS)
{
	List	   *options = untransformRelOptions(PG_GETARG_DATUM(0));
	Oid			catalog = PG_GETARG_OID(1);
	ListCell   *lc;
	bool		allow_http = false;
	bool		allow_private = false;
	const char *api_url = CIVIS_DEFAULT_API_URL;

	foreach(lc, options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);
		const CivisOption *opt = option_lookup(def->defname, catalog);
		ListCell   *lc2;

		if (opt == NULL)
		{
			if (strcmp(def->defname, "api_key") == 0)
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
						 errmsg("option \"api_key\" is only allowed on a user mapping"),
						 errhint("Options of %s are readable by every role; use CREATE USER MAPPING ... OPTIONS (api_key '...').",
								 context_name(catalog))));
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
					 errmsg("invalid option \"%s\" for %s", def->defname,
							context_name(catalog)),
					 errhint("Valid options in this context are: %s",
							 valid_option_list(catalog))));
		}

		foreach(lc2, options)
		{
			DefElem    *other = (DefElem *) lfirst(lc2);

			if (other == def)
				break;
			if (strcmp(other->defname, def->defname) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_SYNTAX_ERROR),
						 errmsg("option \"%s\" is given more than once", def->defname)));
		}

		check_option_value(opt, def);
		if (catalog == ForeignServerRelationId && !superuser())
			check_ceiling(def->defname, defGetString(def), NULL, true);
		if (catalog == ForeignServerRelationId &&
			strcmp(def->defname, "allow_insecure_http") == 0)
			allow_http = parse_bool_option(def->defname, defGetString(def));
		if (catalog == ForeignServerRelationId &&
			strcmp(def->defname, "allow_private_addresses") == 0)
			allow_private = parse_bool_option(def->defname, defGetString(def));
		if (catalog == ForeignServerRelationId &&
			strcmp(def->defname, "api_url") == 0)
			api_url = defGetString(def);
	}

	/* where the server points, the default included */
	if (catalog == ForeignServerRelationId)
		(void) check_api_url_policy(api_url, allow_http, allow_private, true);

	/* one source of the key */
	if (catalog == UserMappingRelationId)
	{
		bool		key = false;
		bool		key_file = false;

		foreach(lc, options)
		{
			DefElem    *def = (DefElem *) lfirst(lc);

			key |= strcmp(def->defname, "api_key") == 0;
			key_file |= strcmp(def->defname, "api_key_file") == 0;
		}
		if (key && key_file)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
					 errmsg("options \"api_key\" and \"api_key_file\" cannot both be set"),
					 errhint("Give the key itself, or the file that holds it.")));
	}

	PG_RETURN_VOID();
}

/* ------------------------------------------------------------------
 * Resolution for the planner and executor
 * ------------------------------------------------------------------ */

static void
apply_shared_option(CivisTableInfo *info, DefElem *def)
{
	const char *name = def->defname;
	const char *value = defGetString(def);

	if (strcmp(name, "pushdown") == 0)
		info->pushdown = parse_bool_option(name, value);
	else if (strcmp(name, "jsonb_snake_case") == 0)
		info->jsonb_snake_case = parse_bool_option(name, value);
	else if (strcmp(name, "max_in_flight") == 0)
		/* a value stored before the bound existed is clamped, not refused */
		info->max_in_flight = (int) Min(parse_int_option(name, value, true),
										MAX_IN_FLIGHT_LIMIT);
	else if (strcmp(name, "fanout_limit") == 0)
		info->fanout_limit = (int) Min(parse_int_option(name, value, true),
									   FANOUT_LIMIT_LIMIT);
	else if (strcmp(name, "use_remote_estimate") == 0)
		info->use_remote_estimate = parse_bool_option(name, value);
	else if (strcmp(name, "request_cost") == 0)
		info->request_cost = parse_real_option(name, value);
	else if (strcmp(name, "row_cost") == 0)
		info->row_cost = parse_real_option(name, value);
	else if (strcmp(name, "default_rows") == 0)
		info->default_rows = parse_int_option(name, value, true);
	else if (strcmp(name, "analyze_max_pages") == 0)
		info->analyze_max_pages = (int) parse_int_option(name, value, true);
}

static void
apply_server_options(CivisTableInfo *info, ForeignServer *server)
{
	ListCell   *lc;
	bool		bounded;

	info->serverid = server->serverid;
	info->api_url = CIVIS_DEFAULT_API_URL;
	info->connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_S * 1000;
	info->request_timeout_ms = DEFAULT_REQUEST_TIMEOUT_S * 1000;
	info->max_retries = DEFAULT_MAX_RETRIES;
	info->retry_max_time_ms = DEFAULT_RETRY_MAX_TIME_S * 1000;
	info->max_response_bytes = DEFAULT_MAX_RESPONSE_BYTES;
	info->max_pages = DEFAULT_MAX_PAGES;
	info->max_in_flight = DEFAULT_MAX_IN_FLIGHT;
	info->page_size_cap = 0;
	info->pushdown = true;
	info->fanout_limit = DEFAULT_FANOUT_LIMIT;
	info->request_cost = DEFAULT_REQUEST_COST;
	info->row_cost = DEFAULT_ROW_COST;
	info->default_rows = DEFAULT_ROWS;
	info->analyze_max_pages = DEFAULT_ANALYZE_MAX_PAGES;
	info->rate_window_s = CIVIS_DEFAULT_RATE_WINDOW_S;
	info->rate_reserve_pct = CIVIS_DEFAULT_RATE_RESERVE_PCT;

	/* a server whose owner is not a superuser is bound by the ceilings */
	bounded = !superuser_arg(server->owner);

	foreach(lc, server->options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);
		const char *name = def->defname;
		const char *value = defGetString(def);

		if (bounded)
			check_ceiling(name, value, server->servername, false);
		if (strcmp(name, "api_url") == 0)
			info->api_url = pstrdup(value);
		else if (strcmp(name, "allow_insecure_http") == 0)
			info->allow_insecure_http = parse_bool_option(name, value);
		else if (strcmp(name, "allow_private_addresses") == 0)
			info->allow_private_addresses = parse_bool_option(name, value);
		else if (strcmp(name, "proxy") == 0)
			info->proxy = pstrdup(value);
		else if (strcmp(name, "ca_file") == 0)
			info->ca_file = pstrdup(value);
		else if (strcmp(name, "connect_timeout") == 0)
			info->connect_timeout_ms = (int) Min(parse_int_option(name, value, true), INT_MAX / 1000) * 1000;
		else if (strcmp(name, "request_timeout") == 0)
			info->request_timeout_ms = (int) Min(parse_int_option(name, value, true), INT_MAX / 1000) * 1000;
		else if (strcmp(name, "max_retries") == 0)
			info->max_retries = (int) parse_int_option(name, value, false);
		else if (strcmp(name, "retry_max_time") == 0)
			info->retry_max_time_ms = (int) Min(parse_int_option(name, value, true), INT_MAX / 1000) * 1000;
		else if (strcmp(name, "max_response_bytes") == 0)
			info->max_response_bytes = parse_int_option(name, value, true);
		else if (strcmp(name, "max_pages") == 0)
			info->max_pages = (int) parse_int_option(name, value, true);
		else if (strcmp(name, "page_size_cap") == 0)
			info->page_size_cap = (int) parse_int_option(name, value, true);
		else if (strcmp(name, "rate_window") == 0)
			info->rate_window_s = (int) parse_int_option(name, value, true);
		else if (strcmp(name, "rate_reserve") == 0)
			info->rate_reserve_pct = (int) parse_int_option(name, value, false);
		else
			apply_shared_option(info, def);
	}

	/* strip trailing slashes: endpoint paths start with one */
	{
		char	   *url = pstrdup(info->api_url);
		size_t		len = strlen(url);

		while (len > 0 && url[len - 1] == '/')
			url[--len] = '\0';
		info->api_url = url;
	}
	info->host_allowed = check_api_url_policy(info->api_url,
											  info->allow_insecure_http,
											  info->allow_private_addresses, false);
	info->origin = api_origin(info->api_url);
}

CivisTableInfo *
civis_get_server_info(Oid serverid)
{
	CivisTableInfo *info = palloc0(sizeof(CivisTableInfo));

	apply_server_options(info, GetForeignServer(serverid));
	info->paging = CIVIS_PAGING_AUTO;
	return info;
}

/* A table's stored path option must follow the path rule (see above). */
static void
check_stored_path(const CivisTableInfo *info, const char *name,
				  const char *path)
{
	const char *why = civis_path_problem(path, CIVIS_PATH_TEMPLATE);

	if (why != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("option \"%s\" of foreign table \"%s\" is not a path under the server's api_url: \"%s\"",
						name, info->relname,
						civis_message_text(path, strlen(path), 200)),
				 errdetail("The path %s.", why),
				 errhint("Set a path such as /jobs/ with ALTER FOREIGN TABLE %s OPTIONS (SET %s '...').",
						 quote_identifier(info->relname), name)));
}

static void
resolve_column(CivisTableInfo *info, CivisColumn *col)
{
	List	   *options = GetForeignColumnOptions(info->relid, col->attnum);
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);
		const char *name = def->defname;
		const char *value = defGetString(def);

		if (strcmp(name, "key") == 0)
			col->key = pstrdup(value);
		else if (strcmp(name, "param") == 0)
			col->param = pstrdup(value);
		else if (strcmp(name, "param_only") == 0)
			col->param_only = parse_bool_option(name, value);
		else if (strcmp(name, "exact") == 0)
			col->exact = parse_bool_option(name, value);
		else if (strcmp(name, "values") == 0)
			col->values = pstrdup(value);
		else if (strcmp(name, "list") == 0)
			col->list = parse_list_style(value);
		else if (strcmp(name, "after") == 0)
			col->after = pstrdup(value);
		else if (strcmp(name, "before") == 0)
			col->before = pstrdup(value);
		else if (strcmp(name, "scope_default") == 0)
			col->scope_default = pstrdup(value);
		else if (strcmp(name, "order_by") == 0)
			col->order_by = pstrdup(value);
		else if (strcmp(name, "secret") == 0)
			col->secret = parse_bool_option(name, value);
	}

	/* A hand-written column without "key" reads its camelCase name. */
	if (col->key == NULL)
		col->key = civis_snake_to_camel(col->attname);

	if (col->param)
	{
		char	   *placeholder = psprintf("{%s}", col->param);

		col->is_path_param = strstr(info->endpoint, placeholder) != NULL;
	}
}

/*
 * Resolve everything the planner and executor need about one foreign
 * table.  Allocated in CurrentMemoryContext.
 */
CivisTableInfo *
civis_get_table_info(Oid relid)
{
	ForeignTable *table = GetForeignTable(relid);
	CivisTableInfo *info = palloc0(sizeof(CivisTableInfo));
	Relation	rel;
	TupleDesc	tupdesc;
	ListCell   *lc;
	int			i;

	info->relid = relid;
	info->relname = get_rel_name(relid);
	apply_server_options(info, GetForeignServer(table->serverid));
	info->paging = CIVIS_PAGING_AUTO;

	foreach(lc, table->options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);
		const char *name = def->defname;
		const char *value = defGetString(def);

		if (strcmp(name, "endpoint") == 0)
			info->endpoint = pstrdup(value);
		else if (strcmp(name, "paging") == 0)
			info->paging = civis_parse_paging(value);
		else if (strcmp(name, "page_size") == 0)
			info->page_size = (int) parse_int_option(name, value, true);
		else if (strcmp(name, "detail_endpoint") == 0)
			info->detail_endpoint = pstrdup(value);
		else if (strcmp(name, "order_default") == 0)
			info->order_default = pstrdup(value);
		else if (strcmp(name, "response") == 0)
			info->response_object = parse_response_object(value);
		else
			apply_shared_option(info, def);
	}

	if (info->endpoint == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("foreign table \"%s\" has no \"endpoint\" option", info->relname),
				 errhint("Use ALTER FOREIGN TABLE ... OPTIONS (ADD endpoint '/jobs/'), or IMPORT FOREIGN SCHEMA.")));

	/* a path stored before the rule existed (1.1.0) is checked on use */
	check_stored_path(info, "endpoint", info->endpoint);
	if (info->detail_endpoint != NULL)
		check_stored_path(info, "detail_endpoint", info->detail_endpoint);

	if (info->page_size_cap > 0 &&
		(info->page_size == 0 || info->page_size > info->page_size_cap))
		info->page_size = info->page_size_cap;

	rel = table_open(relid, AccessShareLock);
	tupdesc = RelationGetDescr(rel);
	info->ncolumns = tupdesc->natts;
	info->columns = palloc0(sizeof(CivisColumn) * Max(tupdesc->natts, 1));
	for (i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);
		CivisColumn *col = &info->columns[i];

		col->attnum = i + 1;
		col->attname = pstrdup(NameStr(att->attname));
		col->atttypid = att->atttypid;
		col->atttypmod = att->atttypmod;
		col->dropped = att->attisdropped;
		if (!col->dropped)
			resolve_column(info, col);
	}
	table_close(rel, AccessShareLock);

	return info;
}

CivisColumn *
civis_column_by_param(CivisTableInfo *info, const char *param)
{
	int			i;

	for (i = 0; i < info->ncolumns; i++)
	{
		CivisColumn *col = &info->columns[i];

		if (!col->dropped && col->param && strcmp(col->param, param) == 0)
			return col;
	}
	return NULL;
}

static bool
user_mapping_exists(Oid userid, Oid serverid)
{
	HeapTuple	tp = SearchSysCache2(USERMAPPINGUSERSERVER,
									 ObjectIdGetDatum(userid),
									 ObjectIdGetDatum(serverid));

	if (!HeapTupleIsValid(tp))
		return false;
	ReleaseSysCache(tp);
	return true;
}

/*
 * Read a key from the file named by api_key_file (superuser-only): its
 * first line, without surrounding white space.  The file's content never
 * appears in a message.
 */
#define API_KEY_FILE_MAX	4096

static char *
read_api_key_file(const char *path)
{
	FILE	   *f;
	char	   *buf = palloc(API_KEY_FILE_MAX + 1);
	size_t		n;
	size_t		start = 0;
	size_t		i;

	f = AllocateFile(path, "r");
	if (f == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open the API key file \"%s\": %m", path),
				 errhint("The file named by the api_key_file option of the user mapping must be readable by the database server.")));
	n = fread(buf, 1, API_KEY_FILE_MAX + 1, f);
	if (ferror(f))
	{
		int			save_errno = errno;

		FreeFile(f);
		errno = save_errno;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read the API key file \"%s\": %m", path)));
	}
	FreeFile(f);
	if (n > API_KEY_FILE_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the API key file \"%s\" is larger than %d bytes", path,
						API_KEY_FILE_MAX)));
	buf[n] = '\0';
	n = strcspn(buf, "\r\n");	/* the first line */
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		buf[--n] = '\0';
	while (buf[start] == ' ' || buf[start] == '\t')
		start++;
	for (i = start; i < n; i++)
		if ((unsigned char) buf[i] < 0x20 || buf[i] == 0x7f)
			break;
	if (start == n || i < n)
	{
		explicit_bzero(buf, API_KEY_FILE_MAX + 1);
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the API key file \"%s\" holds no key", path),
				 errhint("Its first line must be the key, printable characters only.")));
	}
	if (start > 0)
		memmove(buf, buf + start, n - start + 1);
	return buf;
}

/*
 * The api_key of the current user's mapping (or PUBLIC's) for a server.
 * ERRORs with a clear message when there is none; never prints the key.
 */
char *
civis_get_api_key(Oid serverid, Oid userid)
{
	UserMapping *um;
	ListCell   *lc;

	/* say which server and how to fix it, rather than "not found" */
	if (!user_mapping_exists(userid, serverid) &&
		!user_mapping_exists(InvalidOid, serverid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("user \"%s\" has no user mapping for server \"%s\"",
						GetUserNameFromId(userid, false),
						GetForeignServer(serverid)->servername),
				 errhint("Use CREATE USER MAPPING FOR CURRENT_USER SERVER %s OPTIONS (api_key '...'); each user brings their own Civis API key.",
						 quote_identifier(GetForeignServer(serverid)->servername))));
	um = GetUserMapping(userid, serverid);
	foreach(lc, um->options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);

		if (strcmp(def->defname, "api_key") == 0)
			return pstrdup(defGetString(def));
		if (strcmp(def->defname, "api_key_file") == 0)
			return read_api_key_file(defGetString(def));
	}
	ereport(ERROR,
			(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
			 errmsg("the user mapping for server \"%s\" has no api_key",
					GetForeignServer(serverid)->servername),
			 errhint("Use ALTER USER MAPPING FOR CURRENT_USER SERVER ... OPTIONS (ADD api_key '...').")));
	return NULL;				/* keep compiler quiet */
}

/*
 * The budget identity of a user mapping (civis_fdw_budget()): the server's
 * normalized origin and the mapping's key, hashed as the transport hashes
 * them.  false when the mapping has no key to hash here: none at all, or a
 * key file while the current user is not a superuser (reading the file is
 * a superuser's privilege).
 */
bool
civis_mapping_budget_hash(ForeignServer *server, List *umoptions,
						  uint8 *hash)
{
	const char *api_url = CIVIS_DEFAULT_API_URL;
	char	   *key = NULL;
	ListCell   *lc;

	foreach(lc, server->options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);

		if (strcmp(def->defname, "api_url") == 0)
			api_url = defGetString(def);
	}
	foreach(lc, umoptions)
	{
		DefElem    *def = (DefElem *) lfirst(lc);

		if (strcmp(def->defname, "api_key") == 0)
			key = pstrdup(defGetString(def));
		else if (strcmp(def->defname, "api_key_file") == 0 && superuser())
			key = read_api_key_file(defGetString(def));
	}
	if (key == NULL)
		return false;
	civis_budget_hash(api_origin(api_url), key, hash);
	explicit_bzero(key, strlen(key));
	return true;
}

/*
 * The OID of the user mapping that serves a user on a server: the user's
 * own, else PUBLIC's; InvalidOid when there is none.
 */
static Oid
user_mapping_oid(Oid userid, Oid serverid)
{
	HeapTuple	tp;
	Oid			umid;

	tp = SearchSysCache2(USERMAPPINGUSERSERVER, ObjectIdGetDatum(userid),
						 ObjectIdGetDatum(serverid));
	if (!HeapTupleIsValid(tp))
		tp = SearchSysCache2(USERMAPPINGUSERSERVER, ObjectIdGetDatum(InvalidOid),
							 ObjectIdGetDatum(serverid));
	if (!HeapTupleIsValid(tp))
		return InvalidOid;
	umid = ((Form_pg_user_mapping) GETSTRUCT(tp))->oid;
	ReleaseSysCache(tp);
	return umid;
}

/*
 * The transport configuration of a table for a user (whose key api_key is):
 * limits, retries, where it may go, and whose rate-limit budget it draws on
 * (the server and the user mapping, see CivisRateKey).
 */
void
civis_http_config_from_table(CivisHttpConfig *cfg, const CivisTableInfo *info,
							 Oid userid, const char *api_key)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->api_key = api_key;
	cfg->rate_key.serverid = info->serverid;
	cfg->rate_key.umid = user_mapping_oid(userid, info->serverid);
	cfg->connect_timeout_ms = info->connect_timeout_ms;
	cfg->request_timeout_ms = info->request_timeout_ms;
	cfg->max_response_bytes = info->max_response_bytes;
	cfg->ca_file = info->ca_file;
	cfg->max_retries = info->max_retries;
	cfg->retry_max_time_ms = info->retry_max_time_ms;
	cfg->max_in_flight = info->max_in_flight;
	cfg->trusted_host = info->host_allowed;
	cfg->allow_private_addresses = info->allow_private_addresses;
	cfg->proxy = info->proxy;
	cfg->origin = info->origin;
	cfg->rate_window_s = info->rate_window_s;
	cfg->rate_reserve_pct = info->rate_reserve_pct;
}

/*
 * Call fn for each user mapping of a civis_fdw server that the current
 * user may see, with its budget hash: a non-superuser sees the mapping
 * their queries would use on each server (their own, else PUBLIC's); a
 * superuser sees all.  Mappings whose key cannot be hashed here are
 * skipped (civis_mapping_budget_hash).
 */
void
civis_for_each_usable_mapping(void (*fn) (ForeignServer *server, Oid umid,
										  const char *user_name, const uint8 *hash,
										  void *arg),
							  void *arg)
{
	bool		is_super = superuser();
	Oid			fdwid = GetForeignDataWrapperByName("civis_fdw", false)->fdwid;
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tup;

	rel = table_open(UserMappingRelationId, AccessShareLock);
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_user_mapping um = (Form_pg_user_mapping) GETSTRUCT(tup);
		ForeignServer *server;
		Datum		datum;
		bool		isnull;
		List	   *umoptions = NIL;
		uint8		hash[CIVIS_BUDGET_HASH_LEN];
		const char *user_name;

		CHECK_FOR_INTERRUPTS();
		server = GetForeignServerExtended(um->umserver, FSV_MISSING_OK);
		if (server == NULL || server->fdwid != fdwid)
			continue;
		if (!is_super &&
			!(um->umuser == GetUserId() ||
			  (!OidIsValid(um->umuser) &&
			   !SearchSysCacheExists2(USERMAPPINGUSERSERVER,
									  ObjectIdGetDatum(GetUserId()),
									  ObjectIdGetDatum(um->umserver)))))
			continue;
		datum = heap_getattr(tup, Anum_pg_user_mapping_umoptions,
							 RelationGetDescr(rel), &isnull);
		if (!isnull)
			umoptions = untransformRelOptions(datum);
		if (!civis_mapping_budget_hash(server, umoptions, hash))
			continue;
		if (!OidIsValid(um->umuser))
			user_name = "PUBLIC";
		else if ((user_name = GetUserNameFromId(um->umuser, true)) == NULL)
			continue;
		fn(server, um->oid, user_name, hash, arg);
		explicit_bzero(hash, sizeof(hash));
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
}

static void
collect_hash(ForeignServer *server, Oid umid, const char *user_name,
			 const uint8 *hash, void *arg)
{
	List	  **out = (List **) arg;

	uint8	   *copy = palloc(CIVIS_BUDGET_HASH_LEN);

	memcpy(copy, hash, CIVIS_BUDGET_HASH_LEN);
	*out = lappend(*out, copy);
}

/* The budget hashes of the mappings the current user may use. */
List *
civis_usable_mapping_hashes(void)
{
	List	   *out = NIL;

	civis_for_each_usable_mapping(collect_hash, &out);
	return out;
}
