/*
 * run.c
 *		agent_run: the agent's life from its sinks' creation to its exit
 *		code, one replication session after another.
 *
 * A session = every sink opened, the decoder's session prepared (what its
 * plugin needs before a slot: pgoutput's publications), the replication
 * connection prepared (and the initial load, when one is due:
 * snapshot.c), the decoder's session begun, streaming from after what
 * every sink confirmed, then
 * loop.c's loop until a stop or a failure.  A failure ends the session:
 * PostgreSQL is closed first, so the last status sent stays the last word,
 * then the sinks, dropping what they did not confirm; the next session
 * replays it from the slot after a backoff.  Before the first session
 * reached every server, failing to reach one is a configuration mistake
 * (exit 2; exit 1 when a sink says so, SINK_CONFIG: none of the RabbitMQ
 * brokers ever reached); afterwards it is an outage (retry).
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "log.h"
#include "loop.h"
#include "obs.h"
#include "snapshot.h"
#include "snapshot_progress.h"

/* First reconnect delay; later ones double up to reconnect_max_delay. */
#define RUN_BACKOFF_BASE_MS 500

/*
 * The replication connection, after the initial load when one is due
 * (snapshot.c).  --snapshot=only ends the agent once the load is
 * confirmed, like a requested stop.
 */
static enum loop_result
run_prepare(struct agent *a, char *err, size_t errlen)
{
	switch (snapshot_prepare(a, err, errlen))
	{
		case SNAPSHOT_STREAM:
			return LOOP_OK;
		case SNAPSHOT_DONE:
			log_info(a->cfg.reload_table != NULL ? "reload done (--reload-table): exiting" :
					 "initial load done (--snapshot=only): exiting");
			return LOOP_STOP;
		case SNAPSHOT_STOP:
			log_info("stopped during the initial load (it starts over on the next start)");
			return LOOP_STOP;
		case SNAPSHOT_RETRY:
			return loop_failure(a, true, false, err);
		case SNAPSHOT_UNREACHABLE:
			return loop_failure(a, false, true, err);
		case SNAPSHOT_BUSY:

			/*
			 * Not retried: the other agent streams once its load is done,
			 * and this one would then only wait for the slot.  Two agents
			 * on one slot is a deployment mistake to show, not to ride out.
			 */
			log_error("%s", err);
			return LOOP_BUSY;
		case SNAPSHOT_FATAL:
			break;
	}
	return loop_failure(a, false, false, err);
}

/*
 * The slot must start at or before the newest position this agent
 * reported (position.h): one that starts after it was dropped and
 * recreated, or advanced, by someone else, and the changes between are
 * gone.  Refused, naming the gap, unless --accept-slot-gap.  The same
 * holds for a slot --create-slot is about to create (snapshot.c asks
 * before it does): when a record of that slot name on this cluster
 * exists, the slot this agent streamed from was dropped, while it ran or
 * was stopped, and a supervisor's restart must not turn that into silent
 * loss.  A record of another cluster, or none, is no gap.
 */
bool
agent_slot_gap_ok(struct agent *a, uint64_t start, bool creating,
				  char *err, size_t errlen)
{
	struct stream *s = &a->stream;
	char		from[LSN_BUFLEN];
	char		to[LSN_BUFLEN];

	if (!position_load(&a->position, a->cfg.state_dir, a->cfg.slot,
					   s->system_id, err, errlen))
		return false;
	if (!a->position.found || start <= a->position.saved)
		return true;
	lsn_format(a->position.saved, from, sizeof(from));
	lsn_format(start, to, sizeof(to));
	if (a->cfg.accept_slot_gap)
	{
		if (creating)
			log_warning("replication slot \"%s\" does not exist, but this agent had confirmed up to %s on the slot of that name: the changes after it are lost; creating it again anyway, at the WAL's end (%s or later) (--accept-slot-gap)",
						a->cfg.slot, from, to);
		else
			log_warning("replication slot \"%s\" starts at %s, after %s, the newest position this agent confirmed: the changes between are lost; streaming anyway (--accept-slot-gap)",
						a->cfg.slot, to, from);
		return true;
	}
	if (creating)
		snprintf(err, errlen,
				 "replication slot \"%s\" does not exist, but this agent had confirmed up to %s on the slot of that name (%s): it was dropped, and the changes between %s and the WAL's end (%s) are lost; it is not created again: resynchronise, then start once with --accept-slot-gap (docs/agent-operations.md, \"Slot lost\")",
				 a->cfg.slot, from, a->position.path, from, to);
	else
		snprintf(err, errlen,
				 "replication slot \"%s\" starts at %s, after %s, the newest position this agent confirmed (%s): it was dropped and recreated, or advanced, by someone else, and the changes between %s and %s are lost; resynchronise, then start once with --accept-slot-gap (docs/agent-operations.md, \"Slot lost\")",
				 a->cfg.slot, to, from, a->position.path, from, to);
	s->slot_lost = true;
	return false;
}

/*
 * After the slot is prepared: an existing one is checked for a gap; one
 * this session created (the gap was checked before) starts the record.
 */
static enum loop_result
run_check_position(struct agent *a)
{
	struct stream *s = &a->stream;
	char		err[1024];

	if (!s->created)
		return agent_slot_gap_ok(a, s->slot_confirmed_lsn, false, err, sizeof(err)) ?
			LOOP_OK : loop_failure(a, false, false, err);
	if (!position_load(&a->position, a->cfg.state_dir, a->cfg.slot,
					   s->system_id, err, sizeof(err)) ||
		!position_reset(&a->position, s->slot_confirmed_lsn, err, sizeof(err)))
		return loop_failure(a, false, false, err);
	return LOOP_OK;
}

/*
 * Start after what this process knows every sink confirmed (ack_resume),
 * and tell the server so at once: the slot's own position is the last
 * status it received.
 */
static void
run_resume(struct agent *a)
{
	char		history[64];

	snprintf(history, sizeof(history), "%s/%s", a->stream.system_id, a->stream.timeline);
	a->stream.start_lsn = ack_resume(&a->ack, history);
	a->reported_flush = 0;
}

static enum loop_result
run_session(struct agent *a)
{
	char		err[1024];
	enum sink_status ss;
	enum stream_status rs;
	enum decoder_status ds;
	enum loop_result r;

	/* Before the reset: the last session's pending lag stays shown. */
	a->phase = AGENT_CONNECTING;
	obs_publish(a, true);
	ack_reset(&a->ack);
	if ((ss = sink_set_open(&a->sinks, err, sizeof(err))) != SINK_OK)
		return loop_sink_failure(a, ss, err);

	/*
	 * What the decoder's plugin needs before a slot exists or is read
	 * (pgoutput: its publications), then the slot and the load.
	 */
	if ((ds = decoder_prepare_session(a->decoder, err, sizeof(err))) != DECODER_OK)
	{
		sink_set_close(&a->sinks);
		return loop_decoder_failure(a, ds, err);
	}
	if ((r = run_prepare(a, err, sizeof(err))) != LOOP_OK)
	{
		sink_set_close(&a->sinks);
		return r;
	}
	if ((r = run_check_position(a)) != LOOP_OK)
	{
		stream_close(&a->stream, false);
		sink_set_close(&a->sinks);
		return r;
	}
	if ((ds = decoder_begin_session(a->decoder, a->stream.conn, err,
									sizeof(err))) != DECODER_OK)
	{
		stream_close(&a->stream, false);
		sink_set_close(&a->sinks);
		return loop_decoder_failure(a, ds, err);
	}
	run_resume(a);
	rs = stream_begin(&a->stream, err, sizeof(err));
	if (rs != STREAM_OK)
	{
		sink_set_close(&a->sinks);
		return loop_stream_failure(a, rs, err);
	}
	a->stats.sessions++;
	a->phase = AGENT_STREAMING;
	obs_publish(a, true);

	r = loop_stream(a);

	/*
	 * Order matters: PostgreSQL first, so the last status we sent stays the
	 * last word; then the sink, dropping whatever it did not confirm.
	 */
	stream_close(&a->stream, r == LOOP_STOP);
	sink_set_close(&a->sinks);
	return r;
}

/*
 * A session ended to be retried: count it against the target that failed,
 * a sink (down since its failure, sink_set.c) or else PostgreSQL.
 */
static void
run_count_reconnect(struct agent *a)
{
	bool		sink = false;

	for (int i = 0; i < a->sinks.n; i++)
		if (a->sinks.sinks[i]->st.down)
		{
			a->sinks.sinks[i]->st.reconnects++;
			sink = true;
		}
	if (!sink)
		a->stats.pg_reconnects++;
	a->phase = AGENT_CONNECTING;
	obs_publish(a, true);
}

/* Wait ms between sessions; false when a stop was requested meanwhile. */
static bool
run_sleep(struct agent *a, int ms)
{
	int64_t		end = loop_now_ms() + ms;

	for (;;)
	{
		int64_t		left = end - loop_now_ms();

		if (*a->stop_requested)
			return false;
		if (*a->reload_requested)
		{
			*a->reload_requested = 0;
			loop_reload(a);
		}
		if (left <= 0)
			return true;
		obs_publish(a, false);
		(void) poll(NULL, 0, (int) (left > 200 ? 200 : left));
	}
}

int
agent_run(struct agent *a)
{
	char		err[512];
	struct event_needs needs;
	int			rc;

	backoff_init(&a->backoff, RUN_BACKOFF_BASE_MS,
				 a->cfg.reconnect_max_delay * 1000,
				 (uint32_t) getpid() ^ (uint32_t) time(NULL));
	a->stats.last_ms = loop_now_ms();
	if (!sink_set_create(&a->sinks, &a->cfg, err, sizeof(err)))
	{
		log_error("%s", err);
		return AGENT_EXIT_CONFIG;
	}
	sink_needs(&a->cfg, &needs);
	if ((a->pfd = calloc((size_t) a->sinks.n + 1, sizeof(*a->pfd))) == NULL ||
		(a->decoder = decoder_create(&a->cfg, &needs, err, sizeof(err))) == NULL)
	{
		log_error("%s", a->pfd == NULL ? "out of memory" : err);
		free(a->pfd);
		sink_set_destroy(&a->sinks);
		return AGENT_EXIT_CONFIG;
	}
	stream_init(&a->stream, &a->cfg, a->decoder->ops->plugin,
				&a->decoder->options, &a->decoder->stream_conn);
	ack_init(&a->ack, a->sinks.n);

	for (;;)
	{
		enum loop_result r = run_session(a);
		int			delay;

		if (r == LOOP_STOP)
		{
			rc = AGENT_EXIT_STOP;
			break;
		}
		if (r == LOOP_FATAL)
		{
			rc = a->stream.slot_lost ? AGENT_EXIT_SLOT_LOST : AGENT_EXIT_RUNTIME;
			if (a->stream.slot_lost)
			{
				a->phase = AGENT_SLOT_LOST;
				obs_publish(a, true);
			}
			break;
		}
		if (r == LOOP_BUSY)
		{
			rc = AGENT_EXIT_BUSY;
			break;
		}
		if (r == LOOP_CONFIG)
		{
			rc = AGENT_EXIT_CONFIG;
			break;
		}
		if (*a->stop_requested)
		{
			log_info("stopped");
			rc = AGENT_EXIT_STOP;
			break;
		}
		run_count_reconnect(a);
		delay = backoff_next(&a->backoff);
		log_info("reconnecting in %.1f s", delay / 1000.0);
		if (!run_sleep(a, delay))
		{
			log_info("stopped");
			rc = AGENT_EXIT_STOP;
			break;
		}
	}

	sink_set_destroy(&a->sinks);
	free(a->pfd);
	a->pfd = NULL;
	decoder_free(a->decoder);
	a->decoder = NULL;
	ack_free(&a->ack);
	position_free(&a->position);
	snapshot_progress_free(&a->load);
	return rc;
}
