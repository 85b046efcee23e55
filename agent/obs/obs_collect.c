/*
 * obs_collect.c
 *		The agent's figures into the endpoint's view (obs.h): what the main
 *		thread (loop, load, sessions) and the side connection's thread
 *		publish.
 *
 * The main thread only copies: a few hundred bytes per sink, at most every
 * OBS_PUBLISH_MS, and the load's tables only when they changed.  Unless
 * forced, it skips a turn when a request holds the lock rather than wait
 * for it.
 */
#include "obs_int.h"

#include <string.h>

#include "clock.h"

/* A sink's figures, from its counters (sink.h) and its kind. */
static void
obs_collect_sink(struct obs_sink_view *v, const struct sink *s)
{
	const struct sink_stats *st = &s->st;

	v->name = s->kind->name;
	memcpy(v->by_op, st->by_op, sizeof(v->by_op));
	v->messages = st->messages;
	v->bytes = st->bytes;
	v->confirms = st->confirms;
	v->nacks = st->nacks;
	v->returns = st->returned;
	v->inflight_events = st->inflight_events;
	v->inflight_bytes = st->inflight_bytes;
	v->reconnects = st->reconnects;
	v->connected = st->connected;
	v->blocked = st->blocked;
	v->down = st->down;
	/* a hook fills only what its figures use */
	memset(v->counters, 0, sizeof(v->counters));
	v->ncounters = s->kind->counters != NULL ?
		s->kind->counters(s, v->counters, SINK_MAX_COUNTERS) : 0;
}

/*
 * The oldest commit time a sink has not confirmed, for the confirmed lag
 * (obs_view.c): the oldest transaction in flight, else the open one (the
 * newest received).  Only while streaming: between sessions the last
 * session's stays, so that the lag keeps growing through an outage.
 */
static void
obs_collect_pending(struct agent *a)
{
	if (a->phase != AGENT_STREAMING)
		return;
	if (ack_in_flight(&a->ack) > 0)
		a->lag.oldest_pending = ack_oldest_time(&a->ack);
	else
		a->lag.oldest_pending = a->ack.in_txn ? a->lag.newest_received : 0;
}

void
obs_publish(struct agent *a, bool force)
{
	struct obs *o = a->obs;
	struct obs_view *v;
	int64_t		now;

	if (o == NULL)
		return;
	now = clock_now_ms();
	if (!force && now - o->last_publish_ms < OBS_PUBLISH_MS)
		return;
	obs_collect_pending(a);
	if (force)
		pthread_mutex_lock(&o->lock);
	else if (pthread_mutex_trylock(&o->lock) != 0)
		return;					/* a request is copying: next turn */

	v = &o->view;
	v->phase = a->phase;
	v->published_ms = now;
	v->confirmed_lsn = a->position.saved;
	v->received_lsn = stream_written(&a->stream, v->confirmed_lsn);
	v->server_wal_end = a->stream.server_wal_end;
	v->transactions = a->stats.txns;
	v->heartbeats_received = a->stats.heartbeats;
	v->pg_reconnects = a->stats.pg_reconnects;
	v->lag = a->lag;
	v->lag.caught_up = a->lag.caught_up && a->phase == AGENT_STREAMING;
	v->nsinks = a->sinks.n < OBS_MAX_SINKS ? a->sinks.n : OBS_MAX_SINKS;
	for (int i = 0; i < v->nsinks; i++)
		obs_collect_sink(&v->sinks[i], a->sinks.sinks[i]);
	if (v->load_version != a->load.version &&
		obs_view_set_tables(v, &a->load))
		v->load_version = a->load.version;

	pthread_mutex_unlock(&o->lock);
	o->last_publish_ms = now;
}

void
obs_publish_watch(struct obs *o, const struct obs_watch_view *w)
{
	if (o == NULL)
		return;
	pthread_mutex_lock(&o->lock);
	o->view.watch = *w;
	pthread_mutex_unlock(&o->lock);
}
