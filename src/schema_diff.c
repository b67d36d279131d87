/*-------------------------------------------------------------------------
 *
 * schema_diff.c
 *		  Following the API as it changes (issue 23):
 *		  civis_fdw_schema_diff() compares what IMPORT FOREIGN SCHEMA would
 *		  create now with the foreign tables of a schema, one row per
 *		  difference; civis_fdw_schema_apply() applies the safe part in
 *		  place, in the caller's transaction and with the caller's rights.
 *
 * The definitions come from import.c's own code path (import.h), so a
 * diff and an import can never disagree.  Tables are matched to endpoints
 * by their "endpoint" option and columns by their "key" (else "param" of a
 * param_only column), never by name: import's collision suffixes depend on
 * the order of the spec, so a new endpoint can rename an existing table's
 * import name, and a renamed table is no difference.  Only the options
 * import writes are compared; the user's own (max_in_flight, ...) are not.
 *
 * The import record (table option "import", import.c) says with which
 * options a table was imported and holds a hash of its table options and
 * of each column: a difference on a column whose hash is in the record is
 * the API's doing ("api"); one on a column that is not is "by hand" and is
 * never touched by apply.  1.1.0's tables have no record: whole_item is
 * inferred from the column, and the origin is "unknown".
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/tuplestore.h"

#include "civis_fdw.h"
#include "compat.h"
#include "import.h"

PG_FUNCTION_INFO_V1(civis_fdw_schema_diff);
PG_FUNCTION_INFO_V1(civis_fdw_schema_apply);

typedef enum DiffKind
{
	DIFF_TABLE_ADDED,
	DIFF_TABLE_REMOVED,
	DIFF_COLUMN_ADDED,
	DIFF_COLUMN_REMOVED,
	DIFF_COLUMN_TYPE,
	DIFF_COLUMN_OPTIONS,
	DIFF_TABLE_OPTIONS
} DiffKind;

static const char *const change_names[] = {
	"table added", "table removed", "column added", "column removed",
	"column type changed", "column options changed", "table options changed"
};

typedef enum DiffOrigin
{
	ORIGIN_API,					/* as an import wrote it; the API moved */
	ORIGIN_HAND,				/* not what the import wrote */
	ORIGIN_UNKNOWN				/* no import record (1.1.0) */
} DiffOrigin;

static const char *const origin_names[] = {
	"api", "by hand", "unknown (no import record)"
};

typedef struct LocalColumn
{
	AttrNumber	attnum;
	char	   *name;
	char	   *type;			/* format_type() */
	List	   *options;
	char	   *identity;
	uint32		hash;
	bool		used;			/* matched to a column of the spec */
} LocalColumn;

typedef struct LocalTable
{
	Oid			relid;
	char	   *name;
	List	   *options;
	const char *endpoint;
	List	   *columns;		/* LocalColumn * */
	bool		matched;
	/* the import record, when there is one */
	bool		has_record;
	bool		whole_item;		/* recorded, else inferred */
	bool		include_deprecated;
	uint32		table_hash;
	List	   *column_hashes;	/* of uint32, as int */
	/* what apply changed, for the record it rewrites */
	bool		record_dirty;
	bool		options_applied;
	uint32		new_table_hash;
	List	   *applied_hashes;
} LocalTable;

typedef struct Diff
{
	DiffKind	kind;
	DiffOrigin	origin;
	LocalTable *local;			/* NULL for a table added */
	AttrNumber	attnum;			/* column removed / retyped, else 0 */
	uint32		new_hash;		/* of the column as import writes it */
	char	   *table;
	char	   *detail;
	char	   *statement;
} Diff;

typedef struct DiffArgs
{
	Oid			serverid;
	char	   *servername;
	Oid			nspid;
	char	   *schema;
	List	   *names;			/* LIMIT TO / EXCEPT names (char *) */
	bool		limit_to;
	bool		has_whole_item;
	bool		whole_item;
	bool		has_include_deprecated;
	bool		include_deprecated;
} DiffArgs;


/* --------------------------------------------------------------------
 * Small helpers
 * -------------------------------------------------------------------- */

/* The options of the list that import writes, in its order. */
static List *
import_written(List *options, const char *const *names)
{
	List	   *out = NIL;

	for (int i = 0; names[i] != NULL; i++)
	{
		ListCell   *lc;

		foreach(lc, options)
		{
			DefElem    *def = lfirst(lc);

			if (strcmp(def->defname, names[i]) == 0)
				out = lappend(out, def);
		}
	}
	return out;
}

static bool
true_option(List *options, const char *name)
{
	const char *v = civis_import_option_value(options, name);
	bool		b;

	return v != NULL && parse_bool(v, &b) && b;
}

/*
 * What a column is, whatever its name: the JSON member it reads, else the
 * request parameter of a param_only column.  A hand-written column without
 * either reads its own name, which no import column is matched by.
 */
static char *
column_identity(List *options, const char *name)
{
	const char *key = civis_import_option_value(options, "key");
	const char *param = civis_import_option_value(options, "param");

	if (key != NULL)
		return psprintf("key:%s", key);
	if (param != NULL && true_option(options, "param_only"))
		return psprintf("param:%s", param);
	return psprintf("name:%s", name);
}

static char *
options_text(List *options, const char *const *names)
{
	char	   *text = civis_import_options_text(import_written(options, names));

	/* " OPTIONS (...)" without its leading blank, or "no options" */
	return *text ? text + 1 : "no options";
}

static char *
qualified(const DiffArgs *a, const char *table)
{
	return psprintf("%s.%s", quote_identifier(a->schema),
					quote_identifier(table));
}

static bool
hash_listed(List *hashes, uint32 h)
{
	ListCell   *lc;

	foreach(lc, hashes)
		if ((uint32) lfirst_int(lc) == h)
			return true;
	return false;
}

/*
 * LIMIT TO / EXCEPT: by import's name, or by the table's own name when it
 * has been renamed.
 */
static bool
wanted(const DiffArgs *a, const char *import_name, const char *local_name)
{
	ListCell   *lc;
	bool		listed = false;

	if (a->names == NIL && !a->limit_to)
		return true;
	foreach(lc, a->names)
	{
		const char *n = lfirst(lc);

		if ((import_name && strcmp(n, import_name) == 0) ||
			(local_name && strcmp(n, local_name) == 0))
			listed = true;
	}
	return a->limit_to ? listed : !listed;
}

/* --------------------------------------------------------------------
 * The schema's foreign tables
 * -------------------------------------------------------------------- */

/*
 * "version=1.2.0 include_deprecated=true whole_item=false table=XXXXXXXX
 * columns=XXXXXXXX,..." (import.c).  A record this version cannot read
 * counts as none.
 */
static void
read_record(LocalTable *t, const char *record)
{
	char	   *copy = pstrdup(record);
	char	   *save = NULL;
	bool		have_table = false;

	for (char *tok = strtok_r(copy, " ", &save); tok;
		 tok = strtok_r(NULL, " ", &save))
	{
		char	   *eq = strchr(tok, '=');
		char	   *value;

		if (eq == NULL)
			continue;
		*eq = '\0';
		value = eq + 1;
		if (strcmp(tok, "include_deprecated") == 0)
			t->include_deprecated = strcmp(value, "true") == 0;
		else if (strcmp(tok, "whole_item") == 0)
			t->whole_item = strcmp(value, "true") == 0;
		else if (strcmp(tok, "table") == 0)
		{
			t->table_hash = (uint32) strtoul(value, NULL, 16);
			have_table = true;
		}
		else if (strcmp(tok, "columns") == 0)
		{
			char	   *save2 = NULL;

			for (char *h = strtok_r(value, ",", &save2); h;
				 h = strtok_r(NULL, ",", &save2))
				t->column_hashes = lappend_int(t->column_hashes,
											   (int) strtoul(h, NULL, 16));
		}
	}
	t->has_record = have_table;
}

static LocalTable *
read_local_table(Oid relid)
{
	LocalTable *t = palloc0(sizeof(LocalTable));
	ForeignTable *ft = GetForeignTable(relid);
	Relation	rel;
	TupleDesc	tupdesc;
	const char *record;

	t->relid = relid;
	t->name = get_rel_name(relid);
	t->options = ft->options;
	t->endpoint = civis_import_option_value(ft->options, "endpoint");
	t->include_deprecated = true;	/* import's default */

	/* the lock a diff needs: the definition must not change under it */
	rel = table_open(relid, AccessShareLock);
	tupdesc = RelationGetDescr(rel);
	for (int i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);
		LocalColumn *c;

		if (att->attisdropped)
			continue;
		c = palloc0(sizeof(LocalColumn));
		c->attnum = att->attnum;
		c->name = pstrdup(NameStr(att->attname));
		c->type = format_type_with_typemod(att->atttypid, att->atttypmod);
		c->options = GetForeignColumnOptions(relid, att->attnum);
		c->identity = column_identity(c->options, c->name);
		c->hash = civis_import_column_hash(c->type, c->options);
		/* 1.1.0: whole_item 'true' is known by its column */
		if (strcmp(c->identity, "key:.") == 0)
			t->whole_item = true;
		t->columns = lappend(t->columns, c);
	}
	table_close(rel, NoLock);

	record = civis_import_option_value(ft->options, CIVIS_IMPORT_RECORD_OPTION);
	if (record != NULL)
	{
		t->whole_item = false;
		read_record(t, record);
	}
	return t;
}

/* The foreign tables of the schema on the server, by name. */
static List *
read_local_tables(const DiffArgs *a)
{
	MemoryContext caller = CurrentMemoryContext;
	List	   *relids = NIL;
	List	   *tables = NIL;
	Oid			argtypes[2] = {OIDOID, OIDOID};
	Datum		values[2];
	ListCell   *lc;

	values[0] = ObjectIdGetDatum(a->nspid);
	values[1] = ObjectIdGetDatum(a->serverid);
	SPI_connect();
	if (SPI_execute_with_args("SELECT c.oid FROM pg_catalog.pg_class c"
							  " JOIN pg_catalog.pg_foreign_table f ON f.ftrelid = c.oid"
							  " WHERE c.relnamespace = $1 AND f.ftserver = $2"
							  " ORDER BY c.relname",
							  2, argtypes, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "civis_fdw: could not list the foreign tables of schema \"%s\"",
			 a->schema);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[i],
									  SPI_tuptable->tupdesc, 1, &isnull);
		MemoryContext old = MemoryContextSwitchTo(caller);

		relids = lappend_oid(relids, DatumGetObjectId(d));
		MemoryContextSwitchTo(old);
	}
	SPI_finish();

	foreach(lc, relids)
	{
		LocalTable *t;

		CHECK_FOR_INTERRUPTS();
		t = read_local_table(lfirst_oid(lc));
		if (t->endpoint != NULL)
			tables = lappend(tables, t);
	}
	return tables;
}

/* --------------------------------------------------------------------
 * The comparison
 * -------------------------------------------------------------------- */

static Diff *
add_diff(List **diffs, DiffKind kind, DiffOrigin origin, LocalTable *local,
		 const char *table)
{
	Diff	   *d = palloc0(sizeof(Diff));

	d->kind = kind;
	d->origin = origin;
	d->local = local;
	d->table = pstrdup(table);
	*diffs = lappend(*diffs, d);
	return d;
}

/* ALTER ... OPTIONS (SET a 'x', ADD b 'y', DROP c) from old to new, or NULL */
static char *
options_change(List *old, List *new, const char *const *names,
			   StringInfo detail)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; names[i] != NULL; i++)
	{
		const char *o = civis_import_option_value(old, names[i]);
		const char *n = civis_import_option_value(new, names[i]);

		if (o != NULL && n != NULL && strcmp(o, n) == 0)
			continue;
		if (o == NULL && n == NULL)
			continue;
		appendStringInfoString(&buf, buf.len == 0 ? "OPTIONS (" : ", ");
		if (o == NULL)
			appendStringInfo(&buf, "ADD %s %s", names[i], quote_literal_cstr(n));
		else if (n == NULL)
			appendStringInfo(&buf, "DROP %s", names[i]);
		else
			appendStringInfo(&buf, "SET %s %s", names[i], quote_literal_cstr(n));
		if (detail)
			appendStringInfo(detail, "%s%s: %s -> %s",
							 detail->len == 0 ? "" : ", ", names[i],
							 o ? quote_literal_cstr(o) : "(none)",
							 n ? quote_literal_cstr(n) : "(none)");
	}
	if (buf.len == 0)
		return NULL;
	appendStringInfoChar(&buf, ')');
	return buf.data;
}

/* A column name of the table not taken yet: name, name_2, name_3, ... */
static char *
free_column_name(LocalTable *t, const char *name, List *planned)
{
	for (int n = 1;; n++)
	{
		char	   *candidate = n == 1 ? pstrdup(name) : psprintf("%s_%d", name, n);
		bool		taken = false;
		ListCell   *lc;

		foreach(lc, t->columns)
			if (strcmp(((LocalColumn *) lfirst(lc))->name, candidate) == 0)
				taken = true;
		foreach(lc, planned)
			if (strcmp((char *) lfirst(lc), candidate) == 0)
				taken = true;
		if (!taken)
			return candidate;
	}
}

/* A table name of the schema not taken yet: name, name_2, ... */
static char *
free_table_name(const DiffArgs *a, const char *name, List *planned)
{
	for (int n = 1;; n++)
	{
		char	   *candidate = n == 1 ? pstrdup(name) : psprintf("%s_%d", name, n);
		bool		taken = OidIsValid(get_relname_relid(candidate, a->nspid));
		ListCell   *lc;

		foreach(lc, planned)
			if (strcmp((char *) lfirst(lc), candidate) == 0)
				taken = true;
		if (!taken)
			return candidate;
	}
}

/* table options: paging kind, page size, ... */
static void
compare_table_options(const DiffArgs *a, LocalTable *t,
					  CivisImportTableDef *def, List **diffs)
{
	DiffOrigin	table_origin;
	StringInfoData detail;
	char	   *change;

	if (!t->has_record)
		table_origin = ORIGIN_UNKNOWN;
	else if (civis_import_table_hash(t->options) == t->table_hash)
		table_origin = ORIGIN_API;
	else
		table_origin = ORIGIN_HAND;

	initStringInfo(&detail);
	change = options_change(t->options, def->options,
							civis_import_table_option_names, &detail);
	if (change != NULL)
	{
		Diff	   *d = add_diff(diffs, DIFF_TABLE_OPTIONS, table_origin, t, t->name);

		d->detail = detail.data;
		d->statement = psprintf("ALTER FOREIGN TABLE %s %s",
								qualified(a, t->name), change);
		d->new_hash = civis_import_table_hash(def->options);
	}
}

/* The existing column a column of the spec is, by key or param, or NULL. */
static LocalColumn *
match_column(LocalTable *t, CivisImportColumnDef *dc)
{
	char	   *identity = column_identity(dc->options, dc->name);
	ListCell   *lc;

	foreach(lc, t->columns)
	{
		LocalColumn *c = lfirst(lc);

		if (!c->used && strcmp(c->identity, identity) == 0)
			return c;
	}
	return NULL;
}

/* A column of the spec that the table lacks: added, under a free name. */
static void
column_added(const DiffArgs *a, LocalTable *t, CivisImportColumnDef *dc,
			 List **planned, List **diffs)
{
	uint32		new_hash = civis_import_column_hash(dc->type, dc->options);
	char	   *name = free_column_name(t, dc->name, *planned);
	bool		dropped_by_hand = false;
	Diff	   *d;
	ListCell   *lc;

	/* written by the import, gone from the table: dropped by hand */
	if (t->has_record && hash_listed(t->column_hashes, new_hash))
	{
		dropped_by_hand = true;
		foreach(lc, t->columns)
			if (((LocalColumn *) lfirst(lc))->hash == new_hash)
				dropped_by_hand = false;
	}
	*planned = lappend(*planned, name);
	d = add_diff(diffs, DIFF_COLUMN_ADDED,
				 dropped_by_hand ? ORIGIN_HAND :
				 t->has_record ? ORIGIN_API : ORIGIN_UNKNOWN,
				 t, t->name);
	d->detail = psprintf("column %s %s %s", quote_identifier(name), dc->type,
						 options_text(dc->options,
									  civis_import_column_option_names));
	d->statement = psprintf("ALTER FOREIGN TABLE %s ADD COLUMN %s %s%s",
							qualified(a, t->name), quote_identifier(name),
							dc->type, civis_import_options_text(dc->options));
	d->new_hash = new_hash;
}

/* One existing table against the table import would write for it. */
static void
compare_table(const DiffArgs *a, LocalTable *t, CivisImportTableDef *def,
			  List **diffs)
{
	char	   *rel = qualified(a, t->name);
	char	   *change;
	List	   *planned = NIL;
	ListCell   *lc;

	compare_table_options(a, t, def, diffs);

	/* the spec's columns, in import's order */
	foreach(lc, def->columns)
	{
		CivisImportColumnDef *dc = lfirst(lc);
		uint32		new_hash = civis_import_column_hash(dc->type, dc->options);
		LocalColumn *c = match_column(t, dc);
		DiffOrigin	origin;

		CHECK_FOR_INTERRUPTS();
		if (c == NULL)
		{
			column_added(a, t, dc, &planned, diffs);
			continue;
		}

		c->used = true;
		if (!t->has_record)
			origin = ORIGIN_UNKNOWN;
		else if (hash_listed(t->column_hashes, c->hash))
			origin = ORIGIN_API;
		else
			origin = ORIGIN_HAND;

		if (strcmp(c->type, dc->type) != 0)
		{
			Diff	   *d = add_diff(diffs, DIFF_COLUMN_TYPE, origin, t, t->name);

			d->attnum = c->attnum;
			d->detail = psprintf("column %s: %s -> %s",
								 quote_identifier(c->name), c->type, dc->type);
			d->statement = psprintf("ALTER FOREIGN TABLE %s ALTER COLUMN %s TYPE %s",
									rel, quote_identifier(c->name), dc->type);
			d->new_hash = new_hash;
		}
		change = options_change(c->options, dc->options,
								civis_import_column_option_names, NULL);
		if (change != NULL)
		{
			Diff	   *d = add_diff(diffs, DIFF_COLUMN_OPTIONS, origin, t, t->name);

			d->detail = psprintf("column %s: %s -> %s", quote_identifier(c->name),
								 options_text(c->options,
											  civis_import_column_option_names),
								 options_text(dc->options,
											  civis_import_column_option_names));
			d->statement = psprintf("ALTER FOREIGN TABLE %s ALTER COLUMN %s %s",
									rel, quote_identifier(c->name), change);
			d->new_hash = new_hash;
		}
	}

	/* columns the import would not write: gone from the API, or the user's */
	foreach(lc, t->columns)
	{
		LocalColumn *c = lfirst(lc);
		Diff	   *d;

		if (c->used)
			continue;
		d = add_diff(diffs, DIFF_COLUMN_REMOVED,
					 !t->has_record ? ORIGIN_UNKNOWN :
					 hash_listed(t->column_hashes, c->hash) ? ORIGIN_API : ORIGIN_HAND,
					 t, t->name);
		d->attnum = c->attnum;
		d->detail = psprintf("column %s %s %s", quote_identifier(c->name), c->type,
							 options_text(c->options,
										  civis_import_column_option_names));
		d->statement = psprintf("ALTER FOREIGN TABLE %s DROP COLUMN %s",
								rel, quote_identifier(c->name));
	}
}

/*
 * An endpoint import would make no table for (deprecated and left out, or
 * without columns): its tables are removed.
 */
static void
no_table(const DiffArgs *a, CivisImportTableDef *def, List *locals,
		 List **diffs)
{
	ListCell   *lc;

	foreach(lc, locals)
	{
		LocalTable *t = lfirst(lc);
		Diff	   *d;

		if (strcmp(t->endpoint, def->endpoint) != 0 ||
			!wanted(a, def->name, t->name))
			continue;
		d = add_diff(diffs, DIFF_TABLE_REMOVED,
					 t->has_record ? ORIGIN_API : ORIGIN_UNKNOWN, t, t->name);
		d->detail = psprintf("endpoint %s: an import would not create a table for it (deprecated, or without fields)",
							 def->endpoint);
		d->statement = psprintf("DROP FOREIGN TABLE %s", qualified(a, t->name));
	}
}

/* A new endpoint: its table, under import's name unless that is taken. */
static void
table_added(const DiffArgs *a, CivisImportTableDef *def, List **planned,
			List **diffs)
{
	char	   *name = free_table_name(a, def->name, *planned);
	Diff	   *d;

	*planned = lappend(*planned, name);
	d = add_diff(diffs, DIFF_TABLE_ADDED, ORIGIN_API, NULL, name);
	d->detail = psprintf("endpoint %s: %d columns", def->endpoint,
						 list_length(def->columns));
	d->statement = civis_import_statement(def, a->schema, name, a->servername);
}

/*
 * Every difference between the spec (one request) and the schema, in
 * spec order, then the tables whose endpoint is gone.
 */
static List *
schema_diff(const DiffArgs *a)
{
	List	   *locals = read_local_tables(a);
	List	   *defs = civis_import_fetch(a->serverid);
	List	   *diffs = NIL;
	List	   *planned = NIL;
	bool		schema_whole_item = false;
	ListCell   *lc;

	/* new tables follow the schema: whole_item if its tables have it */
	foreach(lc, locals)
		if (((LocalTable *) lfirst(lc))->whole_item)
			schema_whole_item = true;

	foreach(lc, defs)
	{
		CivisImportTableDef *def = lfirst(lc);
		LocalTable *first = NULL;
		bool		any_wanted = false;
		bool		whole_item;
		bool		include_deprecated;
		ListCell   *lc2;

		CHECK_FOR_INTERRUPTS();
		foreach(lc2, locals)
		{
			LocalTable *t = lfirst(lc2);

			if (strcmp(t->endpoint, def->endpoint) != 0)
				continue;
			t->matched = true;
			if (first == NULL)
				first = t;
			if (wanted(a, def->name, t->name))
				any_wanted = true;
		}
		if (first == NULL ? !wanted(a, def->name, NULL) : !any_wanted)
			continue;

		/* the options the table was imported with, unless told otherwise */
		whole_item = a->has_whole_item ? a->whole_item :
			first ? first->whole_item : schema_whole_item;
		include_deprecated = a->has_include_deprecated ? a->include_deprecated :
			first ? first->include_deprecated : true;

		if (!civis_import_define(def, whole_item, include_deprecated))
			no_table(a, def, locals, &diffs);
		else if (first == NULL)
			table_added(a, def, &planned, &diffs);
		else
			foreach(lc2, locals)
			{
				LocalTable *t = lfirst(lc2);

				if (strcmp(t->endpoint, def->endpoint) == 0 &&
					wanted(a, def->name, t->name))
					compare_table(a, t, def, &diffs);
			}
	}

	foreach(lc, locals)
	{
		LocalTable *t = lfirst(lc);
		Diff	   *d;

		if (t->matched || !wanted(a, NULL, t->name))
			continue;
		d = add_diff(&diffs, DIFF_TABLE_REMOVED,
					 t->has_record ? ORIGIN_API : ORIGIN_UNKNOWN, t, t->name);
		d->detail = psprintf("endpoint %s is not in the API's spec", t->endpoint);
		d->statement = psprintf("DROP FOREIGN TABLE %s", qualified(a, t->name));
	}
	return diffs;
}

/* --------------------------------------------------------------------
 * Arguments
 * -------------------------------------------------------------------- */

static List *
text_array_names(ArrayType *arr)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	List	   *names = NIL;

	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
		if (!nulls[i])
			names = lappend(names, TextDatumGetCString(elems[i]));
	return names;
}

static void
read_args(FunctionCallInfo fcinfo, const char *function, DiffArgs *a)
{
	ForeignServer *server;
	ForeignDataWrapper *fdw;
	char	   *handler;

	memset(a, 0, sizeof(*a));
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s needs a server and a schema", function),
				 errhint("Call it as %s('server', 'schema').", function)));
	server = GetForeignServerByName(NameStr(*PG_GETARG_NAME(0)), false);
	fdw = GetForeignDataWrapper(server->fdwid);
	handler = OidIsValid(fdw->fdwhandler) ? get_func_name(fdw->fdwhandler) : NULL;
	if (handler == NULL || strcmp(handler, "civis_fdw_handler") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("server \"%s\" is not a civis_fdw server", server->servername),
				 errhint("Name a server created with FOREIGN DATA WRAPPER civis_fdw.")));
	a->serverid = server->serverid;
	a->servername = server->servername;
	a->schema = pstrdup(NameStr(*PG_GETARG_NAME(1)));
	a->nspid = get_namespace_oid(a->schema, false);

	/*
	 * What IMPORT FOREIGN SCHEMA needs, the diff needs too: it shows what an
	 * import would create, and apply creates it.
	 */
	if (!civis_has_server_privilege(a->serverid, ACL_USAGE))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for foreign server %s", a->servername),
				 errhint("%s needs what IMPORT FOREIGN SCHEMA needs: ask the server's owner to GRANT USAGE ON FOREIGN SERVER %s.",
						 function, quote_identifier(a->servername))));
	if (!civis_has_schema_privilege(a->nspid, ACL_CREATE))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for schema %s", a->schema),
				 errhint("%s needs what IMPORT FOREIGN SCHEMA needs: ask the schema's owner to GRANT CREATE ON SCHEMA %s.",
						 function, quote_identifier(a->schema))));

	if (!PG_ARGISNULL(2) && !PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("limit_to and except_tables cannot both be given"),
				 errhint("Give one list, as IMPORT FOREIGN SCHEMA takes LIMIT TO or EXCEPT.")));
	if (!PG_ARGISNULL(2))
	{
		a->limit_to = true;
		a->names = text_array_names(PG_GETARG_ARRAYTYPE_P(2));
	}
	else if (!PG_ARGISNULL(3))
		a->names = text_array_names(PG_GETARG_ARRAYTYPE_P(3));
	if (!PG_ARGISNULL(4))
	{
		a->has_include_deprecated = true;
		a->include_deprecated = PG_GETARG_BOOL(4);
	}
	if (!PG_ARGISNULL(5))
	{
		a->has_whole_item = true;
		a->whole_item = PG_GETARG_BOOL(5);
	}
}

static void
put_row(ReturnSetInfo *rsinfo, Diff *d, const char *result)
{
	Datum		values[6];
	bool		nulls[6];

	memset(nulls, 0, sizeof(nulls));
	values[0] = CStringGetTextDatum(d->table);
	values[1] = CStringGetTextDatum(change_names[d->kind]);
	values[2] = CStringGetTextDatum(d->detail);
	values[3] = CStringGetTextDatum(d->statement);
	values[4] = CStringGetTextDatum(origin_names[d->origin]);
	if (result != NULL)
		values[5] = CStringGetTextDatum(result);
	else
		nulls[5] = true;
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

Datum
civis_fdw_schema_diff(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	DiffArgs	a;
	ListCell   *lc;

	read_args(fcinfo, "civis_fdw_schema_diff", &a);
	civis_materialized_srf(fcinfo);
	foreach(lc, schema_diff(&a))
		put_row(rsinfo, lfirst(lc), NULL);
	return (Datum) 0;
}

/* --------------------------------------------------------------------
 * Apply
 * -------------------------------------------------------------------- */

/*
 * What depends on the table (attnum 0) or one of its columns, by name:
 * views and materialized views (through their rules), and whatever uses
 * the table's row type.  Empty when nothing does.  A blocked change is
 * reported and not tried: never CASCADE.
 */
static char *
dependents(Oid relid, AttrNumber attnum)
{
	MemoryContext caller = CurrentMemoryContext;
	Oid			argtypes[2] = {OIDOID, INT4OID};
	Datum		values[2];
	StringInfoData buf;

	values[0] = ObjectIdGetDatum(relid);
	values[1] = Int32GetDatum(attnum);
	SPI_connect();
	if (SPI_execute_with_args(
							  "SELECT DISTINCT CASE WHEN d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass"
							  "  THEN (SELECT CASE c.relkind WHEN 'm' THEN 'materialized view ' ELSE 'view ' END"
							  "               || r.ev_class::pg_catalog.regclass::text"
							  "          FROM pg_catalog.pg_rewrite r JOIN pg_catalog.pg_class c ON c.oid = r.ev_class"
							  "         WHERE r.oid = d.objid)"
							  "  ELSE pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid) END"
							  " FROM pg_catalog.pg_depend d"
							  " WHERE d.deptype = 'n' AND NOT (d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass"
							  "   AND EXISTS (SELECT 1 FROM pg_catalog.pg_rewrite r WHERE r.oid = d.objid AND r.ev_class = $1))"
							  "   AND ((d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid = $1"
							  "         AND ($2 = 0 OR d.refobjsubid IN (0, $2)))"
							  "     OR (d.refclassid = 'pg_catalog.pg_type'::pg_catalog.regclass"
							  "         AND d.refobjid = (SELECT reltype FROM pg_catalog.pg_class WHERE oid = $1)))"
							  " ORDER BY 1",
							  2, argtypes, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "civis_fdw: could not read the dependents of relation %u", relid);
	initStringInfo(&buf);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		char	   *name = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);

		if (name == NULL)
			continue;
		appendStringInfo(&buf, "%s%s", buf.len == 0 ? "" : ", ", name);
	}
	SPI_finish();
	{
		MemoryContext old = MemoryContextSwitchTo(caller);
		char	   *out = pstrdup(buf.data);

		MemoryContextSwitchTo(old);
		return out;
	}
}

/*
 * Run one statement, with the caller's rights, in a subtransaction: a
 * statement that fails (a lock_timeout behind a running refresh) is
 * reported and the rest goes on; a cancel stops everything.  NULL when it
 * ran, else the error's message.
 */
static char *
run_statement(const char *sql)
{
	MemoryContext caller = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	char	   *volatile failure = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(caller);
	PG_TRY();
	{
		SPI_connect();
		if (SPI_execute(sql, false, 0) < 0)
			elog(ERROR, "civis_fdw: could not run \"%s\"", sql);
		SPI_finish();
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(caller);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(caller);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(caller);
		CurrentResourceOwner = owner;
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED ||
			edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN)
			ReThrowError(edata);
		failure = edata->message;
	}
	PG_END_TRY();
	return failure;
}

/* Whether apply may make this change, or why not (a row's "result"). */
static const char *
refusal(Diff *d, bool update_options, bool drop_removed, bool change_types)
{
	if (d->origin == ORIGIN_HAND)
		return "skipped: changed by hand";
	if (d->local != NULL && !civis_owns_relation(d->local->relid))
		return psprintf("skipped: not owned by %s",
						GetUserNameFromId(GetUserId(), false));
	switch (d->kind)
	{
		case DIFF_TABLE_ADDED:
		case DIFF_COLUMN_ADDED:
			return NULL;
		case DIFF_TABLE_OPTIONS:
		case DIFF_COLUMN_OPTIONS:
			return update_options ? NULL : "skipped: needs update_options => true";
		case DIFF_TABLE_REMOVED:
		case DIFF_COLUMN_REMOVED:
			return drop_removed ? NULL : "skipped: needs drop_removed => true";
		case DIFF_COLUMN_TYPE:
			return change_types ? NULL : "skipped: needs change_types => true";
	}
	return NULL;
}

/*
 * After apply changed a table imported by this version, its record says
 * so: the columns apply wrote are the import's, not the user's.
 */
static void
rewrite_record(const DiffArgs *a, LocalTable *t)
{
	StringInfoData buf;
	ListCell   *lc;
	char	   *failure;

	initStringInfo(&buf);
	appendStringInfo(&buf, "version=1.2.0 include_deprecated=%s whole_item=%s table=%08x columns=",
					 t->include_deprecated ? "true" : "false",
					 t->whole_item ? "true" : "false",
					 t->options_applied ? t->new_table_hash : t->table_hash);
	foreach(lc, list_concat(list_copy(t->column_hashes), t->applied_hashes))
		appendStringInfo(&buf, "%s%08x", foreach_current_index(lc) == 0 ? "" : ",",
						 (uint32) lfirst_int(lc));
	failure = run_statement(psprintf("ALTER FOREIGN TABLE %s OPTIONS (SET %s %s)",
									 qualified(a, t->name),
									 CIVIS_IMPORT_RECORD_OPTION,
									 quote_literal_cstr(buf.data)));
	if (failure != NULL)
		ereport(WARNING,
				(errmsg("could not update the import record of foreign table \"%s\": %s",
						t->name, failure),
				 errhint("civis_fdw_schema_diff may report the changes just applied as made by hand.")));
}

Datum
civis_fdw_schema_apply(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	DiffArgs	a;
	bool		update_options = !PG_ARGISNULL(6) && PG_GETARG_BOOL(6);
	bool		drop_removed = !PG_ARGISNULL(7) && PG_GETARG_BOOL(7);
	bool		change_types = !PG_ARGISNULL(8) && PG_GETARG_BOOL(8);
	List	   *diffs;
	List	   *dirty = NIL;
	ListCell   *lc;

	read_args(fcinfo, "civis_fdw_schema_apply", &a);
	civis_materialized_srf(fcinfo);
	diffs = schema_diff(&a);

	/*
	 * The table-count limit of IMPORT FOREIGN SCHEMA (each table created
	 * holds a lock until the transaction ends), over the tables about to be
	 * created, before any statement runs.
	 */
	{
		int			added = 0;

		foreach(lc, diffs)
			if (((Diff *) lfirst(lc))->kind == DIFF_TABLE_ADDED)
				added++;
		civis_import_check_table_count(added);
	}

	foreach(lc, diffs)
	{
		Diff	   *d = lfirst(lc);
		const char *result = refusal(d, update_options, drop_removed, change_types);
		char	   *failure;

		CHECK_FOR_INTERRUPTS();
		if (result == NULL &&
			(d->kind == DIFF_TABLE_REMOVED || d->kind == DIFF_COLUMN_REMOVED ||
			 d->kind == DIFF_COLUMN_TYPE))
		{
			char	   *deps = dependents(d->local->relid, d->attnum);

			if (*deps)
				result = psprintf("blocked: used by %s", deps);
		}
		if (result == NULL)
		{
			failure = run_statement(d->statement);
			result = failure ? psprintf("failed: %s", failure) : "applied";
			if (failure == NULL && d->local != NULL && d->local->has_record &&
				d->kind != DIFF_TABLE_REMOVED && d->kind != DIFF_COLUMN_REMOVED)
			{
				if (d->kind == DIFF_TABLE_OPTIONS)
				{
					d->local->options_applied = true;
					d->local->new_table_hash = d->new_hash;
				}
				else
					d->local->applied_hashes = lappend_int(d->local->applied_hashes,
														   (int) d->new_hash);
				if (!d->local->record_dirty)
					dirty = lappend(dirty, d->local);
				d->local->record_dirty = true;
			}
		}
		put_row(rsinfo, d, result);
	}

	foreach(lc, dirty)
		rewrite_record(&a, lfirst(lc));
	return (Datum) 0;
}
