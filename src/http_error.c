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
 * JSON proper is json_page.c's business: civis_json_top_string parses an
 * error body of at most 64 kB with cJSON, within a small memory budget.
 *
 * Text from the API reaches a message only through civis_message_text,
 * which escapes what could forge log lines or reorder what a reader sees.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "civis_fdw.h"

#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"

#define DESCRIPTION_MAX_CHARS	500
#define BODY_SNIPPET_BYTES		200

/*
 * The length of the bidirectional formatting character s starts with, or
 * 0: ALM U+061C, LRM/RLM U+200E-U+200F, the embeddings and overrides
 * U+202A-U+202E, the isolates U+2066-U+2069, and the line and paragraph
 * separators U+2028-U+2029 (line breaks to some log readers).  s is UTF-8.
 */
int
civis_bidi_control_len(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *) s;

	if (len >= 2 && u[0] == 0xD8 && u[1] == 0x9C)
		return 2;
	if (len < 3 || u[0] != 0xE2)
		return 0;
	if (u[1] == 0x80 && (u[2] == 0x8E || u[2] == 0x8F ||
						 (u[2] >= 0xA8 && u[2] <= 0xAE)))
		return 3;
	if (u[1] == 0x81 && u[2] >= 0xA6 && u[2] <= 0xA9)
		return 3;
	return 0;
}

/*
 * Text from the API (or any remote party) made safe for an ERROR, DETAIL,
 * HINT, CONTEXT or WARNING, and so for the server log: the one function
 * every such text goes through.
 *
 *   - control characters are escaped, so no text can start a new line of
 *     the log or of a client's output: \n, \r, \t, other C0 and DEL as
 *     \xHH, C1 (U+0080-U+009F) as \uHHHH;
 *   - bidirectional formatting characters (civis_bidi_control_len) are
 *     escaped as \uHHHH, so no text can reorder what a reader sees;
 *   - the result is valid in the database encoding: a non-ASCII character
 *     is kept only when that is UTF-8 and the character is valid UTF-8,
 *     else it is shown as '?';
 *   - at most maxchars characters of the text are shown ("..." marks the
 *     cut), and trailing white space (a body's final newline) is dropped.
 */
char *
civis_message_text(const char *text, size_t len, int maxchars)
{
	StringInfoData out;
	bool		db_utf8 = GetDatabaseEncoding() == PG_UTF8;
	size_t		i = 0;
	int			nchars = 0;

	initStringInfo(&out);
	if (text == NULL)
		return out.data;
	while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t' ||
					   text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	while (i < len)
	{
		unsigned char c = (unsigned char) text[i];
		int			l;

		if (nchars >= maxchars)
		{
			appendStringInfoString(&out, "...");
			break;
		}
		nchars++;
		if (c < 0x80)
		{
			if (c == '\n')
				appendStringInfoString(&out, "\\n");
			else if (c == '\r')
				appendStringInfoString(&out, "\\r");
			else if (c == '\t')
				appendStringInfoString(&out, "\\t");
			else if (c < 0x20 || c == 0x7F)
				appendStringInfo(&out, "\\x%02x", c);
			else
				appendStringInfoChar(&out, (char) c);
			i++;
			continue;
		}
		l = pg_utf_mblen((const unsigned char *) text + i);
		if (l < 2 || i + l > len ||
			!pg_utf8_islegal((const unsigned char *) text + i, l))
		{
			appendStringInfoChar(&out, '?');
			i++;
			continue;
		}
		if (c == 0xC2 && (unsigned char) text[i + 1] <= 0x9F)
			appendStringInfo(&out, "\\u%04x", (unsigned char) text[i + 1]);
		else if (civis_bidi_control_len(text + i, len - i) == l)
		{
			pg_wchar	cp = utf8_to_unicode((const unsigned char *) text + i);

			appendStringInfo(&out, "\\u%04x", (unsigned int) cp);
		}
		else if (db_utf8)
			appendBinaryStringInfo(&out, text + i, l);
		else
			appendStringInfoChar(&out, '?');
		i += l;
	}
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

/* One line a status; pg_bsd_indent would give each case two. */
/* INDENT OFF */
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
/* INDENT ON */

/*
 * The SQLSTATE and HINT of an HTTP status of the Civis API: the statuses
 * its documentation names, then redirects (never followed) and other
 * server errors (not retried).
 */
static void
status_sqlstate_hint(long status, int *sqlstate, const char **hint)
{
	*hint = NULL;
	switch (status)
	{
		case 400:
		case 422:
			*sqlstate = ERRCODE_INVALID_PARAMETER_VALUE;
			*hint = "Check the values compared with the foreign table's parameter columns in the query, and its page_size option (the endpoint's maximum page size).";
			break;
		case 401:
			*sqlstate = ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION;
			*hint = "Check the api_key option of the user mapping for this server; Civis API keys expire.";
			break;
		case 403:
			*sqlstate = ERRCODE_INSUFFICIENT_PRIVILEGE;
			*hint = "The Civis user of the API key may not see this object, or the key is restricted to other endpoints.";
			break;
		case 404:
			*sqlstate = ERRCODE_FDW_TABLE_NOT_FOUND;
			*hint = "Check the endpoint option of the foreign table and the values given for its path parameters; the Civis API also answers 404 for objects the user may not see.";
			break;
		case 429:
			*sqlstate = ERRCODE_CONFIGURATION_LIMIT_EXCEEDED;
			*hint = "The Civis API allows 1,000 requests per 5 minutes; wait before retrying, make queries need fewer requests, or raise the max_retries and retry_max_time server options.";
			break;
		case 502:
		case 503:
		case 504:
			*sqlstate = ERRCODE_CONNECTION_FAILURE;
			*hint = "The Civis API is temporarily unavailable; the max_retries and retry_max_time server options control how long to keep retrying.";
			break;
		default:
			*sqlstate = ERRCODE_FDW_ERROR;
			if (status >= 300 && status < 400)
				*hint = "civis_fdw does not follow redirects; check the api_url option of the foreign server.";
			else if (status >= 500)
				*hint = "The Civis API failed on its side and such errors are not retried; try again later, and tell Civis support if it persists.";
			break;
	}
}

/* The DETAIL of an HTTP error: the API's explanation, then the retry count. */
static void
error_detail(const CivisResponse *resp, StringInfo detail)
{
	char	   *desc;

	initStringInfo(detail);
	desc = civis_json_top_string(resp->body, resp->body_len, "errorDescription");
	if (desc == NULL || desc[0] == '\0')
		desc = civis_json_top_string(resp->body, resp->body_len, "error");
	if (desc != NULL && desc[0] != '\0')
		appendStringInfoString(detail,
							   civis_message_text(desc, strlen(desc),
												  DESCRIPTION_MAX_CHARS));
	else if (body_is_text(resp))
		appendStringInfoString(detail,
							   civis_message_text(resp->body,
												  Min(resp->body_len,
													  (size_t) BODY_SNIPPET_BYTES),
												  BODY_SNIPPET_BYTES));
	if (resp->attempts > 1)
		appendStringInfo(detail, "%sGave up after %d attempts.",
						 detail->len > 0 ? "\n" : "", resp->attempts);
}

void
civis_raise_http_error(const CivisResponse *resp, const char *shown,
					   const char *relname)
{
	long		status = resp->status;
	int			sqlstate;
	const char *hint;
	StringInfoData detail;
	StringInfoData msg;

	status_sqlstate_hint(status, &sqlstate, &hint);
	error_detail(resp, &detail);

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
