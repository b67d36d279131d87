/*-------------------------------------------------------------------------
 *
 * http_error.c
 *		  Turn an unsuccessful Civis API response into a PostgreSQL error.
 *
 * HTTP status -> SQLSTATE:
 *
 *   400, 422          22023 invalid_parameter_value (the API refused a
 *                     parameter value we sent)
 *   401               28000 invalid_authorization_specification
 *   403               42501 insufficient_privilege
 *   404               HV00R fdw_table_not_found
 *   429               53400 configuration_limit_exceeded: the API's rate
 *                     limit is a server-side resource limit; class 53
 *                     (insufficient resources) tells clients that the same
 *                     statement may succeed later
 *   502, 503, 504     08006 connection_failure: the service or a gateway in
 *                     front of it is unavailable; transient by nature
 *   other             HV000 fdw_error
 *
 * DETAIL carries the API's own explanation: the "errorDescription" member
 * of the JSON error body (or "error" when there is no description), else
 * the beginning of a textual body.  CONTEXT shows the request path with
 * secrets already masked by the caller.
 *
 * JSON proper is decode.c's business; here a small scanner reads only the
 * top-level string members of an error object, handling escapes, and
 * nothing else.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "civis_fdw.h"

#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"

#define DESCRIPTION_MAX_CHARS	500
#define BODY_SNIPPET_BYTES		200

/* ---- minimal scanner for {"key": "string", ...} ---- */

typedef struct JsonScan
{
	const char *p;
	const char *end;
} JsonScan;

static void
scan_ws(JsonScan *s)
{
	while (s->p < s->end &&
		   (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool
scan_hex4(JsonScan *s, unsigned int *out)
{
	unsigned int v = 0;
	int			i;

	if (s->end - s->p < 4)
		return false;
	for (i = 0; i < 4; i++)
	{
		int			h = hexval(s->p[i]);

		if (h < 0)
			return false;
		v = (v << 4) | (unsigned int) h;
	}
	s->p += 4;
	*out = v;
	return true;
}

static void
append_utf8(StringInfo buf, unsigned int cp)
{
	if (cp < 0x80)
		appendStringInfoChar(buf, (char) cp);
	else if (cp < 0x800)
	{
		appendStringInfoChar(buf, (char) (0xC0 | (cp >> 6)));
		appendStringInfoChar(buf, (char) (0x80 | (cp & 0x3F)));
	}
	else if (cp < 0x10000)
	{
		appendStringInfoChar(buf, (char) (0xE0 | (cp >> 12)));
		appendStringInfoChar(buf, (char) (0x80 | ((cp >> 6) & 0x3F)));
		appendStringInfoChar(buf, (char) (0x80 | (cp & 0x3F)));
	}
	else
	{
		appendStringInfoChar(buf, (char) (0xF0 | (cp >> 18)));
		appendStringInfoChar(buf, (char) (0x80 | ((cp >> 12) & 0x3F)));
		appendStringInfoChar(buf, (char) (0x80 | ((cp >> 6) & 0x3F)));
		appendStringInfoChar(buf, (char) (0x80 | (cp & 0x3F)));
	}
}

/*
 * Scan a JSON string starting at the opening quote.  When buf is not NULL,
 * the decoded value (UTF-8) is appended to it.  Returns false on malformed
 * input.
 */
static bool
scan_string(JsonScan *s, StringInfo buf)
{
	if (s->p >= s->end || *s->p != '"')
		return false;
	s->p++;
	while (s->p < s->end)
	{
		char		c = *s->p++;

		if (c == '"')
			return true;
		if (c != '\\')
		{
			if (buf)
				appendStringInfoChar(buf, c);
			continue;
		}
		if (s->p >= s->end)
			return false;
		c = *s->p++;
		switch (c)
		{
			case '"':
			case '\\':
			case '/':
				if (buf)
					appendStringInfoChar(buf, c);
				break;
			case 'b':
				if (buf)
					appendStringInfoChar(buf, '\b');
				break;
			case 'f':
				if (buf)
					appendStringInfoChar(buf, '\f');
				break;
			case 'n':
				if (buf)
					appendStringInfoChar(buf, '\n');
				break;
			case 'r':
				if (buf)
					appendStringInfoChar(buf, '\r');
				break;
			case 't':
				if (buf)
					appendStringInfoChar(buf, '\t');
				break;
			case 'u':
				{
					unsigned int cp;

					if (!scan_hex4(s, &cp))
						return false;
					if (cp >= 0xD800 && cp <= 0xDBFF)
					{
						unsigned int lo;

						if (s->end - s->p >= 6 && s->p[0] == '\\' &&
							s->p[1] == 'u')
						{
							s->p += 2;
							if (!scan_hex4(s, &lo))
								return false;
							if (lo >= 0xDC00 && lo <= 0xDFFF)
								cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
							else
								cp = 0xFFFD;
						}
						else
							cp = 0xFFFD;
					}
					else if (cp >= 0xDC00 && cp <= 0xDFFF)
						cp = 0xFFFD;
					if (cp == 0)
						cp = 0xFFFD;	/* no NULs in messages */
					if (buf)
						append_utf8(buf, cp);
				}
				break;
			default:
				return false;
		}
	}
	return false;
}

/* Skip any JSON value (string, number, literal, object, array). */
static bool
scan_skip_value(JsonScan *s)
{
	int			depth = 0;

	scan_ws(s);
	if (s->p >= s->end)
		return false;
	if (*s->p == '"')
		return scan_string(s, NULL);
	if (*s->p != '{' && *s->p != '[')
	{
		/* scalar: up to the next delimiter */
		while (s->p < s->end && *s->p != ',' && *s->p != '}' &&
			   *s->p != ']' && *s->p != ' ' && *s->p != '\t' &&
			   *s->p != '\n' && *s->p != '\r')
			s->p++;
		return true;
	}
	while (s->p < s->end)
	{
		char		c = *s->p;

		if (c == '"')
		{
			if (!scan_string(s, NULL))
				return false;
			continue;
		}
		s->p++;
		if (c == '{' || c == '[')
			depth++;
		else if (c == '}' || c == ']')
		{
			if (--depth == 0)
				return true;
		}
	}
	return false;
}

/*
 * The decoded value of the top-level string member "key" of a JSON object,
 * or NULL when the body is not an object or has no such string member.
 */
static char *
json_top_string(const char *body, size_t len, const char *key)
{
	JsonScan	s;
	StringInfoData k;

	if (body == NULL)
		return NULL;
	s.p = body;
	s.end = body + len;
	scan_ws(&s);
	if (s.p >= s.end || *s.p != '{')
		return NULL;
	s.p++;
	initStringInfo(&k);
	for (;;)
	{
		scan_ws(&s);
		if (s.p >= s.end || *s.p == '}')
			return NULL;
		resetStringInfo(&k);
		if (!scan_string(&s, &k))
			return NULL;
		scan_ws(&s);
		if (s.p >= s.end || *s.p != ':')
			return NULL;
		s.p++;
		scan_ws(&s);
		if (strcmp(k.data, key) == 0 && s.p < s.end && *s.p == '"')
		{
			StringInfoData v;

			initStringInfo(&v);
			if (!scan_string(&s, &v))
				return NULL;
			return v.data;
		}
		if (!scan_skip_value(&s))
			return NULL;
		scan_ws(&s);
		if (s.p < s.end && *s.p == ',')
		{
			s.p++;
			continue;
		}
		return NULL;
	}
}

/*
 * Make text from the API safe to put into a message: valid in the
 * database encoding (non-ASCII is kept only when that is UTF-8 and the
 * text is valid UTF-8), no control characters but newline and tab, and at
 * most maxchars characters (an ellipsis marks truncation).
 */
static char *
sanitize_text(const char *text, size_t len, int maxchars)
{
	StringInfoData out;
	bool		keep_utf8;
	size_t		i = 0;
	int			nchars = 0;

	keep_utf8 = (GetDatabaseEncoding() == PG_UTF8) &&
		pg_verify_mbstr(PG_UTF8, text, (int) Min(len, (size_t) INT_MAX), true);

	initStringInfo(&out);
	while (i < len)
	{
		unsigned char c = (unsigned char) text[i];

		if (nchars >= maxchars)
		{
			appendStringInfoString(&out, "...");
			break;
		}
		if (c >= 0x80)
		{
			if (keep_utf8)
			{
				int			l = pg_utf_mblen((const unsigned char *) text + i);

				if (l < 1 || i + l > len)
					break;
				appendBinaryStringInfo(&out, text + i, l);
				i += l;
			}
			else
			{
				appendStringInfoChar(&out, '?');
				i++;
			}
		}
		else
		{
			if (c == '\0')
				break;
			if (c < 0x20 && c != '\n' && c != '\t')
				appendStringInfoChar(&out, ' ');
			else
				appendStringInfoChar(&out, (char) c);
			i++;
		}
		nchars++;
	}
	/* trailing white space (a body ending in a newline) is noise */
	while (out.len > 0 && (out.data[out.len - 1] == '\n' ||
						   out.data[out.len - 1] == ' ' ||
						   out.data[out.len - 1] == '\t'))
		out.data[--out.len] = '\0';
	return out.data;
}

static bool
body_is_text(const CivisResponse *resp)
{
	const char *ct = resp->content_type;
	size_t		i;
	size_t		n;

	if (resp->body == NULL || resp->body_len == 0)
		return false;
	if (ct && (pg_strncasecmp(ct, "text/", 5) == 0 ||
			   strstr(ct, "json") != NULL || strstr(ct, "xml") != NULL))
		return true;
	/* no or unknown content type: look at the bytes */
	n = Min(resp->body_len, (size_t) BODY_SNIPPET_BYTES);
	for (i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) resp->body[i];

		if (c == 0 || (c < 0x20 && c != '\n' && c != '\r' && c != '\t'))
			return false;
	}
	return true;
}

static const char *
reason_phrase(long status)
{
	switch (status)
	{
		case 300: return "Multiple Choices";
		case 301: return "Moved Permanently";
		case 302: return "Found";
		case 303: return "See Other";
		case 304: return "Not Modified";
		case 307: return "Temporary Redirect";
		case 308: return "Permanent Redirect";
		case 400: return "Bad Request";
		case 401: return "Unauthorized";
		case 402: return "Payment Required";
		case 403: return "Forbidden";
		case 404: return "Not Found";
		case 405: return "Method Not Allowed";
		case 406: return "Not Acceptable";
		case 408: return "Request Timeout";
		case 409: return "Conflict";
		case 410: return "Gone";
		case 411: return "Length Required";
		case 412: return "Precondition Failed";
		case 413: return "Content Too Large";
		case 414: return "URI Too Long";
		case 415: return "Unsupported Media Type";
		case 416: return "Range Not Satisfiable";
		case 417: return "Expectation Failed";
		case 421: return "Misdirected Request";
		case 422: return "Unprocessable Content";
		case 423: return "Locked";
		case 424: return "Failed Dependency";
		case 425: return "Too Early";
		case 426: return "Upgrade Required";
		case 428: return "Precondition Required";
		case 429: return "Too Many Requests";
		case 431: return "Request Header Fields Too Large";
		case 451: return "Unavailable For Legal Reasons";
		case 500: return "Internal Server Error";
		case 501: return "Not Implemented";
		case 502: return "Bad Gateway";
		case 503: return "Service Unavailable";
		case 504: return "Gateway Timeout";
		case 505: return "HTTP Version Not Supported";
		case 507: return "Insufficient Storage";
		case 508: return "Loop Detected";
		case 511: return "Network Authentication Required";
		default: return "";
	}
}

void
civis_raise_http_error(const CivisResponse *resp, const char *shown,
					   const char *relname)
{
	long		status = resp->status;
	int			sqlstate;
	const char *hint = NULL;
	char	   *desc;
	StringInfoData detail;
	StringInfoData msg;

	switch (status)
	{
		case 400:
		case 422:
			sqlstate = ERRCODE_INVALID_PARAMETER_VALUE;
			hint = "Check the values compared with the foreign table's parameter columns in the query, and its page_size option (the endpoint's maximum page size).";
			break;
		case 401:
			sqlstate = ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION;
			hint = "Check the api_key option of the user mapping for this server; Civis API keys expire.";
			break;
		case 403:
			sqlstate = ERRCODE_INSUFFICIENT_PRIVILEGE;
			hint = "The Civis user of the API key may not see this object, or the key is restricted to other endpoints.";
			break;
		case 404:
			sqlstate = ERRCODE_FDW_TABLE_NOT_FOUND;
			hint = "Check the endpoint option of the foreign table and the values given for its path parameters; the Civis API also answers 404 for objects the user may not see.";
			break;
		case 429:
			sqlstate = ERRCODE_CONFIGURATION_LIMIT_EXCEEDED;
			hint = "The Civis API allows 1,000 requests per 5 minutes; wait before retrying, make queries need fewer requests, or raise the max_retries and retry_max_time server options.";
			break;
		case 502:
		case 503:
		case 504:
			sqlstate = ERRCODE_CONNECTION_FAILURE;
			hint = "The Civis API is temporarily unavailable; the max_retries and retry_max_time server options control how long to keep retrying.";
			break;
		default:
			sqlstate = ERRCODE_FDW_ERROR;
			if (status >= 300 && status < 400)
				hint = "civis_fdw does not follow redirects; check the api_url option of the foreign server.";
			else if (status >= 500)
				hint = "The Civis API failed on its side and such errors are not retried; try again later, and tell Civis support if it persists.";
			break;
	}

	/* DETAIL: the API's explanation, then the retry count */
	initStringInfo(&detail);
	desc = json_top_string(resp->body, resp->body_len, "errorDescription");
	if (desc == NULL || desc[0] == '\0')
		desc = json_top_string(resp->body, resp->body_len, "error");
	if (desc != NULL && desc[0] != '\0')
		appendStringInfoString(&detail,
							   sanitize_text(desc, strlen(desc),
											 DESCRIPTION_MAX_CHARS));
	else if (body_is_text(resp))
		appendStringInfoString(&detail,
							   sanitize_text(resp->body,
											 Min(resp->body_len,
												 (size_t) BODY_SNIPPET_BYTES),
											 BODY_SNIPPET_BYTES));
	if (resp->attempts > 1)
		appendStringInfo(&detail, "%sGave up after %d attempts.",
						 detail.len > 0 ? "\n" : "", resp->attempts);

	initStringInfo(&msg);
	appendStringInfo(&msg, "HTTP %ld", status);
	if (reason_phrase(status)[0] != '\0')
		appendStringInfo(&msg, " %s", reason_phrase(status));

	if (relname)
		ereport(ERROR,
				(errcode(sqlstate),
				 errmsg("Civis API request for table \"%s\" failed: %s",
						relname, msg.data),
				 detail.len > 0 ? errdetail("%s", detail.data) : 0,
				 hint ? errhint("%s", hint) : 0,
				 errcontext("Civis API request: GET %s", shown ? shown : "")));
	else
		ereport(ERROR,
				(errcode(sqlstate),
				 errmsg("Civis API request failed: %s", msg.data),
				 detail.len > 0 ? errdetail("%s", detail.data) : 0,
				 hint ? errhint("%s", hint) : 0,
				 errcontext("Civis API request: GET %s", shown ? shown : "")));
	pg_unreachable();
}
