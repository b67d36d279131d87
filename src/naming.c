/*-------------------------------------------------------------------------
 *
 * naming.c
 *		  Table and column naming rules.  Pure string functions; every result
 *		  is palloc'd in CurrentMemoryContext.
 *
 * Tables.  A list endpoint's table is named like civis-python's method for
 * it, without the "list" verb: the first path segment (the resource), then
 * every further static segment ({placeholders} dropped), '-' replaced by
 * '_', all joined by '_':
 *     /jobs/                                      -> jobs
 *     /jobs/{id}/runs                             -> jobs_runs
 *     /enhancements/cass-ncoa/{id}/runs/{run_id}/logs
 *                                                 -> enhancements_cass_ncoa_runs_logs
 *     /admin/organizations                        -> admin_organizations
 * (civis-python: resource.list -> resource, resource.list_x -> resource_x.)
 *
 * Columns.  Response fields are camelCase; a column is named with
 * civis-python's camel_to_snake, two regular expressions applied in turn and
 * then lower-casing:
 *     1.  (.)([A-Z][a-z]+)   ->  \1_\2
 *     2.  ([a-z0-9])([A-Z])  ->  \1_\2
 * so provideAPIKey -> provide_api_key, csvS3Uri -> csv_s3_uri,
 * source1JoinCol -> source1_join_col, limitingSQL -> limiting_sql.
 *
 * Path parameters.  {id} becomes "<singular of the static segment before
 * it>_id" (/jobs/{id}/runs -> job_id, /queries/{id}/runs -> query_id,
 * /enhancements/cass-ncoa/{id}/runs -> cass_ncoa_id); any other placeholder
 * keeps its own (snake_case) name: {run_id} -> run_id, {slug} -> slug.
 *
 * Singular: the last '_'-separated word of the segment is looked up in the
 * table of irregular plurals below; otherwise "-ies" becomes "-y", a word
 * ending in "ss" or "us" is kept, and one final "s" is dropped.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "nodes/value.h"

#include "civis_fdw.h"

static inline bool
is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static inline bool
is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

static inline bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * civis-python's camel_to_snake, with both regular expressions written out
 * by hand.  Python's re.sub scans left to right and resumes after each match;
 * "." matches any character but a newline; [A-Z] and [a-z] are ASCII only.
 */
char *
civis_camel_to_snake(const char *name)
{
	size_t		len = strlen(name);
	StringInfoData pass1;
	StringInfoData pass2;
	size_t		i;

	/* 1.  (.)([A-Z][a-z]+) -> \1_\2 */
	initStringInfo(&pass1);
	i = 0;
	while (i < len)
	{
		if (name[i] != '\n' && i + 2 < len + 0 &&
			is_upper(name[i + 1]) && is_lower(name[i + 2]))
		{
			size_t		j = i + 2;

			while (j < len && is_lower(name[j]))
				j++;
			appendStringInfoChar(&pass1, name[i]);
			appendStringInfoChar(&pass1, '_');
			appendBinaryStringInfo(&pass1, name + i + 1, j - (i + 1));
			i = j;
		}
		else
			appendStringInfoChar(&pass1, name[i++]);
	}

	/* 2.  ([a-z0-9])([A-Z]) -> \1_\2, then lower-case */
	initStringInfo(&pass2);
	i = 0;
	while (i < (size_t) pass1.len)
	{
		char		c = pass1.data[i];

		if ((is_lower(c) || is_digit(c)) && i + 1 < (size_t) pass1.len &&
			is_upper(pass1.data[i + 1]))
		{
			appendStringInfoChar(&pass2, c);
			appendStringInfoChar(&pass2, '_');
			appendStringInfoChar(&pass2, pass1.data[i + 1]);
			i += 2;
		}
		else
		{
			appendStringInfoChar(&pass2, c);
			i++;
		}
	}
	pfree(pass1.data);

	for (i = 0; i < (size_t) pass2.len; i++)
		pass2.data[i] = pg_ascii_tolower((unsigned char) pass2.data[i]);

	return pass2.data;
}

/*
 * snake_case -> camelCase: drop each '_' and upper-case the letter after it
 * (used for a column without a "key" option).  Not the exact inverse of
 * camel_to_snake (provide_api_key -> provideApiKey), which is why IMPORT
 * always writes "key".
 */
char *
civis_snake_to_camel(const char *name)
{
	StringInfoData buf;
	bool		upper_next = false;

	initStringInfo(&buf);
	for (const char *p = name; *p; p++)
	{
		if (*p == '_' && buf.len > 0)
		{
			upper_next = true;
			continue;
		}
		if (upper_next)
			appendStringInfoChar(&buf, pg_ascii_toupper((unsigned char) *p));
		else
			appendStringInfoChar(&buf, *p);
		upper_next = false;
	}
	return buf.data;
}

static bool
is_placeholder(const char *seg, size_t len)
{
	return len >= 2 && seg[0] == '{' && seg[len - 1] == '}';
}

static void
append_segment(StringInfo buf, const char *seg, size_t len)
{
	if (buf->len > 0)
		appendStringInfoChar(buf, '_');
	for (size_t i = 0; i < len; i++)
		appendStringInfoChar(buf, seg[i] == '-' ? '_' : seg[i]);
}

/*
 * Table name for a list endpoint path (see the file header).  Returns an
 * empty string for "/".
 */
char *
civis_table_name_for_path(const char *path)
{
	StringInfoData buf;
	const char *p = path;

	initStringInfo(&buf);
	while (*p)
	{
		size_t		len;

		while (*p == '/')
			p++;
		len = strcspn(p, "/");
		if (len > 0 && !is_placeholder(p, len))
			append_segment(&buf, p, len);
		p += len;
	}
	return buf.data;
}

/*
 * Plurals that the general rule gets wrong, and words that are their own
 * plural.  Only the last '_'-separated word of a segment is looked up.
 */
static const struct
{
	const char *plural;
	const char *singular;
}			irregular_plurals[] =

{
	{"aliases", "alias"},
	{"analyses", "analysis"},
	{"addresses", "address"},
	{"batches", "batch"},
	{"matches", "match"},
	{"searches", "search"},
	{"statuses", "status"},
	{"indexes", "index"},
	{"boxes", "box"},
	{"processes", "process"},
	{"responses", "response"},
	{"databases", "database"},
	{"kubernetes", "kubernetes"},
	{"media", "media"},
	{"data", "data"},
	{"series", "series"},
	{"news", "news"},
	{"people", "person"},
	{"children", "child"},
};

/*
 * Singular of a path segment: '-' becomes '_', then the last word is made
 * singular (irregular table, then "-ies" -> "-y", "-ss"/"-us" kept, one
 * final "s" dropped).  identity-resolution -> identity_resolution,
 * cass-ncoa -> cass_ncoa, queries -> query, permission_sets -> permission_set.
 */
char *
civis_singular(const char *plural)
{
	char	   *s = pstrdup(plural);
	char	   *word;
	size_t		wlen;
	StringInfoData buf;

	for (char *p = s; *p; p++)
		if (*p == '-')
			*p = '_';

	word = strrchr(s, '_');
	word = word ? word + 1 : s;
	wlen = strlen(word);

	for (int i = 0; i < lengthof(irregular_plurals); i++)
	{
		if (strcmp(word, irregular_plurals[i].plural) == 0)
		{
			initStringInfo(&buf);
			appendBinaryStringInfo(&buf, s, word - s);
			appendStringInfoString(&buf, irregular_plurals[i].singular);
			pfree(s);
			return buf.data;
		}
	}

	if (wlen > 3 && strcmp(word + wlen - 3, "ies") == 0)
	{
		strcpy(word + wlen - 3, "y");
		return s;
	}
	if (wlen >= 2 && (strcmp(word + wlen - 2, "ss") == 0 ||
					  strcmp(word + wlen - 2, "us") == 0))
		return s;
	if (wlen > 1 && word[wlen - 1] == 's')
		word[wlen - 1] = '\0';
	return s;
}

/*
 * Column name for the path parameter "param" of "path" (see the file
 * header).  "param" is the placeholder's name without braces.
 */
char *
civis_path_param_column(const char *path, const char *param)
{
	const char *prev = NULL;
	size_t		prev_len = 0;
	const char *p = path;

	if (strcmp(param, "id") != 0)
		return civis_camel_to_snake(param);

	while (*p)
	{
		size_t		len;

		while (*p == '/')
			p++;
		len = strcspn(p, "/");
		if (len == 0)
			break;
		if (is_placeholder(p, len))
		{
			if (len == strlen(param) + 2 && strncmp(p + 1, param, len - 2) == 0)
				break;
		}
		else
		{
			prev = p;
			prev_len = len;
		}
		p += len;
	}

	if (prev == NULL)
		return pstrdup("id");
	else
	{
		char	   *seg = pnstrdup(prev, prev_len);
		char	   *sing = civis_singular(seg);

		return psprintf("%s_id", sing);
	}
}

/*
 * The placeholders of a path template, in order, as String nodes:
 * "/a/{id}/b/{run_id}" gives id, run_id.  The one scanner of {...} in a
 * path (import, planning and execution all use it).
 */
List *
civis_path_placeholders(const char *path)
{
	List	   *result = NIL;
	const char *p = path;

	while ((p = strchr(p, '{')) != NULL)
	{
		const char *end = strchr(p, '}');

		CHECK_FOR_INTERRUPTS();
		if (end == NULL)
			break;
		result = lappend(result, makeString(pnstrdup(p + 1, end - p - 1)));
		p = end + 1;
	}
	return result;
}
