/*
 * sink_mongo.c
 *		The MongoDB mirror as a sink (docs/mongo.md): every change is
 *		written to the collection of its table with mongo-c-driver, in order,
 *		with ordered bulk writes under the configured write concern.
 *
 * Numbering follows sink.h: each event handed over is one sequence number;
 * the queued operations of consecutive transactions are written together
 * (at most --mongo-bulk-max at a time, one ordered bulk per run of
 * operations on the same collection), and once the server acknowledged
 * them under the write concern, everything published so far is confirmed.
 * libmongoc's calls block, so the queue is written when the main loop has
 * nothing else to read (service), or when it is full: a bounded wait per
 * turn, with socketTimeoutMS kept below wal_sender_timeout's default.
 *
 * A failed write ends the replication session like any sink failure: the
 * slot replays everything unconfirmed, and the metadata conditions make
 * the replay rewrite nothing that is already there.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "lsn.h"
#include "sink_mongo.h"

/*
 * Write the queue when it holds mongo_bulk_max operations (--mongo-bulk-max,
 * default 200) or this many bytes.  A bulk is answered only once the server
 * has applied all of it, so it must stay well inside socketTimeoutMS even
 * on a slow server, or the same bulk would time out on every retry; and
 * FerretDB on PostgreSQL holds one connection per upsert of a command, so
 * past its pool (50) a bulk never returns.
 */
#define SINK_MONGO_MAX_BYTES (8 * 1024 * 1024)

/* Timeouts unless the URI sets them: below wal_sender_timeout (60 s). */
#define SINK_MONGO_SOCKET_TIMEOUT_MS 30000
#define SINK_MONGO_SELECT_TIMEOUT_MS 10000

/* MongoDB's DuplicateKey. */
#define SINK_MONGO_DUPLICATE_KEY 11000

static void
sink_mongo_clear(struct sink_mongo *ms)
{
	for (size_t i = 0; i < ms->nops; i++)
		sink_mongo_op_free(ms->ops[i]);
	ms->nops = 0;
	ms->base.st.inflight_events = 0;
	ms->base.st.inflight_bytes = 0;
}

/* Queue op (taking it, even on failure), sized for the in-flight count. */
static bool
sink_mongo_queue(struct sink_mongo *ms, struct sink_mongo_op *op, char *err,
				 size_t errlen)
{
	op->bytes = op->filter->len + (op->doc ? op->doc->len : 0);
	if (ms->nops == ms->capops)
	{
		size_t		cap = ms->capops ? ms->capops * 2 : 64;
		struct sink_mongo_op **ops = realloc(ms->ops, cap * sizeof(*ops));

		if (ops == NULL)
		{
			sink_mongo_op_free(op);
			snprintf(err, errlen, "out of memory");
			return false;
		}
		ms->ops = ops;
		ms->capops = cap;
	}
	ms->ops[ms->nops++] = op;
	ms->base.st.inflight_events++;
	ms->base.st.inflight_bytes += op->bytes;
	ms->base.st.bytes += op->bytes;
	return true;
}

void
sink_mongo_describe_key(const bson_t *filter, char *buf, size_t len)
{
	bson_iter_t it;
	bson_t		key = BSON_INITIALIZER;
	char	   *json;

	if (!bson_iter_init_find(&it, filter, "_id"))
	{
		snprintf(buf, len, "(all)");
		return;
	}
	bson_append_value(&key, "_id", 3, bson_iter_value(&it));
	json = bson_as_relaxed_extended_json(&key, NULL);
	/* The key only, never the row: rows are not logged (style rule 7). */
	snprintf(buf, len, "%s", json ? json : "?");
	bson_free(json);
	bson_destroy(&key);
}

static void
sink_mongo_op_error(const struct sink_mongo_op *op, const char *what,
					char *err, size_t errlen)
{
	char		key[256];

	sink_mongo_describe_key(op->filter, key, sizeof(key));
	if (op->lsn > 0)
	{
		char		lsn[LSN_BUFLEN];

		lsn_format((uint64_t) op->lsn, lsn, sizeof(lsn));
		snprintf(err, errlen, "mongo: collection \"%s\", key %s, change at LSN %s: %s",
				 op->coll, key, lsn, what);
	}
	else
		snprintf(err, errlen, "mongo: collection \"%s\", key %s: %s", op->coll, key, what);
}

/*
 * Does the document of op's key already hold op's change or a newer one
 * (_walcast.lsn >= op's)?  One find by _id, which every server serves from
 * its _id index (FerretDB 1.24 filters {_id: {$in: [...]}} by scanning the
 * collection, so keys are looked up one at a time).
 */
static enum sink_status
sink_mongo_is_applied(mongoc_collection_t *coll, const struct sink_mongo_op *op,
					  bool *applied, char *err, size_t errlen)
{
	bson_t		q = BSON_INITIALIZER;
	bson_t		cond;
	bson_t		opts = BSON_INITIALIZER;
	bson_t		proj;
	bson_iter_t it;
	bson_error_t error;
	mongoc_cursor_t *cursor;
	const bson_t *doc;
	enum sink_status st = SINK_OK;

	if (bson_iter_init_find(&it, op->filter, "_id"))
		bson_append_value(&q, "_id", 3, bson_iter_value(&it));
	bson_append_document_begin(&q, SINK_MONGO_META ".lsn", -1, &cond);
	bson_append_int64(&cond, "$gte", 4, op->lsn);
	bson_append_document_end(&q, &cond);
	bson_append_document_begin(&opts, "projection", 10, &proj);
	bson_append_int32(&proj, "_id", 3, 1);
	bson_append_document_end(&opts, &proj);
	BSON_APPEND_INT64(&opts, "limit", 1);
	cursor = mongoc_collection_find_with_opts(coll, &q, &opts, NULL);
	*applied = mongoc_cursor_next(cursor, &doc);
	if (mongoc_cursor_error(cursor, &error))
	{
		sink_mongo_op_error(op, error.message, err, errlen);
		st = SINK_RETRY;
	}
	mongoc_cursor_destroy(cursor);
	bson_destroy(&q);
	bson_destroy(&opts);
	return st;
}

/*
 * A duplicate-key error from a conditional upsert means the document of
 * that key exists and its version is not older than the change: the
 * change was applied before (a replay) or overtaken.  Looked up rather
 * than assumed, so that a genuine conflict (a unique index of the user's)
 * is reported.
 */
static enum sink_status
sink_mongo_check_stale(struct sink_mongo *ms, mongoc_collection_t *coll,
					   const struct sink_mongo_op *op,
					   char *err, size_t errlen)
{
	bool		applied;
	enum sink_status st = sink_mongo_is_applied(coll, op, &applied, err, errlen);

	if (st != SINK_OK)
		return st;
	if (!applied)
	{
		sink_mongo_op_error(op, "duplicate key, and not from a newer version of the row (a unique index?)",
							err, errlen);
		return sink_refuse(&ms->base, (uint64_t) op->lsn);
	}
	log_debug("mongo: collection \"%s\": change already applied (replay)", op->coll);
	return SINK_OK;
}

static bool
sink_mongo_add(mongoc_bulk_operation_t *bulk, const struct sink_mongo_op *op,
			   bson_error_t *error)
{
	bson_t		upsert = BSON_INITIALIZER;
	bool		ok = false;

	BSON_APPEND_BOOL(&upsert, "upsert", true);
	switch (op->kind)
	{
		case SINK_MONGO_REPLACE:
			if (op->insert_first)
				ok = mongoc_bulk_operation_insert_with_opts(bulk, op->doc, NULL, error);
			else
				ok = mongoc_bulk_operation_replace_one_with_opts(bulk, op->filter, op->doc,
																 &upsert, error);
			break;
		case SINK_MONGO_UPDATE:
			ok = mongoc_bulk_operation_update_one_with_opts(bulk, op->filter, op->doc,
															&upsert, error);
			break;
		case SINK_MONGO_DELETE:
			ok = mongoc_bulk_operation_remove_one_with_opts(bulk, op->filter, NULL, error);
			break;
		case SINK_MONGO_DELETE_MANY:
			ok = mongoc_bulk_operation_remove_many_with_opts(bulk, op->filter, NULL, error);
			break;
	}
	bson_destroy(&upsert);
	return ok;
}

/* The first write error of a bulk reply: its index and code. */
static bool
sink_mongo_write_error(const bson_t *reply, uint32_t *index, int32_t *code,
					   const char **msg)
{
	bson_iter_t it;
	bson_iter_t errs;
	bson_iter_t e;

	if (!bson_iter_init_find(&it, reply, "writeErrors") ||
		!BSON_ITER_HOLDS_ARRAY(&it) || !bson_iter_recurse(&it, &errs) ||
		!bson_iter_next(&errs) || !bson_iter_recurse(&errs, &e))
		return false;
	*index = 0;
	*code = 0;
	*msg = "write error";
	while (bson_iter_next(&e))
	{
		if (strcmp(bson_iter_key(&e), "index") == 0)
			*index = (uint32_t) bson_iter_as_int64(&e);
		else if (strcmp(bson_iter_key(&e), "code") == 0)
			*code = (int32_t) bson_iter_as_int64(&e);
		else if (strcmp(bson_iter_key(&e), "errmsg") == 0 && BSON_ITER_HOLDS_UTF8(&e))
			*msg = bson_iter_utf8(&e, NULL);
	}
	return true;
}

/*
 * Stop sending ops[from, to) as plain inserts; true if any was.  After one
 * insert met an existing document the rest of the run is most likely a
 * replay, where every insert would fail the same way.
 */
static bool
sink_mongo_upsert_from(struct sink_mongo *ms, size_t from, size_t to)
{
	bool		any = false;

	for (size_t j = from; j < to; j++)
	{
		any |= ms->ops[j]->insert_first;
		ms->ops[j]->insert_first = false;
	}
	return any;
}

/*
 * Mark the upserts of ops[from, to) whose document already holds their
 * change or a newer one as applied; *found says whether any was.  This is
 * sink_mongo_check_stale's question asked for the rest of a bulk before it
 * is resent, so that a replay (after a crash, every change of the
 * replayed window meets its own document) costs one lookup per change and
 * a bulk write, not a failed write and a lookup per change.  Snapshot
 * reads (LSN 0, unconditional) are never skipped.
 */
static enum sink_status
sink_mongo_prune(struct sink_mongo *ms, mongoc_collection_t *coll, size_t from,
				 size_t to, bool *found, char *err, size_t errlen)
{
	size_t		skipped = 0;

	*found = false;
	for (size_t j = from; j < to; j++)
	{
		struct sink_mongo_op *op = ms->ops[j];
		enum sink_status st;

		if (op->applied || op->lsn <= 0 ||
			(op->kind != SINK_MONGO_REPLACE && op->kind != SINK_MONGO_UPDATE))
			continue;
		if ((st = sink_mongo_is_applied(coll, op, &op->applied, err, errlen)) != SINK_OK)
			return st;
		skipped += op->applied;
	}
	*found = skipped > 0;
	log_debug("mongo: collection \"%s\": %zu of %zu operation(s) found already applied (replay)",
			  ms->ops[from]->coll, skipped, to - from);
	return SINK_OK;
}

/*
 * Write ops[from, to) (one collection) as one ordered bulk.  *done is how
 * far the queue is written when this returns SINK_OK.
 *
 * The whole rows of inserts and snapshot reads go first as plain inserts:
 * when no document of the key exists, which is the usual case, an insert
 * does what the conditional upsert would, and a server writes a batch of
 * inserts much faster than as many upserts (each a lookup, then a write).
 * A duplicate key on an insert only says the document exists (a replay, or
 * a row deleted and inserted again): from there the run is resent as
 * conditional upserts, which decide by version as always.
 *
 * A duplicate-key error from an upsert means its document is newer: the
 * operations of the run from the reported index on whose documents are
 * newer are dropped (sink_mongo_prune) and the rest is resent.  Only when
 * none was (a unique index of the user's, say) is the rest written one
 * operation at a time, each duplicate checked on its own.  The reported
 * index is a lower bound: FerretDB 1.24 reports 0 whatever the failing
 * operation was, and rewriting an operation that was applied is harmless
 * (its condition no longer matches), while skipping one that was not
 * would lose it.
 */
static enum sink_status
sink_mongo_run(struct sink_mongo *ms, size_t from, size_t to, bool one_by_one,
			   size_t *done, char *err, size_t errlen)
{
	const char *name = ms->ops[from]->coll;
	mongoc_collection_t *coll;
	bson_t		opts = BSON_INITIALIZER;
	enum sink_status st = SINK_OK;
	size_t		i = from;

	coll = mongoc_client_get_collection(ms->client, ms->set->mongo_database, name);
	BSON_APPEND_BOOL(&opts, "ordered", true);
	mongoc_write_concern_append(ms->wc, &opts);
	while (i < to && st == SINK_OK)
	{
		bool		single = one_by_one || to - i == 1;
		size_t		end = single ? i + 1 : to;
		mongoc_bulk_operation_t *bulk = mongoc_collection_create_bulk_operation_with_opts(coll, &opts);
		bson_error_t error;
		bson_t		reply;
		uint32_t	index;
		int32_t		code;
		const char *msg;

		size_t		nadd = 0;
		bool		pruned;

		for (size_t j = i; j < end; j++)
		{
			if (ms->ops[j]->applied)
				continue;
			if (!sink_mongo_add(bulk, ms->ops[j], &error))
			{
				/* Refused by the driver before sending (e.g. a '$' field). */
				sink_mongo_op_error(ms->ops[j], error.message, err, errlen);
				mongoc_bulk_operation_destroy(bulk);
				st = sink_refuse(&ms->base, (uint64_t) ms->ops[j]->lsn);
				goto out;
			}
			nadd++;
		}
		if (nadd == 0)
		{
			/* Everything here was found applied: an empty bulk is an error. */
			mongoc_bulk_operation_destroy(bulk);
			i = end;
			continue;
		}
		if (mongoc_bulk_operation_execute(bulk, &reply, &error) != 0)
			i = end;
		else if (sink_mongo_write_error(&reply, &index, &code, &msg))
		{
			size_t		at = i + index < end ? i + index : i;

			if (code == SINK_MONGO_DUPLICATE_KEY && single)
			{
				if (sink_mongo_upsert_from(ms, at, end))
					i = at;
				else if ((st = sink_mongo_check_stale(ms, coll, ms->ops[at], err, errlen)) == SINK_OK)
					i = end;
			}
			else if (code == SINK_MONGO_DUPLICATE_KEY)
			{
				bool		converted = sink_mongo_upsert_from(ms, at, to);

				if ((st = sink_mongo_prune(ms, coll, at, to, &pruned, err, errlen)) == SINK_OK)
				{
					one_by_one = !converted && !pruned;
					i = at;
				}
			}
			else
			{
				/* The same document would be refused again on replay. */
				sink_mongo_op_error(ms->ops[at], msg, err, errlen);
				st = sink_refuse(&ms->base, (uint64_t) ms->ops[at]->lsn);
			}
		}
		else
		{
			/*
			 * Network, not primary, write concern not satisfied: the writes
			 * may or may not be durable, so replay them.
			 */
			sink_mongo_op_error(ms->ops[i], error.message, err, errlen);
			st = SINK_RETRY;
		}
		bson_destroy(&reply);
		mongoc_bulk_operation_destroy(bulk);
	}
out:
	*done = i;
	bson_destroy(&opts);
	mongoc_collection_destroy(coll);
	return st;
}

enum sink_status
sink_mongo_flush(struct sink_mongo *ms, char *err, size_t errlen)
{
	struct sink *s = &ms->base;
	size_t		i = 0;

	if (ms->client == NULL)
	{
		snprintf(err, errlen, "mongo: not connected");
		return SINK_RETRY;
	}
	log_debug("mongo: writing %zu queued operation(s)", ms->nops);
	while (i < ms->nops)
	{
		size_t		end = i;
		size_t		done;
		enum sink_status st;

		while (end < ms->nops && strcmp(ms->ops[end]->coll, ms->ops[i]->coll) == 0)
			end++;
		st = sink_mongo_run(ms, i, end, false, &done, err, errlen);
		if (st != SINK_OK)
			return st;
		i = done;
	}
	sink_mongo_clear(ms);
	s->st.confirmed = s->st.published;
	return SINK_OK;
}

/*
 * The columns of the document filter names, into into: what a moved row's
 * update must carry over (sink_mongo_doc.c, copy_from).  Whatever is
 * queued is written first, so the document read is the current one.
 */
static enum sink_status
sink_mongo_fetch(struct sink_mongo *ms, const char *name, const bson_t *filter,
				 yyjson_val *columns, bson_t *into, char *err, size_t errlen)
{
	mongoc_collection_t *coll;
	mongoc_cursor_t *cursor;
	bson_t		opts = BSON_INITIALIZER;
	bson_t		proj;
	const bson_t *doc;
	bson_error_t error;
	enum sink_status st;
	size_t		i,
				max;
	yyjson_val *c;

	if ((st = sink_mongo_flush(ms, err, errlen)) != SINK_OK)
		return st;
	coll = mongoc_client_get_collection(ms->client, ms->set->mongo_database, name);
	bson_append_document_begin(&opts, "projection", -1, &proj);
	yyjson_arr_foreach(columns, i, max, c)
		bson_append_int32(&proj, yyjson_get_str(c), -1, 1);
	/* and their marks: a column stored as its JSON text stays one */
	bson_append_int32(&proj, SINK_MONGO_META "." SINK_MONGO_META_JSON, -1, 1);
	bson_append_document_end(&opts, &proj);
	BSON_APPEND_INT64(&opts, "limit", 1);
	cursor = mongoc_collection_find_with_opts(coll, filter, &opts, NULL);
	if (mongoc_cursor_next(cursor, &doc))
	{
		bson_iter_t it;

		yyjson_arr_foreach(columns, i, max, c)
		{
			char		path[512];

			if (bson_iter_init_find(&it, doc, yyjson_get_str(c)))
				bson_append_value(into, yyjson_get_str(c), -1, bson_iter_value(&it));
			snprintf(path, sizeof(path), SINK_MONGO_META "." SINK_MONGO_META_JSON ".%s",
					 yyjson_get_str(c));
			if (bson_iter_init(&it, doc) && bson_iter_find_descendant(&it, path, &it))
				bson_append_bool(into, path, -1, true);
		}
	}
	if (mongoc_cursor_error(cursor, &error))
	{
		snprintf(err, errlen, "mongo: collection \"%s\": reading the old row of a changed key: %s",
				 name, error.message);
		st = SINK_RETRY;
	}
	mongoc_cursor_destroy(cursor);
	mongoc_collection_destroy(coll);
	bson_destroy(&opts);
	return st;
}

/* ---- the sink ---- */

static enum sink_status
sink_mongo_open(struct sink *s, char *err, size_t errlen)
{
	struct sink_mongo *ms = (struct sink_mongo *) s;
	bson_t		ping = BSON_INITIALIZER;
	bson_t		reply;
	bson_error_t error;
	bool		ok;

	s->st.published = s->st.confirmed = 0;
	sink_mongo_clear(ms);
	ms->client = mongoc_client_new_from_uri_with_error(ms->uri, &error);
	if (ms->client == NULL)
	{
		snprintf(err, errlen, "mongo: %s", error.message);
		return SINK_FATAL;
	}
	mongoc_client_set_error_api(ms->client, MONGOC_ERROR_API_VERSION_2);
	mongoc_client_set_appname(ms->client, "walcast-agent");

	/* The client connects lazily: find out now whether the server is there. */
	BSON_APPEND_INT32(&ping, "ping", 1);
	ok = mongoc_client_command_simple(ms->client, "admin", &ping, NULL, &reply, &error);
	bson_destroy(&ping);
	bson_destroy(&reply);
	if (!ok)
	{
		snprintf(err, errlen, "mongo: could not reach the server: %s", error.message);
		mongoc_client_destroy(ms->client);
		ms->client = NULL;
		return SINK_UNREACHABLE;
	}
	log_info("mongo: connected; mirroring into database \"%s\"", ms->set->mongo_database);
	return SINK_OK;
}

/* A table without a usable key: the configured policy, never silence. */
static enum sink_status
sink_mongo_no_key(struct sink_mongo *ms, const struct event *ev,
				  const char *coll, char *err, size_t errlen)
{
	char	  **tables;

	if (ms->set->mongo_no_key == SINK_MONGO_NO_KEY_FAIL)
	{
		snprintf(err, errlen,
				 "mongo: collection \"%s\": table %s.%s has no primary key or replica identity index to use as _id (mongo_no_key = fail)",
				 coll, ev->schema, ev->table);
		return SINK_FATAL;
	}
	ms->skipped++;
	for (size_t i = 0; i < ms->n_nokey; i++)
		if (strcmp(ms->nokey_tables[i], coll) == 0)
			return SINK_OK;
	log_warning("mongo: collection \"%s\": skipping the changes of %s.%s, which has no primary key or replica identity index (counted as mongo_skipped in the stats line)",
				coll, ev->schema, ev->table);
	tables = realloc(ms->nokey_tables, (ms->n_nokey + 1) * sizeof(*tables));
	if (tables != NULL)
	{
		ms->nokey_tables = tables;
		if ((tables[ms->n_nokey] = strdup(coll)) != NULL)
			ms->n_nokey++;
	}
	return SINK_OK;
}

/*
 * Queue the operations of one change (sink_mongo_doc.c): first reading
 * what the mapping could not know, then sealing the update.
 */
static enum sink_status
sink_mongo_change(struct sink_mongo *ms, const struct event *ev, char *err,
				  size_t errlen)
{
	struct sink_mongo_doc_plan plan;
	enum sink_status st = SINK_OK;

	switch (sink_mongo_doc_map(&ms->doc, ev, &plan, err, errlen))
	{
		case SINK_MONGO_DOC_ERROR:
			st = sink_refuse(&ms->base, ev->op == EVENT_READ ? 0 : ev->lsn);
			break;
		case SINK_MONGO_DOC_NO_KEY:
			st = sink_mongo_no_key(ms, ev, plan.coll, err, errlen);
			break;
		case SINK_MONGO_DOC_OK:
			if (plan.copy_from != NULL)
				st = sink_mongo_fetch(ms, plan.coll, plan.copy_from,
									  plan.copy_columns,
									  plan.ops[plan.nops - 1]->set, err, errlen);
			for (int i = 0; i < plan.nops && st == SINK_OK; i++)
			{
				struct sink_mongo_op *op = plan.ops[i];

				plan.ops[i] = NULL;
				if (!sink_mongo_doc_seal(op))
				{
					sink_mongo_op_free(op);
					snprintf(err, errlen, "out of memory");
					st = SINK_FATAL;
				}
				else if (!sink_mongo_queue(ms, op, err, errlen))
					st = SINK_FATAL;
			}
			break;
	}
	sink_mongo_doc_plan_free(&plan);
	return st;
}

static enum sink_status
sink_mongo_publish(struct sink *s, const struct event *ev, char *err,
				   size_t errlen)
{
	struct sink_mongo *ms = (struct sink_mongo *) s;
	enum sink_status st = SINK_OK;

	s->st.published++;
	s->st.events++;
	/* Logical messages are not rows: nothing to mirror. */
	if (event_is_row_change(ev->op))
	{
		s->st.messages++;
		st = sink_mongo_change(ms, ev, err, errlen);
	}
	if (st == SINK_OK && (ms->nops >= (size_t) ms->set->mongo_bulk_max ||
						  s->st.inflight_bytes >= SINK_MONGO_MAX_BYTES))
		st = sink_mongo_flush(ms, err, errlen);
	return st;
}

/*
 * Nothing is sent at a commit: service() writes the queue when the loop
 * has read what was available, so that consecutive small transactions
 * share a bulk write (still in commit order).
 */
static enum sink_status
sink_mongo_end_txn(struct sink *s, char *err, size_t errlen)
{
	(void) s;
	(void) err;
	(void) errlen;
	return SINK_OK;
}

static enum sink_status
sink_mongo_service(struct sink *s, char *err, size_t errlen)
{
	struct sink_mongo *ms = (struct sink_mongo *) s;

	if (ms->nops == 0)
	{
		s->st.confirmed = s->st.published;
		return SINK_OK;
	}
	return sink_mongo_flush(ms, err, errlen);
}

static int
sink_mongo_pollfd(struct sink *s, short *events)
{
	(void) s;
	*events = 0;
	return -1;
}

static void
sink_mongo_close(struct sink *s)
{
	struct sink_mongo *ms = (struct sink_mongo *) s;

	sink_mongo_clear(ms);
	if (ms->client != NULL)
		mongoc_client_destroy(ms->client);
	ms->client = NULL;
}

static void
sink_mongo_destroy(struct sink *s)
{
	struct sink_mongo *ms = (struct sink_mongo *) s;

	sink_mongo_close(s);
	free(ms->ops);
	for (size_t i = 0; i < ms->n_nokey; i++)
		free(ms->nokey_tables[i]);
	free(ms->nokey_tables);
	mongoc_write_concern_destroy(ms->wc);
	mongoc_uri_destroy(ms->uri);
	free(ms);
	mongoc_cleanup();
}

static const struct sink_ops sink_mongo_ops = {
	.open = sink_mongo_open,
	.publish = sink_mongo_publish,
	.end_txn = sink_mongo_end_txn,
	.service = sink_mongo_service,
	.pollfd = sink_mongo_pollfd,
	.close = sink_mongo_close,
	.destroy = sink_mongo_destroy,
};

/* libmongoc's own log lines: warnings and errors into ours, no trace. */
static void
sink_mongo_log(mongoc_log_level_t level, const char *domain,
			   const char *message, void *data)
{
	(void) data;
	if (level <= MONGOC_LOG_LEVEL_WARNING)
		log_warning("mongo: %s: %s", domain, message);
	else if (level <= MONGOC_LOG_LEVEL_INFO)
		log_debug("mongo: %s: %s", domain, message);
}

static mongoc_write_concern_t *
sink_mongo_wc(const struct sink_mongo_settings *set, char *err, size_t errlen)
{
	struct sink_mongo_wc pwc;
	mongoc_write_concern_t *wc;

	if (!sink_mongo_parse_wc(set->mongo_write_concern, &pwc, err, errlen))
		return NULL;
	wc = mongoc_write_concern_new();
	if (pwc.w == -1)
		mongoc_write_concern_set_w(wc, MONGOC_WRITE_CONCERN_W_MAJORITY);
	else if (pwc.w == -2)
		mongoc_write_concern_set_wtag(wc, pwc.tag);
	else
		mongoc_write_concern_set_w(wc, pwc.w);
	if (pwc.journal_set)
		mongoc_write_concern_set_journal(wc, pwc.journal);
	if (pwc.wtimeout_ms > 0)
		mongoc_write_concern_set_wtimeout_int64(wc, pwc.wtimeout_ms);
	return wc;
}

/* The plugin's bytea-encoding as the agent asks for it (-o). */
static bool
sink_mongo_bytea_hex(const struct agent_config *cfg)
{
	for (int i = 0; i < cfg->plugin_options.count; i++)
		if (strcmp(cfg->plugin_options.items[i].name, "bytea-encoding") == 0)
			return strcmp(cfg->plugin_options.items[i].value, "hex") == 0;
	return false;
}

static struct sink *
sink_mongo_new(const struct agent_config *cfg, char *err, size_t errlen)
{
	const struct sink_mongo_settings *set = sink_mongo_settings(cfg);
	struct sink_mongo *ms;
	bson_error_t error;

	mongoc_init();
	mongoc_log_set_handler(sink_mongo_log, NULL);
	if ((ms = calloc(1, sizeof(*ms))) == NULL)
	{
		snprintf(err, errlen, "out of memory");
		mongoc_cleanup();
		return NULL;
	}
	ms->base.ops = &sink_mongo_ops;
	ms->base.cfg = cfg;
	ms->set = set;
	ms->conv.numeric = set->mongo_numeric;
	ms->conv.nested_arrays = set->mongo_nested_arrays;
	ms->conv.nonfinite = set->mongo_nonfinite;
	ms->conv.bytea_hex = sink_mongo_bytea_hex(cfg);
	ms->doc.set = set;
	ms->doc.conv = &ms->conv;
	if ((ms->wc = sink_mongo_wc(set, err, errlen)) == NULL)
		goto fail;
	if ((ms->uri = mongoc_uri_new_with_error(set->mongo_uri, &error)) == NULL)
	{
		/* The driver's message may quote the URI: say less. */
		snprintf(err, errlen, "mongo_uri: not a valid mongodb:// URI");
		goto fail;
	}
	if (!mongoc_uri_has_option(ms->uri, MONGOC_URI_SOCKETTIMEOUTMS))
		mongoc_uri_set_option_as_int32(ms->uri, MONGOC_URI_SOCKETTIMEOUTMS,
									   SINK_MONGO_SOCKET_TIMEOUT_MS);
	if (!mongoc_uri_has_option(ms->uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS))
		mongoc_uri_set_option_as_int32(ms->uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS,
									   SINK_MONGO_SELECT_TIMEOUT_MS);
	if (set->mongo_tls_ca_file != NULL)
	{
		mongoc_uri_set_option_as_bool(ms->uri, MONGOC_URI_TLS, true);
		mongoc_uri_set_option_as_utf8(ms->uri, MONGOC_URI_TLSCAFILE, set->mongo_tls_ca_file);
	}
	if (set->mongo_tls_cert_key_file != NULL)
	{
		mongoc_uri_set_option_as_bool(ms->uri, MONGOC_URI_TLS, true);
		mongoc_uri_set_option_as_utf8(ms->uri, MONGOC_URI_TLSCERTIFICATEKEYFILE,
									  set->mongo_tls_cert_key_file);
	}
	return &ms->base;

fail:
	if (ms->wc)
		mongoc_write_concern_destroy(ms->wc);
	free(ms);
	mongoc_cleanup();
	return NULL;
}

/* Changes of tables without a key that the mirror skipped (policy skip). */
static void
sink_mongo_stats(const struct sink *s, struct strbuf *line)
{
	char		buf[48];

	snprintf(buf, sizeof(buf), " mongo_skipped=%" PRIu64,
			 ((const struct sink_mongo *) s)->skipped);
	strbuf_puts(line, buf);
}

/* The same for /metrics. */
static int
sink_mongo_counters(const struct sink *s, struct sink_counter *out, int max)
{
	if (max < 1)
		return 0;
	out[0].name = "walcast_mirror_skipped_no_key_total";
	out[0].help = "Changes the MongoDB mirror skipped because their table has no key.";
	out[0].value = ((const struct sink_mongo *) s)->skipped;
	return 1;
}

static bool
sink_mongo_configured(const struct agent_config *cfg)
{
	const struct sink_mongo_settings *set = sink_mongo_settings(cfg);

	return set->mongo_uri != NULL && set->mongo_uri[0] != '\0';
}

/* The MongoDB mirror: --mongo-uri enables it. */
const struct sink_kind sink_mongo_kind = {
	.name = "mongo",
	.config = &sink_mongo_config,
	.configured = sink_mongo_configured,
	.create = sink_mongo_new,
	/* _id is the row's key; BSON types follow the columns' type names */
	.needs = {true, true, "mongo_uri", "the mirror's _id is the key"},
	.stats = sink_mongo_stats,
	.counters = sink_mongo_counters,
};
