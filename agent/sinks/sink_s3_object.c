/*
 * sink_s3_object.c
 *		The object-storage sink's open objects: one per table (and per
 *		header after a schema change), their names, gzip, their multipart
 *		uploads while they fill, and storing them; the load's LOAD objects
 *		(sink_s3_int.h; sink_s3.c's header says how they make rounds).
 */
#define _POSIX_C_SOURCE 200809L	/* strdup */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sink_s3_int.h"

static const char *
sink_s3_extension(const struct sink_s3 *ss)
{
	if (ss->set->s3_format == SINK_S3_CSV)
		return ss->set->s3_compression == SINK_S3_GZIP ? ".csv.gz" : ".csv";
	return ss->set->s3_compression == SINK_S3_GZIP ? ".jsonl.gz" : ".jsonl";
}

static const char *
sink_s3_content_type(const struct sink_s3 *ss)
{
	if (ss->set->s3_compression == SINK_S3_GZIP)
		return "application/gzip";
	return ss->set->s3_format == SINK_S3_CSV ? "text/csv" : "application/x-ndjson";
}

static void
sink_s3_object_free(struct sink_s3 *ss, struct sink_s3_object *o)
{
	if (o->mp.upload_id != NULL)
		sink_s3_mp_abort(ss->http, o->key, &o->mp);
	if (o->z_on)
		deflateEnd(&o->z);
	free(o->schema);
	free(o->table);
	free(o->key);
	free(o->body.data);
	sink_s3_columns_free(&o->cols);
	memset(o, 0, sizeof(*o));
}

/* Drop the round: what it held was not confirmed, and comes again. */
void
sink_s3_round_drop(struct sink_s3 *ss)
{
	for (int i = 0; i < ss->nobj; i++)
		sink_s3_object_free(ss, &ss->obj[i]);
	ss->nobj = 0;
	ss->round_started = -1;
	ss->round_bytes = 0;
	ss->round_first = ss->round_last = 0;
}

/* Append rendered bytes to o's body (through gzip when on). */
bool
sink_s3_object_add(struct sink_s3_object *o, const char *p, size_t n,
				   bool finish)
{
	unsigned char out[16384];

	if (!o->z_on)
	{
		strbuf_add(&o->body, p, n);
		return !o->body.failed;
	}
	o->z.next_in = (unsigned char *) p;
	o->z.avail_in = (uInt) n;
	do
	{
		int			zr;

		o->z.next_out = out;
		o->z.avail_out = sizeof(out);
		zr = deflate(&o->z, finish ? Z_FINISH : Z_NO_FLUSH);
		if (zr == Z_STREAM_ERROR)
			return false;
		strbuf_add(&o->body, (const char *) out, sizeof(out) - o->z.avail_out);
	} while (o->z.avail_out == 0);
	return !o->body.failed;
}

/* The object's key: the table's folder and a name (see the file header). */
static char *
sink_s3_object_key(struct sink_s3 *ss, const char *schema, const char *table,
				   const char *name)
{
	struct strbuf b = {0};

	strbuf_puts(&b, ss->prefix);
	strbuf_puts(&b, schema);
	strbuf_puts(&b, "/");
	strbuf_puts(&b, table);
	strbuf_puts(&b, "/");
	strbuf_puts(&b, name);
	strbuf_puts(&b, sink_s3_extension(ss));
	return strbuf_finish(&b);
}

static void
sink_s3_collect_key(void *arg, const char *key)
{
	struct strbuf *keys = arg;

	strbuf_add(keys, key, strlen(key) + 1);
}

/*
 * The first row of a table in this session's load: its LOAD objects
 * start again at 1, and those of an earlier load are deleted, so that a
 * shorter load leaves no stale rows behind.
 */
static enum sink_status
sink_s3_load_begin(struct sink_s3 *ss, const char *schema, const char *table,
				   int *slot, char *err, size_t errlen)
{
	struct sink_s3_loaded *l;
	struct strbuf folder = {0};
	struct strbuf keys = {0};
	enum sink_s3_result res;
	int			deleted = 0;

	for (int i = 0; i < ss->nloaded; i++)
		if (strcmp(ss->loaded[i].schema, schema) == 0 &&
			strcmp(ss->loaded[i].table, table) == 0)
		{
			*slot = i;
			return SINK_OK;
		}
	l = realloc(ss->loaded, (size_t) (ss->nloaded + 1) * sizeof(*l));
	if (l == NULL)
		goto oom;
	ss->loaded = l;
	l = &ss->loaded[ss->nloaded];
	l->schema = strdup(schema);
	l->table = strdup(table);
	l->next = 1;
	if (l->schema == NULL || l->table == NULL)
	{
		free(l->schema);
		free(l->table);
		goto oom;
	}
	*slot = ss->nloaded++;

	strbuf_puts(&folder, ss->prefix);
	strbuf_puts(&folder, schema);
	strbuf_puts(&folder, "/");
	strbuf_puts(&folder, table);
	strbuf_puts(&folder, "/LOAD");
	if (folder.failed)
		goto oom;
	res = sink_s3_list(ss->http, folder.data, sink_s3_collect_key, &keys,
					   err, errlen);
	for (size_t off = 0; res == SINK_S3_OK && off < keys.len;
		 off += strlen(keys.data + off) + 1, deleted++)
		res = sink_s3_delete(ss->http, keys.data + off, err, errlen);
	free(folder.data);
	free(keys.data);
	if (res != SINK_S3_OK || keys.failed)
		return keys.failed ? SINK_FATAL : SINK_RETRY;
	if (deleted > 0)
		log_info("object storage: %s.%s: deleted %d LOAD object(s) of an earlier load",
				 schema, table, deleted);
	return SINK_OK;

oom:
	free(folder.data);
	snprintf(err, errlen, "out of memory");
	return SINK_FATAL;
}

/*
 * The open object for ev's table (and, in CSV, its columns), made when
 * there is none: NULL with the status in *st.
 */
struct sink_s3_object *
sink_s3_object_for(struct sink_s3 *ss, const struct event *ev,
				   enum sink_status *st, char *err, size_t errlen)
{
	bool		load = ev->op == EVENT_READ;
	struct sink_s3_columns cols = {0};
	struct sink_s3_object *o = NULL;
	char		name[64];

	*st = SINK_OK;
	if (ss->set->s3_format == SINK_S3_CSV && !sink_s3_columns_of(ev, &cols))
	{
		snprintf(err, errlen, "object storage: a change of %s.%s names no columns (\"types\")",
				 ev->schema, ev->table);
		*st = SINK_FATAL;
		return NULL;
	}
	for (int i = ss->nobj - 1; i >= 0; i--)
	{
		struct sink_s3_object *c = &ss->obj[i];

		if (c->frozen || c->load != load || strcmp(c->schema, ev->schema) != 0 ||
			strcmp(c->table, ev->table) != 0)
			continue;
		if (c->cols.len == cols.len &&
			(cols.len == 0 || memcmp(c->cols.names, cols.names, cols.len) == 0))
		{
			sink_s3_columns_free(&cols);
			return c;
		}
		/* A column was added, dropped or renamed: a new object, new header. */
		c->frozen = true;
		break;
	}

	if (ss->nobj == ss->capobj)
	{
		int			cap = ss->capobj ? ss->capobj * 2 : 16;
		struct sink_s3_object *p = realloc(ss->obj, (size_t) cap * sizeof(*p));

		if (p == NULL)
			goto oom;
		ss->obj = p;
		ss->capobj = cap;
	}
	if (load)
	{
		int			slot;

		if ((*st = sink_s3_load_begin(ss, ev->schema, ev->table, &slot, err,
									  errlen)) != SINK_OK)
		{
			sink_s3_columns_free(&cols);
			return NULL;
		}
		snprintf(name, sizeof(name), "LOAD%08d", ss->loaded[slot].next++);
	}
	else
		snprintf(name, sizeof(name), "%016" PRIX64 "-%010" PRId64,
				 ev->commit_lsn, ev->seq > 0 ? ev->seq : 0);
	o = &ss->obj[ss->nobj];
	memset(o, 0, sizeof(*o));
	o->load = load;
	o->cols = cols;
	o->schema = strdup(ev->schema);
	o->table = strdup(ev->table);
	o->key = sink_s3_object_key(ss, ev->schema, ev->table, name);
	if (o->schema == NULL || o->table == NULL || o->key == NULL)
		goto oom_obj;
	if (ss->set->s3_compression == SINK_S3_GZIP)
	{
		/* gzip wrapper (15 + 16), no file name or time: same bytes each time */
		if (deflateInit2(&o->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
						 Z_DEFAULT_STRATEGY) != Z_OK)
			goto oom_obj;
		o->z_on = true;
	}
	ss->nobj++;
	if (ss->set->s3_format == SINK_S3_CSV)
	{
		struct strbuf h = {0};
		bool		ok;

		sink_s3_csv_header(&o->cols, ss->set->s3_timestamp_column, &h);
		ok = !h.failed && sink_s3_object_add(o, h.data, h.len, false);
		free(h.data);
		if (!ok)
			goto oom;
	}
	return o;

oom_obj:
	free(o->schema);
	free(o->table);
	free(o->key);
	sink_s3_columns_free(&o->cols);
	goto oom_done;
oom:
	sink_s3_columns_free(&cols);
oom_done:
	snprintf(err, errlen, "out of memory");
	*st = SINK_FATAL;
	return NULL;
}

/* A full part of o goes now, as part of its multipart upload. */
enum sink_status
sink_s3_object_part(struct sink_s3 *ss, struct sink_s3_object *o, char *err,
					size_t errlen)
{
	enum sink_s3_result res = SINK_S3_OK;

	if (o->mp.upload_id == NULL)
		res = sink_s3_mp_start(ss->http, o->key, sink_s3_content_type(ss),
							   &o->mp, err, errlen);
	if (res == SINK_S3_OK)
		res = sink_s3_mp_part(ss->http, o->key, &o->mp, o->body.data,
							  o->body.len, err, errlen);
	if (res != SINK_S3_OK)
		return SINK_RETRY;
	o->body.len = 0;
	return SINK_OK;
}

/* Store o: a PUT, or the multipart upload's last part and completion. */
enum sink_status
sink_s3_object_store(struct sink_s3 *ss, struct sink_s3_object *o, char *err,
					 size_t errlen)
{
	enum sink_s3_result res;

	if (o->z_on && !sink_s3_object_add(o, NULL, 0, true))
	{
		snprintf(err, errlen, "out of memory");
		return SINK_FATAL;
	}
	if (o->mp.upload_id == NULL)
		res = sink_s3_put(ss->http, o->key, o->body.data != NULL ? o->body.data : "",
						  o->body.len, sink_s3_content_type(ss), err, errlen);
	else
	{
		res = o->body.len > 0 ?
			sink_s3_mp_part(ss->http, o->key, &o->mp, o->body.data, o->body.len,
							err, errlen) : SINK_S3_OK;
		if (res == SINK_S3_OK)
			res = sink_s3_mp_complete(ss->http, o->key, &o->mp, err, errlen);
	}
	return res == SINK_S3_OK ? SINK_OK : SINK_RETRY;
}

