/*-------------------------------------------------------------------------
 *
 * decode.c
 *		  The only file that turns JSON into Datums.
 *
 * Reading a response body into a page of items is json_page.c's job; this
 * file takes items from such a page and converts their values, and is kept
 * apart from the parser so that each file has one job.  A CivisDecoder is
 * built once per scan from the table's columns and the attributes the plan
 * needs; it holds everything per-row work would otherwise look up (keys
 * split into paths, input functions, a hash from JSON member name to
 * column), so that decoding one item only walks that item's members once
 * and converts the values of the retrieved columns.
 *
 * Memory.  Decoded Datums live in the context current at civis_decode_item()
 * time (the per-tuple context); the decoder itself lives in the context
 * current at civis_decoder_create() time (the per-scan context).  The page
 * belongs to its caller (see json_page.c).
 *
 * Numbers.  cJSON keeps every JSON number as a C double.  Integers are exact
 * up to 2^53; beyond that digits are already gone when we see the value, so
 * integer columns refuse such values rather than return a wrong number.
 * Non-integral numbers are rendered with the shortest decimal text that reads
 * back as the same double, which equals the text the API sent whenever that
 * text had at most 15 significant digits.
 *
 * Strings.  json_page.c has checked the body to be UTF-8 without \u0000.
 * Strings are converted to the database encoding when that is not UTF-8.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"

#include "json_page.h"
#include "quirks.h"

/* --------------------------------------------------------------------
 * Data structures
 * -------------------------------------------------------------------- */

/* How a column's value is produced from JSON; chosen once per scan. */
typedef enum DecKind
{
	DK_TEXT,					/* text, unconstrained varchar: no input call */
	DK_INT2,
	DK_INT4,
	DK_INT8,
	DK_FLOAT4,
	DK_FLOAT8,
	DK_NUMERIC,
	DK_BOOL,
	DK_DATETIME,				/* timestamptz, timestamp, date, time, timetz */
	DK_JSONB,					/* built from the tree, no text round trip */
	DK_ARRAY,					/* a JSON array into a PostgreSQL array */
	DK_GENERIC					/* input function over the value's text */
} DecKind;

typedef struct DecColumn
{
	AttrNumber	attnum;
	const char *attname;
	Oid			typid;
	int32		typmod;
	DecKind		kind;
	FmgrInfo	infunc;			/* the type's input function */
	Oid			ioparam;

	/* DK_ARRAY only: the element type */
	Oid			elemtype;
	int16		elmlen;
	bool		elmbyval;
	char		elmalign;
	FmgrInfo	elem_infunc;
	Oid			elem_ioparam;

	/* where the value comes from */
	const char *key;			/* as configured, for messages */
	bool		param_only;		/* never read from JSON */
	bool		whole_item;		/* key "." */
	int			entry;			/* index into the decoder's key table */
	int			npath;			/* further components of a dotted key */
	char	  **path;
	size_t	   *pathlen;

	/* the constant of civis_decoder_set_constant */
	bool		has_const;
	bool		const_null;
	Datum		const_value;
} DecColumn;

struct CivisDecoder
{
	MemoryContext cxt;			/* where the decoder and constants live */
	const char *relname;
	int			natts;			/* of the tuple descriptor */
	bool		db_utf8;		/* database encoding is UTF-8 */
	bool		scalar_items_ok;	/* table reads non-object items whole */
	bool		jsonb_snake_case;	/* jsonb keys as civis-python shows them */

	int			ncols;			/* retrieved attributes */
	DecColumn  *cols;

	/* distinct first key components, with an open-addressing hash */
	int			nkeys;
	char	  **key_names;
	uint32	   *key_hashes;
	int		   *slots;			/* key index + 1; 0 = empty */
	uint32		slot_mask;
	const cJSON **found;		/* per key: the member in the current item */

	StringInfoData buf;			/* scratch for text forms, reused */

	/* error context of the conversion in progress */
	const DecColumn *cur_col;
	const CivisPage *cur_page;
	int			cur_index;
};

/* --------------------------------------------------------------------
 * Small helpers: text conversion, key hashing
 * -------------------------------------------------------------------- */

/* Convert UTF-8 to the database encoding (a no-op in UTF-8 databases). */
static inline const char *
to_server(bool db_utf8, const char *s, int *len)
{
	int			l = strlen(s);

	if (!db_utf8)
	{
		char	   *c = pg_any_to_server(s, l, PG_UTF8);

		if (c != s)
			l = strlen(c);
		s = c;
	}
	*len = l;
	return s;
}

/* FNV-1a over a NUL-terminated string. */
static inline uint32
key_hash(const char *s)
{
	uint32		h = 2166136261u;

	while (*s)
	{
		h ^= (unsigned char) *s++;
		h *= 16777619u;
	}
	return h;
}

/* --------------------------------------------------------------------
 * Decoder setup
 * -------------------------------------------------------------------- */

static const CivisColumn *
find_civis_column(const CivisTableInfo *info, AttrNumber attnum)
{
	int			i;

	if (info == NULL || info->columns == NULL)
		return NULL;
	if (attnum >= 1 && attnum <= info->ncolumns &&
		info->columns[attnum - 1].attnum == attnum)
		return &info->columns[attnum - 1];
	for (i = 0; i < info->ncolumns; i++)
		if (info->columns[i].attnum == attnum)
			return &info->columns[i];
	return NULL;
}

static DecKind
choose_kind(DecColumn *col)
{
	Oid			elemtype;

	if (get_typtype(col->typid) == TYPTYPE_DOMAIN)
		return DK_GENERIC;		/* domain_in checks the constraints */

	switch (col->typid)
	{
		case TEXTOID:
			return DK_TEXT;
		case VARCHAROID:
			return col->typmod < 0 ? DK_TEXT : DK_GENERIC;
		case INT2OID:
			return DK_INT2;
		case INT4OID:
			return DK_INT4;
		case INT8OID:
			return DK_INT8;
		case FLOAT4OID:
			return DK_FLOAT4;
		case FLOAT8OID:
			return DK_FLOAT8;
		case NUMERICOID:
			return DK_NUMERIC;
		case BOOLOID:
			return DK_BOOL;
		case TIMESTAMPTZOID:
		case TIMESTAMPOID:
		case DATEOID:
		case TIMEOID:
		case TIMETZOID:
			return DK_DATETIME;
		case JSONBOID:
			return DK_JSONB;
		default:
			break;
	}

	/* a true array type, and the canonical array of its element type */
	elemtype = get_element_type(col->typid);
	if (OidIsValid(elemtype) && get_array_type(elemtype) == col->typid)
	{
		Oid			infunc;

		col->elemtype = elemtype;
		get_typlenbyvalalign(elemtype, &col->elmlen, &col->elmbyval,
							 &col->elmalign);
		getTypeInputInfo(elemtype, &infunc, &col->elem_ioparam);
		fmgr_info(infunc, &col->elem_infunc);
		return DK_ARRAY;
	}
	return DK_GENERIC;
}

/* Index of a first key component in the decoder's table, adding it. */
static int
intern_key(CivisDecoder *dec, const char *name, int maxkeys)
{
	uint32		h = key_hash(name);
	uint32		i = h & dec->slot_mask;

	while (dec->slots[i] != 0)
	{
		int			k = dec->slots[i] - 1;

		if (dec->key_hashes[k] == h && strcmp(dec->key_names[k], name) == 0)
			return k;
		i = (i + 1) & dec->slot_mask;
	}
	Assert(dec->nkeys < maxkeys);
	dec->key_names[dec->nkeys] = pstrdup(name);
	dec->key_hashes[dec->nkeys] = h;
	dec->slots[i] = dec->nkeys + 1;
	return dec->nkeys++;
}

static inline int
lookup_key(const CivisDecoder *dec, const char *name)
{
	uint32		h = key_hash(name);
	uint32		i = h & dec->slot_mask;
	int			s;

	while ((s = dec->slots[i]) != 0)
	{
		if (dec->key_hashes[s - 1] == h &&
			strcmp(dec->key_names[s - 1], name) == 0)
			return s - 1;
		i = (i + 1) & dec->slot_mask;
	}
	return -1;
}

/* Split a dotted key: the first component is interned, the rest kept. */
static void
resolve_key(CivisDecoder *dec, DecColumn *col, int maxkeys)
{
	char	   *copy;
	char	   *p;
	int			n = 0;
	int			i;

	if (strcmp(col->key, WHOLE_ITEM_KEY) == 0)
	{
		col->whole_item = true;
		return;
	}

	copy = pstrdup(col->key);
	for (p = copy; *p; p++)
		if (*p == '.')
			n++;
	col->npath = n;
	col->path = n > 0 ? palloc(sizeof(char *) * n) : NULL;
	col->pathlen = n > 0 ? palloc(sizeof(size_t) * n) : NULL;

	p = copy;
	for (i = 0; i <= n; i++)
	{
		char	   *dot = strchr(p, '.');

		if (dot)
			*dot = '\0';
		if (*p == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
					 errmsg("invalid key \"%s\" for column \"%s\" of foreign table \"%s\"",
							col->key, col->attname, dec->relname),
					 errdetail("A key is a JSON member name, a dotted path of member names, or \".\" for the whole item.")));
		if (i == 0)
			col->entry = intern_key(dec, p, maxkeys);
		else
		{
			col->path[i - 1] = p;
			col->pathlen[i - 1] = strlen(p);
		}
		if (dot)
			p = dot + 1;
	}
}

/* Can the table read items that are not objects (key "." only)? */
static bool
table_reads_scalar_items(const CivisTableInfo *info)
{
	bool		has_whole = false;
	int			i;

	for (i = 0; i < info->ncolumns; i++)
	{
		const CivisColumn *c = &info->columns[i];

		if (c->dropped)
			continue;
		if (c->key && strcmp(c->key, WHOLE_ITEM_KEY) == 0)
			has_whole = true;
		else if (!c->param_only)
			return false;
	}
	return has_whole;
}

CivisDecoder *
civis_decoder_create(const CivisTableInfo *info, TupleDesc tupdesc,
					 List *retrieved_attrs)
{
	CivisDecoder *dec;
	ListCell   *lc;
	int			maxcols = list_length(retrieved_attrs);
	uint32		nslots;

	dec = palloc0(sizeof(CivisDecoder));
	dec->cxt = CurrentMemoryContext;
	dec->relname = (info && info->relname) ? pstrdup(info->relname) : "?";
	dec->natts = tupdesc->natts;
	dec->db_utf8 = (GetDatabaseEncoding() == PG_UTF8);
	dec->scalar_items_ok = info ? table_reads_scalar_items(info) : false;
	dec->jsonb_snake_case = info ? info->jsonb_snake_case : false;
	dec->cols = palloc0(sizeof(DecColumn) * Max(maxcols, 1));
	dec->key_names = palloc0(sizeof(char *) * Max(maxcols, 1));
	dec->key_hashes = palloc0(sizeof(uint32) * Max(maxcols, 1));
	for (nslots = 16; nslots < (uint32) maxcols * 4; nslots <<= 1)
		;
	dec->slots = palloc0(sizeof(int) * nslots);
	dec->slot_mask = nslots - 1;
	dec->cur_index = -1;
	initStringInfo(&dec->buf);

	foreach(lc, retrieved_attrs)
	{
		AttrNumber	attnum = (AttrNumber) lfirst_int(lc);
		Form_pg_attribute att;
		const CivisColumn *cc;
		DecColumn  *col;
		Oid			infunc;
		int			i;
		bool		dup = false;

		if (attnum < 1 || attnum > tupdesc->natts)
			continue;			/* system columns are not ours to fill */
		att = TupleDescAttr(tupdesc, attnum - 1);
		if (att->attisdropped)
			continue;
		for (i = 0; i < dec->ncols; i++)
			if (dec->cols[i].attnum == attnum)
				dup = true;
		if (dup)
			continue;

		col = &dec->cols[dec->ncols++];
		col->attnum = attnum;
		col->attname = pstrdup(NameStr(att->attname));
		col->typid = att->atttypid;
		col->typmod = att->atttypmod;
		col->entry = -1;

		getTypeInputInfo(col->typid, &infunc, &col->ioparam);
		fmgr_info(infunc, &col->infunc);
		col->kind = choose_kind(col);

		cc = find_civis_column(info, attnum);
		col->key = (cc && cc->key && cc->key[0] != '\0') ?
			pstrdup(cc->key) : col->attname;
		col->param_only = cc ? cc->param_only : false;
		if (!col->param_only)
			resolve_key(dec, col, maxcols);
	}

	dec->found = palloc0(sizeof(cJSON *) * Max(dec->nkeys, 1));
	return dec;
}

/* --------------------------------------------------------------------
 * Conversion of one value
 * -------------------------------------------------------------------- */

static void
decode_error_callback(void *arg)
{
	CivisDecoder *dec = (CivisDecoder *) arg;

	if (dec->cur_col)
		errcontext("column \"%s\" of foreign table \"%s\"",
				   dec->cur_col->attname, dec->relname);
	if (dec->cur_page && dec->cur_index >= 0)
		errcontext("item %d of the response to %s",
				   dec->cur_index + 1, dec->cur_page->shown);
}

/*
 * Push decode_error_callback (on errcb, the caller's) for the value of col,
 * or for item index of page; the caller pops it (errcb->previous).
 */
static void
push_decode_context(CivisDecoder *dec, ErrorContextCallback *errcb,
					DecColumn *col, const CivisPage *page, int index)
{
	errcb->callback = decode_error_callback;
	errcb->arg = dec;
	errcb->previous = error_context_stack;
	error_context_stack = errcb;
	dec->cur_col = col;
	dec->cur_page = page;
	dec->cur_index = index;
}

CIVIS_NORETURN static void conversion_error(CivisDecoder *dec,
											const DecColumn *col,
											const cJSON *v, const char *hint);

static void
conversion_error(CivisDecoder *dec, const DecColumn *col, const cJSON *v,
				 const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
			 errmsg("cannot convert JSON %s to %s for column \"%s\" of foreign table \"%s\"",
					civis_json_type_name(v),
					format_type_with_typemod(col->typid, col->typmod),
					col->attname, dec->relname),
			 errdetail("Value: %s", civis_value_excerpt(v)),
			 errhint("%s", hint ? hint :
					 "Declare the column as text or jsonb to receive any JSON value, or point its \"key\" option at another member.")));
}

/*
 * The text form of a non-null value, in the database encoding: strings as
 * they are, numbers and booleans as their JSON text, containers as compact
 * JSON.  The result may point into dec->buf: use it before the next call.
 */
static const char *
value_text(CivisDecoder *dec, const cJSON *v, int *len)
{
	switch (cjson_type(v))
	{
		case cJSON_String:
			return to_server(dec->db_utf8,
							 v->valuestring ? v->valuestring : "", len);
		case cJSON_True:
			*len = 4;
			return "true";
		case cJSON_False:
			*len = 5;
			return "false";
		default:
			resetStringInfo(&dec->buf);
			civis_append_json(&dec->buf, v, 0);
			if (dec->db_utf8)
			{
				*len = dec->buf.len;
				return dec->buf.data;
			}
			return to_server(false, dec->buf.data, len);
	}
}

static inline Datum
call_input(FmgrInfo *flinfo, const char *str, Oid ioparam, int32 typmod)
{
	return InputFunctionCall(flinfo, unconstify(char *, str), ioparam, typmod);
}

/* A JSON number into int2/int4/int8. */
static Datum
number_to_int(CivisDecoder *dec, const DecColumn *col, const cJSON *v)
{
	double		d = civis_json_number(v);
	int64		i;

	if (d != floor(d))
		conversion_error(dec, col, v,
						 "The value is not an integer; declare the column as numeric or double precision.");
	if (fabs(d) >= JSON_EXACT_INT_LIMIT)
	{
		char		num[NUMBER_BUF_LEN];

		civis_format_number(d, num);
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("value %s of column \"%s\" exceeds the integer precision JSON numbers keep (2^53)",
						num, col->attname),
				 errdetail("JSON numbers are read as double precision, which holds integers exactly only below 9007199254740992; the API's digits beyond that are lost.")));
	}
	i = (int64) d;
	if ((col->kind == DK_INT2 && (i < PG_INT16_MIN || i > PG_INT16_MAX)) ||
		(col->kind == DK_INT4 && (i < PG_INT32_MIN || i > PG_INT32_MAX)))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("value " INT64_FORMAT " is out of range for type %s",
						i, format_type_be(col->typid))));
	switch (col->kind)
	{
		case DK_INT2:
			return Int16GetDatum((int16) i);
		case DK_INT4:
			return Int32GetDatum((int32) i);
		default:
			return Int64GetDatum(i);
	}
}

static Datum
make_numeric_from_int64(int64 i)
{
	return civis_int64_to_numeric_datum(i);
}

/* A JSON number as a numeric (jsonb scalars, numeric columns w/o typmod). */
static Numeric
number_to_numeric(const cJSON *v)
{
	double		d = civis_json_number(v);
	char		num[NUMBER_BUF_LEN];

	if (is_exact_integer(d))
		return DatumGetNumeric(make_numeric_from_int64((int64) d));
	civis_format_number(d, num);
	return DatumGetNumeric(DirectFunctionCall3(numeric_in,
											   CStringGetDatum(num),
											   ObjectIdGetDatum(InvalidOid),
											   Int32GetDatum(-1)));
}

/* --- jsonb built straight from the tree --- */

static void
jsonb_scalar(CivisDecoder *dec, const cJSON *v, JsonbValue *jv)
{
	int			len;

	switch (cjson_type(v))
	{
		case cJSON_NULL:
			jv->type = jbvNull;
			break;
		case cJSON_False:
			jv->type = jbvBool;
			jv->val.boolean = false;
			break;
		case cJSON_True:
			jv->type = jbvBool;
			jv->val.boolean = true;
			break;
		case cJSON_Number:
			jv->type = jbvNumeric;
			jv->val.numeric = number_to_numeric(v);
			break;
		case cJSON_String:
			jv->type = jbvString;
			jv->val.string.val = unconstify(char *,
											to_server(dec->db_utf8,
													  v->valuestring ? v->valuestring : "",
													  &len));
			jv->val.string.len = len;
			break;
		default:
			elog(ERROR, "unexpected cJSON node type %d", v->type);
	}
}

/*
 * Push one JSON value.  snake: write object keys in snake_case, as
 * civis-python shows them (option jsonb_snake_case), except inside the
 * members whose contents are the user's own keys (quirks.c).
 */
static JsonbValue *
jsonb_push(CivisDecoder *dec, JsonbParseState **ps, const cJSON *v,
		   JsonbIteratorToken tok, bool snake)
{
	const cJSON *c;
	JsonbValue	jv;
	JsonbValue *res;

	check_stack_depth();

	if (cJSON_IsObject(v))
	{
		pushJsonbValue(ps, WJB_BEGIN_OBJECT, NULL);
		for (c = v->child; c != NULL; c = c->next)
		{
			int			len;
			const char *key = c->string ? c->string : "";

			if (snake)
				key = civis_camel_to_snake(key);
			jv.type = jbvString;
			jv.val.string.val = unconstify(char *,
										   to_server(dec->db_utf8, key, &len));
			jv.val.string.len = len;
			pushJsonbValue(ps, WJB_KEY, &jv);
			jsonb_push(dec, ps, c, WJB_VALUE,
					   snake && !(c->string && civis_quirk_user_defined_keys(c->string)));
		}
		res = pushJsonbValue(ps, WJB_END_OBJECT, NULL);
	}
	else if (cJSON_IsArray(v))
	{
		/*
		 * No size hint: pushJsonbValue asserts that a value passed with
		 * WJB_BEGIN_ARRAY describes a raw scalar.
		 */
		pushJsonbValue(ps, WJB_BEGIN_ARRAY, NULL);
		for (c = v->child; c != NULL; c = c->next)
			jsonb_push(dec, ps, c, WJB_ELEM, snake);
		res = pushJsonbValue(ps, WJB_END_ARRAY, NULL);
	}
	else
	{
		jsonb_scalar(dec, v, &jv);
		res = pushJsonbValue(ps, tok, &jv);
	}
	return res;
}

static Datum
build_jsonb(CivisDecoder *dec, const DecColumn *col, const cJSON *v)
{
	JsonbParseState *ps = NULL;
	JsonbValue *res;

	if (cJSON_IsObject(v) || cJSON_IsArray(v))
		res = jsonb_push(dec, &ps, v, WJB_ELEM,
						 dec->jsonb_snake_case && !col->whole_item &&
						 !civis_quirk_user_defined_keys(col->key));
	else
	{
		/* a scalar document is a one-element "raw scalar" array */
		JsonbValue	arr;
		JsonbValue	jv;

		arr.type = jbvArray;
		arr.val.array.rawScalar = true;
		arr.val.array.nElems = 1;
		arr.val.array.elems = NULL;
		pushJsonbValue(&ps, WJB_BEGIN_ARRAY, &arr);
		jsonb_scalar(dec, v, &jv);
		pushJsonbValue(&ps, WJB_ELEM, &jv);
		res = pushJsonbValue(&ps, WJB_END_ARRAY, NULL);
	}
	return JsonbPGetDatum(JsonbValueToJsonb(res));
}

/* A JSON array into a one-dimensional PostgreSQL array. */
static Datum
build_array(CivisDecoder *dec, const DecColumn *col, const cJSON *v)
{
	const cJSON *c;
	Datum	   *elems;
	bool	   *enulls;
	int			n = 0;
	int			dims[1];
	int			lbs[1];

	for (c = v->child; c != NULL; c = c->next)
		n++;
	if (n == 0)
		return PointerGetDatum(construct_empty_array(col->elemtype));

	elems = palloc(sizeof(Datum) * n);
	enulls = palloc(sizeof(bool) * n);
	n = 0;
	for (c = v->child; c != NULL; c = c->next, n++)
	{
		int			len;

		if (cJSON_IsNull(c))
		{
			elems[n] = (Datum) 0;
			enulls[n] = true;
			continue;
		}
		enulls[n] = false;
		elems[n] = call_input(unconstify(FmgrInfo *, &col->elem_infunc),
							  value_text(dec, c, &len),
							  col->elem_ioparam, col->typmod);
	}
	dims[0] = n;
	lbs[0] = 1;
	return PointerGetDatum(construct_md_array(elems, enulls, 1, dims, lbs,
											  col->elemtype, col->elmlen,
											  col->elmbyval, col->elmalign));
}

/* A JSON number into real: an overflow is an error, not infinity. */
static Datum
number_to_float4(const cJSON *v)
{
	float4		f = (float4) civis_json_number(v);

	if (isinf(f))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("value out of range: overflow"),
				 errdetail("A JSON number is too large for type real.")));
	return Float4GetDatum(f);
}

/*
 * A JSON value into boolean: true and false, the strings "true", "false",
 * "t" and "f" (in any case), and the numbers 0 and 1.
 */
static Datum
json_to_bool(CivisDecoder *dec, const DecColumn *col, const cJSON *v)
{
	int			type = cjson_type(v);

	if (type == cJSON_True)
		return BoolGetDatum(true);
	if (type == cJSON_False)
		return BoolGetDatum(false);
	if (type == cJSON_String && v->valuestring)
	{
		const char *b = v->valuestring;

		if (pg_strcasecmp(b, "true") == 0 || pg_strcasecmp(b, "t") == 0)
			return BoolGetDatum(true);
		if (pg_strcasecmp(b, "false") == 0 || pg_strcasecmp(b, "f") == 0)
			return BoolGetDatum(false);
	}
	else if (type == cJSON_Number)
	{
		if (v->valuedouble == 0)
			return BoolGetDatum(false);
		if (v->valuedouble == 1)
			return BoolGetDatum(true);
	}
	conversion_error(dec, col, v,
					 "A boolean column accepts JSON true and false, the strings \"true\", \"false\", \"t\" and \"f\", and the numbers 0 and 1.");
}

/*
 * Convert one non-null JSON value for col.  A JSON string goes through the
 * type's input function, except for text (copied), boolean (its own words)
 * and jsonb (built from the tree); the switch is what each kind makes of
 * the other JSON types.
 */
static Datum
convert_value(CivisDecoder *dec, DecColumn *col, const cJSON *v)
{
	int			type = cjson_type(v);
	int			len;
	const char *s;

	if (type == cJSON_String &&
		col->kind != DK_TEXT && col->kind != DK_BOOL && col->kind != DK_JSONB)
		return call_input(&col->infunc, value_text(dec, v, &len),
						  col->ioparam, col->typmod);

	switch (col->kind)
	{
		case DK_TEXT:
			s = value_text(dec, v, &len);
			return PointerGetDatum(cstring_to_text_with_len(s, len));

		case DK_INT2:
		case DK_INT4:
		case DK_INT8:
			if (type == cJSON_Number)
				return number_to_int(dec, col, v);
			conversion_error(dec, col, v, NULL);

		case DK_FLOAT8:
			if (type == cJSON_Number)
				return Float8GetDatum(civis_json_number(v));
			conversion_error(dec, col, v, NULL);

		case DK_FLOAT4:
			if (type == cJSON_Number)
				return number_to_float4(v);
			conversion_error(dec, col, v, NULL);

		case DK_NUMERIC:
			if (type != cJSON_Number)
				conversion_error(dec, col, v, NULL);
			if (col->typmod < 0)
				return NumericGetDatum(number_to_numeric(v));
			return call_input(&col->infunc, value_text(dec, v, &len),
							  col->ioparam, col->typmod);

		case DK_BOOL:
			return json_to_bool(dec, col, v);

		case DK_DATETIME:
			conversion_error(dec, col, v,
							 type == cJSON_Number ?
							 "A number is not read as a date or time (its epoch and unit are ambiguous); declare the column as bigint or double precision." :
							 NULL);

		case DK_JSONB:
			return build_jsonb(dec, col, v);

		case DK_ARRAY:
			if (type == cJSON_Array)
				return build_array(dec, col, v);
			conversion_error(dec, col, v,
							 "An array column accepts a JSON array, or a string in PostgreSQL array syntax; declare the column as jsonb to receive any JSON value.");

		case DK_GENERIC:
			return call_input(&col->infunc, value_text(dec, v, &len),
							  col->ioparam, col->typmod);
	}
	pg_unreachable();
}

/* --------------------------------------------------------------------
 * Constants and decoding of items
 * -------------------------------------------------------------------- */

/* The decoder's column of attribute attnum, or NULL if not retrieved. */
static DecColumn *
retrieved_column(CivisDecoder *dec, AttrNumber attnum)
{
	int			i;

	for (i = 0; i < dec->ncols; i++)
		if (dec->cols[i].attnum == attnum)
			return &dec->cols[i];
	return NULL;
}

void
civis_decoder_set_constant(CivisDecoder *dec, AttrNumber attnum,
						   const char *text_value)
{
	DecColumn  *col = retrieved_column(dec, attnum);
	MemoryContext old;
	ErrorContextCallback errcb;

	if (col == NULL)
		return;					/* not retrieved: nothing will read it */

	col->has_const = true;
	if (text_value == NULL)
	{
		col->const_null = true;
		col->const_value = (Datum) 0;
		return;
	}

	push_decode_context(dec, &errcb, col, NULL, -1);

	/*
	 * Converted once, into the decoder's (per-scan) context.  A previous
	 * constant is not freed: a tuple returned before a rescan may still point
	 * at it, and it is small.
	 */
	old = MemoryContextSwitchTo(dec->cxt);
	col->const_value = call_input(&col->infunc, text_value, col->ioparam,
								  col->typmod);
	col->const_null = false;
	MemoryContextSwitchTo(old);

	dec->cur_col = NULL;
	error_context_stack = errcb.previous;
}

/*
 * A column that echoes a condition's own value (already of the column's
 * type): copied as it is, so nothing is lost to a text round trip.
 */
void
civis_decoder_set_datum(CivisDecoder *dec, AttrNumber attnum, Datum value)
{
	DecColumn  *col = retrieved_column(dec, attnum);
	int16		typlen;
	bool		typbyval;
	MemoryContext old;

	if (col == NULL)
		return;					/* not retrieved: nothing will read it */
	get_typlenbyval(col->typid, &typlen, &typbyval);
	/* as for text constants: a previous value may still be in a tuple */
	old = MemoryContextSwitchTo(dec->cxt);
	col->const_value = datumCopy(value, typbyval, typlen);
	MemoryContextSwitchTo(old);
	col->has_const = true;
	col->const_null = false;
}

/* The value when the item has no such member (or for param_only). */
static inline void
set_missing(const DecColumn *col, Datum *value, bool *isnull)
{
	if (col->has_const && !col->const_null)
	{
		*value = col->const_value;
		*isnull = false;
	}
}

/*
 * One walk over the members of item (of page, at index) fills dec->found,
 * a slot per key the columns read.  An item that is not an object is an
 * error unless a column receives the whole item.
 */
static void
find_members(CivisDecoder *dec, const CivisPage *page, int index,
			 const cJSON *item)
{
	const cJSON *m;

	if (!cJSON_IsObject(item))
	{
		if (!dec->scalar_items_ok)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
					 errmsg("item %d of the response to %s is a JSON %s, not an object",
							index + 1, page->shown, civis_json_type_name(item)),
					 errdetail("Value: %s", civis_value_excerpt(item)),
					 errhint("To read such items, give foreign table \"%s\" one column with the option key '.', which receives the whole item.",
							 dec->relname)));
		return;
	}
	if (dec->nkeys == 0)
		return;
	memset(dec->found, 0, sizeof(cJSON *) * dec->nkeys);
	for (m = item->child; m != NULL; m = m->next)
	{
		int			k;

		if (m->string == NULL)
			continue;
		k = lookup_key(dec, m->string);
		if (k >= 0)
			dec->found[k] = m;	/* the last duplicate wins */
	}
}

void
civis_decode_item(CivisDecoder *dec, const CivisPage *page, int index,
				  Datum *values, bool *nulls)
{
	const cJSON *item = page_item(page, index);
	ErrorContextCallback errcb;
	int			i;

	memset(values, 0, sizeof(Datum) * dec->natts);
	memset(nulls, true, sizeof(bool) * dec->natts);

	push_decode_context(dec, &errcb, NULL, page, index);

	find_members(dec, page, index, item);

	for (i = 0; i < dec->ncols; i++)
	{
		DecColumn  *col = &dec->cols[i];
		int			a = col->attnum - 1;
		const cJSON *v;

		if (col->param_only)
		{
			set_missing(col, &values[a], &nulls[a]);
			continue;
		}
		if (col->whole_item)
			v = item;
		else if (!cJSON_IsObject(item))
			v = NULL;
		else
		{
			int			p;

			v = dec->found[col->entry];
			for (p = 0; v != NULL && p < col->npath; p++)
				v = civis_json_step(v, col->path[p], col->pathlen[p]);
		}

		if (v == NULL)
		{
			set_missing(col, &values[a], &nulls[a]);
			continue;
		}
		if (cJSON_IsNull(v))
			continue;

		dec->cur_col = col;
		values[a] = convert_value(dec, col, v);
		nulls[a] = false;
		dec->cur_col = NULL;
	}

	error_context_stack = errcb.previous;
}
