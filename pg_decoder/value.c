/*-------------------------------------------------------------------------
 *
 * value.c
 *		Rendering of one non-null datum as JSON, by the kind typeinfo.c
 *		chose for its type.
 *
 * No session setting may change the output (DateStyle, TimeZone,
 * IntervalStyle, extra_float_digits, bytea_output, lc_numeric): numbers,
 * dates, times and intervals are formatted here from their stored form,
 * arrays, composites and ranges are walked element by element, and the
 * types' output functions are called only for types whose text does not
 * depend on those settings (numeric_out, uuid, inet, enums, ...).
 *
 *-------------------------------------------------------------------------
 */
#include "walcast.h"

#include <math.h>

#include "access/htup_details.h"
#include "common/shortest_dec.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/float.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/rangetypes.h"
#include "utils/timestamp.h"
#if PG_VERSION_NUM >= 140000
#include "utils/multirangetypes.h"
#endif

static void
value_float(StringInfo out, double v, bool is_float4)
{
	char	   *p;

	if (isnan(v))
	{
		appendBinaryStringInfo(out, "\"NaN\"", 5);
		return;
	}
	if (isinf(v))
	{
		if (v < 0)
			appendBinaryStringInfo(out, "\"-Infinity\"", 11);
		else
			appendBinaryStringInfo(out, "\"Infinity\"", 10);
		return;
	}
	/* the shortest text that reads back as the same value, like float8out */
	enlargeStringInfo(out, DOUBLE_SHORTEST_DECIMAL_LEN);
	p = out->data + out->len;
	if (is_float4)
		out->len += float_to_shortest_decimal_bufn((float) v, p);
	else
		out->len += double_to_shortest_decimal_bufn(v, p);
	out->data[out->len] = '\0';
}

static void
value_numeric(StringInfo out, WcData *data, Datum d)
{
	char	   *s = DatumGetCString(DirectFunctionCall1(numeric_out, d));
	bool		finite = isdigit((unsigned char) s[0]) ||
		(s[0] == '-' && isdigit((unsigned char) s[1]));

	/* numeric_out never uses the locale nor exponents: a valid JSON number */
	if (finite && !data->opts.numeric_as_string)
		appendStringInfoString(out, s);
	else
		json_string(out, s, strlen(s));
}

/* ISO 8601 duration, as IntervalStyle iso_8601 prints it. */
static void
value_interval(StringInfo out, Interval *span)
{
	char		buf[MAXDATELEN + 1];

#ifdef INTERVAL_NOT_FINITE
	if (INTERVAL_NOT_FINITE(span))
	{
		json_string(out, INTERVAL_IS_NOBEGIN(span) ? "-infinity" : "infinity",
					INTERVAL_IS_NOBEGIN(span) ? 9 : 8);
		return;
	}
#endif
#if PG_VERSION_NUM >= 150000
	{
		struct pg_itm itm;

		interval2itm(*span, &itm);
		EncodeInterval(&itm, INTSTYLE_ISO_8601, buf);
	}
#else
	{
		struct pg_tm tm;
		fsec_t		fsec;

		if (interval2tm(*span, &tm, &fsec) != 0)
			elog(ERROR, "could not convert interval to tm");
		EncodeInterval(&tm, fsec, INTSTYLE_ISO_8601, buf);
	}
#endif
	json_string(out, buf, strlen(buf));
}

static void
value_array_dim(StringInfo out, WcData *data, WcType *elem, int dim,
				int ndim, const int *dims, Datum *elems, bool *nulls, int *pos)
{
	appendStringInfoCharMacro(out, '[');
	for (int i = 0; i < dims[dim]; i++)
	{
		if (i > 0)
			appendStringInfoCharMacro(out, ',');
		if (dim < ndim - 1)
			value_array_dim(out, data, elem, dim + 1, ndim, dims, elems, nulls,
							pos);
		else
		{
			if (nulls[*pos])
				appendBinaryStringInfo(out, "null", 4);
			else
				value_render(out, data, elem, elems[*pos]);
			(*pos)++;
		}
	}
	appendStringInfoCharMacro(out, ']');
}

/* Nested JSON arrays, one level per dimension; lower bounds are dropped. */
static void
value_array(StringInfo out, WcData *data, WcType *t, Datum d)
{
	ArrayType  *arr = DatumGetArrayTypeP(d);
	int			ndim = ARR_NDIM(arr);
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			pos = 0;

	if (ndim == 0)
	{
		appendBinaryStringInfo(out, "[]", 2);
		return;
	}
	deconstruct_array(arr, ARR_ELEMTYPE(arr), t->elem->typlen,
					  t->elem->typbyval, t->elem->typalign, &elems, &nulls, &n);
	value_array_dim(out, data, t->elem, 0, ndim, ARR_DIMS(arr), elems, nulls,
					&pos);
}

/* An object keyed by attribute name, in attribute order. */
static void
value_composite(StringInfo out, WcData *data, Datum d)
{
	HeapTupleHeader td = DatumGetHeapTupleHeader(d);
	TupleDesc	desc;
	HeapTupleData tuple;
	Datum	   *values;
	bool	   *nulls;
	bool		first = true;

	desc = lookup_rowtype_tupdesc(HeapTupleHeaderGetTypeId(td),
								  HeapTupleHeaderGetTypMod(td));
	tuple.t_len = HeapTupleHeaderGetDatumLength(td);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = td;
	values = palloc(desc->natts * sizeof(Datum));
	nulls = palloc(desc->natts * sizeof(bool));
	heap_deform_tuple(&tuple, desc, values, nulls);

	appendStringInfoCharMacro(out, '{');
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped)
			continue;
		if (!first)
			appendStringInfoCharMacro(out, ',');
		first = false;
		json_string(out, NameStr(att->attname), strlen(NameStr(att->attname)));
		appendStringInfoCharMacro(out, ':');
		if (nulls[i])
			appendBinaryStringInfo(out, "null", 4);
		else
			value_render(out, data, typeinfo_get(data, att->atttypid),
						 values[i]);
	}
	appendStringInfoCharMacro(out, '}');
	ReleaseTupleDesc(desc);
}

static void
value_bound(StringInfo out, WcData *data, WcType *t, const RangeBound *b)
{
	if (b->infinite)
		appendBinaryStringInfo(out, "null", 4);
	else
		value_render(out, data, t->elem, b->val);
}

/*
 * {"lower":v|null,"upper":v|null,"lower_inc":b,"upper_inc":b}, null for an
 * unbounded side; {"empty":true} for an empty range.
 */
static void
value_range(StringInfo out, WcData *data, WcType *t, Datum d)
{
	RangeType  *r = DatumGetRangeTypeP(d);
	RangeBound	lower;
	RangeBound	upper;
	bool		empty;

	range_deserialize(t->range_tc, r, &lower, &upper, &empty);
	if (empty)
	{
		appendStringInfoString(out, "{\"empty\":true}");
		return;
	}
	appendStringInfoString(out, "{\"lower\":");
	value_bound(out, data, t, &lower);
	appendStringInfoString(out, ",\"upper\":");
	value_bound(out, data, t, &upper);
	appendStringInfoString(out, lower.inclusive ? ",\"lower_inc\":true" :
						   ",\"lower_inc\":false");
	appendStringInfoString(out, upper.inclusive ? ",\"upper_inc\":true}" :
						   ",\"upper_inc\":false}");
}

#if PG_VERSION_NUM >= 140000
/* A multirange is an array of its ranges, each in the range form. */
static void
value_multirange(StringInfo out, WcData *data, WcType *t, Datum d)
{
	MultirangeType *mr = DatumGetMultirangeTypeP(d);
	int32		count;
	RangeType **ranges;

	multirange_deserialize(t->elem->range_tc, mr, &count, &ranges);
	appendStringInfoCharMacro(out, '[');
	for (int i = 0; i < count; i++)
	{
		if (i > 0)
			appendStringInfoCharMacro(out, ',');
		value_range(out, data, t->elem, RangeTypePGetDatum(ranges[i]));
	}
	appendStringInfoCharMacro(out, ']');
}
#endif

/*
 * Any other type: its output function, as a string.  Some of these print
 * floats (point, box, circle, ...) through float8out_internal, which obeys
 * extra_float_digits; pin it to the shortest exact form for the call.
 * Output functions of stored values do not fail in practice, and an error
 * ends the decoding session anyway, so no PG_TRY to restore it.
 */
static void
value_output(StringInfo out, WcType *t, Datum d)
{
	int			saved = extra_float_digits;
	char	   *s;

	extra_float_digits = 1;
	s = OutputFunctionCall(&t->outfn, d);
	extra_float_digits = saved;
	json_string(out, s, strlen(s));
}

void
value_render(StringInfo out, WcData *data, WcType *t, Datum d)
{
	switch (t->kind)
	{
		case WC_KIND_BOOL:
			if (DatumGetBool(d))
				appendBinaryStringInfo(out, "true", 4);
			else
				appendBinaryStringInfo(out, "false", 5);
			break;
		case WC_KIND_INT2:
			json_int64(out, DatumGetInt16(d));
			break;
		case WC_KIND_INT4:
			json_int64(out, DatumGetInt32(d));
			break;
		case WC_KIND_INT8:
			json_int64(out, DatumGetInt64(d));
			break;
		case WC_KIND_OID:
			json_uint64(out, DatumGetObjectId(d));
			break;
		case WC_KIND_FLOAT4:
			value_float(out, DatumGetFloat4(d), true);
			break;
		case WC_KIND_FLOAT8:
			value_float(out, DatumGetFloat8(d), false);
			break;
		case WC_KIND_NUMERIC:
			value_numeric(out, data, d);
			break;
		case WC_KIND_TEXT:
			{
				struct varlena *v = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(d));

				json_string(out, VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v));
			}
			break;
		case WC_KIND_NAME:
			{
				const char *s = NameStr(*DatumGetName(d));

				json_string(out, s, strlen(s));
			}
			break;
		case WC_KIND_JSON:
			{
				struct varlena *v = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(d));
				int			start = out->len;

				appendBinaryStringInfo(out, VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v));
				json_compact(out, start);
			}
			break;
		case WC_KIND_JSONB:
			{
				Jsonb	   *jb = DatumGetJsonbP(d);
				int			start = out->len;

				(void) JsonbToCString(out, &jb->root, VARSIZE(jb));
				json_compact(out, start);
			}
			break;
		case WC_KIND_BYTEA:
			{
				struct varlena *v = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(d));

				if (data->opts.bytea_encoding == WC_BYTEA_HEX)
					json_hex(out, VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v));
				else
					json_base64(out, VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v));
			}
			break;
		case WC_KIND_DATE:
			json_date(out, DatumGetDateADT(d));
			break;
		case WC_KIND_TIME:
			json_time(out, DatumGetTimeADT(d), false, 0);
			break;
		case WC_KIND_TIMETZ:
			{
				TimeTzADT  *tz = DatumGetTimeTzADTP(d);

				json_time(out, tz->time, true, tz->zone);
			}
			break;
		case WC_KIND_TIMESTAMP:
			json_timestamp(out, DatumGetTimestamp(d), false);
			break;
		case WC_KIND_TIMESTAMPTZ:
			json_timestamp(out, DatumGetTimestampTz(d), true);
			break;
		case WC_KIND_INTERVAL:
			value_interval(out, DatumGetIntervalP(d));
			break;
		case WC_KIND_ARRAY:
			value_array(out, data, t, d);
			break;
		case WC_KIND_COMPOSITE:
			value_composite(out, data, d);
			break;
		case WC_KIND_RANGE:
			value_range(out, data, t, d);
			break;
#if PG_VERSION_NUM >= 140000
		case WC_KIND_MULTIRANGE:
			value_multirange(out, data, t, d);
			break;
#endif
		default:				/* WC_KIND_OUTPUT */
			value_output(out, t, d);
			break;
	}
}
