/*
 * cjson_probe: a test-only module standing for "another extension in the
 * same backend that uses the system libcjson" (test/suites/hardening.sh).
 * cjson_probe_allocator() allocates a 1 MB string through cJSON's global
 * hooks and tells where the memory came from: 'malloc' (cJSON's defaults,
 * as any other user of libcjson expects), 'palloc' (someone's hooks that
 * palloc left installed), or 'failed' (hooks that refuse to allocate).
 * Never installed; loaded from the build folder by absolute path.
 */
#include "postgres.h"

#include <cjson/cJSON.h>

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(cjson_probe_allocator);

Datum
cjson_probe_allocator(PG_FUNCTION_ARGS)
{
	size_t		n = 1024 * 1024;
	char	   *text = malloc(n + 1);
	Size		before;
	Size		after;
	cJSON	   *s;
	const char *answer;

	if (text == NULL)
		elog(ERROR, "out of memory");
	memset(text, 'x', n);
	text[n] = '\0';
	before = MemoryContextMemAllocated(TopMemoryContext, true);
	s = cJSON_CreateString(text);
	after = MemoryContextMemAllocated(TopMemoryContext, true);
	free(text);
	if (s == NULL)
		answer = "failed";
	else if (after >= before + n)
		answer = "palloc";
	else
		answer = "malloc";
	/* freed through the same hooks that allocated it */
	if (s != NULL)
		cJSON_Delete(s);
	PG_RETURN_TEXT_P(cstring_to_text(answer));
}
