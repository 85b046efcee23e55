/*-------------------------------------------------------------------------
 *
 * typeinfo.c
 *		How each type is rendered: a hash from type OID to WcType, built
 *		on first sight of the type and kept until a pg_type invalidation
 *		(relinfo.c then drops this cache and the relation cache together,
 *		because relation entries point into it).
 *
 * Domains resolve to their base type here, once, so value rendering
 * never looks at the catalogs for scalars; arrays and ranges point at the
 * entry of their element type.
 *
 *-------------------------------------------------------------------------
 */
#include "walcast.h"

#include "catalog/pg_type.h"
#include "utils/lsyscache.h"

static WcKind
typeinfo_kind(Oid base)
{
	switch (base)
	{
		case BOOLOID:
			return WC_KIND_BOOL;
		case INT2OID:
			return WC_KIND_INT2;
		case INT4OID:
			return WC_KIND_INT4;
		case INT8OID:
			return WC_KIND_INT8;
		case OIDOID:
			return WC_KIND_OID;
		case FLOAT4OID:
			return WC_KIND_FLOAT4;
		case FLOAT8OID:
			return WC_KIND_FLOAT8;
		case NUMERICOID:
			return WC_KIND_NUMERIC;
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
			return WC_KIND_TEXT;
		case NAMEOID:
			return WC_KIND_NAME;
		case JSONOID:
			return WC_KIND_JSON;
		case JSONBOID:
			return WC_KIND_JSONB;
		case BYTEAOID:
			return WC_KIND_BYTEA;
		case DATEOID:
			return WC_KIND_DATE;
		case TIMEOID:
			return WC_KIND_TIME;
		case TIMETZOID:
			return WC_KIND_TIMETZ;
		case TIMESTAMPOID:
			return WC_KIND_TIMESTAMP;
		case TIMESTAMPTZOID:
			return WC_KIND_TIMESTAMPTZ;
		case INTERVALOID:
			return WC_KIND_INTERVAL;
		default:
			return WC_KIND_OUTPUT;
	}
}

/*
 * The rendering entry of a type, built on first use.  Called while a
 * change is rendered (composite attributes), so it only ever adds.
 */
WcType *
typeinfo_get(WcData *data, Oid typid)
{
	WcType	   *t;
	bool		found;
	Oid			base;
	Oid			elem;
	MemoryContext old;

	t = hash_search(data->types, &typid, HASH_ENTER, &found);
	if (found)
		return t;

	old = MemoryContextSwitchTo(data->cache_cxt);
	base = getBaseType(typid);
	get_typlenbyvalalign(base, &t->typlen, &t->typbyval, &t->typalign);
	t->kind = typeinfo_kind(base);
	t->elem = NULL;
	t->range_tc = NULL;
	if (t->kind == WC_KIND_OUTPUT)
	{
		char		typtype = get_typtype(base);

		elem = get_element_type(base);
		if (OidIsValid(elem))
		{
			t->kind = WC_KIND_ARRAY;
			t->elem = typeinfo_get(data, elem);
		}
		else if (typtype == TYPTYPE_COMPOSITE)
			t->kind = WC_KIND_COMPOSITE;
		else if (typtype == TYPTYPE_RANGE)
		{
			t->kind = WC_KIND_RANGE;
			/* typcache entries live for the life of the process */
			t->range_tc = lookup_type_cache(base, TYPECACHE_RANGE_INFO);
			t->elem = typeinfo_get(data, t->range_tc->rngelemtype->type_id);
		}
#if PG_VERSION_NUM >= 140000
		else if (typtype == TYPTYPE_MULTIRANGE)
		{
			TypeCacheEntry *tc = lookup_type_cache(base,
												   TYPECACHE_MULTIRANGE_INFO);

			t->kind = WC_KIND_MULTIRANGE;
			t->elem = typeinfo_get(data, tc->rngtype->type_id);
		}
#endif
		else
		{
			Oid			outfn;
			bool		isvarlena;

			getTypeOutputInfo(base, &outfn, &isvarlena);
			fmgr_info_cxt(outfn, &t->outfn, data->cache_cxt);
		}
	}
	MemoryContextSwitchTo(old);
	return t;
}
