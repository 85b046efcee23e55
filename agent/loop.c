/*
 * loop.c
 *		One replication session's loop: messages to the decoder, events to
 *		the sinks, the acknowledgement rule, backpressure, status updates,
 *		signals and the stats line (see loop.h; sessions and reconnects are
 *		run.c's).
 *
 * Every event goes to every sink, and the flush LSN waits for all of them
 * (ack.c).  Sinks keep no copy of what they published, so whenever any
 * side fails the whole session ends and a new one replays everything
 * unconfirmed from the slot: at-least-once, in commit order, with
 * identical message ids.
 *
 * One poll() loop, as in pg_recvlogical's StreamLogicalLog, waits on the
 * PostgreSQL socket, the sinks' sockets and the next deadline (status
 * update, stats line, heartbeat servicing, what a sink holds falling
 * due).  While the in-flight window is full or a sink has blocked us, the
 * loop stops taking events from the slot but keeps sending status
 * updates, so wal_sender_timeout never expires because of a slow sink.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "clock.h"
#include "event.h"
#include "log.h"
#include "loop.h"
#include "obs.h"
#include "watch.h"

/* At most this many records per turn, so confirms are read in between. */
#define LOOP_RECORDS_PER_TURN 5000
/* Wake at least this often: rabbitmq-c only services heartbeats then. */
#define LOOP_MAX_SLEEP_MS 1000

/*
 * When the confirmed position moved, report it this soon rather than at the
 * next --status-interval: the slot then retains less WAL, and a crash
 * replays (duplicates) less.  One 34-byte message, at most 5 per second.
 */
#define LOOP_EAGER_STATUS_MS 200

struct loop_timers
{
	int64_t		next_status;
	int64_t		next_stats;
	int64_t		last_status;
	int64_t		last_ping;		/* status sent asking for a reply */
	bool		waiting;		/* the last read found nothing to read */
};

int64_t
loop_now_ms(void)
{
	return clock_now_ms();
}

static void
loop_format_lsn(uint64_t lsn, char *buf)
{
	lsn_format(lsn, buf, LSN_BUFLEN);
}

/*
 * Map a sink or stream failure to what happens next, logging it once.
 * Before any session has worked, "unreachable" (wrong host, port, password)
 * is fatal: a daemon that retries a typo forever hides it.
 */
enum loop_result
loop_failure(struct agent *a, bool retry, bool unreachable, const char *err)
{
	if (unreachable && !a->ever_connected)
	{
		log_error("%s", err);
		return LOOP_FATAL;
	}
	if (retry || unreachable)
	{
		log_warning("%s", err);
		return LOOP_RETRY;
	}
	log_error("%s", err);
	return LOOP_FATAL;
}

/*
 * A record the agent cannot process, now or on any replay: the slot would
 * send it again after every restart, so the error names it and the way
 * out (docs/agent-operations.md, "A record the agent cannot process").
 */
static enum loop_result
loop_refused(uint64_t lsn, const char *what, const char *err)
{
	char		at[LSN_BUFLEN];

	if (lsn == 0)
	{
		log_error("%s", err);
		return LOOP_FATAL;
	}
	lsn_format(lsn, at, sizeof(at));
	log_error("%s%s%s: %s; every restart would stop at it again: see docs/agent-operations.md (\"A record the agent cannot process\") before leaving it out with --skip-lsn=%s",
			  "cannot process the record at LSN ", at, what, err, at);
	return LOOP_FATAL;
}

enum loop_result
loop_sink_failure(struct agent *a, enum sink_status st, const char *err)
{
	if (st == SINK_REFUSED)
		return loop_refused(a->sinks.refused_lsn, "", err);
	if (st == SINK_CONFIG)
	{
		log_error("%s", err);
		return LOOP_CONFIG;
	}
	return loop_failure(a, st == SINK_RETRY, st == SINK_UNREACHABLE, err);
}

/*
 * --skip-lsn: the one record the operator chose to leave out, after the
 * agent stopped at it.  No sink receives it; its transaction goes on
 * without it.  Logged every time it is met (a replay meets it again),
 * without its row.
 */
static bool
loop_skip(struct agent *a, const struct event *ev)
{
	char		lsn[LSN_BUFLEN];

	if (a->skip_lsn == 0 || ev->lsn != a->skip_lsn)
		return false;
	lsn_format(ev->lsn, lsn, sizeof(lsn));
	log_warning("skipping the record at LSN %s (%s%s%s, %s, %zu bytes) as --skip-lsn asks: no sink receives it",
				lsn, ev->schema ? ev->schema : "", ev->schema ? "." : "",
				ev->table ? ev->table : "no relation", event_op_name(ev->op),
				ev->rawlen);
	a->skip_met = true;
	return true;
}

/* " (schema.table, insert)" for the error naming a record. */
static void
loop_describe(const struct event *ev, char *buf, size_t len)
{
	const char *op = ev->op == EVENT_OTHER ? "" : event_op_name(ev->op);

	if (ev->table != NULL)
		snprintf(buf, len, " (%s.%s%s%s)", ev->schema ? ev->schema : "?",
				 ev->table, op[0] ? ", " : "", op);
	else
		snprintf(buf, len, op[0] ? " (%s)" : "%s", op);
}

enum loop_result
loop_stream_failure(struct agent *a, enum stream_status st, const char *err)
{
	return loop_failure(a, st == STREAM_RETRY, st == STREAM_UNREACHABLE, err);
}

/* Sinks' confirmed prefixes -> flush LSN; progress resets the backoff. */
static void
loop_advance(struct agent *a)
{
	uint64_t	before = a->ack.flush_lsn;

	if (ack_advance(&a->ack, sink_set_confirmed(&a->sinks)) > before)
		backoff_reset(&a->backoff);
}

static bool
loop_send_status(struct agent *a, struct loop_timers *t, bool reply_req)
{
	char		err[512];
	char		lsn[LSN_BUFLEN];

	/* Durable before the server hears it (position.h). */
	if (!position_save(&a->position, a->ack.flush_lsn, err, sizeof(err)))
	{
		log_warning("%s", err);
		return false;
	}
	if (!stream_send_status(&a->stream, a->ack.flush_lsn, reply_req, err,
							sizeof(err)))
	{
		log_warning("%s", err);
		return false;
	}
	if (a->ack.flush_lsn != a->reported_flush && log_enabled(LOG_LEVEL_DEBUG))
	{
		loop_format_lsn(a->ack.flush_lsn, lsn);
		log_debug("reported %s as flushed to PostgreSQL", lsn);
	}
	a->reported_flush = a->ack.flush_lsn;
	t->last_status = loop_now_ms();
	t->next_status = t->last_status + (int64_t) a->cfg.status_interval * 1000;
	return true;
}

static void
loop_stats(struct agent *a, struct loop_timers *t, int64_t now)
{
	/* The first sink's counters (sink_list.h's order), then each's own. */
	const struct sink_stats *st = &a->sinks.sinks[0]->st;
	struct strbuf extra = {0};
	char		flushed[LSN_BUFLEN];
	char		received[LSN_BUFLEN];
	uint64_t	lag = 0;
	double		secs;
	double		rate = 0;

	if (a->cfg.stats_interval <= 0)
	{
		t->next_stats = INT64_MAX;
		return;
	}
	sink_set_stats(&a->sinks, &extra);
	secs = (double) (now - a->stats.last_ms) / 1000.0;
	if (secs > 0)
		rate = (double) (st->events - a->stats.last_events) / secs;
	if (a->stream.server_wal_end > a->ack.flush_lsn)
		lag = a->stream.server_wal_end - a->ack.flush_lsn;
	loop_format_lsn(a->ack.flush_lsn, flushed);
	loop_format_lsn(a->stream.received_lsn, received);
	log_info("stats: events=%" PRIu64 " events_per_s=%.0f txns=%" PRIu64
			 " messages=%" PRIu64 " inflight_events=%" PRIu64
			 " inflight_bytes=%" PRIu64 " returned=%" PRIu64
			 " confirmed_lsn=%s received_lsn=%s lag_bytes=%" PRIu64
			 " blocked=%s sessions=%" PRIu64 "%s",
			 st->events, rate, a->stats.txns, st->messages,
			 st->inflight_events, st->inflight_bytes, st->returned,
			 flushed, received, lag, st->blocked ? "yes" : "no",
			 a->stats.sessions, extra.data && !extra.failed ? extra.data : "");
	free(extra.data);
	a->stats.last_events = st->events;
	a->stats.last_ms = now;
	t->next_stats = now + (int64_t) a->cfg.stats_interval * 1000;
}

/* SIGHUP: reopen the log (rotation), then reload what can be reloaded. */
void
loop_reload(struct agent *a)
{
	char		err[512];
	char	   *old_log = a->cfg.log_file ? strdup(a->cfg.log_file) : NULL;

	if (!log_reopen(err, sizeof(err)))
		log_error("could not reopen the log: %s", err);
	if (!config_reload(&a->cfg, err, sizeof(err)))
		log_error("configuration not reloaded, keeping the current one: %s",
				  err);
	else
	{
		const char *new_log = a->cfg.log_file;

		if ((old_log == NULL) != (new_log == NULL) ||
			(old_log && strcmp(old_log, new_log) != 0))
		{
			if (!log_open(new_log, err, sizeof(err)))
				log_error("could not open log file: %s", err);
		}
		log_set_verbosity(a->cfg.verbose);
		backoff_set_max(&a->backoff, a->cfg.reconnect_max_delay * 1000);
		log_info("configuration reloaded");
	}
	free(old_log);
}

/* The sinks have room, and so has the tracker of in-flight transactions. */
static bool
loop_window_open(const struct agent *a)
{
	return sink_set_have_room(&a->sinks, (uint64_t) a->cfg.max_inflight_events,
							  (uint64_t) a->cfg.max_inflight_bytes) &&
		ack_in_flight(&a->ack) < (size_t) a->cfg.max_inflight_events;
}

/*
 * A link to PostgreSQL that went dead silently (a partition: no FIN, no
 * RST) fails nothing: status updates still leave, into the kernel's
 * buffer, and nothing arrives.  As wal_receiver_timeout does for a
 * standby: when nothing has arrived for half of receive_timeout, ask the
 * server to reply (the walsender then sends a keepalive at once); when
 * nothing has arrived for all of it, end the session and reconnect.
 *
 * The clock runs only while the loop waits for the server: not while it
 * still has received messages to work through (a slow sink), nor with the
 * window full (what arrives is left unread on purpose); and bytes waiting
 * in the socket count as heard.
 */
static enum loop_result
loop_check_receive(struct agent *a, struct loop_timers *t, int64_t now)
{
	int64_t		limit = (int64_t) a->cfg.receive_timeout * 1000;
	int64_t		quiet;

	if (limit <= 0)
		return LOOP_OK;
	if (!loop_window_open(a) || !t->waiting)
	{
		a->stream.last_recv_ms = now;
		return LOOP_OK;
	}
	quiet = now - a->stream.last_recv_ms;

	/*
	 * Bytes waiting unread: the server is there, and the loop was busy
	 * elsewhere (a slow sink's bounded write), not waiting on a dead link.
	 */
	if (quiet >= limit / 2 && stream_input_pending(&a->stream))
	{
		a->stream.last_recv_ms = now;
		return LOOP_OK;
	}
	if (quiet >= limit)
	{
		log_warning("nothing arrived from PostgreSQL for %d s (receive_timeout): the connection is dead, reconnecting",
					a->cfg.receive_timeout);
		return LOOP_RETRY;
	}
	if (quiet >= limit / 2 && t->last_ping <= a->stream.last_recv_ms)
	{
		log_debug("nothing from PostgreSQL for %" PRId64 " ms: asking for a reply",
				  quiet);
		if (!loop_send_status(a, t, true))
			return LOOP_RETRY;
		t->last_ping = now;
	}
	return LOOP_OK;
}

static enum loop_result
loop_published(struct agent *a, enum sink_status st, const char *err)
{
	return st == SINK_OK ? LOOP_OK : loop_sink_failure(a, st, err);
}

/* Publishing ev: a sink that refuses ev itself gets it named in full. */
static enum loop_result
loop_publish(struct agent *a, const struct event *ev)
{
	char		err[1024];
	char		what[300];
	enum sink_status st = sink_set_publish(&a->sinks, ev, err, sizeof(err));

	if (st == SINK_REFUSED && a->sinks.refused_lsn == ev->lsn)
	{
		loop_describe(ev, what, sizeof(what));
		return loop_refused(ev->lsn, what, err);
	}
	return loop_published(a, st, err);
}

/*
 * A transaction (or a non-transactional message) is complete: the sink
 * sends what it held back, and the tracker learns which sequence number
 * must be confirmed before lsn may be reported.
 */
static enum loop_result
loop_end_unit(struct agent *a, uint64_t lsn, int64_t ts_us, bool standalone)
{
	char		err[1024];
	enum sink_status st;
	bool		ok;

	if ((st = sink_set_end_txn(&a->sinks, err, sizeof(err))) != SINK_OK)
		return loop_sink_failure(a, st, err);
	ok = standalone ? ack_standalone(&a->ack, lsn, ts_us, a->sinks.published) :
		ack_commit(&a->ack, lsn, ts_us, a->sinks.published);
	if (!ok)
	{
		log_error("out of memory tracking transactions");
		return LOOP_FATAL;
	}
	return LOOP_OK;
}

/*
 * The commit time of a transaction's BEGIN or COMMIT, or of a message (a
 * non-transactional one has none: the time it arrived), which is now the
 * newest received (the received lag, obs_view.c).
 */
static int64_t
loop_received_time(struct agent *a, const struct event *ev)
{
	int64_t		ts = ev->ts_us > 0 ? ev->ts_us : clock_wall_us();

	if (ts > a->lag.newest_received)
		a->lag.newest_received = ts;
	return ts;
}

/*
 * The agent's own heartbeat (watch_heartbeat.c), from this agent or
 * another on the same database: it only moves the slot, unless
 * --publish-heartbeats.
 */
static bool
loop_heartbeat(struct agent *a, const struct event *ev)
{
	if (ev->prefix == NULL || strcmp(ev->prefix, WATCH_HEARTBEAT_PREFIX) != 0)
		return false;
	a->stats.heartbeats++;
	return !a->cfg.publish_heartbeats;
}

/* One plugin record: the acknowledgement bookkeeping and the sink. */
static enum loop_result
loop_event(struct agent *a, struct event *ev)
{
	enum loop_result r;
	int64_t		ts;

	switch (ev->op)
	{
		case EVENT_BEGIN:
			(void) loop_received_time(a, ev);
			ack_begin(&a->ack);
			return LOOP_OK;

		case EVENT_COMMIT:

			/*
			 * end_lsn is the end of the commit record: once confirmed, a
			 * restart decodes from there and skips this transaction.  Its
			 * start (commit_lsn) would replay it.  Decoders refuse commits
			 * without it in their own words; this only guards the rule.
			 */
			if (ev->end_lsn == 0)
			{
				log_error("a commit without its end position: cannot acknowledge it");
				return LOOP_FATAL;
			}
			a->stats.txns++;
			return loop_end_unit(a, ev->end_lsn, loop_received_time(a, ev), false);

		case EVENT_INSERT:
		case EVENT_UPDATE:
		case EVENT_DELETE:
		case EVENT_TRUNCATE:
			if (loop_skip(a, ev))
				return LOOP_OK;
			a->stats.events++;
			return loop_publish(a, ev);

		case EVENT_MESSAGE:
			if (loop_skip(a, ev))
				return LOOP_OK;
			ts = loop_received_time(a, ev);
			if (loop_heartbeat(a, ev))
				r = LOOP_OK;	/* acknowledged below, published nowhere */
			else
			{
				a->stats.events++;
				r = loop_publish(a, ev);
			}
			if (r != LOOP_OK || ev->transactional)
				return r;

			/*
			 * Non-transactional: complete on its own, at its own LSN (a
			 * heartbeat like a transaction without events: the flush
			 * position moves once every sink confirmed what came before).
			 */
			return loop_end_unit(a, ev->lsn, ts, true);

		case EVENT_STREAM:

			/*
			 * Streamed in-progress transactions may later abort; the agent
			 * publishes only committed changes, so it does not ask for
			 * streaming and refuses it.
			 */
			log_error("the plugin is streaming in-progress transactions, which walcast-agent does not support: remove the streaming plugin option");
			return LOOP_FATAL;

		case EVENT_READ:		/* snapshot rows never come from the slot */
		case EVENT_OTHER:
			log_debug("skipping a record of an unknown kind");
			return LOOP_OK;
	}
	return LOOP_OK;
}

enum loop_result
loop_decoder_failure(struct agent *a, enum decoder_status st, const char *err)
{
	return loop_failure(a, st == DECODER_RETRY, st == DECODER_UNREACHABLE, err);
}

/*
 * Take events while the window has room; returns more=true if cut short.
 * The decoder hands out the current message's events one at a time; only
 * when it has none left is the next message read from the stream.
 */
static enum loop_result
loop_read(struct agent *a, struct loop_timers *t, bool *more)
{
	char		err[1024];
	int			n = 0;

	*more = false;
	while (loop_window_open(a))
	{
		struct stream_message msg;
		struct event ev;
		enum decoder_status ds;
		enum stream_status rs;
		enum loop_result r;

		if (*a->stop_requested)
			return LOOP_OK;
		if (n >= LOOP_RECORDS_PER_TURN)
		{
			*more = true;
			return LOOP_OK;
		}
		ds = decoder_next(a->decoder, &ev, err, sizeof(err));
		if (ds == DECODER_EVENT)
		{
			n++;
			a->stats.records++;
			r = loop_event(a, &ev);
			event_free(&ev);
			if (r != LOOP_OK)
				return r;

			/*
			 * A turn is long when a sink is slow (the MongoDB mirror writes
			 * from inside publish once its queue is full): the status is
			 * due within it too, or wal_sender_timeout ends the session,
			 * and what was confirmed meanwhile would be replayed.
			 */
			if (loop_now_ms() >= t->next_status)
			{
				loop_advance(a);
				if (!loop_send_status(a, t, false))
					return LOOP_RETRY;
			}
			continue;
		}
		if (ds == DECODER_BAD_RECORD)
		{
			char		what[300];

			n++;
			a->stats.records++;
			loop_describe(&ev, what, sizeof(what));
			r = loop_skip(a, &ev) ? LOOP_OK : loop_refused(ev.lsn, what, err);
			event_free(&ev);
			if (r != LOOP_OK)
				return r;
			continue;
		}
		if (ds != DECODER_NEED_MORE)
			return loop_decoder_failure(a, ds, err);

		rs = stream_next(&a->stream, &msg, err, sizeof(err));
		t->waiting = rs == STREAM_AGAIN;
		switch (rs)
		{
			case STREAM_MESSAGE:
				decoder_feed(a->decoder, msg.data_start, msg.data, msg.len);
				break;
			case STREAM_KEEPALIVE:
				n++;
				ack_keepalive(&a->ack, a->stream.keepalive_end);
				if (a->stream.reply_requested &&
					!loop_send_status(a, t, false))
					return LOOP_RETRY;
				break;
			case STREAM_AGAIN:
				return LOOP_OK;
			default:
				return loop_stream_failure(a, rs, err);
		}
	}
	return LOOP_OK;
}

/*
 * Stop requested: take no more records, wait (at most shutdown_timeout)
 * for the broker to confirm what was published, report the final flush
 * position, and end the session cleanly.
 */
static enum loop_result
loop_drain(struct agent *a, struct loop_timers *t)
{
	int64_t		deadline = loop_now_ms() + (int64_t) a->cfg.shutdown_timeout * 1000;
	char		err[1024];
	char		lsn[LSN_BUFLEN];
	bool		flushed;

	a->phase = AGENT_STOPPING;
	obs_publish(a, true);

	/*
	 * What sinks hold of complete transactions goes out now, so that it is
	 * confirmed within the wait; a sink that fails here ends it.
	 */
	flushed = sink_set_flush(&a->sinks, err, sizeof(err)) == SINK_OK;
	if (!flushed)
		log_warning("%s", err);
	log_info("stopping: waiting up to %d s for %" PRIu64 " unconfirmed message(s)",
			 a->cfg.shutdown_timeout, sink_set_unconfirmed(&a->sinks));
	while (flushed && sink_set_unconfirmed(&a->sinks) > 0)
	{
		int64_t		now = loop_now_ms();
		struct pollfd *pfd = a->pfd;
		int			nfd = 0;
		int64_t		wait;
		enum sink_status st;

		if (now >= deadline)
			break;
		st = sink_set_service(&a->sinks, err, sizeof(err));
		if (st != SINK_OK)
		{
			log_warning("%s", err);
			break;
		}
		loop_advance(a);
		obs_publish(a, false);
		if (sink_set_unconfirmed(&a->sinks) == 0)
			break;
		if (now >= t->next_status && !loop_send_status(a, t, false))
			break;
		wait = deadline - now;
		if (wait > LOOP_MAX_SLEEP_MS)
			wait = LOOP_MAX_SLEEP_MS;
		sink_set_pollfds(&a->sinks, pfd, &nfd);
		if (nfd == 0)
			break;
		(void) poll(pfd, (nfds_t) nfd, (int) wait);
	}
	loop_advance(a);
	if (sink_set_unconfirmed(&a->sinks) > 0)
		log_warning("%" PRIu64 " message(s) still unconfirmed at shutdown: they will be sent again after a restart",
					sink_set_unconfirmed(&a->sinks));
	(void) loop_send_status(a, t, false);
	loop_format_lsn(a->ack.flush_lsn, lsn);
	log_info("stopped; confirmed position %s", lsn);
	return LOOP_STOP;
}

/*
 * The figures of the HTTP endpoint (obs/): whether the loop has read
 * everything the server sent, outside a transaction (the received lag is
 * 0 then), and a copy of the counters, at most every OBS_PUBLISH_MS.
 */
static void
loop_observe(struct agent *a, const struct loop_timers *t, bool more)
{
	if (a->obs == NULL)
		return;
	a->lag.caught_up = t->waiting && !more && !a->ack.in_txn &&
		loop_window_open(a);
	if (a->lag.caught_up)
		a->lag.caught_up_at = clock_wall_us();
	obs_publish(a, false);
}

/* After a reload: the intervals may have changed (or stats turned on). */
static void
loop_reset_timers(const struct agent *a, struct loop_timers *t)
{
	int64_t		now = loop_now_ms();
	int64_t		status = now + (int64_t) a->cfg.status_interval * 1000;

	if (status < t->next_status)
		t->next_status = status;
	t->next_stats = a->cfg.stats_interval > 0 ?
		now + (int64_t) a->cfg.stats_interval * 1000 : INT64_MAX;
}

enum loop_result
loop_stream(struct agent *a)
{
	struct loop_timers t;
	char		err[1024];

	t.last_status = loop_now_ms();
	t.last_ping = 0;
	t.waiting = false;
	t.next_status = t.last_status + (int64_t) a->cfg.status_interval * 1000;
	t.next_stats = a->cfg.stats_interval > 0 ?
		a->stats.last_ms + (int64_t) a->cfg.stats_interval * 1000 : INT64_MAX;

	for (;;)
	{
		struct pollfd *pfd = a->pfd;
		enum sink_status st;
		enum loop_result r;
		int64_t		now;
		int64_t		wait;
		bool		more;
		int			nfd = 0;
		int			pgfd = -1;

		if (*a->reload_requested)
		{
			*a->reload_requested = 0;
			loop_reload(a);
			loop_reset_timers(a, &t);
		}
		if (*a->stop_requested)
			return loop_drain(a, &t);

		st = sink_set_service(&a->sinks, err, sizeof(err));
		if (st != SINK_OK)
			return loop_sink_failure(a, st, err);
		loop_advance(a);

		if ((r = loop_read(a, &t, &more)) != LOOP_OK)
			return r;

		/*
		 * Held events count in flight: with the window full, a sink that
		 * holds some (a batch being filled) must send them, or the loop
		 * would wait forever for confirms of what was never sent.
		 */
		if (!loop_window_open(a) &&
			(st = sink_set_flush(&a->sinks, err, sizeof(err))) != SINK_OK)
			return loop_sink_failure(a, st, err);

		/*
		 * Once more before sleeping: the MongoDB mirror writes what it
		 * queued here, when the slot has nothing more to read right now.
		 */
		st = sink_set_service(&a->sinks, err, sizeof(err));
		if (st != SINK_OK)
			return loop_sink_failure(a, st, err);
		loop_advance(a);

		now = loop_now_ms();
		if (a->ack.flush_lsn != a->reported_flush &&
			now - t.last_status >= LOOP_EAGER_STATUS_MS &&
			t.next_status > now + LOOP_EAGER_STATUS_MS)
			t.next_status = now;
		if ((now >= t.next_status || a->stream.reply_requested) &&
			!loop_send_status(a, &t, false))
			return LOOP_RETRY;
		if (now >= t.next_stats)
			loop_stats(a, &t, now);
		if ((r = loop_check_receive(a, &t, now)) != LOOP_OK)
			return r;
		loop_observe(a, &t, more);

		/* Poll PostgreSQL only when we would read what arrives. */
		if (loop_window_open(a) && !more)
		{
			pfd[nfd].fd = stream_socket(&a->stream);
			pfd[nfd].events = POLLIN;
			pfd[nfd].revents = 0;
			pgfd = nfd++;
		}
		sink_set_pollfds(&a->sinks, pfd, &nfd);

		wait = LOOP_MAX_SLEEP_MS;
		if (t.next_status - now < wait)
			wait = t.next_status - now;
		if (t.next_stats - now < wait)
			wait = t.next_stats - now;
		if (a->ack.flush_lsn != a->reported_flush &&
			t.last_status + LOOP_EAGER_STATUS_MS - now < wait)
			wait = t.last_status + LOOP_EAGER_STATUS_MS - now;
		wait = sink_set_wait(&a->sinks, now, wait);
		if (wait < 0 || more)
			wait = 0;

		if (poll(pfd, (nfds_t) nfd, (int) wait) < 0 && errno != EINTR)
		{
			log_error("poll failed: %s", strerror(errno));
			return LOOP_FATAL;
		}
		if (pgfd >= 0 && (pfd[pgfd].revents & (POLLIN | POLLERR | POLLHUP)) &&
			!stream_consume(&a->stream, err, sizeof(err)))
		{
			log_warning("%s", err);
			return LOOP_RETRY;
		}
	}
}
