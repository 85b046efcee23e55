/*-------------------------------------------------------------------------
 *
 * relinfo.c
 *		Per-relation output information, cached like pgoutput's
 *		RelationSyncCache: built on the first change of a relation, marked
 *		invalid by relcache (ALTER TABLE, RENAME), pg_namespace (schema
 *		rename) and pg_type invalidations, rebuilt on the next change.
 *		The per-row path does one hash lookup and no catalog access.
 *
 * Invalidation callbacks cannot be unregistered and outlive a decoding
 * session run through the SQL functions, so they are registered once per
 * process and find the current session through inval_target, which a
 * reset callback on the session's memory clears.  They only set flags:
 * they may fire in the middle of rendering a row (any catalog access
 * can process invalidations), when nothing may be freed.
 *
 *-------------------------------------------------------------------------
 */
#include "walcast.h"

#include "access/sysattr.h"
#include "catalog/pg_class.h"
#include "nodes/bitmapset.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

static WcData *inval_target = NULL;
static bool callbacks_registered = false;

static void
relinfo_invalidate_all(WcData *data)
{
	HASH_SEQ_STATUS status;
	WcRel	   *rel;

	hash_seq_init(&status, data->rels);
	while ((rel = hash_seq_search(&status)) != NULL)
		rel->valid = false;
}

static void
relinfo_relcache_cb(Datum arg, Oid relid)
{
	WcRel	   *rel;

	if (inval_target == NULL)
		return;
	if (!OidIsValid(relid))
	{
		relinfo_invalidate_all(inval_target);
		return;
	}
	rel = hash_search(inval_target->rels, &relid, HASH_FIND, NULL);
	if (rel != NULL)
		rel->valid = false;
}

static void
relinfo_namespace_cb(Datum arg, int cacheid, uint32 hashvalue)
{
	if (inval_target != NULL)
		relinfo_invalidate_all(inval_target);
}

static void
relinfo_type_cb(Datum arg, int cacheid, uint32 hashvalue)
{
	if (inval_target != NULL)
		inval_target->types_stale = true;
}

static void
relinfo_forget_session(void *arg)
{
	if (inval_target == arg)
		inval_target = NULL;
}

static void
relinfo_create_hashes(WcData *data)
{
	HASHCTL		ctl;

	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(WcRel);
	ctl.hcxt = data->cache_cxt;
	data->rels = hash_create("walcast relations", 128, &ctl,
							 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	ctl.entrysize = sizeof(WcType);
	data->types = hash_create("walcast types", 64, &ctl,
							  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	data->types_stale = false;
}

/*
 * Set up the caches of a decoding session.  session_cxt is the context
 * whose deletion ends the session (the plugin's ctx->context), also when
 * the session ends by an error and no shutdown callback runs.
 */
void
relinfo_init(WcData *data, MemoryContext session_cxt)
{
	MemoryContextCallback *cb;

	relinfo_create_hashes(data);
	cb = MemoryContextAlloc(session_cxt, sizeof(*cb));
	cb->func = relinfo_forget_session;
	cb->arg = data;
	MemoryContextRegisterResetCallback(session_cxt, cb);
	inval_target = data;

	if (!callbacks_registered)
	{
		CacheRegisterRelcacheCallback(relinfo_relcache_cb, (Datum) 0);
		CacheRegisterSyscacheCallback(NAMESPACEOID, relinfo_namespace_cb,
									  (Datum) 0);
		CacheRegisterSyscacheCallback(TYPEOID, relinfo_type_cb, (Datum) 0);
		callbacks_registered = true;
	}
}

/* Column names of a bitmap of attribute numbers, as a JSON array. */
static void
relinfo_name_array(StringInfo buf, TupleDesc desc, Bitmapset *attrs)
{
	int			x = -1;
	bool		first = true;

	appendStringInfoChar(buf, '[');
	while ((x = bms_next_member(attrs, x)) >= 0)
	{
		AttrNumber	attnum = x + FirstLowInvalidHeapAttributeNumber;
		Form_pg_attribute att;

		if (attnum <= 0)
			continue;
		att = TupleDescAttr(desc, attnum - 1);
		if (!first)
			appendStringInfoChar(buf, ',');
		json_string(buf, NameStr(att->attname), strlen(NameStr(att->attname)));
		first = false;
	}
	appendStringInfoChar(buf, ']');
}

static const char *
relinfo_identity(Relation rel)
{
	switch (rel->rd_rel->relreplident)
	{
		case REPLICA_IDENTITY_FULL:
			return "full";
		case REPLICA_IDENTITY_INDEX:
			/* the index may have been dropped: then nothing is logged */
			return OidIsValid(RelationGetReplicaIndex(rel)) ? "index" : "nothing";
		case REPLICA_IDENTITY_DEFAULT:
			/* DEFAULT without a primary key logs no old key either */
			return OidIsValid(RelationGetReplicaIndex(rel)) ? "default" : "nothing";
		default:
			return "nothing";
	}
}

static void
relinfo_build(WcData *data, WcRel *entry, Relation rel)
{
	const WcOptions *opts = &data->opts;
	TupleDesc	desc = RelationGetDescr(rel);
	char	   *nspname;
	char	   *relname = RelationGetRelationName(rel);
	Bitmapset  *keys;
	StringInfoData buf;
	MemoryContext old;

	if (entry->cxt != NULL)
		MemoryContextDelete(entry->cxt);
	entry->cxt = AllocSetContextCreate(data->cache_cxt, "walcast relation",
									   ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(entry->cxt);

	nspname = get_namespace_name(RelationGetNamespace(rel));
	entry->skip = filter_table_skipped(opts, nspname, relname);
	entry->identity = relinfo_identity(rel);
	entry->natts = desc->natts;
	entry->cols = palloc0(desc->natts * sizeof(WcColumn));
	keys = RelationGetIndexAttrBitmap(rel, INDEX_ATTR_BITMAP_IDENTITY_KEY);

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		WcColumn   *col = &entry->cols[i];
		const char *attname = NameStr(att->attname);

		col->emit = !att->attisdropped &&
			!filter_column_excluded(opts, nspname, relname, attname);
		if (!col->emit)
			continue;
		col->is_key = bms_is_member(att->attnum - FirstLowInvalidHeapAttributeNumber,
									keys);
		initStringInfo(&buf);
		json_string(&buf, attname, strlen(attname));
		appendStringInfoChar(&buf, ':');
		col->key = buf.data;
		col->key_len = buf.len;
		col->type = typeinfo_get(data, att->atttypid);
	}

	/* the part of every record of this relation that never changes */
	initStringInfo(&buf);
	appendStringInfoString(&buf, ",\"schema\":");
	json_string(&buf, nspname, strlen(nspname));
	appendStringInfoString(&buf, ",\"table\":");
	json_string(&buf, relname, strlen(relname));
	if (opts->include_pk)
	{
		Bitmapset  *pk = RelationGetIndexAttrBitmap(rel,
												   INDEX_ATTR_BITMAP_PRIMARY_KEY);

		appendStringInfoString(&buf, ",\"pk\":");
		relinfo_name_array(&buf, desc, bms_is_empty(pk) ? keys : pk);
	}
	if (opts->include_types || opts->include_type_oids)
	{
		for (int pass = 0; pass < 2; pass++)
		{
			bool		first = true;

			if (pass == 0 ? !opts->include_types : !opts->include_type_oids)
				continue;
			appendStringInfoString(&buf, pass == 0 ? ",\"types\":{" :
								   ",\"type_oids\":{");
			for (int i = 0; i < desc->natts; i++)
			{
				Form_pg_attribute att = TupleDescAttr(desc, i);

				if (!entry->cols[i].emit)
					continue;
				if (!first)
					appendStringInfoChar(&buf, ',');
				appendBinaryStringInfo(&buf, entry->cols[i].key,
									   entry->cols[i].key_len);
				if (pass == 0)
				{
					char	   *tname = format_type_with_typemod(att->atttypid,
																 att->atttypmod);

					json_string(&buf, tname, strlen(tname));
				}
				else
					json_uint64(&buf, att->atttypid);
				first = false;
			}
			appendStringInfoChar(&buf, '}');
		}
	}
	entry->head = buf.data;
	entry->head_len = buf.len;
	entry->valid = true;
	MemoryContextSwitchTo(old);
}

/*
 * The cache entry of a relation, rebuilt if invalidated.  Called at the
 * start of a change, before anything of the change is rendered: the one
 * place where a stale type cache may be thrown away.
 */
WcRel *
relinfo_get(WcData *data, Relation rel)
{
	Oid			relid = RelationGetRelid(rel);
	WcRel	   *entry;
	bool		found;

	if (unlikely(data->types_stale))
	{
		MemoryContextReset(data->cache_cxt);
		relinfo_create_hashes(data);
	}
	entry = hash_search(data->rels, &relid, HASH_ENTER, &found);
	if (!found)
	{
		entry->valid = false;
		entry->cxt = NULL;
	}
	/* the natts check is a safety net should an invalidation be missed */
	if (unlikely(!entry->valid || entry->natts != RelationGetDescr(rel)->natts))
		relinfo_build(data, entry, rel);
	return entry;
}
