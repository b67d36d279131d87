/*-------------------------------------------------------------------------
 *
 * import.h
 *		  The table definitions IMPORT FOREIGN SCHEMA writes, as data: one
 *		  code path (import.c) for the import itself and for
 *		  civis_fdw_schema_diff / civis_fdw_schema_apply (schema_diff.c),
 *		  so the two can never disagree.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CIVIS_IMPORT_H
#define CIVIS_IMPORT_H

#include "nodes/pg_list.h"

/* The table option holding the import record (README, "Following the API"). */
#define CIVIS_IMPORT_RECORD_OPTION "import"

/* One column as import writes it. */
typedef struct CivisImportColumnDef
{
	char	   *name;			/* unquoted */
	char	   *type;			/* format_type() of the resolved type */
	List	   *options;		/* DefElem (String), in import's order */
} CivisImportColumnDef;

/*
 * One list endpoint of the spec, its table name (pass 1, over the whole
 * spec, so LIMIT TO changes no name) and, once defined, its columns and
 * table options.
 */
typedef struct CivisImportTableDef
{
	char	   *name;			/* import's name, unquoted */
	const char *endpoint;
	bool		deprecated;
	bool		defined;		/* civis_import_define() ran and made a table */
	List	   *columns;		/* CivisImportColumnDef * */
	List	   *options;		/* DefElem (String), without the record */
	char	   *record;			/* the value of the option "import" */
	void	   *priv;			/* import.c's own table */
} CivisImportTableDef;

/* Names of the import-written options, in the order they are written. */
extern const char *const civis_import_table_option_names[];
extern const char *const civis_import_column_option_names[];

extern List *civis_import_fetch(Oid serverOid);
extern void civis_import_check_table_count(int ntables);
extern const char *civis_import_option_value(List *options, const char *name);
extern bool civis_import_define(CivisImportTableDef *def, bool whole_item,
								bool include_deprecated);
extern char *civis_import_statement(CivisImportTableDef *def,
									const char *schema, const char *table,
									const char *server);
extern char *civis_import_options_text(List *options);
extern uint32 civis_import_column_hash(const char *type, List *options);
extern uint32 civis_import_table_hash(List *options);

#endif							/* CIVIS_IMPORT_H */
