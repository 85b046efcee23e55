/*
 * sink_mongo_doc.c
 *		One change becomes the write operations that mirror it
 *		(docs/mongo.md "Operations"), without touching the server:
 *
 *	I  replace the document of the key, upsert, with the whole row (sent
 *	   as a plain insert first: sink_mongo_run);
 *	U  $set the columns in "new" (unchanged TOAST columns are left alone);
 *	   a changed key deletes the old document and writes the new one;
 *	D  delete the document of the old key;
 *	T  delete every document of the table's collection.
 *
 * Every filter carries "_walcast.lsn not >= this change's LSN": the change
 * applies only over an older version (or none).  A row's changes are
 * serialised by its row lock, so their LSNs grow in commit order and the
 * LSN alone orders the versions of one document.
 *
 * The mapping is pure (no I/O, no logging: test_sink_mongo_doc.c): what it
 * cannot know, the unchanged TOAST values of a row whose key changed
 * (they live only in the old document), it asks the sink for in the plan,
 * and the sink reads them before sealing the update (sink_mongo.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sink_mongo.h"

/*
 * The collection of schema.table: its --mongo-collection-map entry, else
 * the template ({schema}, {table}).
 */
static char *
sink_mongo_collection(const struct sink_mongo_settings *cfg, const char *schema,
					  const char *table)
{
	const char *tmpl = cfg->mongo_collection;
	size_t		slen = strlen(schema);
	size_t		cap = strlen(tmpl) + 1;
	char	   *out;
	char	   *o;

	for (int i = 0; i < cfg->mongo_collection_map.count; i++)
	{
		const struct config_plugin_option *m = &cfg->mongo_collection_map.items[i];

		if (strncmp(m->name, schema, slen) == 0 && m->name[slen] == '.' &&
			strcmp(m->name + slen + 1, table) == 0)
			return strdup(m->value);
	}

	for (const char *p = strstr(tmpl, "{"); p; p = strstr(p + 1, "{"))
		cap += strlen(schema) + strlen(table);
	if ((out = malloc(cap)) == NULL)
		return NULL;
	for (o = out; *tmpl;)
	{
		const char *sub = NULL;
		size_t		skip = 0;

		if (strncmp(tmpl, "{schema}", 8) == 0)
			sub = schema, skip = 8;
		else if (strncmp(tmpl, "{table}", 7) == 0)
			sub = table, skip = 7;
		if (sub != NULL)
		{
			strcpy(o, sub);
			o += strlen(sub);
			tmpl += skip;
		}
		else
			*o++ = *tmpl++;
	}
	*o = '\0';
	return out;
}

/*
 * The column types (the record's "types", in table order): looked up by
 * name, from where the last look-up ended, since a row lists its columns
 * in that order too; a full pass when not found there.
 */
struct sink_mongo_types
{
	yyjson_val *types;
	yyjson_obj_iter it;
};

static void
sink_mongo_types_init(struct sink_mongo_types *t, const struct event *ev)
{
	t->types = yyjson_obj_get(ev->rec, "types");
	yyjson_obj_iter_init(t->types, &t->it);
}

static const char *
sink_mongo_type_of(struct sink_mongo_types *t, yyjson_val *name)
{
	const char *s = yyjson_get_str(name);
	size_t		len = yyjson_get_len(name);
	yyjson_val *k;

	if (!yyjson_is_obj(t->types))
		return NULL;
	for (int pass = 0; pass < 2; pass++)
	{
		while ((k = yyjson_obj_iter_next(&t->it)) != NULL)
		{
			if (yyjson_equals_strn(k, s, len))
				return yyjson_get_str(yyjson_obj_iter_get_val(k));
		}
		yyjson_obj_iter_init(t->types, &t->it);
	}
	return NULL;
}

/*
 * Append the key of row (the pk columns) as _id: the value of a single
 * column, or an embedded document of the columns in key order.  False when
 * a key column is missing from row.
 */
static bool
sink_mongo_append_key(const struct sink_mongo_doc_ctx *ctx, const struct event *ev,
					  yyjson_val *pk, yyjson_val *row, bson_t *doc, const char *name,
					  char *err, size_t errlen)
{
	size_t		i,
				max;
	yyjson_val *col;
	bson_t		child;
	int			usec;
	bool		as_text;
	struct sink_mongo_types types;

	if (!yyjson_is_obj(row))
		return false;
	yyjson_arr_foreach(pk, i, max, col)
	{
		if (event_find_key(row, col) == NULL)
			return false;
	}
	sink_mongo_types_init(&types, ev);
	if (yyjson_arr_size(pk) == 1)
	{
		col = yyjson_arr_get_first(pk);
		return sink_mongo_bson_append(doc, name, strlen(name), ev,
									  event_find_key(row, col),
									  sink_mongo_type_of(&types, col), ctx->conv,
									  &usec, &as_text, err, errlen);
	}
	bson_append_document_begin(doc, name, -1, &child);
	yyjson_arr_foreach(pk, i, max, col)
	{
		if (!sink_mongo_bson_append(&child, yyjson_get_str(col), yyjson_get_len(col), ev,
									event_find_key(row, col),
									sink_mongo_type_of(&types, col), ctx->conv,
									&usec, &as_text, err, errlen))
			return false;
	}
	return bson_append_document_end(doc, &child);
}

/* {_id: key, _walcast.lsn: {$not: {$gte: lsn}}}: matches older versions only. */
static void
sink_mongo_older_than(bson_t *filter, int64_t lsn)
{
	bson_t		not;
	bson_t		gte;

	bson_append_document_begin(filter, SINK_MONGO_META ".lsn", -1, &not);
	bson_append_document_begin(&not, "$not", -1, &gte);
	bson_append_int64(&gte, "$gte", -1, lsn);
	bson_append_document_end(&not, &gte);
	bson_append_document_end(filter, &not);
}

/* A metadata entry under a column's name: a sub-document, or a dotted path. */
static void
sink_mongo_meta_path(char *path, size_t len, const char *what, const char *col)
{
	snprintf(path, len, SINK_MONGO_META ".%s.%s", what, col);
}

/* The entries of sub into doc, under _walcast.<what>.<key> (dotted). */
static void
sink_mongo_append_dotted(bson_t *doc, const char *what, const bson_t *sub)
{
	bson_iter_t it;

	if (!bson_iter_init(&it, sub))
		return;
	while (bson_iter_next(&it))
	{
		char		path[512];

		sink_mongo_meta_path(path, sizeof(path), what, bson_iter_key(&it));
		bson_append_value(doc, path, -1, bson_iter_value(&it));
	}
}

/*
 * The row's columns into doc (a replacement, or $set), with the metadata.
 * Microseconds a BSON date cannot hold go to _walcast.us.<column>; a
 * column stored as its JSON text is marked _walcast.json.<column>: true.
 * In an update, a timestamp column set to NULL has its us entry removed
 * (unset), and a column that could be text and is not has its mark
 * removed.
 */
static bool
sink_mongo_append_row(const struct sink_mongo_doc_ctx *ctx, const struct event *ev,
					  yyjson_val *row, bson_t *doc, bson_t *unset, bool dotted,
					  char *err, size_t errlen)
{
	size_t		idx,
				max;
	yyjson_val *k,
			   *v;
	bson_t		meta;
	bson_t		sub;
	bson_t		usdoc = BSON_INITIALIZER;
	bson_t		jsondoc = BSON_INITIALIZER;
	struct sink_mongo_types types;

	sink_mongo_types_init(&types, ev);
	if (!yyjson_is_obj(row))
	{
		/* no columns (and yyjson's loops want an object) */
		bson_destroy(&usdoc);
		bson_destroy(&jsondoc);
		return true;
	}
	yyjson_obj_foreach(row, idx, max, k, v)
	{
		int			usec;
		bool		as_text;
		const char *col = yyjson_get_str(k);
		const char *type = sink_mongo_type_of(&types, k);

		if (!sink_mongo_bson_append(doc, col, yyjson_get_len(k), ev, k, type,
									ctx->conv, &usec, &as_text, err, errlen))
		{
			bson_destroy(&usdoc);
			bson_destroy(&jsondoc);
			return false;
		}
		if (usec >= 0)
			bson_append_int32(&usdoc, col, -1, usec);
		else if (unset != NULL && yyjson_is_null(v) && type != NULL &&
				 strncmp(type, "timestamp", 9) == 0)
		{
			char		path[512];

			sink_mongo_meta_path(path, sizeof(path), "us", col);
			bson_append_utf8(unset, path, -1, "", 0);
		}
		if (as_text)
			bson_append_bool(&jsondoc, col, -1, true);
		else if (unset != NULL && sink_mongo_may_be_text(type))
		{
			char		path[512];

			sink_mongo_meta_path(path, sizeof(path), SINK_MONGO_META_JSON, col);
			bson_append_utf8(unset, path, -1, "", 0);
		}
	}
	if (dotted)
	{
		bson_append_int64(doc, SINK_MONGO_META ".lsn", -1, (int64_t) ev->lsn);
		bson_append_int64(doc, SINK_MONGO_META ".commit_lsn", -1, (int64_t) ev->commit_lsn);
		bson_append_int64(doc, SINK_MONGO_META ".seq", -1, ev->seq);
		sink_mongo_append_dotted(doc, "us", &usdoc);
		sink_mongo_append_dotted(doc, SINK_MONGO_META_JSON, &jsondoc);
	}
	else
	{
		bson_append_document_begin(doc, SINK_MONGO_META, -1, &meta);
		bson_append_int64(&meta, "lsn", -1, (int64_t) ev->lsn);
		bson_append_int64(&meta, "commit_lsn", -1, (int64_t) ev->commit_lsn);
		bson_append_int64(&meta, "seq", -1, ev->seq);
		if (!bson_empty(&usdoc))
		{
			bson_append_document_begin(&meta, "us", -1, &sub);
			bson_concat(&sub, &usdoc);
			bson_append_document_end(&meta, &sub);
		}
		if (!bson_empty(&jsondoc))
		{
			bson_append_document_begin(&meta, SINK_MONGO_META_JSON, -1, &sub);
			bson_concat(&sub, &jsondoc);
			bson_append_document_end(&meta, &sub);
		}
		bson_append_document_end(doc, &meta);
	}
	bson_destroy(&usdoc);
	bson_destroy(&jsondoc);
	return true;
}

void
sink_mongo_op_free(struct sink_mongo_op *op)
{
	if (op == NULL)
		return;
	free(op->coll);
	if (op->filter)
		bson_destroy(op->filter);
	if (op->doc)
		bson_destroy(op->doc);
	if (op->set)
		bson_destroy(op->set);
	if (op->unset)
		bson_destroy(op->unset);
	free(op);
}

static struct sink_mongo_op *
sink_mongo_op_new(enum sink_mongo_op_kind kind, const char *coll, int64_t lsn)
{
	struct sink_mongo_op *op = calloc(1, sizeof(*op));

	if (op == NULL)
		return NULL;
	op->kind = kind;
	op->lsn = lsn;
	op->coll = strdup(coll);
	op->filter = bson_new();
	if (kind == SINK_MONGO_REPLACE)
		op->doc = bson_new();
	else if (kind == SINK_MONGO_UPDATE)
	{
		op->set = bson_new();
		op->unset = bson_new();
	}
	if (op->coll == NULL)
	{
		sink_mongo_op_free(op);
		return NULL;
	}
	return op;
}

/* Same key?  Compared as BSON, so 1 and 1.0 of the same type agree. */
static bool
sink_mongo_same_key(const bson_t *a, const bson_t *b)
{
	bson_iter_t ia;
	bson_iter_t ib;
	const bson_value_t *va;
	const bson_value_t *vb;
	bson_t		da = BSON_INITIALIZER;
	bson_t		db = BSON_INITIALIZER;
	bool		same;

	if (!bson_iter_init_find(&ia, a, "_id") || !bson_iter_init_find(&ib, b, "_id"))
		return false;
	va = bson_iter_value(&ia);
	vb = bson_iter_value(&ib);
	bson_append_value(&da, "k", 1, va);
	bson_append_value(&db, "k", 1, vb);
	same = bson_equal(&da, &db);
	bson_destroy(&da);
	bson_destroy(&db);
	return same;
}

static enum sink_mongo_doc_result
sink_mongo_doc_change(const struct sink_mongo_doc_ctx *ctx, const struct event *ev,
					  struct sink_mongo_doc_plan *plan, yyjson_val *pk, char *err,
					  size_t errlen)
{
	const char *coll = plan->coll;
	yyjson_val *newrow = yyjson_obj_get(ev->rec, "new");
	yyjson_val *oldrow = yyjson_obj_get(ev->rec, "old");
	yyjson_val *unchanged = yyjson_obj_get(ev->rec, "unchanged");
	int64_t		lsn = (int64_t) ev->lsn;
	struct sink_mongo_op *op = NULL;
	struct sink_mongo_op *del = NULL;
	bool		moved = false;

	err[0] = '\0';
	if (ev->op == EVENT_DELETE)
	{
		if ((op = sink_mongo_op_new(SINK_MONGO_DELETE, coll, lsn)) == NULL)
			goto oom;
		if (!sink_mongo_append_key(ctx, ev, pk, oldrow, op->filter, "_id", err, errlen))
			goto nokey;
		sink_mongo_older_than(op->filter, lsn);
		plan->ops[plan->nops++] = op;
		return SINK_MONGO_DOC_OK;
	}

	op = sink_mongo_op_new(ev->op == EVENT_UPDATE ? SINK_MONGO_UPDATE : SINK_MONGO_REPLACE,
						   coll, lsn);
	if (op == NULL)
		goto oom;
	if (!sink_mongo_append_key(ctx, ev, pk, newrow, op->filter, "_id", err, errlen))
		goto nokey;
	/* A snapshot row replaces whatever an earlier, unfinished load left. */
	if (ev->op != EVENT_READ)
		sink_mongo_older_than(op->filter, lsn);
	/* A new row's key is usually new to the collection: see sink_mongo_run. */
	op->insert_first = (ev->op == EVENT_INSERT || ev->op == EVENT_READ);

	if (ev->op == EVENT_UPDATE && yyjson_is_obj(oldrow))
	{
		/* "old" holds the old key when it changed (or the whole old row). */
		del = sink_mongo_op_new(SINK_MONGO_DELETE, coll, lsn);
		if (del == NULL)
			goto oom;
		if (sink_mongo_append_key(ctx, ev, pk, oldrow, del->filter, "_id", err, errlen) &&
			!sink_mongo_same_key(del->filter, op->filter))
			moved = true;
		else
		{
			sink_mongo_op_free(del);
			del = NULL;
		}
	}

	if (op->kind == SINK_MONGO_REPLACE)
	{
		bson_iter_t it;

		/* _id first, as MongoDB itself orders a document. */
		if (bson_iter_init_find(&it, op->filter, "_id"))
			bson_append_value(op->doc, "_id", 3, bson_iter_value(&it));
		if (ctx->set->mongo_entry_id && bson_iter_init_find(&it, op->filter, "_id"))
			bson_append_value(op->doc, "entry_id", 8, bson_iter_value(&it));
		if (!sink_mongo_append_row(ctx, ev, newrow, op->doc, NULL, false, err, errlen))
			goto fail;
	}
	else
	{
		if (ctx->set->mongo_entry_id)
		{
			bson_iter_t it;

			if (bson_iter_init_find(&it, op->filter, "_id"))
				bson_append_value(op->set, "entry_id", 8, bson_iter_value(&it));
		}
		if (!sink_mongo_append_row(ctx, ev, newrow, op->set, op->unset, true, err, errlen))
			goto fail;

		/*
		 * A moved row's unchanged TOAST values live only in the old
		 * document: the sink copies them over (plan->copy_from).
		 */
		if (moved && yyjson_arr_size(unchanged) > 0)
		{
			bson_iter_t it;

			if ((plan->copy_from = bson_new()) == NULL)
				goto oom;
			if (bson_iter_init_find(&it, del->filter, "_id"))
				bson_append_value(plan->copy_from, "_id", 3, bson_iter_value(&it));
			plan->copy_columns = unchanged;
		}
	}

	if (del != NULL)
	{
		sink_mongo_older_than(del->filter, lsn);
		plan->ops[plan->nops++] = del;
	}
	plan->ops[plan->nops++] = op;
	return SINK_MONGO_DOC_OK;

nokey:
	if (err[0] == '\0')
	{
		sink_mongo_op_free(op);
		return SINK_MONGO_DOC_NO_KEY;
	}
	goto fail;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	if (strncmp(err, "mongo:", 6) != 0)
	{
		char		msg[512];

		snprintf(msg, sizeof(msg), "%s", err);
		snprintf(err, errlen, "mongo: collection \"%s\": change at LSN %" PRIX64 ": %s",
				 coll, ev->lsn, msg);
	}
	sink_mongo_op_free(op);
	sink_mongo_op_free(del);
	return SINK_MONGO_DOC_ERROR;
}

enum sink_mongo_doc_result
sink_mongo_doc_map(const struct sink_mongo_doc_ctx *ctx, const struct event *ev,
				   struct sink_mongo_doc_plan *plan, char *err, size_t errlen)
{
	yyjson_val *pk = yyjson_obj_get(ev->rec, "pk");
	struct sink_mongo_op *op;

	memset(plan, 0, sizeof(*plan));
	if (ev->schema == NULL || ev->table == NULL)
	{
		snprintf(err, errlen, "mongo: a change record without schema or table");
		return SINK_MONGO_DOC_ERROR;
	}
	if ((plan->coll = sink_mongo_collection(ctx->set, ev->schema, ev->table)) == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return SINK_MONGO_DOC_ERROR;
	}
	if (ev->op == EVENT_TRUNCATE)
	{
		/* Older documents only: a replayed TRUNCATE spares later rows. */
		if ((op = sink_mongo_op_new(SINK_MONGO_DELETE_MANY, plan->coll, (int64_t) ev->lsn)) == NULL)
		{
			snprintf(err, errlen, "out of memory");
			return SINK_MONGO_DOC_ERROR;
		}
		sink_mongo_older_than(op->filter, (int64_t) ev->lsn);
		plan->ops[plan->nops++] = op;
		return SINK_MONGO_DOC_OK;
	}
	if (!yyjson_is_arr(pk))
	{
		snprintf(err, errlen, "mongo: change records lack \"pk\": the mirror needs the plugin's include-pk=true");
		return SINK_MONGO_DOC_ERROR;
	}
	if (yyjson_arr_size(pk) == 0)
		return SINK_MONGO_DOC_NO_KEY;
	if (ev->op == EVENT_READ)
	{
		/*
		 * A snapshot row is stored with position 0 (docs/snapshot.md):
		 * every streamed change is newer, also one whose LSN is below the
		 * snapshot's consistent point (its transaction committed after).
		 */
		struct event row = *ev;

		row.lsn = 0;
		row.commit_lsn = 0;
		row.seq = 0;
		return sink_mongo_doc_change(ctx, &row, plan, pk, err, errlen);
	}
	return sink_mongo_doc_change(ctx, ev, plan, pk, err, errlen);
}

bool
sink_mongo_doc_seal(struct sink_mongo_op *op)
{
	if (op->kind != SINK_MONGO_UPDATE || op->doc != NULL)
		return true;
	if ((op->doc = bson_new()) == NULL)
		return false;
	BSON_APPEND_DOCUMENT(op->doc, "$set", op->set);
	if (!bson_empty(op->unset))
		BSON_APPEND_DOCUMENT(op->doc, "$unset", op->unset);
	bson_destroy(op->set);
	bson_destroy(op->unset);
	op->set = op->unset = NULL;
	return true;
}

void
sink_mongo_doc_plan_free(struct sink_mongo_doc_plan *plan)
{
	for (int i = 0; i < plan->nops; i++)
		sink_mongo_op_free(plan->ops[i]);
	if (plan->copy_from != NULL)
		bson_destroy(plan->copy_from);
	free(plan->coll);
	memset(plan, 0, sizeof(*plan));
}
