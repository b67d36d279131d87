/*-------------------------------------------------------------------------
 *
 * import.c
 *		  IMPORT FOREIGN SCHEMA: the API's own Swagger 2.0 spec (GET
 *		  /endpoints) -> one CREATE FOREIGN TABLE per list endpoint.
 *
 * spec.c reads the spec into endpoints; this file decides what becomes a
 * table, its columns and options, and writes the statements.  The rules
 * are the README's "Naming rules"; in short, columns come in this order:
 *   (a) path parameters not carried by a response field (param_only);
 *   (b) one per property of the item, in spec order (then whole_item);
 *   (c) synthetic columns from quirks.c (author_id);
 *   (d) parameter-only columns (query parameters that match no field).
 * Query parameters become options of the column they filter (param, list,
 * values, exact, before/after, scope_default 'all' when "all" is among
 * their values); paging parameters are never columns.  Types: as declared,
 * unless quirks.c or the spec's own x-examples say otherwise.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "civis_fdw.h"
#include "compat.h"
#include "import.h"
#include "quirks.h"
#include "spec.h"

#include "access/htup_details.h"
#include "access/twophase.h"
#include "catalog/heap.h"
#include "commands/defrem.h"
#include "foreign/foreign.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "storage/lock.h"
#include "parser/parse_type.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

/* The name of the column holding the whole item (README, naming rules). */
#define CIVIS_WHOLE_ITEM_COLUMN "whole_item"

/*
 * The most tables one IMPORT FOREIGN SCHEMA creates (issue 19).  Each
 * table created holds a lock until the transaction ends, in the lock table
 * the whole cluster shares: an import of 20,000 tables ran out of shared
 * memory after seconds, for every backend.  So an import is refused, before
 * anything is created, above half the lock table's nominal size
 * (max_locks_per_transaction x (max_connections + ... + max_prepared_
 * transactions)) or this constant, whichever is lower.  The real Civis API
 * has a few hundred list endpoints.
 */
#define CIVIS_IMPORT_MAX_TABLES 10000

typedef struct ImportColumn
{
	char	   *name;			/* unquoted column name */
	const char *type;			/* SQL type */
	char	   *key;			/* JSON member, or NULL (param_only) */
	char	   *param;
	bool		param_only;
	bool		exact;
	const char *evidence;		/* why exact (quirks.h), written with it */
	char	   *values;
	const char *list;
	char	   *after;
	char	   *before;
	char	   *scope_default;
	char	   *order_by;
	bool		secret;
	bool		field;			/* a property of the item definition */
	bool		scalar;			/* ... of a scalar type */
} ImportColumn;

/*
 * A set of names as PostgreSQL stores them (at most NAMEDATALEN - 1
 * bytes): the tables of an import, or the columns of a table.  Finding a
 * name and a free variant of it is O(1), whatever the spec repeats.
 */
typedef struct NameEntry
{
	char		name[NAMEDATALEN];	/* the key */
	void	   *owner;			/* ImportColumn * or ImportTable * */
	int			next_variant;	/* first variant of this name to try */
} NameEntry;

typedef struct ImportTable
{
	const CivisSpecEndpoint *ep;
	char	   *name;
	HTAB	   *column_names;	/* NameEntry of every column */
	List	   *columns;		/* ImportColumn *, final order */
	List	   *fields;			/* (b) */
	List	   *path_cols;		/* (a) */
	List	   *synthetic;		/* (c) */
	List	   *param_cols;		/* (d) */
} ImportTable;


/* --------------------------------------------------------------------
 * Small string helpers
 * -------------------------------------------------------------------- */

static bool
ends_with(const char *s, const char *suffix)
{
	size_t		sl = strlen(s);
	size_t		xl = strlen(suffix);

	return sl >= xl && strcmp(s + sl - xl, suffix) == 0;
}

/* Paging machinery and the sort parameters are not columns. */
static bool
is_paging_param(const char *name)
{
	return civis_is_paging_param(name) ||
		strcmp(name, civis_quirk_order_param) == 0 ||
		strcmp(name, civis_quirk_order_dir_param) == 0;
}

static char *
join_values(List *values)
{
	StringInfoData buf;
	ListCell   *lc;

	if (values == NIL)
		return NULL;
	initStringInfo(&buf);
	foreach(lc, values)
	{
		if (buf.len > 0)
			appendStringInfoChar(&buf, ',');
		appendStringInfoString(&buf, (char *) lfirst(lc));
	}
	return buf.data;
}

static bool
values_contain(List *values, const char *v)
{
	ListCell   *lc;

	foreach(lc, values)
		if (strcmp((char *) lfirst(lc), v) == 0)
			return true;
	return false;
}

/* --------------------------------------------------------------------
 * Name sets
 * -------------------------------------------------------------------- */

static HTAB *
name_set(const char *what, long nelem)
{
	HASHCTL		ctl;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = NAMEDATALEN;
	ctl.entrysize = sizeof(NameEntry);
	ctl.hcxt = CurrentMemoryContext;
	return hash_create(what, Max(nelem, 16), &ctl,
					   HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
}

/*
 * name as PostgreSQL would store it with reserve bytes left free for a
 * suffix: cut to NAMEDATALEN - 1 - reserve bytes on a character boundary
 * (spec.c has checked the text to be valid in the database encoding).
 */
static char *
clip_name(const char *name, int reserve)
{
	int			len = strlen(name);
	int			max = NAMEDATALEN - 1 - reserve;

	if (len <= max)
		return pstrdup(name);
	return pnstrdup(name, pg_mbcliplen(name, len, max));
}

static NameEntry *
name_find(HTAB *set, const char *name)
{
	return (NameEntry *) hash_search(set, name, HASH_FIND, NULL);
}

/*
 * Claim a name of the set for owner: base itself when free, else the
 * first free variant(base, n) for n = 1, 2, ...  Each base remembers how
 * far its variants are taken, so N claims of one name cost O(N).
 */
static char *
claim_name(HTAB *set, const char *base, void *owner,
		   char *(*variant) (const char *base, int n, void *arg), void *arg)
{
	char	   *candidate = clip_name(base, 0);
	NameEntry  *base_entry = name_find(set, candidate);
	NameEntry  *entry;
	bool		found;

	if (base_entry != NULL)
	{
		int			n = Max(base_entry->next_variant, 1);

		for (;; n++)
		{
			CHECK_FOR_INTERRUPTS();
			candidate = variant(base, n, arg);
			if (name_find(set, candidate) == NULL)
				break;
		}
		base_entry->next_variant = n + 1;
	}
	entry = (NameEntry *) hash_search(set, candidate, HASH_ENTER, &found);
	Assert(!found);
	entry->owner = owner;
	entry->next_variant = 1;
	return candidate;
}

/* base + suffix, base clipped so that the suffix survives */
static char *
with_suffix(const char *base, const char *suffix)
{
	return psprintf("%s%s", clip_name(base, strlen(suffix)), suffix);
}

/* --------------------------------------------------------------------
 * Columns
 * -------------------------------------------------------------------- */

/*
 * The column name a wanted name turns into before uniqueness: clipped to
 * NAMEDATALEN - 1 bytes, and with a trailing '_' when it is the name of a
 * system column (ctid, xmin, cmin, xmax, cmax, tableoid), which no user
 * column may have.
 */
static char *
column_form(const char *name)
{
	char	   *clipped = clip_name(name, 0);

	if (SystemAttributeByName(clipped) != NULL)
		return psprintf("%s_", clipped);
	return clipped;
}

static ImportColumn *
find_column(ImportTable *t, const char *name)
{
	NameEntry  *e = name_find(t->column_names, column_form(name));

	return e ? (ImportColumn *) e->owner : NULL;
}

/* name_param, name_param2, ... */
static char *
column_variant(const char *base, int n, void *arg)
{
	return n == 1 ? with_suffix(base, "_param")
		: with_suffix(base, psprintf("_param%d", n));
}

/*
 * A new column named name (column_form), or, when a column has that name
 * already, name_param, name_param2, ...  (Only reached when a parameter-
 * only column would take the name of a non-scalar field, or a spec repeats
 * a name.)
 */
static ImportColumn *
new_column(ImportTable *t, const char *name, const char *type)
{
	ImportColumn *c = palloc0(sizeof(ImportColumn));

	c->name = claim_name(t->column_names, column_form(name), c,
						 column_variant, NULL);
	c->type = type;
	return c;
}

static bool
is_secret_name(const char *name)
{
	return strstr(name, "password") || strstr(name, "secret") ||
		strstr(name, "token") || strstr(name, "key");
}

/* (b) one column per property of the item definition */
static void
build_field_columns(ImportTable *t)
{
	ListCell   *lc;

	foreach(lc, t->ep->properties)
	{
		CivisSpecProperty *prop = lfirst(lc);
		const char *type = civis_quirk_type(t->ep->path, prop->name);
		ImportColumn *c;

		if (prop->example_type != NULL)
			elog(DEBUG1, "%s: field \"%s\" declared %s, examples show %s%s",
				 t->ep->path, prop->name, prop->sql_type, prop->example_type,
				 type == NULL ? "" : strcmp(type, prop->example_type) == 0 ?
				 " (as quirks.c says)" : " (quirks.c says otherwise)");
		if (type == NULL)
			type = prop->example_type;
		if (type == NULL)
			type = prop->sql_type;

		CHECK_FOR_INTERRUPTS();
		c = new_column(t, civis_camel_to_snake(prop->name), type);
		c->key = pstrdup(prop->name);
		c->field = true;
		c->scalar = prop->scalar && strcmp(type, "jsonb") != 0;
		t->fields = lappend(t->fields, c);
	}
}

/*
 * The whole item as received, in one jsonb column (key "."): fields the
 * API adds after the import, or that the spec never declared, stay
 * reachable.  Every table gets it with IMPORT ... OPTIONS (whole_item
 * 'true'); a listing whose items declare no fields gets it always.
 */
static void
build_whole_item_column(ImportTable *t)
{
	ImportColumn *c = new_column(t, CIVIS_WHOLE_ITEM_COLUMN, "jsonb");

	c->key = pstrdup(".");
	c->field = true;
	t->fields = lappend(t->fields, c);
}

/* (a) path parameters */
static void
build_path_columns(ImportTable *t)
{
	ListCell   *lc;

	foreach(lc, civis_path_placeholders(t->ep->path))
	{
		char	   *pname = strVal(lfirst(lc));
		char	   *colname;
		ImportColumn *c;
		CivisSpecParam *param;

		CHECK_FOR_INTERRUPTS();
		colname = civis_path_param_column(t->ep->path, pname);
		c = find_column(t, colname);
		if (c != NULL && c->field && c->scalar && c->param == NULL)
		{
			c->param = pname;
			c->exact = true;
			c->evidence = CIVIS_EVIDENCE_PATH;
			continue;
		}
		param = civis_spec_param(t->ep, "path", pname);
		c = new_column(t, colname, param ? param->sql_type : "text");
		c->param = pname;
		c->param_only = true;
		t->path_cols = lappend(t->path_cols, c);
	}
}

/*
 * Attach a query parameter's options to a column.  The column is exact
 * only with evidence (quirks.h): without it the condition is sent and
 * rechecked.
 */
static void
set_param_options(ImportColumn *c, const char *pname, const char *list,
				  List *values, const CivisFilterQuirk *fq, bool exact,
				  const char *evidence)
{
	c->param = pstrdup(pname);
	c->list = list;
	c->values = join_values(values);
	c->exact = exact && evidence != NULL;
	c->evidence = c->exact ? evidence : NULL;
	c->secret = is_secret_name(pname);

	/*
	 * A parameter whose documented values include "all" is a scope: the
	 * listing leaves rows out unless it is sent, so a table sends "all"
	 * unless the query asks otherwise (archived, account_status).
	 */
	if (fq && fq->scope_default)
		c->scope_default = pstrdup(fq->scope_default);
	else if (values_contain(values, "all"))
		c->scope_default = "all";
}

/*
 * Does the item field have the shape the key "field.member" reads: an
 * object (as declared, and as the spec's examples show it), declaring that
 * member if it declares any?
 */
static bool
field_has_key_shape(const CivisSpecProperty *prop, const char *key)
{
	const char *dot = strchr(key, '.');
	ListCell   *lc;

	if (prop == NULL || !prop->object)
		return false;
	if (prop->example_type != NULL && strcmp(prop->example_type, "jsonb") != 0)
		return false;
	if (dot == NULL || prop->members == NIL)
		return true;
	foreach(lc, prop->members)
	{
		const char *member = lfirst(lc);

		if (strncmp(member, dot + 1, strcspn(dot + 1, ".")) == 0 &&
			member[strcspn(dot + 1, ".")] == '\0')
			return true;
	}
	return false;
}

static bool
try_synthetic(ImportTable *t, const char *pname, const char *list,
			  List *values)
{
	const CivisSyntheticQuirk *sq;

	for (int i = 0; (sq = civis_quirk_synthetic(pname, i)) != NULL; i++)
	{
		ImportColumn *existing;
		ImportColumn *c;

		/* users_me_activity: "user" is a string, user.id never decodes */
		if (!field_has_key_shape(civis_spec_property(t->ep, sq->needs_field),
								 sq->key))
			continue;
		if (sq->unless_field &&
			civis_spec_property(t->ep, sq->unless_field))
			continue;

		existing = find_column(t, sq->column);
		if (existing != NULL && existing->scalar && existing->param == NULL)
		{
			/* the item already carries the id as a scalar field */
			set_param_options(existing, pname, list ? list : sq->list,
							  values, NULL, sq->exact, sq->evidence);
			return true;
		}
		if (existing != NULL)
			continue;
		c = new_column(t, sq->column, sq->sql_type);
		c->key = pstrdup(sq->key);
		set_param_options(c, pname, list ? list : sq->list, values, NULL,
						  sq->exact, sq->evidence);
		t->synthetic = lappend(t->synthetic, c);
		return true;
	}
	return false;
}

/* (c), (d) and options on (b), from the query parameters */
static void
build_query_columns(ImportTable *t)
{
	ListCell   *lc;

	foreach(lc, t->ep->params)
	{
		CivisSpecParam *param = lfirst(lc);
		const char *pname = param->name;
		const char *list = param->list;
		List	   *values = param->values;
		const CivisFilterQuirk *fq;
		const char *match_name = pname;
		ImportColumn *c;

		CHECK_FOR_INTERRUPTS();
		if (strcmp(param->in, "query") != 0 || is_paging_param(pname))
			continue;

		fq = civis_quirk_filter(t->ep->path, pname, param->type);
		if (fq && fq->column)
			match_name = fq->column;

		if (values == NIL && fq && fq->values)
		{
			char	   *copy = pstrdup(fq->values);

			for (char *tok = strtok(copy, ","); tok; tok = strtok(NULL, ","))
				values = lappend(values, tok);
		}

		/* author -> author_id from author.id (or user.id) */
		if (try_synthetic(t, pname, list, values))
			continue;

		/* <field>_before / <field>_after on a timestamp column <field>_at */
		if (ends_with(pname, "_before") || ends_with(pname, "_after"))
		{
			bool		before = ends_with(pname, "_before");
			size_t		stem = strlen(pname) - (before ? 7 : 6);
			char	   *colname = psprintf("%.*s_at", (int) stem, pname);

			c = find_column(t, colname);
			if (c && c->field && strcmp(c->type, "timestamptz") == 0 &&
				(before ? c->before : c->after) == NULL)
			{
				if (before)
					c->before = pstrdup(pname);
				else
					c->after = pstrdup(pname);
				continue;
			}
		}

		/* a scalar field of the same name */
		c = find_column(t, match_name);
		if (c && c->field && c->scalar && c->param == NULL)
		{
			const char *evidence = fq ? fq->evidence : NULL;

			/* "same name" holds only where the parameter kept its name */
			if (evidence && strcmp(evidence, CIVIS_EVIDENCE_SAME_NAME) == 0 &&
				match_name != pname)
				evidence = NULL;
			set_param_options(c, pname, list, values, fq,
							  fq ? fq->exact : false, evidence);
			continue;
		}

		/* a parameter-only column */
		c = new_column(t, match_name, param->sql_type);
		set_param_options(c, pname, list, values, fq, false, NULL);
		c->param_only = true;
		t->param_cols = lappend(t->param_cols, c);
	}
}

/* order_by on the columns "order" can sort by */
static void
apply_order(ImportTable *t)
{
	ListCell   *lc;

	foreach(lc, t->ep->order_values)
	{
		ImportColumn *c = find_column(t, lfirst(lc));

		CHECK_FOR_INTERRUPTS();
		if (c && c->field && c->scalar && c->order_by == NULL)
			c->order_by = pstrdup(lfirst(lc));
	}
}

/* --------------------------------------------------------------------
 * Table options
 * -------------------------------------------------------------------- */

static bool
has_query_param(const void *arg, const char *name)
{
	return civis_spec_param((const CivisSpecEndpoint *) arg, "query", name) != NULL;
}

/* The table option "paging": which paging parameters come with "limit". */
static const char *
paging_kind(const CivisSpecEndpoint *ep)
{
	return civis_paging_name(civis_paging_detect(has_query_param, ep));
}

/* --------------------------------------------------------------------
 * Statement text
 * -------------------------------------------------------------------- */

/*
 * The options import writes, in the order it writes them.  schema_diff.c
 * compares these and only these: any other option (max_in_flight, ...)
 * is the user's.
 */
const char *const civis_import_table_option_names[] = {
	"endpoint", "paging", "page_size", "detail_endpoint", "order_default",
	"response", NULL
};
const char *const civis_import_column_option_names[] = {
	"key", "param", "param_only", "exact", "evidence", "list", "values",
	"after", "before", "scope_default", "order_by", "secret", NULL
};

static void
add_option(List **options, const char *name, const char *value)
{
	if (value != NULL)
		*options = lappend(*options, makeDefElem(pstrdup(name),
												 (Node *) makeString(pstrdup(value)),
												 -1));
}

static List *
column_options(ImportColumn *c)
{
	List	   *o = NIL;

	add_option(&o, "key", c->key);
	add_option(&o, "param", c->param);
	add_option(&o, "param_only", c->param_only ? "true" : NULL);
	add_option(&o, "exact", c->exact ? "true" : NULL);
	add_option(&o, "evidence", c->exact ? c->evidence : NULL);
	add_option(&o, "list", c->list);
	add_option(&o, "values", c->values);
	add_option(&o, "after", c->after);
	add_option(&o, "before", c->before);
	add_option(&o, "scope_default", c->scope_default);
	add_option(&o, "order_by", c->order_by);
	add_option(&o, "secret", c->secret ? "true" : NULL);
	return o;
}

static List *
table_options(ImportTable *t)
{
	List	   *o = NIL;

	add_option(&o, "endpoint", t->ep->path);
	add_option(&o, "paging", paging_kind(t->ep));
	if (t->ep->page_size > 0)
		add_option(&o, "page_size", psprintf("%d", t->ep->page_size));
	add_option(&o, "detail_endpoint", t->ep->detail_endpoint);
	add_option(&o, "order_default", t->ep->order_default);
	add_option(&o, "response",
			   civis_quirk_object_response(t->ep->path) ? "object" : NULL);
	return o;
}

/*
 * A type as the catalog shows it (format_type): the hash of a column must
 * come out the same from import's "timestamptz" and from pg_attribute.
 */
static char *
canonical_type(const char *type)
{
	Oid			typid;
	int32		typmod;

	civis_parse_type_string(type, &typid, &typmod);
	return format_type_with_typemod(typid, typmod);
}

/* The value of an option of the list, or NULL (also schema_diff.c's). */
const char *
civis_import_option_value(List *options, const char *name)
{
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *def = lfirst(lc);

		if (strcmp(def->defname, name) == 0)
			return defGetString(def);
	}
	return NULL;
}

/*
 * FNV-1a, 32 bits: the same on every platform and version (hash_bytes()
 * differs between byte orders), and a record is only ever compared with
 * itself.
 */
static uint32
fnv_text(uint32 h, const char *s)
{
	for (; *s; s++)
	{
		h ^= (unsigned char) *s;
		h *= 16777619u;
	}
	h ^= 0xff;					/* a separator no text contains */
	h *= 16777619u;
	return h;
}

static uint32
options_hash(uint32 h, List *options, const char *const *names)
{
	for (int i = 0; names[i] != NULL; i++)
	{
		const char *v = civis_import_option_value(options, names[i]);

		if (v != NULL)
			h = fnv_text(fnv_text(h, names[i]), v);
	}
	return h;
}

/*
 * The hash of a column as import wrote it: its type and the options import
 * writes, not its name (a renamed column is no difference).
 */
uint32
civis_import_column_hash(const char *type, List *options)
{
	return options_hash(fnv_text(2166136261u, type), options,
						civis_import_column_option_names);
}

uint32
civis_import_table_hash(List *options)
{
	return options_hash(2166136261u, options, civis_import_table_option_names);
}

/* " OPTIONS (a 'x', b 'y')", or "" */
char *
civis_import_options_text(List *options)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, options)
	{
		DefElem    *def = lfirst(lc);

		/* names are import's own, plain words ("values" is a ColLabel) */
		appendStringInfo(&buf, "%s%s %s", buf.len == 0 ? " OPTIONS (" : ", ",
						 def->defname,
						 quote_literal_cstr(defGetString(def)));
	}
	if (buf.len > 0)
		appendStringInfoChar(&buf, ')');
	return buf.data;
}

/*
 * The import record (table option "import"): the options the import ran
 * with, so that civis_fdw_schema_diff uses the same, and a hash of the
 * table's options and of each column, so that it tells a column changed by
 * hand from one an older import wrote.
 */
static char *
import_record(CivisImportTableDef *def, bool whole_item,
			  bool include_deprecated)
{
	StringInfoData buf;
	ListCell   *lc;
	bool		first = true;

	initStringInfo(&buf);
	appendStringInfo(&buf, "version=1.2.0 include_deprecated=%s whole_item=%s table=%08x columns=",
					 include_deprecated ? "true" : "false",
					 whole_item ? "true" : "false",
					 civis_import_table_hash(def->options));
	foreach(lc, def->columns)
	{
		CivisImportColumnDef *c = lfirst(lc);

		appendStringInfo(&buf, "%s%08x", first ? "" : ",",
						 civis_import_column_hash(c->type, c->options));
		first = false;
	}
	return buf.data;
}

/*
 * CREATE FOREIGN TABLE schema.table for a defined table (its own name
 * when table is NULL), with the import record.
 */
char *
civis_import_statement(CivisImportTableDef *def, const char *schema,
					   const char *table, const char *server)
{
	StringInfoData buf;
	ListCell   *lc;
	bool		first_col = true;
	List	   *options;

	Assert(def->defined);
	initStringInfo(&buf);
	appendStringInfo(&buf, "CREATE FOREIGN TABLE %s.%s (",
					 quote_identifier(schema),
					 quote_identifier(table ? table : def->name));
	foreach(lc, def->columns)
	{
		CivisImportColumnDef *c = lfirst(lc);

		appendStringInfo(&buf, "%s\n  %s %s%s", first_col ? "" : ",",
						 quote_identifier(c->name), c->type,
						 civis_import_options_text(c->options));
		first_col = false;
	}
	options = list_copy(def->options);
	add_option(&options, CIVIS_IMPORT_RECORD_OPTION, def->record);
	appendStringInfo(&buf, "\n) SERVER %s%s", quote_identifier(server),
					 civis_import_options_text(options));
	return buf.data;
}

/* --------------------------------------------------------------------
 * Entry point
 * -------------------------------------------------------------------- */

/* LIMIT TO (a, no_such_table): a WARNING for each name that matched nothing */
static void
warn_unmatched_names(ImportForeignSchemaStmt *stmt, HTAB *table_names)
{
	ListCell   *lc;

	if (stmt->list_type != FDW_IMPORT_SCHEMA_LIMIT_TO)
		return;
	foreach(lc, stmt->table_list)
	{
		RangeVar   *rv = lfirst(lc);

		if (name_find(table_names, rv->relname) == NULL)
			ereport(WARNING,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("table \"%s\" named in LIMIT TO is not in the Civis API spec",
							rv->relname),
					 errhint("The names follow the naming rules of the README; IMPORT FOREIGN SCHEMA civis FROM SERVER ... INTO ... without LIMIT TO shows them all.")));
	}
}

static bool
wanted_table(ImportForeignSchemaStmt *stmt, const char *name)
{
	ListCell   *lc;
	bool		listed = false;

	if (stmt->list_type == FDW_IMPORT_SCHEMA_ALL)
		return true;
	foreach(lc, stmt->table_list)
	{
		RangeVar   *rv = lfirst(lc);

		CHECK_FOR_INTERRUPTS();
		if (strcmp(rv->relname, name) == 0)
			listed = true;
	}
	return stmt->list_type == FDW_IMPORT_SCHEMA_LIMIT_TO ? listed : !listed;
}

/* name_by_<placeholders> for n = 1, then name_2, name_3, ... */
static char *
table_variant(const char *name, int n, void *arg)
{
	const char *path = arg;

	if (n == 1)
	{
		StringInfoData buf;
		ListCell   *lc;

		initStringInfo(&buf);
		appendStringInfoString(&buf, "_by");
		foreach(lc, civis_path_placeholders(path))
			appendStringInfo(&buf, "_%s", civis_camel_to_snake(strVal(lfirst(lc))));
		return with_suffix(name, buf.data);
	}
	return with_suffix(name, psprintf("_%d", n));
}

/*
 * A table name not taken yet: the plain name, else name_by_<placeholders>,
 * else a numeric suffix.  Paths are visited in spec order, so the first
 * endpoint keeps the plain name.
 */
static char *
unique_table_name(HTAB *taken, ImportTable *t, const char *name)
{
	return claim_name(taken, name, t, table_variant, (void *) t->ep->path);
}

/* The list endpoints of the spec the server's GET /endpoints answers with. */
static List *
fetch_spec(Oid serverOid)
{
	CivisTableInfo *srv = civis_get_server_info(serverOid);
	char	   *key = civis_get_api_key(serverOid, GetUserId());
	CivisHttpConfig cfg;
	CivisHttp  *http;
	CivisResponse resp;
	int			ticket;

	civis_http_config_from_table(&cfg, srv, GetUserId(), key);
	http = civis_http_begin(CurrentMemoryContext, &cfg);
	ticket = civis_http_submit(http, psprintf("%s/endpoints", srv->api_url),
							   "/endpoints");
	memset(&resp, 0, sizeof(resp));
	civis_http_wait(http, ticket, &resp);
	if (resp.status != 200)
		civis_raise_http_error(&resp, "/endpoints", NULL);
	return civis_spec_read(resp.body, resp.body_len);
}

/*
 * The statement's options: include_deprecated (default true) and whole_item
 * (default false).  The Civis API has one schema, "civis".
 */
static void
import_options(ImportForeignSchemaStmt *stmt, bool *include_deprecated,
			   bool *whole_item)
{
	ListCell   *lc;

	if (strcmp(stmt->remote_schema, "civis") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_SCHEMA_NOT_FOUND),
				 errmsg("schema \"%s\" is not available from the Civis API",
						stmt->remote_schema),
				 errhint("The Civis API has one schema; use IMPORT FOREIGN SCHEMA civis ...")));

	*include_deprecated = true;
	*whole_item = false;
	foreach(lc, stmt->options)
	{
		DefElem    *def = lfirst(lc);

		if (strcmp(def->defname, "include_deprecated") == 0)
			*include_deprecated = defGetBoolean(def);
		else if (strcmp(def->defname, "whole_item") == 0)
			*whole_item = defGetBoolean(def);
		else
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
					 errmsg("invalid IMPORT FOREIGN SCHEMA option \"%s\"",
							def->defname),
					 errhint("Valid options are: include_deprecated, whole_item.")));
	}
}

/*
 * Pass 1: a table per endpoint with a name, the names made unique in
 * table_names, over every endpoint (so LIMIT TO does not change a name).
 */
static List *
name_tables(List *endpoints, HTAB *table_names)
{
	List	   *tables = NIL;
	ListCell   *lc;

	foreach(lc, endpoints)
	{
		CivisSpecEndpoint *ep = lfirst(lc);
		char	   *name = civis_table_name_for_path(ep->path);
		ImportTable *t;

		CHECK_FOR_INTERRUPTS();
		if (*name == '\0')
			continue;

		t = palloc0(sizeof(ImportTable));
		t->ep = ep;
		t->name = unique_table_name(table_names, t, name);
		tables = lappend(tables, t);
	}
	return tables;
}

/*
 * Pass 2, one table: its columns in their order (path parameters, fields,
 * synthetic columns, query parameters).  False for a table without columns,
 * or with more than a table can have (a WARNING says which).
 */
static bool
build_columns(ImportTable *t, bool whole_item)
{
	t->column_names = name_set("civis_fdw import columns",
							   list_length(t->ep->properties) +
							   list_length(t->ep->params));
	build_field_columns(t);
	build_path_columns(t);
	build_query_columns(t);
	apply_order(t);
	/* claimed last: a field of that name keeps it (naming rules) */
	if (whole_item || t->fields == NIL)
		build_whole_item_column(t);

	t->columns = list_concat(list_concat(list_copy(t->path_cols), t->fields),
							 list_concat(list_copy(t->synthetic), t->param_cols));
	if (t->columns == NIL)
		return false;
	if (list_length(t->columns) > MaxHeapAttributeNumber)
	{
		ereport(WARNING,
				(errcode(ERRCODE_TOO_MANY_COLUMNS),
				 errmsg("skipping endpoint \"%s\" of the Civis API spec",
						t->ep->path),
				 errdetail("Its table \"%s\" would have %d columns; a table can have at most %d.",
						   t->name, list_length(t->columns),
						   MaxHeapAttributeNumber)));
		return false;
	}
	return true;
}

/*
 * Refuse an import of more tables than the lock table can hold (see
 * CIVIS_IMPORT_MAX_TABLES), before any statement is returned.
 */
void
civis_import_check_table_count(int ntables)
{
	int64		locks = ((int64) max_locks_per_xact *
						 ((int64) MaxBackends + max_prepared_xacts) / 2);
	int64		limit = Min(locks, (int64) CIVIS_IMPORT_MAX_TABLES);

	if (ntables > limit)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("IMPORT FOREIGN SCHEMA would create %d foreign tables, more than the %lld one import may create",
						ntables, (long long) limit),
				 locks < CIVIS_IMPORT_MAX_TABLES ?
				 errdetail("Each table created holds a lock until the transaction ends; the limit is half of max_locks_per_transaction (%d) x (max_connections and other backends + max_prepared_transactions) = %lld.",
						   max_locks_per_xact, (long long) locks) :
				 errdetail("civis_fdw creates at most %d tables in one import (max_locks_per_transaction would allow %lld).",
						   CIVIS_IMPORT_MAX_TABLES, (long long) locks),
				 errhint("Import fewer tables with LIMIT TO (...) or EXCEPT (...), in several imports; or raise max_locks_per_transaction.")));
}

/*
 * Pass 2 for one table, as data: its columns and options, and the import
 * record.  False (and nothing defined) for a deprecated endpoint left out,
 * a table without columns or with too many.
 */
bool
civis_import_define(CivisImportTableDef *def, bool whole_item,
					bool include_deprecated)
{
	ImportTable *t = def->priv;
	ListCell   *lc;

	Assert(!def->defined);
	if (!include_deprecated && t->ep->deprecated)
		return false;
	if (!build_columns(t, whole_item))
		return false;
	foreach(lc, t->columns)
	{
		ImportColumn *c = lfirst(lc);
		CivisImportColumnDef *cd = palloc0(sizeof(CivisImportColumnDef));

		CHECK_FOR_INTERRUPTS();
		cd->name = c->name;
		cd->type = canonical_type(c->type);
		cd->options = column_options(c);
		def->columns = lappend(def->columns, cd);
	}
	def->options = table_options(t);
	def->record = import_record(def, whole_item, include_deprecated);
	def->defined = true;
	return true;
}

/* Pass 1 over the spec: a CivisImportTableDef per list endpoint, named. */
static List *
import_tables(List *endpoints, HTAB *table_names)
{
	List	   *defs = NIL;
	ListCell   *lc;

	foreach(lc, name_tables(endpoints, table_names))
	{
		ImportTable *t = lfirst(lc);
		CivisImportTableDef *def = palloc0(sizeof(CivisImportTableDef));

		def->name = t->name;
		def->endpoint = t->ep->path;
		def->deprecated = t->ep->deprecated;
		def->priv = t;
		defs = lappend(defs, def);
	}
	return defs;
}

/*
 * The spec's tables, named, not yet defined, in spec order: one request
 * (GET /endpoints).  For civis_fdw_schema_diff, in the caller's context.
 */
List *
civis_import_fetch(Oid serverOid)
{
	List	   *endpoints = fetch_spec(serverOid);

	return import_tables(endpoints,
						 name_set("civis_fdw import tables",
								  list_length(endpoints)));
}

List *
civisImportForeignSchema(ImportForeignSchemaStmt *stmt, Oid serverOid)
{
	MemoryContext cxt;
	MemoryContext old;
	bool		include_deprecated;
	bool		whole_item;
	ListCell   *lc;
	ForeignServer *server;
	List	   *endpoints;
	List	   *defs;
	HTAB	   *table_names;
	List	   *statements = NIL;
	List	   *result = NIL;

	import_options(stmt, &include_deprecated, &whole_item);
	server = GetForeignServer(serverOid);

	cxt = AllocSetContextCreate(CurrentMemoryContext, "civis_fdw import",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);

	endpoints = fetch_spec(serverOid);
	table_names = name_set("civis_fdw import tables", list_length(endpoints));
	defs = import_tables(endpoints, table_names);
	warn_unmatched_names(stmt, table_names);

	/* the wanted tables, counted before any is built or created */
	{
		List	   *wanted = NIL;

		foreach(lc, defs)
		{
			CivisImportTableDef *def = lfirst(lc);

			CHECK_FOR_INTERRUPTS();
			if (!include_deprecated && def->deprecated)
				continue;
			if (!wanted_table(stmt, def->name))
				continue;
			wanted = lappend(wanted, def);
		}
		civis_import_check_table_count(list_length(wanted));
		defs = wanted;
	}

	/* pass 2: columns and statements of the wanted tables */
	foreach(lc, defs)
	{
		CivisImportTableDef *def = lfirst(lc);

		CHECK_FOR_INTERRUPTS();
		if (!wanted_table(stmt, def->name))
			continue;
		if (!civis_import_define(def, whole_item, include_deprecated))
			continue;
		statements = lappend(statements,
							 civis_import_statement(def, stmt->local_schema,
													NULL,
													server->servername));
	}

	MemoryContextSwitchTo(old);
	foreach(lc, statements)
	{
		CHECK_FOR_INTERRUPTS();
		result = lappend(result, pstrdup(lfirst(lc)));
	}
	MemoryContextDelete(cxt);

	return result;
}
