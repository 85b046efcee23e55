/*
 * sink_s3_round.c
 *		The object-storage sink's rounds: when the open objects close
 *		together, storing them before their events are confirmed, and the
 *		marker object that makes a replay cut the same round
 *		(sink_s3_int.h; sink_s3.c's header explains why).
 */
#define _POSIX_C_SOURCE 200809L	/* strtok_r */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "kv.h"
#include "log.h"
#include "lsn.h"
#include "sink_s3_int.h"

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
enum sink_status
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

bool
sink_s3_round_due(const struct sink_s3 *ss)
{
	return ss->nobj > 0 &&
		(ss->round_bytes >= ss->set->s3_max_object_bytes ||
		 clock_now_ms() - ss->round_started >= (int64_t) ss->set->s3_max_object_age * 1000);
}

enum sink_status
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

/*
 * Whether the unit committed at commit goes to the store: not when a
 * stored round holds it.  Decided at the unit's first event, where it also
 * ends a replayed round that the stream has passed.
 */
enum sink_status
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

/*
 * The window is full, or the agent stops: close the round now.  A
 * replayed round is cut early only when it must be (the window is smaller
 * than when it was first cut): then objects of its first attempt may hold
 * rows that the next round writes again, which is said.
 */
enum sink_status
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

