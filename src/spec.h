/*-------------------------------------------------------------------------
 *
 * spec.h
 *		  The Civis API's Swagger 2.0 spec (GET /endpoints), read into a
 *		  small model: its list endpoints, their parameters and the
 *		  properties of the items they list.  Shared by spec.c, which reads
 *		  the spec, and import.c, which turns the model into CREATE FOREIGN
 *		  TABLE statements; nothing else includes it.
 *
 * The model holds plain strings and Lists, so that cJSON stays in spec.c.
 * Strings point into the parsed spec: the model lives as long as the
 * memory context civis_spec_read was called in.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CIVIS_SPEC_H
#define CIVIS_SPEC_H

#include "nodes/pg_list.h"

/* A parameter of a list endpoint's GET. */
typedef struct CivisSpecParam
{
	const char *name;
	const char *in;				/* "path", "query", ... */
	const char *type;			/* declared Swagger type, or NULL */
	const char *description;	/* or NULL */
	const char *sql_type;		/* column type of one value */
	const char *list;			/* "array" (type array), "csv" (described as
								 * comma-separated), or NULL */
	List	   *values;			/* char *: the values the description
								 * enumerates as accepted */
} CivisSpecParam;

/* A property of the item definition: one field of a row. */
typedef struct CivisSpecProperty
{
	const char *name;			/* JSON member, as the spec spells it */
	const char *sql_type;		/* column type of the declared schema */
	bool		scalar;			/* declared as a scalar type */
	bool		object;			/* declared as an object (not a map of scalars
								 * only: one with properties, or type object) */
	List	   *members;		/* char *: an object's declared properties
								 * (NIL: none declared) */
	const char *example_type;	/* the column type every non-null x-example
								 * value shows instead, or NULL */
} CivisSpecProperty;

/* A GET that lists items: a candidate table. */
typedef struct CivisSpecEndpoint
{
	const char *path;
	bool		deprecated;		/* flagged, or "deprecated" in its summary */
	List	   *params;			/* CivisSpecParam *: the operation's, then
								 * those of the path item it does not override */
	List	   *properties;		/* CivisSpecProperty *, in spec order */
	int			page_size;		/* from the "limit" description; 0: none */
	char	   *order_default;	/* "Defaults to X" of "order", or NULL */
	List	   *order_values;	/* char *: what "order" accepts */
	char	   *detail_endpoint;	/* a GET of one item, or NULL */
} CivisSpecEndpoint;

extern List *civis_spec_read(const char *body, size_t len);
extern CivisSpecParam *civis_spec_param(const CivisSpecEndpoint *ep,
										const char *in, const char *name);
extern CivisSpecProperty *civis_spec_property(const CivisSpecEndpoint *ep,
											  const char *name);

#endif							/* CIVIS_SPEC_H */
