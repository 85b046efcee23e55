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
 *
 * This file holds the ops; the objects are sink_s3_object.c's, the rounds
 * and their marker sink_s3_round.c's (sink_s3_int.h).
 */
#define _POSIX_C_SOURCE 200809L	/* strdup */

#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "envelope.h"
#include "log.h"
#include "sink_s3_int.h"

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
