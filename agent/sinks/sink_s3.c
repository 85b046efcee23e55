/*
 * sink_s3.c
 *		The object-storage sink: every row of the load and every change,
 *		per table, in objects of S3-compatible storage (sink_s3.h,
 *		docs/object-storage.md).
 *
 * Rounds.  Events are rendered into open objects, one per table (a new
 * one when a table's columns change), all held in memory.  The open
 * objects close together, as one round: when they are --s3-max-object-age
 * old, when they hold --s3-max-object-bytes, or early when the in-flight
 * window is full (ops.flush), and always at a transaction's end.  Closing
 * stores every object (PUT, or a multipart upload's completion) and only
 * then confirms the round's events: a transaction is confirmed when every
 * object holding its changes is stored.  An object that outgrows a part
 * (SINK_S3_PART) is sent as parts of a multipart upload while it fills,
 * invisible until completed, so memory stays near a part per object.
 *
 * Names are the position of the object's first change: commit LSN and
 * seq, so that a replay writes the same changes under the same names.
 * Where a round ends depends on time, so before a round's objects are
 * stored its range of commit LSNs is written to a marker object; a
 * replay that meets the round's first transaction again cuts the same
 * round (whatever the clock says), and one that starts inside it (the
 * round was stored, and another sink confirmed less) skips it.  A load
 * writes LOAD00000001... per table, after deleting the table's earlier
 * LOAD objects (an interrupted load restarts under a new snapshot).
 */
#define _POSIX_C_SOURCE 200809L	/* strdup */

#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "clock.h"
#include "envelope.h"
#include "kv.h"
#include "log.h"
#include "lsn.h"
#include "sink.h"
#include "sink_s3.h"

/*
 * An object that outgrows this goes as a multipart upload, in parts of
 * this size (S3's smallest part is 5 MiB; the last may be smaller).
 */
#define SINK_S3_PART (8 * 1024 * 1024)

/* Where the round marker lives, under the prefix. */
#define SINK_S3_MARKER "_walcast/round"

struct sink_s3_object
{
	char	   *schema;
	char	   *table;
	char	   *key;
	bool		load;
	bool		frozen;			/* its table's columns changed: a newer
								 * object of the table takes its rows */
	struct sink_s3_columns cols;
	struct strbuf body;			/* bytes not yet sent (compressed when gzip) */
	z_stream	z;
	bool		z_on;
	uint64_t	rows;
	struct sink_s3_multipart mp;
};

/* A table whose LOAD objects this session numbers (and cleared). */
struct sink_s3_loaded
{
	char	   *schema;
	char	   *table;
	int			next;			/* the next LOAD number */
};

struct sink_s3
{
	struct sink base;
	const struct sink_s3_settings *set;
	char	   *bucket;
	char	   *prefix;
	struct sink_s3_http *http;

	struct sink_s3_object *obj; /* the round's objects */
	int			nobj;
	int			capobj;
	int64_t		round_started;	/* clock_now_ms of its first event; -1 */
	size_t		round_bytes;	/* rendered, before compression */
	uint64_t	round_first;	/* commit LSN of its first transaction; 0 */
	uint64_t	round_last;
	bool		in_unit;		/* events since the last end_txn */
	uint64_t	unit_commit;	/* the open unit's commit LSN */
	uint64_t	unit_events;	/* held of the open unit, outside the window */
	uint64_t	unit_bytes;
	bool		unit_skipped;	/* it is skipped (a stored round's) */

	/* The marker read at open: a round that may have been stored. */
	bool		marked;
	uint64_t	mark_start;
	uint64_t	mark_end;
	bool		replaying;		/* cutting the marked round again */

	struct sink_s3_loaded *loaded;
	int			nloaded;

	uint64_t	objects;		/* stored since the agent started */
	uint64_t	unchanged;		/* UPDATE values left out (TOAST), as NULL */
	uint64_t	skipped;		/* events of stored rounds not written again */
};

/* ---- objects ---- */

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
static void
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
static bool
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
static struct sink_s3_object *
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
static enum sink_status
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
static enum sink_status
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

/* ---- rounds ---- */

/* The marker: the round about to be stored (see the file header). */
static enum sink_status
sink_s3_mark(struct sink_s3 *ss, char *err, size_t errlen)
{
	char		start[LSN_BUFLEN];
	char		end[LSN_BUFLEN];
	char		body[128];
	char	   *key;
	struct strbuf b = {0};
	enum sink_s3_result res;

	lsn_format(ss->round_first, start, sizeof(start));
	lsn_format(ss->round_last, end, sizeof(end));
	snprintf(body, sizeof(body), "start = %s\nend = %s\n", start, end);
	strbuf_puts(&b, ss->prefix);
	strbuf_puts(&b, SINK_S3_MARKER);
	if ((key = strbuf_finish(&b)) == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return SINK_FATAL;
	}
	res = sink_s3_put(ss->http, key, body, strlen(body), "text/plain", err,
					  errlen);
	free(key);
	return res == SINK_S3_OK ? SINK_OK : SINK_RETRY;
}

/* Store every object of the round, then confirm its events. */
static enum sink_status
sink_s3_round_close(struct sink_s3 *ss, char *err, size_t errlen)
{
	struct sink *s = &ss->base;
	enum sink_status st;

	if (ss->nobj == 0)
	{
		ss->round_started = -1;
		return SINK_OK;
	}
	if (ss->round_first != 0 && (st = sink_s3_mark(ss, err, errlen)) != SINK_OK)
		return st;
	for (int i = 0; i < ss->nobj; i++)
		if ((st = sink_s3_object_store(ss, &ss->obj[i], err, errlen)) != SINK_OK)
			return st;
	ss->objects += (uint64_t) ss->nobj;
	log_debug("object storage: stored %d object(s) of a round", ss->nobj);
	sink_s3_round_drop(ss);
	s->st.confirmed = s->st.published;
	s->st.inflight_events = s->st.inflight_bytes = 0;
	ss->replaying = false;
	return SINK_OK;
}

static bool
sink_s3_round_due(const struct sink_s3 *ss)
{
	return ss->nobj > 0 &&
		(ss->round_bytes >= ss->set->s3_max_object_bytes ||
		 clock_now_ms() - ss->round_started >= (int64_t) ss->set->s3_max_object_age * 1000);
}

/* ---- ops ---- */

static enum sink_status
sink_s3_read_marker(struct sink_s3 *ss, char *err, size_t errlen)
{
	struct strbuf b = {0};
	struct strbuf body = {0};
	enum sink_s3_result res;
	char	   *save = NULL;
	uint64_t	start = 0,
				end = 0;

	strbuf_puts(&b, ss->prefix);
	strbuf_puts(&b, SINK_S3_MARKER);
	if (b.failed)
	{
		free(b.data);
		snprintf(err, errlen, "out of memory");
		return SINK_FATAL;
	}
	res = sink_s3_get(ss->http, b.data, &body, err, errlen);
	ss->marked = false;
	if (res == SINK_S3_NOT_FOUND)
	{
		free(b.data);
		return SINK_OK;
	}
	if (res != SINK_S3_OK)
	{
		free(b.data);
		return res == SINK_S3_DENIED ? SINK_CONFIG : SINK_UNREACHABLE;
	}
	for (char *line = strtok_r(body.data, "\n", &save); line != NULL;
		 line = strtok_r(NULL, "\n", &save))
	{
		char	   *k;
		char	   *v;
		char		msg[128];

		if (!kv_split(line, &k, &v, msg, sizeof(msg)) || k == NULL)
			continue;
		if (strcmp(k, "start") == 0)
			lsn_parse(v, &start);
		else if (strcmp(k, "end") == 0)
			lsn_parse(v, &end);
	}
	free(body.data);
	if (start == 0 || end < start)
	{
		snprintf(err, errlen, "object storage: the marker \"%s\" is not a walcast round marker (start = LSN, end = LSN)",
				 b.data);
		free(b.data);
		return SINK_FATAL;
	}
	free(b.data);
	ss->marked = true;
	ss->mark_start = start;
	ss->mark_end = end;
	return SINK_OK;
}

static enum sink_status
sink_s3_open(struct sink *s, char *err, size_t errlen)
{
	struct sink_s3 *ss = (struct sink_s3 *) s;
	struct sink_s3_credentials cred;
	enum sink_s3_result res;

	s->st.published = s->st.confirmed = 0;
	s->st.inflight_events = s->st.inflight_bytes = 0;
	sink_s3_round_drop(ss);
	ss->in_unit = ss->unit_skipped = ss->replaying = false;
	ss->unit_events = ss->unit_bytes = 0;
	for (int i = 0; i < ss->nloaded; i++)
	{
		free(ss->loaded[i].schema);
		free(ss->loaded[i].table);
	}
	ss->nloaded = 0;

	/* Read at every open, so that rotated credentials are picked up. */
	if (!sink_s3_credentials_load(ss->set, &cred, err, errlen))
		return SINK_CONFIG;
	sink_s3_http_free(ss->http);
	ss->http = sink_s3_http_new(ss->set, ss->bucket, &cred, err, errlen);
	sink_s3_credentials_free(&cred);
	if (ss->http == NULL)
		return SINK_FATAL;

	res = sink_s3_check_bucket(ss->http, err, errlen);
	if (res == SINK_S3_NOT_FOUND && ss->set->s3_create_bucket)
	{
		if ((res = sink_s3_create_bucket(ss->http, err, errlen)) == SINK_S3_OK)
			log_info("object storage: created bucket \"%s\"", ss->bucket);
	}
	else if (res == SINK_S3_NOT_FOUND)
	{
		snprintf(err, errlen, "object storage: bucket \"%s\" does not exist (create it, or set --s3-create-bucket=true)",
				 ss->bucket);
		return SINK_CONFIG;
	}
	if (res == SINK_S3_DENIED)
	{
		size_t		n = strlen(err);

		snprintf(err + n, errlen - n, " (bucket \"%s\": check the credentials, the region and the bucket's policy)",
				 ss->bucket);
		return SINK_CONFIG;
	}
	if (res != SINK_S3_OK)
		return SINK_UNREACHABLE;
	return sink_s3_read_marker(ss, err, errlen);
}

/*
 * Whether the unit committed at commit goes to the store: not when a
 * stored round holds it.  Decided at the unit's first event, where it also
 * ends a replayed round that the stream has passed.
 */
static enum sink_status
sink_s3_unit_begin(struct sink_s3 *ss, uint64_t commit, char *err,
				   size_t errlen)
{
	ss->in_unit = true;
	ss->unit_commit = commit;
	ss->unit_skipped = false;
	if (!ss->marked || commit == 0)
		return SINK_OK;
	if (commit < ss->mark_start)
		ss->unit_skipped = true;	/* an earlier round's, stored */
	else if (commit == ss->mark_start)
		ss->replaying = true;	/* the marked round again, cut the same */
	else if (commit <= ss->mark_end && !ss->replaying)
		ss->unit_skipped = true;	/* the stream starts inside it: stored */
	else if (commit > ss->mark_end)
	{
		ss->marked = false;
		if (ss->replaying)
			return sink_s3_round_close(ss, err, errlen);
	}
	return SINK_OK;
}

static enum sink_status
sink_s3_publish(struct sink *s, const struct event *ev, char *err,
				size_t errlen)
{
	struct sink_s3 *ss = (struct sink_s3 *) s;
	struct sink_s3_object *o;
	struct strbuf line = {0};
	enum sink_status st;

	if (!ss->in_unit &&
		(st = sink_s3_unit_begin(ss, ev->op == EVENT_READ ? 0 : ev->commit_lsn,
								 err, errlen)) != SINK_OK)
		return st;
	/* The lake holds rows: logical messages are not written. */
	if (!event_is_row_change(ev->op) && ev->op != EVENT_READ)
		return SINK_OK;
	if (ss->unit_skipped)
	{
		ss->skipped++;
		return SINK_OK;
	}
	if ((o = sink_s3_object_for(ss, ev, &st, err, errlen)) == NULL)
		return st;
	if (ss->set->s3_format == SINK_S3_CSV)
	{
		int			unchanged = 0;

		if (!sink_s3_csv_row(ev, &o->cols, ss->set->s3_timestamp_column, &line,
							 &unchanged))
		{
			free(line.data);
			snprintf(err, errlen, "object storage: could not render the change at %" PRIX64,
					 ev->lsn);
			return line.failed ? SINK_FATAL : sink_refuse(s, ev->lsn);
		}
		if (unchanged > 0 && ss->unchanged++ == 0)
			log_warning("object storage: an UPDATE of %s.%s left %d unchanged TOAST value(s) out of the WAL; they are NULL in its row (REPLICA IDENTITY FULL carries them; docs/object-storage.md)",
						ev->schema, ev->table, unchanged);
	}
	else
	{
		size_t		len;

		/* the commit time as Debezium's ts_ms: a replay renders the same bytes */
		char	   *body = envelope_render_at(s->cfg->envelope, ev, ev->ts_us / 1000,
											  &len, err, errlen);

		if (body == NULL)
			return sink_refuse(s, ev->lsn);
		strbuf_add(&line, body, len);
		strbuf_add(&line, "\n", 1);
		free(body);
	}
	if (line.failed || !sink_s3_object_add(o, line.data, line.len, false))
	{
		free(line.data);
		snprintf(err, errlen, "out of memory");
		return SINK_FATAL;
	}
	if (ss->round_started < 0)
		ss->round_started = clock_now_ms();
	if (!o->load && ss->round_first == 0)
		ss->round_first = ev->commit_lsn;
	ss->round_bytes += line.len;
	o->rows++;

	/*
	 * Numbered now, but in flight only when its unit is complete: the
	 * window's purpose is that a close can confirm what it counts, and a
	 * unit's events can be confirmed only with all of them (a load's chunk
	 * or a transaction may alone be larger than the window).  What an
	 * open unit holds is bounded by the multipart parts instead.
	 */
	sink_count_published(s, 1, line.len);
	s->st.inflight_events--;
	s->st.inflight_bytes -= line.len;
	ss->unit_events++;
	ss->unit_bytes += line.len;
	free(line.data);
	if (o->body.len >= SINK_S3_PART)
		return sink_s3_object_part(ss, o, err, errlen);
	return SINK_OK;
}

/*
 * The window is full, or the agent stops: close the round now.  A
 * replayed round is cut early only when it must be (the window is smaller
 * than when it was first cut): then objects of its first attempt may hold
 * rows that the next round writes again, which is said.
 */
static enum sink_status
sink_s3_close_early(struct sink_s3 *ss, char *err, size_t errlen)
{
	if (ss->replaying)
	{
		char		end[LSN_BUFLEN];

		lsn_format(ss->mark_end, end, sizeof(end));
		log_warning("object storage: the in-flight window filled before the replayed round reached %s; it is cut early, so objects of its first attempt may repeat rows of the next round (raise --max-inflight-events/--max-inflight-bytes back)",
					end);
		ss->marked = false;
	}
	return sink_s3_round_close(ss, err, errlen);
}

/*
 * A unit is complete: its events enter the window.  The round closes when
 * it is due, and when the window is full, now, between units: a full
 * window stops the reading only after the next unit has begun, and a
 * round can close only between units.
 */
static enum sink_status
sink_s3_end_txn(struct sink *s, char *err, size_t errlen)
{
	struct sink_s3 *ss = (struct sink_s3 *) s;
	bool		full;

	if (!ss->in_unit)
		return SINK_OK;
	ss->in_unit = false;
	s->st.inflight_events += ss->unit_events;
	s->st.inflight_bytes += ss->unit_bytes;
	ss->unit_events = ss->unit_bytes = 0;
	if (ss->unit_skipped)
		return SINK_OK;
	if (ss->unit_commit != 0 && ss->round_first != 0)
		ss->round_last = ss->unit_commit;
	full = s->st.inflight_events >= (uint64_t) s->cfg->max_inflight_events ||
		s->st.inflight_bytes >= (uint64_t) s->cfg->max_inflight_bytes;
	if (ss->replaying)
	{
		/* The marked round ends where it ended before, not by the clock. */
		if (ss->unit_commit >= ss->mark_end)
		{
			ss->marked = false;
			return sink_s3_round_close(ss, err, errlen);
		}
		return full ? sink_s3_close_early(ss, err, errlen) : SINK_OK;
	}
	if (full || sink_s3_round_due(ss))
		return sink_s3_round_close(ss, err, errlen);
	return SINK_OK;
}

static enum sink_status
sink_s3_service(struct sink *s, char *err, size_t errlen)
{
	struct sink_s3 *ss = (struct sink_s3 *) s;

	if (ss->in_unit || ss->replaying || !sink_s3_round_due(ss))
		return SINK_OK;
	return sink_s3_round_close(ss, err, errlen);
}

static int64_t
sink_s3_deadline(struct sink *s)
{
	struct sink_s3 *ss = (struct sink_s3 *) s;

	/* Mid-unit the round waits for the unit's end, which comes by reading. */
	if (ss->nobj == 0 || ss->in_unit || ss->replaying)
		return -1;
	return ss->round_started + (int64_t) ss->set->s3_max_object_age * 1000;
}

/*
 * The window is full (another sink's), or the agent stops: close the
 * round, unless a unit is open (it cannot be cut; this sink's own window
 * never fills mid-unit, see end_txn).
 */
static enum sink_status
sink_s3_flush(struct sink *s, char *err, size_t errlen)
{
	struct sink_s3 *ss = (struct sink_s3 *) s;

	if (ss->in_unit || ss->nobj == 0)
		return SINK_OK;
	return sink_s3_close_early(ss, err, errlen);
}

static int
sink_s3_pollfd(struct sink *s, short *events)
{
	(void) s;
	*events = 0;
	return -1;
}

static void
sink_s3_close(struct sink *s)
{
	struct sink_s3 *ss = (struct sink_s3 *) s;

	sink_s3_round_drop(ss);
	sink_s3_http_free(ss->http);
	ss->http = NULL;
}

static void
sink_s3_destroy(struct sink *s)
{
	struct sink_s3 *ss = (struct sink_s3 *) s;

	sink_s3_close(s);
	for (int i = 0; i < ss->nloaded; i++)
	{
		free(ss->loaded[i].schema);
		free(ss->loaded[i].table);
	}
	free(ss->loaded);
	free(ss->obj);
	free(ss->bucket);
	free(ss->prefix);
	free(ss);
}

static const struct sink_ops sink_s3_ops = {
	.open = sink_s3_open,
	.publish = sink_s3_publish,
	.end_txn = sink_s3_end_txn,
	.service = sink_s3_service,
	.pollfd = sink_s3_pollfd,
	.deadline = sink_s3_deadline,
	.flush = sink_s3_flush,
	.close = sink_s3_close,
	.destroy = sink_s3_destroy,
};

static struct sink *
sink_s3_new(const struct agent_config *cfg, char *err, size_t errlen)
{
	struct sink_s3 *ss = calloc(1, sizeof(*ss));

	if (ss == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ss->base.ops = &sink_s3_ops;
	ss->base.cfg = cfg;
	ss->set = sink_s3_settings(cfg);
	ss->round_started = -1;
	if (!sink_s3_parse_uri(ss->set->s3_uri, &ss->bucket, &ss->prefix, err, errlen))
	{
		free(ss);
		return NULL;
	}
	/* once per process; curl's own init is not thread-safe before 7.84 */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return &ss->base;
}

static void
sink_s3_stats(const struct sink *s, struct strbuf *line)
{
	const struct sink_s3 *ss = (const struct sink_s3 *) s;
	char		buf[96];

	snprintf(buf, sizeof(buf), " s3_objects=%" PRIu64 " s3_unchanged=%" PRIu64,
			 ss->objects, ss->unchanged);
	strbuf_puts(line, buf);
}

static int
sink_s3_counters(const struct sink *s, struct sink_counter *out, int max)
{
	const struct sink_s3 *ss = (const struct sink_s3 *) s;

	if (max < 2)
		return 0;
	out[0].name = "walcast_s3_objects_total";
	out[0].help = "Objects the object-storage sink stored.";
	out[0].value = ss->objects;
	out[1].name = "walcast_s3_unchanged_values_total";
	out[1].help = "UPDATE values left out of the WAL (unchanged TOAST) written as NULL.";
	out[1].value = ss->unchanged;
	return 2;
}

static bool
sink_s3_configured(const struct agent_config *cfg)
{
	const struct sink_s3_settings *set = sink_s3_settings(cfg);

	return set->s3_uri != NULL && set->s3_uri[0] != '\0';
}

/*
 * CSV's header names every column (events carry their types), and an
 * UPDATE that moves a row to a new key is written as a DELETE of the old
 * one first (events carry the key's columns).
 */
static void
sink_s3_needs_for(const struct agent_config *cfg, struct event_needs *needs)
{
	bool		csv = sink_s3_settings(cfg)->s3_format == SINK_S3_CSV;

	memset(needs, 0, sizeof(*needs));
	needs->types = csv;
	needs->key = csv;
	needs->key_setting = "s3_format";
	needs->key_why = "a CSV row whose key changed is written as a delete of the old key";
}

/* The object-storage sink: --s3-uri enables it. */
const struct sink_kind sink_s3_kind = {
	.name = "s3",
	.config = &sink_s3_config,
	.configured = sink_s3_configured,
	.create = sink_s3_new,
	.needs_for = sink_s3_needs_for,
	.stats = sink_s3_stats,
	.counters = sink_s3_counters,
};
