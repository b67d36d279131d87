/*-------------------------------------------------------------------------
 *
 * quirks.c
 *		  The one reviewed list of facts about the real Civis API that its
 *		  Swagger spec does not state.  Every row says where the behaviour
 *		  was seen.
 *
 * The spec-time tables are read by spec.c and import.c only: the rest of
 * the FDW reads the table and column options they produce, so changing a
 * row takes effect at the next IMPORT FOREIGN SCHEMA.  The run-time quirks
 * at the end (the id and window fields, the order parameters, the 404 that
 * means no rows, the parameters that hide rows, the members holding users'
 * own keys) are read by the planning and execution stages directly.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "civis_fdw.h"
#include "quirks.h"

/*
 * GETs that the API answers with a JSON array although the spec declares
 * one object.  The object definition describes one element.
 */
static const char *const array_response_paths[] = {
	/* civis-python _resources.py GET_PATHS_WITH_ARRAY_RESPONSE */
	"/credentials/types",
	/* civis-python _resources.py GET_PATHS_WITH_ARRAY_RESPONSE */
	"/databases/{}/users",
	/* civis-python _resources.py GET_PATHS_WITH_ARRAY_RESPONSE */
	"/jobs/{}/children",
	/* civis-python _resources.py GET_PATHS_WITH_ARRAY_RESPONSE */
	"/jobs/{}/parents",
	/* civis-python _resources.py GET_PATHS_WITH_ARRAY_RESPONSE (git commits) */
	"/notebooks/{}/git/commits",
	"/reports/{}/git/commits",
	"/workflows/{}/git/commits",
	"/scripts/sql/{}/git/commits",
	"/scripts/r/{}/git/commits",
	"/scripts/python3/{}/git/commits",
	"/scripts/javascript/{}/git/commits",
	/* civis-python _resources.py GET_PATHS_WITH_ARRAY_RESPONSE */
	"/scripts/{}/history",
};

/*
 * GETs that the API answers with one object although the spec declares an
 * array: civis-api-facts (cp 2.9.1, PR #538: the 36 ".../{id}/shares"
 * paths and "/search" go to LEGACY_PATHS_WITH_LIST_NAME; the recorded /search/ response is an
 * object {totalResults, aggregations, results}, ShareIndex one object with
 * readers/writers/owners).  import.c gives their tables the option
 * response 'object': that object is the one row.  Every other table
 * refuses an object where it expects a listing.
 */
static const char *const object_response_paths[] = {
	"*/{}/shares",
	"/search",
	/* the spec itself: IMPORT reads GET /endpoints as one object */
	"/endpoints",
};

/*
 * Response fields that arrive with another JSON type than declared.
 * These win over the evidence import.c gathers from the spec's examples.
 */
static const CivisTypeQuirk type_quirks[] = {
	/*
	 * Spec x-examples of GET /jobs/, /scripts/, /queries/, /projects/,
	 * /models/, /workflows/, /imports/, /enhancements/, /reports/ and more:
	 * "archived" is declared a string but arrives as JSON true/false.
	 */
	{.field = "archived", .sql_type = "boolean"},
	/* spec x-examples of GET /workflows/: fileId declared string, is a number */
	{.path_pattern = "/workflows", .field = "fileId", .sql_type = "bigint"},
	/* spec x-examples of GET /jobs/{id}/workflows: same as above */
	{.path_pattern = "/jobs/{}/workflows", .field = "fileId", .sql_type = "bigint"},

	/*
	 * Spec x-examples of the GET /clusters/... endpoints: organizationId and
	 * userId are declared strings but arrive as numbers.
	 */
	{.path_pattern = "/clusters/*", .field = "organizationId", .sql_type = "bigint"},
	{.path_pattern = "/clusters/*", .field = "userId", .sql_type = "bigint"},

	/*
	 * spec x-examples (cluster usage): diskSpace declared integer, has
	 * fractions
	 */
	{.field = "diskSpace", .sql_type = "double precision"},

	/*
	 * Spec x-examples of the GET .../runs/{run_id}/outputs endpoints: "value"
	 * is declared a string but holds the output object (a JSON value, a file,
	 * a table...).
	 */
	{.path_pattern = "*/runs/{}/outputs", .field = "value", .sql_type = "jsonb"},
	/* spec x-examples: transformationMetadata declared string, is an object */
	{.field = "transformationMetadata", .sql_type = "jsonb"},
};

/*
 * Query parameters.  The first matching row wins, so specific rows come
 * before general ones.
 */
static const CivisFilterQuirk filter_quirks[] = {
	/*
	 * Spec descriptions of GET /queries/ ("The state of the last run") and
	 * GET /workflows/ ("State of the most recent execution"): "state" filters
	 * the last run's state, not the row's own "state" field, so it must not
	 * be pushed as a condition on that column.
	 */
	{.path_pattern = "/queries", .param = "state", .column = "last_run_state"},
	{.path_pattern = "/workflows", .param = "state", .column = "last_run_state"},

	/*
	 * GET /queries/ items carry the database and credential ids in "database"
	 * and "credential" (integers), not databaseId/credentialId. Spec
	 * x-examples: GET /queries/?databaseId=563 (spelled databaseId, not
	 * database_id) answers the query whose "database" is 563; credential_id
	 * has no example at all.  No evidence for either mapping, so not exact:
	 * the condition is sent and rechecked (an API that ignores the parameter
	 * still gives the right rows).
	 */
	{.path_pattern = "/queries", .param = "database_id", .param_type = "integer",
	.column = "database"},
	{.path_pattern = "/queries", .param = "credential_id", .param_type = "integer",
	.column = "credential"},

	/*
	 * "archived": the field arrives boolean (see type_quirks) and the
	 * parameter is the same archival flag (spec: "The archival status of the
	 * requested item(s)"), so true/false filter exactly.  Unconstrained, the
	 * API lists only non-archived items; GET /search/ documents the value
	 * 'all' (civis-python passes it through on every listing), so a table
	 * sends archived=all unless the query asks otherwise: SELECT * FROM jobs
	 * includes archived jobs, as a table should.
	 */
	{.param = "archived", .exact = true, .evidence = CIVIS_EVIDENCE_SAME_NAME,
	.scope_default = "all", .values = "true,false,all"},

	/*
	 * Integer id filters (id, database_id, credential_id, author_id, ...):
	 * the spec x-examples send them as single ids (GET /queries/?authorId=,
	 * ?databaseId=, /tables/?database_id=, /predictions/?modelId=) and the
	 * rows returned carry that id.  Treated as SQL equality where the
	 * parameter filters the field of its own name (the spec's naming); a
	 * parameter that lands on a differently named column is rechecked.
	 */
	{.param = "id", .param_type = "integer", .exact = true,
	.evidence = CIVIS_EVIDENCE_SAME_NAME},
	{.param = "*_id", .param_type = "integer", .exact = true,
	.evidence = CIVIS_EVIDENCE_SAME_NAME},

	/*
	 * The rule: a row is exact only with evidence written in it, either
	 * CIVIS_EVIDENCE_SAME_NAME or the spec x-example that shows the mapping
	 * (scripts/quirks_check.py fails CI on an exact row without it).  Every
	 * other mapping is sent and rechecked, which costs no request.
	 *
	 * Not exact: "state", "status", "type" compare case-insensitively (seen
	 * in the mock API, assumed of the real one); "name", "q", "query",
	 * "schema", "search" and the like match substrings (spec descriptions:
	 * "Substring matching is supported").  These need no row: inexact is the
	 * default.
	 */
};

/*
 * Synthetic columns.  For one parameter, the first row whose conditions
 * hold on the item definition is used.
 *
 * "author" ("return items from any of these authors. It accepts a
 * comma-separated list of user IDs") appears on 16 list endpoints of the
 * real spec.  In 9 of them (/enhancements/, /exports/, /jobs/,
 * /permission_sets/, /projects/, /scripts/, /scripts/custom,
 * /templates/reports/, /templates/scripts/) the item has an "author" object;
 * in 6 others (/imports/, /models/, /notebooks/, /reports/, /services/,
 * /workflows/) it has a "user" object and no "author"; in
 * /users/me/activity "user" is a string.
 * x-examples of GET /projects/?author=2826,2797 and /scripts/?author=2239
 * return the rows whose author.id is one of the ids: that mapping is exact.
 * No example shows user.id, so that one is sent and rechecked.  The field
 * must be an object (in /users/me/activity "user" is a string: no column).
 */
static const CivisSyntheticQuirk synthetic_quirks[] = {
	{.param = "author", .needs_field = "author", .column = "author_id",
		.sql_type = "bigint", .key = "author.id", .list = "csv", .exact = true,
	.evidence = "x-examples GET /projects/?author=2826,2797 and GET /scripts/?author=2239"},
	{.param = "author", .needs_field = "user", .unless_field = "author",
		.column = "author_id", .sql_type = "bigint", .key = "user.id",
	.list = "csv"},
};

/* --------------------------------------------------------------------
 * Path pattern matching
 * -------------------------------------------------------------------- */

/* Length of the segment starting at s (up to '/' or NUL). */
static int
seg_len(const char *s)
{
	int			n = 0;

	while (s[n] != '\0' && s[n] != '/')
		n++;
	return n;
}

static const char *
next_seg(const char *s, int len)
{
	s += len;
	if (*s == '/')
		s++;
	return s;
}

static bool
match_segments(const char *pat, const char *path)
{
	int			pl;
	int			sl;

	/* a trailing '/' is insignificant */
	if (*pat == '\0')
		return *path == '\0';

	pl = seg_len(pat);
	if (pl == 1 && pat[0] == '*')
	{
		const char *rest = next_seg(pat, pl);

		/* zero or more segments */
		for (;;)
		{
			if (match_segments(rest, path))
				return true;
			if (*path == '\0')
				return false;
			path = next_seg(path, seg_len(path));
		}
	}

	if (*path == '\0')
		return false;
	sl = seg_len(path);

	if (pl == 2 && pat[0] == '{' && pat[1] == '}')
	{
		if (sl < 2 || path[0] != '{' || path[sl - 1] != '}')
			return false;
	}
	else if (pl != sl || strncmp(pat, path, pl) != 0)
		return false;

	return match_segments(next_seg(pat, pl), next_seg(path, sl));
}

/*
 * Does a spec path (e.g. "/jobs/{id}/runs") match a pattern (e.g.
 * "/jobs/{}/runs")?  A NULL pattern matches every path.
 */
bool
civis_path_matches(const char *pattern, const char *path)
{
	if (pattern == NULL)
		return true;
	if (path == NULL)
		return false;
	while (*pattern == '/')
		pattern++;
	while (*path == '/')
		path++;
	return match_segments(pattern, path);
}

/* --------------------------------------------------------------------
 * Lookups
 * -------------------------------------------------------------------- */

bool
civis_quirk_array_response(const char *path)
{
	for (int i = 0; i < lengthof(array_response_paths); i++)
	{
		if (civis_path_matches(array_response_paths[i], path))
			return true;
	}
	return false;
}

bool
civis_quirk_object_response(const char *path)
{
	for (int i = 0; i < lengthof(object_response_paths); i++)
	{
		if (civis_path_matches(object_response_paths[i], path))
			return true;
	}
	return false;
}

/* The column type that overrides the declared one, or NULL. */
const char *
civis_quirk_type(const char *path, const char *field)
{
	for (int i = 0; i < lengthof(type_quirks); i++)
	{
		if (strcmp(type_quirks[i].field, field) == 0 &&
			civis_path_matches(type_quirks[i].path_pattern, path))
			return type_quirks[i].sql_type;
	}
	return NULL;
}

static bool
param_name_matches(const char *pattern, const char *name)
{
	if (pattern[0] == '*')
	{
		size_t		pl = strlen(pattern + 1);
		size_t		nl = strlen(name);

		return nl > pl && strcmp(name + nl - pl, pattern + 1) == 0;
	}
	return strcmp(pattern, name) == 0;
}

/* The filter row for a query parameter of an endpoint, or NULL. */
const CivisFilterQuirk *
civis_quirk_filter(const char *path, const char *param, const char *param_type)
{
	for (int i = 0; i < lengthof(filter_quirks); i++)
	{
		const CivisFilterQuirk *q = &filter_quirks[i];

		if (!param_name_matches(q->param, param))
			continue;
		if (q->param_type != NULL &&
			(param_type == NULL || strcmp(q->param_type, param_type) != 0))
			continue;
		if (!civis_path_matches(q->path_pattern, path))
			continue;
		return q;
	}
	return NULL;
}

/* The index-th synthetic column row for a parameter, or NULL. */
const CivisSyntheticQuirk *
civis_quirk_synthetic(const char *param, int index)
{
	for (int i = 0; i < lengthof(synthetic_quirks); i++)
	{
		if (strcmp(synthetic_quirks[i].param, param) != 0)
			continue;
		if (index-- == 0)
			return &synthetic_quirks[i];
	}
	return NULL;
}

/* ------------------------------------------------------------------
 * Run-time quirks
 * ------------------------------------------------------------------ */

/*
 * Items are identified by "id": the cursor of last_id paging counts it
 * (GET /jobs/{id}/runs/{run_id}/logs, civis-api-resources "last_id") and
 * the detail endpoints take it (GET /jobs/{id}).
 */
const char *const civis_quirk_id_key = "id";

/*
 * Window paging (deployment logs) moves start_at to the last entry's
 * "createdAt"; start_at is inclusive, so entries at that instant repeat.
 */
const char *const civis_quirk_window_key = "createdAt";

/* Sorting is "order" plus "order_dir" (asc/desc) on every listing. */
const char *const civis_quirk_order_param = "order";
const char *const civis_quirk_order_dir_param = "order_dir";

/*
 * "hidden": "when true, list hidden items instead of visible ones"
 * (GET /jobs/ and 40 other listings).  Without the parameter a listing
 * leaves hidden items out, but GET /jobs/{id} returns them with
 * "hidden": true, so get-by-id must drop them to return what the listing
 * returns.
 */
bool
civis_quirk_param_hides_rows(const char *param)
{
	return strcmp(param, "hidden") == 0;
}

/*
 * 404 answers both "no such object" and "not yours to see"
 * (civis-api-facts: detail and sub-resource GETs): for get-by-id and for
 * a parent resource in the path it means no rows, not an error.
 */
bool
civis_quirk_status_means_no_rows(long status)
{
	return status == 404;
}

/*
 * Members whose contents are the user's own keys, which civis-python
 * leaves as they are when it converts response keys to snake_case
 * (civis-python response.py: "arguments", "environmentVariables", and the
 * "value" of a JSONValue).  The jsonb_snake_case option does the same.
 */
bool
civis_quirk_user_defined_keys(const char *member)
{
	return member != NULL &&
		(strcmp(member, "arguments") == 0 ||
		 strcmp(member, "environmentVariables") == 0 ||
		 strcmp(member, "value") == 0);
}
